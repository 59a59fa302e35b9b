// Files compressed in memory, once per file version and coding, kept under a byte budget
// (--compress-cache-size). A file up to 1 MiB is first compressed at a fast level, which the
// request that asked waits for (a few milliseconds on the thread pool), then again at the best level
// in the background; the better bytes replace the first ones when ready. A larger file is compressed
// once, streamed from disk through the compressor on the thread pool, and is sent identity until its
// variant is ready, so no request waits seconds and the event loop never stalls on it. Keys hold the
// file's ETag: a changed file is a new key, compressed anew, and the old bytes age out.
import { closeSync, fstatSync, readSync } from "node:fs";
import { concatBytes } from "../http/chars.ts";
import { BudgetCache, type CacheEntry } from "../compress/budget-cache.ts";
import { BuildQueue } from "../compress/build-queue.ts";
import { BEST_SMALL_LIMIT, type Compressor, compressAsync, createCompressor, LEVEL, type Level } from "../compress/codecs.ts";
import { HttpException } from "../server/http-exception.ts";
import { type Coding, CODINGS } from "../compress/negotiate.ts";
import { type Entry, type MadeSlot, makeVariant, sameFile, type Variant, WHOLE_RESPONSE_LIMIT } from "./file-cache.ts";
import { openFile, readWholeFile, statOrNull } from "./file-system.ts";

/** Builds at once: each holds a compressor (up to ~40 MiB at the best levels) and its input. */
const CONCURRENCY = 2;
/** Urgent builds waiting at most (a client waits, or a large file's one build). */
const QUEUE_LIMIT = 1024;
/**
 * Best-level builds waiting at most. Each holds its Entry (and so its bytes) until it runs: past
 * this, a file keeps its fast-level bytes.
 */
const LATER_LIMIT = 256;
/** A request waits for a fast build only while fewer than this many wait before it. */
const WAIT_QUEUE_LIMIT = 32;
/** Records at most (bodies, and files that could not be compressed). */
const MAX_ENTRIES = 16_384;
/** Pieces a large file is read in. */
const PIECE = 256 * 1024;

/** One file version in one coding. */
class Made implements MadeSlot, CacheEntry {
  variant: Variant | null = null;
  /** Settles once the first variant exists or the build gave up (a request may wait on it). */
  pending: Promise<void> | null = null;
  /** Gone from the cache, or never to be: a later request starts over. */
  dead = false;
  size = 0;
  used = true;
  building = true;

  /** `key`: its place in the cache (path, ETag and coding). */
  constructor(readonly key: string) {}

  evicted(): void {
    this.variant = null;
    this.dead = true;
  }
}

export interface CompressedFilesOptions {
  /** Bytes of compressed bodies kept at most. */
  budget: number;
}

export class CompressedFiles {
  readonly #cache: BudgetCache<Made>;
  readonly #queue = new BuildQueue(CONCURRENCY, QUEUE_LIMIT, LATER_LIMIT);

  constructor(options: CompressedFilesOptions) {
    // One file may take half the budget at most, so it cannot push every other one out.
    this.#cache = new BudgetCache(options.budget, MAX_ENTRIES, options.budget / 2);
  }

  /** Bytes held, and builds under way or waiting (for tests and the memory bound). */
  get bytes(): number {
    return this.#cache.bytes;
  }
  get builds(): number {
    return this.#queue.size;
  }

  /**
   * `e`'s variant in coding `c` if it is ready (null: not now; it is being made unless it cannot
   * be). A Promise when a small file's first variant is on its way and worth waiting for: ask again
   * when it settles (with `mayWait` false).
   */
  variant(e: Entry, c: Coding, mayWait: boolean): Variant | Promise<void> | null {
    let m = e.made[c] as Made | undefined;
    if (m !== undefined && !m.dead) {
      if (m.variant !== null) {
        m.used = true;
        return m.variant;
      }
      return mayWait && m.pending !== null && this.#queue.urgentWaiting < WAIT_QUEUE_LIMIT ? m.pending : null;
    }
    const key = `${e.identity.path}\0${e.identity.etag}\0${c}`;
    m = this.#cache.get(key);
    if (m !== undefined && !m.dead) {
      // The same file reached by another path ("/" and "/index.html").
      e.made[c] = m;
      return this.variant(e, c, mayWait);
    }
    m = new Made(key);
    this.#cache.add(key, m);
    e.made[c] = m;
    // (A transformed file's bytes exist only in memory: never streamed from disk.)
    const small = e.identity.size <= BEST_SMALL_LIMIT || e.transformed;
    let ok: boolean;
    if (small) {
      let settle!: () => void;
      m.pending = new Promise((resolve) => (settle = resolve));
      ok = this.#queue.add(() => this.#guarded(m!, this.#buildSmall(m!, e, c, LEVEL.FAST)).finally(settle), true);
      if (!ok) settle();
    } else {
      ok = this.#queue.add(() => this.#guarded(m!, this.#buildLarge(m!, e, c)), false);
    }
    if (!ok) {
      this.#cache.delete(key); // the queue is full: a later request tries again
      return null;
    }
    return this.variant(e, c, mayWait);
  }

  /** A small file whole, at `level`; after the fast level, the best one is queued. */
  async #buildSmall(m: Made, e: Entry, c: Coding, level: Level): Promise<void> {
    if (m.dead) return;
    const id = e.identity;
    const input = id.body ?? readWholeFile(id.path, id.size);
    if (input === null || input.length !== id.size) return this.#giveUp(m);
    let out: Uint8Array;
    try {
      out = await compressAsync(c, level, input);
    } catch (err) {
      console.error(`cannot compress ${id.path}:`, err);
      return this.#giveUp(m);
    }
    if (m.dead) return;
    if (!sameFile(id.stats, statOrNull(id.path))) return this.#giveUp(m);
    const before = m.size;
    const cost = heldBytes(out.length);
    if (cost > before && !this.#cache.grow(m.key, m, cost - before)) return this.#giveUp(m);
    if (cost < before) this.#cache.shrink(m.key, m, before - cost);
    m.variant = this.#variantOf(e, c, level, out);
    // After the fast bytes, the best ones. Meanwhile the fast bytes may be evicted like any others
    // (the best build then finds the record dead and stops): pinned, a burst of new files would
    // fill the budget with bytes waiting for their turn.
    m.building = false;
    if (level === LEVEL.FAST) this.#queue.add(() => this.#guarded(m, this.#buildSmall(m, e, c, LEVEL.BEST)), false);
  }

  /**
   * A large file streamed through the compressor at the best level. Its output is counted against
   * the budget only once it is whole (at most half the budget is held meanwhile), so a file that
   * turns out too big has not pushed other variants out for nothing.
   */
  async #buildLarge(m: Made, e: Entry, c: Coding): Promise<void> {
    if (m.dead) return;
    const id = e.identity;
    const limit = this.#cache.entryLimit;
    const chunks: Uint8Array[] = [];
    let total = 0;
    let fd = -1;
    let z: Compressor | null = null;
    try {
      fd = openFile(id.path);
      if (fd < 0) return this.#giveUp(m);
      const compressor = createCompressor(c, LEVEL.BEST, id.size);
      z = compressor;
      compressor.on("data", (d: Uint8Array) => {
        total += d.length;
        if (total <= limit) chunks.push(d);
      });
      const ended = new Promise<void>((resolve, reject) => {
        compressor.on("end", resolve);
        compressor.on("error", reject);
      });
      ended.catch(() => {}); // (awaited below, unless a write fails first)
      const buf = new Uint8Array(PIECE);
      for (let pos = 0; pos < id.size && total <= limit && !m.dead; ) {
        const n = readSync(fd, buf, 0, Math.min(PIECE, id.size - pos), pos);
        if (n <= 0) throw new Error("file ended early");
        pos += n;
        // The compressor has taken the piece once the callback runs: the buffer can be read into again.
        await new Promise<void>((resolve, reject) => compressor.write(buf.subarray(0, n), (err) => (err ? reject(err) : resolve())));
      }
      if (total > limit || m.dead) return this.#giveUp(m); // (bigger than the budget allows: never kept)
      compressor.end();
      await ended;
      z = null;
      if (total > limit || m.dead || !sameFile(id.stats, fstatSync(fd, { bigint: true }))) return this.#giveUp(m);
    } finally {
      z?.destroy();
      if (fd >= 0) closeSync(fd);
    }
    if (!this.#cache.grow(m.key, m, total)) return this.#giveUp(m);
    const out = chunks.length === 1 ? chunks[0]! : concatBytes(chunks);
    chunks.length = 0;
    m.variant = this.#variantOf(e, c, LEVEL.BEST, out);
    m.building = false;
  }

  /**
   * A build that threw (the descriptors ran out, a read failed): its record goes, so that a later
   * request tries again, rather than stay empty and pinned.
   */
  #guarded(m: Made, build: Promise<void>): Promise<void> {
    return build.catch((err) => {
      if (!(err instanceof HttpException)) console.error("compression failed:", err);
      m.building = false;
      m.pending = null;
      if (this.#cache.get(m.key) === m) this.#cache.delete(m.key);
    });
  }

  /**
   * The variant for compressed bytes: a weak ETag for the fast level (the best level's bytes will
   * replace them, with the same meaning), a strong one for the best. Its tag is the identity's with
   * the coding added (`"…-gzip"`), so a transformed file's (live reload) differs from the plain one's.
   */
  #variantOf(e: Entry, c: Coding, level: Level, bytes: Uint8Array): Variant {
    const id = e.identity;
    const tag = `${id.etag.slice(0, -1)}-${CODINGS[c].name}"`;
    return makeVariant(id.path, id.stats, CODINGS[c].name, e.common, level === LEVEL.FAST ? `W/${tag}` : tag, bytes, bytes.length);
  }

  /**
   * This version of the file will not be compressed (it changed, went away, or does not fit the
   * budget): it is sent identity, and the record stays, empty, so that no request starts it again.
   * Fast bytes already made are kept when the best ones fail.
   */
  #giveUp(m: Made): void {
    m.building = false;
    m.pending = null;
    if (m.variant === null) this.#cache.shrink(m.key, m, m.size);
  }
}

/** What a variant of `n` bytes holds: small ones are kept a second time as a whole response. */
function heldBytes(n: number): number {
  return n <= WHOLE_RESPONSE_LIMIT ? 2 * n + 512 : n;
}
