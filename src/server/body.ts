// Response bodies: what handlers may return, and the pull-based sources that stream them out.
import { closeSync, readSync } from "node:fs";

/** Streams a body in pieces; `read` resolves null at the end. `close` releases what it holds, once. */
export interface BodySource {
  read(): Uint8Array | null | Promise<Uint8Array | null>;
  close(): void;
}

/** What can send a file's bytes itself (Output: by sendfile), or answers a negative number when not. */
export interface FileSink {
  sendFile(fd: number, offset: number, count: number): number;
}

const PIECE = 256 * 1024;
/** Read buffers the socket has fully taken, for the next download (bounded: 16 × 256 KiB). */
const pool: ArrayBuffer[] = [];

/** Reads [start, end) of an open file descriptor in bounded pieces; closes the descriptor at the end. */
export class FileSource implements BodySource {
  #pos: number;
  #fd: number;

  constructor(
    fd: number,
    start: number,
    private readonly end: number,
  ) {
    this.#fd = fd;
    this.#pos = start;
  }

  read(): Uint8Array | null {
    if (this.#fd < 0) return null;
    const want = Math.min(PIECE, this.end - this.#pos);
    if (want <= 0) {
      this.close();
      return null;
    }
    // A page-cache read of 256 KiB takes tens of µs; synchronous is cheaper than a thread-pool hop.
    const buf = new Uint8Array(pool.pop() ?? new ArrayBuffer(PIECE));
    const n = readSync(this.#fd, buf, 0, want, this.#pos);
    if (n <= 0) {
      // The file shrank under us: the promised length cannot be met; the caller aborts the connection.
      this.close();
      throw new Error("file ended early");
    }
    this.#pos += n;
    return buf.subarray(0, n);
  }

  /**
   * Sends what is left through `sink` (a connection's Output) instead of reading it: the bytes it
   * took, or its NO_SENDFILE (then read pieces instead). Closes at the end.
   */
  sendTo(sink: FileSink): number {
    if (this.#fd < 0 || this.#pos >= this.end) return 0;
    const n = sink.sendFile(this.#fd, this.#pos, this.end - this.#pos);
    if (n <= 0) return n;
    this.#pos += n;
    if (this.#pos >= this.end) this.close();
    return n;
  }

  /** Every byte was read or sent. */
  get done(): boolean {
    return this.#pos >= this.end;
  }

  /** The last `n` bytes read were not sent: they are read again next time (nothing is held meanwhile). */
  unread(n: number): void {
    this.#pos -= n;
  }

  /** Hands back a piece the socket has fully taken (nothing else refers to it), for any later read. */
  recycle(piece: Uint8Array): void {
    if (piece.byteOffset === 0 && piece.buffer.byteLength === PIECE && pool.length < 16) pool.push(piece.buffer as ArrayBuffer);
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

  constructor(from: ReadableStream<Uint8Array>) {
    this.#reader = from.getReader() as ReadableStreamDefaultReader<Uint8Array>;
  }

  /** The next piece that is not empty (an empty one is not the end), or null at the end. */
  async read(): Promise<Uint8Array | null> {
    if (this.#done) return null;
    for (;;) {
      const { done, value } = await this.#reader.read();
      if (done) {
        this.#done = true;
        return null;
      }
      if (value === undefined || value.length === 0) continue;
      return toBytes(value);
    }
  }

  close(): void {
    if (this.#done) return;
    this.#done = true;
    this.#reader.cancel().catch(() => {});
  }
}

/** Stream pieces may be strings or other views in user code; the socket takes bytes. */
export function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === "string") return new TextEncoder().encode(value);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw new TypeError("response stream yielded something that is not bytes or a string");
}

/** A Response's parts for our writer (a Reply of them; ServerContext.readResponse). */
export interface ResponseParts {
  status: number;
  headers: Headers;
  body: string | Uint8Array | Blob | BodySource | null;
  /** Body length when `body` is a BodySource of known size. */
  length?: number;
  /** The Content-Type line Bun.serve would infer, when the Response has none. */
  defaultType?: Uint8Array;
}

/**
 * A Response's parts for our writer: its body as a stream of pieces, whose framing the connection
 * settles once the first piece exists (Content-Length when the stream is whole by then, else
 * chunked). The app layer first tries the bodies it saw being made (src/app/known-bodies.ts).
 */
export function readResponse(res: Response): ResponseParts {
  // Headers before the body: Bun fills in the Content-Type of a Blob, FormData or URLSearchParams
  // body when the headers are first read, unless the body was taken as a stream before.
  const headers = res.headers;
  const stream = res.body;
  return { status: res.status, headers, body: stream === null ? null : new StreamSource(stream) };
}
