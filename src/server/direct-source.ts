// A `type: "direct"` stream's body, driven from its underlying source (src/app/direct-streams.ts
// notes which streams are direct): `pull` is called once, and what it writes is read as pieces.
// Backpressure as under Bun.serve: write() returns its length while the connection keeps up, and a
// Promise that settles on drain when it does not; flush(true) waits for the drain, flush() does not.
import { type BodySource, toBytes } from "./body.ts";

/** The controller a direct stream's `pull` writes to (Bun's HTTPResponseSink surface). */
export interface DirectController {
  /**
   * Queues a piece. Returns its length in bytes while the connection keeps up (0 once the body has
   * ended); under backpressure, a Promise (the same one for every write until then) that resolves
   * once the connection has taken everything written, to the bytes it took meanwhile.
   */
  write(chunk: unknown): number | Promise<number>;
  /**
   * `flush()`: the bytes written and not yet taken, at once (it never waits, as under Bun).
   * `flush(true)`: a Promise that resolves to 0 once the connection has taken them.
   */
  flush(wait?: boolean): number | Promise<number>;
  /** Ends the body; returns the bytes written in all. */
  end(): number;
  close(): number;
  error(err: unknown): void;
}

/** What `new ReadableStream({ type: "direct", pull })` was given. */
export interface DirectUnderlyingSource {
  pull(controller: DirectController): unknown;
  cancel?(reason?: unknown): unknown;
}

/**
 * Bytes written and not yet taken past which write() answers with a Promise. The connection takes
 * pieces as long as the socket does, so more than this waiting means the client is behind.
 */
const HIGH_WATER = 256 * 1024;
/**
 * Bytes a stream may leave waiting when it ignores that Promise (Bun's sink buffers without limit:
 * Bun's own tests write 32 MiB ahead of a paused client). Past this the response fails: the
 * connection is cut and the source cancelled, rather than let one stream hold unbounded memory.
 */
export const DIRECT_QUEUE_LIMIT = 64 * 1024 * 1024;

/**
 * Drives a direct stream's source: `pull` is called once, with a controller whose writes become the
 * pieces read; the body ends when `pull` returns or its promise resolves (or on `end()`/`close()`),
 * and fails when it throws or rejects. Bun ends it only when a promise settles: a `pull` that returns
 * at once leaves Bun's response open forever, ours ends. A drain never calls `pull` again: it settles
 * the Promises the writes and flush(true) returned.
 */
export class DirectSource implements BodySource {
  #queue: Uint8Array[] = [];
  #queued = 0;
  /** Bytes written in all, and taken by the connection in all. */
  #written = 0;
  #taken = 0;
  #started = false;
  #ended = false;
  #failed = false;
  #error: unknown;
  /** A read waiting for the next write or the end. */
  #wake: (() => void) | null = null;
  /** The Promise writes return under backpressure, until the queue is taken. */
  #drain: { promise: Promise<number>; resolve: (n: number) => void; from: number } | null = null;
  /** flush(true) promises waiting for the queue to be taken. */
  #flushed: ((n: number) => void)[] = [];
  #controller: DirectController = {
    write: (chunk) => this.#write(chunk),
    flush: (wait) => {
      if (wait !== true) return this.#queued;
      if (this.#queued === 0) return Promise.resolve(0);
      return new Promise<number>((resolve) => this.#flushed.push(resolve));
    },
    end: () => (this.#end(), this.#written),
    close: () => (this.#end(), this.#written),
    error: (err) => this.#fail(err),
  };

  constructor(private readonly underlying: DirectUnderlyingSource) {}

  read(): Uint8Array | null | Promise<Uint8Array | null> {
    if (!this.#started) this.#start();
    if (this.#queue.length > 0) return this.#take();
    if (this.#failed) return Promise.reject(this.#error);
    if (this.#ended) return null;
    return new Promise<Uint8Array | null>((resolve, reject) => {
      this.#wake = () => {
        this.#wake = null;
        if (this.#queue.length > 0) resolve(this.#take());
        else if (this.#failed) reject(this.#error);
        else resolve(null);
      };
    });
  }

  close(): void {
    if (this.#ended && this.#queue.length === 0) return;
    this.#ended = true;
    this.#drop();
    try {
      const r = this.underlying.cancel?.();
      if (r instanceof Promise) r.catch(() => {});
    } catch {
      // The source's cancel failed; nothing is left to release.
    }
  }

  #start(): void {
    this.#started = true;
    try {
      const r = this.underlying.pull(this.#controller);
      if (r instanceof Promise) r.then(() => this.#end(), (err: unknown) => this.#fail(err));
      else this.#end();
    } catch (err) {
      this.#fail(err);
    }
  }

  #write(chunk: unknown): number | Promise<number> {
    if (this.#ended) return 0;
    const bytes = toBytes(chunk);
    if (bytes.length === 0) return this.#drain?.promise ?? 0;
    if (this.#queued + bytes.length > DIRECT_QUEUE_LIMIT) {
      this.#drop();
      this.#fail(new Error(`direct stream left more than ${DIRECT_QUEUE_LIMIT} bytes waiting for a client that is not reading`));
      return 0;
    }
    this.#queue.push(bytes);
    this.#queued += bytes.length;
    this.#written += bytes.length;
    this.#wake?.(); // a read waiting takes it now
    if (this.#drain === null && this.#queued > HIGH_WATER) {
      const { promise, resolve } = Promise.withResolvers<number>();
      this.#drain = { promise, resolve, from: this.#taken };
    }
    return this.#drain?.promise ?? bytes.length;
  }

  #take(): Uint8Array {
    const piece = this.#queue.shift()!;
    this.#queued -= piece.length;
    this.#taken += piece.length;
    if (this.#queued === 0) this.#release();
    return piece;
  }

  /** Everything written was taken (or dropped): the Promises waiting for that settle. */
  #release(): void {
    const drain = this.#drain;
    if (drain !== null) {
      this.#drain = null;
      drain.resolve(this.#taken - drain.from);
    }
    const waiting = this.#flushed;
    if (waiting.length === 0) return;
    this.#flushed = [];
    for (const resolve of waiting) resolve(0);
  }

  /** Lets go of what waits to be taken (the response is over, or the stream went past its limit). */
  #drop(): void {
    this.#queue = [];
    this.#queued = 0;
    this.#release();
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#wake?.();
  }

  #fail(err: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#failed = true;
    this.#error = err;
    this.#wake?.();
  }
}
