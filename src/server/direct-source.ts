// A `type: "direct"` stream's body, driven from its underlying source (src/app/direct-streams.ts
// notes which streams are direct): `pull` is called once, and what it writes is read as pieces.
import { type BodySource, toBytes } from "./body.ts";

/** The controller a direct stream's `pull` writes to (Bun's ArrayBufferSink-like surface). */
export interface DirectController {
  /** Queues a piece; returns its length in bytes (0 once the body has ended). */
  write(chunk: unknown): number;
  /** Resolves once what was written has been taken by the connection (0 at once when nothing waits). */
  flush(): number | Promise<number>;
  end(): void;
  close(): void;
  error(err: unknown): void;
}

/** What `new ReadableStream({ type: "direct", pull })` was given. */
export interface DirectUnderlyingSource {
  pull(controller: DirectController): unknown;
  cancel?(reason?: unknown): unknown;
}

/**
 * Drives a direct stream's source: `pull` is called once, with a controller whose writes become the
 * pieces read; the body ends when `pull` returns or its promise resolves (or on `end()`/`close()`),
 * and fails when it throws or rejects. Bun ends it only when a promise settles: a `pull` that returns
 * at once leaves Bun's response open forever, ours ends.
 */
export class DirectSource implements BodySource {
  #queue: Uint8Array[] = [];
  #queued = 0;
  #started = false;
  #ended = false;
  #failed = false;
  #error: unknown;
  /** A read waiting for the next write or the end. */
  #wake: (() => void) | null = null;
  /** flush() promises waiting for the queue to be taken. */
  #flushed: ((n: number) => void)[] = [];
  #controller: DirectController = {
    write: (chunk) => {
      if (this.#ended) return 0;
      const bytes = toBytes(chunk);
      if (bytes.length > 0) {
        this.#queue.push(bytes);
        this.#queued += bytes.length;
        this.#notify();
      }
      return bytes.length;
    },
    flush: () => (this.#queued === 0 ? 0 : new Promise<number>((resolve) => this.#flushed.push(resolve))),
    end: () => this.#end(),
    close: () => this.#end(),
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
    this.#queue = [];
    this.#release();
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

  #take(): Uint8Array {
    const piece = this.#queue.shift()!;
    this.#queued -= piece.length;
    if (this.#queued === 0) this.#release();
    return piece;
  }

  #release(): void {
    const waiting = this.#flushed;
    if (waiting.length === 0) return;
    this.#flushed = [];
    for (const resolve of waiting) resolve(0);
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#notify();
  }

  #fail(err: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#failed = true;
    this.#error = err;
    this.#notify();
  }

  #notify(): void {
    this.#wake?.();
  }
}
