// Response bodies: what handlers may return, and the pull-based sources that stream them out.
import { closeSync, readSync } from "node:fs";

/** Streams a body in pieces; `read` resolves null at the end. `close` releases what it holds, once. */
export interface BodySource {
  read(): Uint8Array | null | Promise<Uint8Array | null>;
  close(): void;
}

/** Reads [start, end) of an open file descriptor in bounded pieces; closes the descriptor at the end. */
export class FileSource implements BodySource {
  #pos: number;
  #fd: number;
  #spare: Uint8Array | null = null;

  constructor(
    fd: number,
    start: number,
    private readonly end: number,
    private readonly chunkSize = 256 * 1024,
  ) {
    this.#fd = fd;
    this.#pos = start;
  }

  read(): Uint8Array | null {
    if (this.#fd < 0) return null;
    const want = Math.min(this.chunkSize, this.end - this.#pos);
    if (want <= 0) {
      this.close();
      return null;
    }
    // A page-cache read of 256 KiB takes tens of µs; synchronous is cheaper than a thread-pool hop.
    const buf = this.#spare !== null && this.#spare.length >= want ? this.#spare : new Uint8Array(this.chunkSize);
    this.#spare = null;
    const n = readSync(this.#fd, buf, 0, want, this.#pos);
    if (n <= 0) {
      // The file shrank under us: the promised length cannot be met; the caller aborts the connection.
      this.close();
      throw new Error("file ended early");
    }
    this.#pos += n;
    return buf.subarray(0, n);
  }

  /** Hands back a buffer the socket has fully taken, so the next read can reuse it. */
  recycle(buf: Uint8Array): void {
    if (buf.byteOffset === 0 && buf.buffer.byteLength === this.chunkSize) this.#spare = new Uint8Array(buf.buffer);
  }

  close(): void {
    if (this.#fd >= 0) {
      closeSync(this.#fd);
      this.#fd = -1;
    }
  }
}

/** Adapts a Web ReadableStream (a Response body, a Blob's stream) to a BodySource. */
export class StreamSource implements BodySource {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #done = false;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.getReader() as ReadableStreamDefaultReader<Uint8Array>;
  }

  async read(): Promise<Uint8Array | null> {
    if (this.#done) return null;
    for (;;) {
      const { done, value } = await this.#reader.read();
      if (done) {
        this.#done = true;
        return null;
      }
      if (value === undefined || value.length === 0) continue;
      return typeof value === "string" ? new TextEncoder().encode(value) : value;
    }
  }

  close(): void {
    if (this.#done) return;
    this.#done = true;
    this.#reader.cancel().catch(() => {});
  }
}
