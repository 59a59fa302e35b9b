// A response body compressed as it streams: each piece the app gives is compressed and flushed at
// once, so a server-sent event reaches the client when it is sent, never held back until a
// compression buffer fills. Each stream holds a compressor (about 0.4 MiB for gzip, 1.3 MiB for brotli
// and zstd, even with small windows), so only so many run at once; past that a stream goes out as it is.
import type { BodySource } from "../server/body.ts";
import { type Compressor, createCompressor, flushFlag, LEVEL } from "./codecs.ts";
import type { Coding } from "./negotiate.ts";

/** Compressing streams at once, at most (64 brotli streams measured at 83–93 MiB of RSS). */
export const MAX_STREAMS = 64;
let active = 0;

/** Whether another compressing stream may start now. */
export function streamSlotFree(): boolean {
  return active < MAX_STREAMS;
}

/** Compressing streams now (for tests). */
export function activeStreams(): number {
  return active;
}

/**
 * Runs `start(done)` on the compressor and waits for `done`; fails instead if the compressor errs or
 * is destroyed first (close() from the connection), so no read is left waiting for ever.
 */
function settled(z: Compressor, start: (done: () => void) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const fail = (err?: Error) => {
      z.off("close", fail);
      z.off("error", fail);
      reject(err ?? new Error("compressor closed"));
    };
    z.once("close", fail);
    z.once("error", fail);
    start(() => {
      z.off("close", fail);
      z.off("error", fail);
      resolve();
    });
  });
}

export class CompressingSource implements BodySource {
  readonly #inner: BodySource;
  readonly #flush: number;
  #z: Compressor | null;
  #out: Uint8Array[] = [];
  #error: Error | null = null;

  constructor(inner: BodySource, coding: Coding) {
    this.#inner = inner;
    this.#flush = flushFlag(coding);
    const z = createCompressor(coding, LEVEL.FAST, -1);
    z.on("data", (d: Uint8Array) => this.#out.push(d));
    z.on("error", (err: Error) => (this.#error = err));
    this.#z = z;
    active++;
  }

  async read(): Promise<Uint8Array | null> {
    try {
      return await this.#next();
    } catch (err) {
      if (this.#z === null) return null; // closed meanwhile: nobody reads on
      throw err;
    }
  }

  async #next(): Promise<Uint8Array | null> {
    for (;;) {
      const z = this.#z;
      if (z === null) return null;
      const piece = await this.#inner.read();
      if (this.#z === null) return null; // closed meanwhile
      if (piece === null) {
        await settled(z, (done) => {
          z.once("end", done);
          z.end();
        });
        this.#release();
        return this.#take();
      }
      if (piece.length === 0) continue;
      await settled(z, (done) => {
        z.write(piece);
        z.flush(this.#flush, done);
      });
      if (this.#error !== null) throw this.#error;
      const out = this.#take();
      if (out !== null) return out;
    }
  }

  close(): void {
    this.#inner.close();
    this.#z?.destroy();
    this.#release();
  }

  /** What the compressor gave since the last call, as one piece (null: nothing). */
  #take(): Uint8Array | null {
    const out = this.#out;
    if (out.length === 0) return null;
    this.#out = [];
    if (out.length === 1) return out[0]!;
    return Buffer.concat(out);
  }

  #release(): void {
    if (this.#z === null) return;
    this.#z = null;
    active--;
  }
}
