// A download that counts its body instead of keeping it (a GiB, or 128 MiB built chunk by chunk, would
// not fit or would be quadratic), on a RawClient. A chunked body goes through our own ChunkedDecoder
// with a counting sink, so its framing is checked too. It can stop reading at a byte mark, so that
// the server's writes back up.
import { ChunkedDecoder } from "../../src/http/chunked.ts";
import { FAILED } from "../../src/http/parser.ts";
import { RawClient } from "./raw-client.ts";

export interface DownloadOptions {
  /** Send `Connection: close` (default true). */
  close?: boolean;
  /** Half-close our side right after the request. */
  halfClose?: boolean;
  /** Pause reading as soon as the connection is open, before any byte arrives. */
  paused?: boolean;
}

export class Download {
  readonly client: RawClient;
  /** The response head, without the blank line ("" until it is in). */
  head = "";
  status = 0;
  /** From Content-Length; -1 without one (chunked, or delimited by the close). */
  contentLength = -1;
  /** Body bytes so far: decoded payload when chunked, else every byte after the head. */
  bodyBytes = 0;
  /** Chunks whose first or last body byte is not zero (the big test files are sparse: all zeros). */
  nonZero = 0;
  /** Why the chunked framing failed, if it did. */
  error: string | null = null;
  #headBuf = "";
  #inBody = false;
  #chunked: ChunkedDecoder | null = null;
  #stopAt = -1;
  readonly #sink = { onBodyData: (b: Uint8Array, s: number, e: number) => this.#count(b, s, e) };

  private constructor(client: RawClient) {
    this.client = client;
  }

  static async start(port: number, path: string, options: DownloadOptions = {}): Promise<Download> {
    const d = new Download(await RawClient.connect(port, { keep: false }));
    d.client.onData = (chunk) => d.#onData(chunk);
    if (options.paused) d.client.pause();
    await d.client.send(`GET ${path} HTTP/1.1\r\nHost: t\r\n${(options.close ?? true) ? "Connection: close\r\n" : ""}\r\n`);
    if (options.halfClose) d.client.shutdown();
    return d;
  }

  #onData(chunk: Uint8Array): void {
    let body = chunk;
    if (!this.#inBody) {
      this.#headBuf += new TextDecoder("latin1").decode(chunk);
      const end = this.#headBuf.indexOf("\r\n\r\n");
      if (end < 0) return;
      this.#inBody = true;
      this.head = this.#headBuf.slice(0, end);
      this.status = Number(this.head.slice(9, 12));
      const cl = /\r\ncontent-length: *(\d+)/i.exec(this.head);
      if (cl) this.contentLength = Number(cl[1]);
      if (/\r\ntransfer-encoding: *chunked/i.test(this.head)) {
        this.#chunked = new ChunkedDecoder({ maxBody: 2 ** 40, maxChunkLine: 4096, maxTrailerSize: 4096 });
      }
      body = chunk.subarray(chunk.length - (this.#headBuf.length - end - 4));
    }
    if (this.#chunked === null) this.#count(body, 0, body.length);
    else if (this.#chunked.decode(body, 0, body.length, this.#sink) === FAILED) {
      this.error ??= `bad chunked framing: ${this.#chunked.error}`;
    }
    if (this.#stopAt >= 0 && this.bodyBytes >= this.#stopAt) {
      this.#stopAt = -1;
      this.client.pause();
    }
  }

  #count(b: Uint8Array, start: number, end: number): void {
    this.bodyBytes += end - start;
    if (end > start && (b[start] !== 0 || b[end - 1] !== 0)) this.nonZero++;
  }

  /** The whole body is in (by Content-Length, or the chunked terminator). */
  get done(): boolean {
    if (this.#chunked !== null) return this.#chunked.done;
    return this.contentLength >= 0 && this.bodyBytes >= this.contentLength;
  }

  pause(): void {
    this.client.pause();
  }

  resume(): void {
    this.client.resume();
  }

  /** Reads about `n` more body bytes, then pauses again (by bytes, not time: loopback is fast). */
  async readMore(n: number, ms = 5000): Promise<void> {
    const target = this.bodyBytes + n;
    this.#stopAt = target;
    this.client.resume();
    if (!(await this.client.until(() => this.bodyBytes >= target || this.client.ended, ms))) {
      throw new Error(`no ${n} more bytes of the download within ${ms} ms (${this.bodyBytes} so far)`);
    }
  }

  /**
   * Waits for the server to close the connection; resolves with the body size. Throws if the body is
   * incomplete, badly framed, the connection was reset, or the close does not come within `ms`.
   */
  async finished(ms = 20_000): Promise<number> {
    await this.client.closedByServer(ms);
    if (this.error !== null) throw new Error(this.error);
    if (this.client.errored) throw new Error(`the download was reset after ${this.bodyBytes} bytes`);
    const exact = this.#chunked !== null || this.bodyBytes === this.contentLength;
    if (!this.done || !exact) throw new Error(`got ${this.bodyBytes} of ${this.contentLength} bytes`);
    return this.bodyBytes;
  }

  close(): void {
    this.client.close();
  }
}
