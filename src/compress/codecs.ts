// The three codings through node:zlib: their levels, one-shot compression (on this thread, or on
// Bun's thread pool), and streaming compressors. Levels were chosen by measurement (bench notes in
// the README's Compression section): a fast level for what is compressed per response, the best
// ratio for files, which are compressed once.
import zlib from "node:zlib";
import { BR, type Coding, ZSTD } from "./negotiate.ts";

const C = zlib.constants;

/** How hard to try: `fast` for every response of an app and a file's first answer, `best` for files. */
export const LEVEL = { FAST: 0, BEST: 1 } as const;
export type Level = (typeof LEVEL)[keyof typeof LEVEL];

/**
 * Files up to this size get the slowest, smallest levels (brotli 11: ~1 MB/s, zstd 19: ~5 MB/s);
 * larger ones levels that finish in seconds (brotli 9: ~8 MB/s, zstd 9: ~36 MB/s), whose output is
 * within a few percent.
 */
export const BEST_SMALL_LIMIT = 1024 * 1024;

/** The level number used for `coding` at `level` for an input of `size` bytes (-1: unknown). */
export function levelNumber(coding: Coding, level: Level, size: number): number {
  if (level === LEVEL.FAST) return coding === BR ? 4 : coding === ZSTD ? 3 : 6;
  const small = size >= 0 && size <= BEST_SMALL_LIMIT;
  if (coding === BR) return small ? 11 : 9;
  if (coding === ZSTD) return small ? 19 : 9;
  return 9;
}

/** Brotli's window for an input of `size` (no larger than the input needs; 18 for streams). */
function brotliWindow(size: number): number {
  if (size < 0) return 18;
  let bits = 10;
  while (bits < 22 && 1 << bits < size) bits++;
  return bits;
}

function options(coding: Coding, level: Level, size: number): zlib.ZlibOptions | zlib.BrotliOptions | object {
  const n = levelNumber(coding, level, size);
  if (coding === BR) {
    const params: Record<number, number> = { [C.BROTLI_PARAM_QUALITY]: n, [C.BROTLI_PARAM_LGWIN]: brotliWindow(size) };
    if (size >= 0) params[C.BROTLI_PARAM_SIZE_HINT] = size;
    return { params };
  }
  if (coding === ZSTD) {
    const params: Record<number, number> = { [C.ZSTD_c_compressionLevel]: n };
    if (size < 0) params[C.ZSTD_c_windowLog] = 18; // a stream's context stays small
    return size >= 0 ? { params, pledgedSrcSize: size } : { params };
  }
  return { level: n }; // (zlib's own window and memory: about 0.4 MiB a stream)
}

/** Compresses `input` whole, on this thread: for bodies small enough to take less than a millisecond. */
export function compressSync(coding: Coding, level: Level, input: Uint8Array): Uint8Array {
  const o = options(coding, level, input.length);
  if (coding === BR) return zlib.brotliCompressSync(input, o as zlib.BrotliOptions);
  if (coding === ZSTD) return zlib.zstdCompressSync(input, o as zlib.ZstdOptions);
  return zlib.gzipSync(input, o as zlib.ZlibOptions);
}

/** Compresses `input` whole on Bun's thread pool, so this thread goes on serving meanwhile. */
export function compressAsync(coding: Coding, level: Level, input: Uint8Array): Promise<Uint8Array> {
  const o = options(coding, level, input.length);
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, out: Uint8Array) => (err ? reject(err) : resolve(out));
    if (coding === BR) zlib.brotliCompress(input, o as zlib.BrotliOptions, done);
    else if (coding === ZSTD) zlib.zstdCompress(input, o as zlib.ZstdOptions, done);
    else zlib.gzip(input, o as zlib.ZlibOptions, done);
  });
}

/** The flush that makes a streaming compressor give out everything written so far. */
export function flushFlag(coding: Coding): number {
  if (coding === BR) return C.BROTLI_OPERATION_FLUSH;
  if (coding === ZSTD) return C.ZSTD_e_flush;
  return C.Z_SYNC_FLUSH;
}

export type Compressor = zlib.Gzip | zlib.BrotliCompress | zlib.ZstdCompress;

/**
 * A streaming compressor (it runs on the thread pool). `size`: the input's length when known (a
 * file), else -1: a response stream, which gets small windows (still about 0.4 MiB a stream for gzip,
 * 1.3 MiB for brotli and zstd, as measured by test/app/compression.test.ts "100 SSE").
 */
export function createCompressor(coding: Coding, level: Level, size: number): Compressor {
  const o = options(coding, level, size);
  if (coding === BR) return zlib.createBrotliCompress(o as zlib.BrotliOptions);
  if (coding === ZSTD) return zlib.createZstdCompress(o as zlib.ZstdOptions);
  return zlib.createGzip(o as zlib.ZlibOptions);
}

