// The codecs: each coding's levels, one-shot compression (this thread and the pool) decoding back to
// its input at both levels, and the streaming compressor, whose output so far decodes at every flush.
import { describe, expect, test } from "bun:test";
import zlib from "node:zlib";
import { BEST_SMALL_LIMIT, compressAsync, compressSync, createCompressor, flushFlag, LEVEL, type Level, levelNumber } from "../../src/compress/codecs.ts";
import { BR, type Coding, CODINGS, GZIP, ZSTD } from "../../src/compress/negotiate.ts";

const enc = new TextEncoder();
const ALL: Coding[] = [BR, ZSTD, GZIP];
const name = (c: Coding) => CODINGS[c].name;

/** Text that compresses as prose does (deterministic). */
function prose(bytes: number, seed = 1): Uint8Array {
  const words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hôtel", "índia", "juliett", "kilo", "lima"];
  let x = seed;
  const parts: string[] = [];
  let n = 0;
  while (n < bytes) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const w = words[(x >>> 8) % words.length]! + ((x >>> 3) % 9 === 0 ? "\n" : " ");
    parts.push(w);
    n += w.length + 1;
  }
  return enc.encode(parts.join("")).subarray(0, bytes);
}

function decode(c: Coding, bytes: Uint8Array): Uint8Array {
  if (c === BR) return zlib.brotliDecompressSync(bytes);
  if (c === ZSTD) return zlib.zstdDecompressSync(bytes);
  return zlib.gunzipSync(bytes);
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

describe("levels", () => {
  test("fast: br 4, zstd 3, gzip 6, whatever the size", () => {
    for (const size of [-1, 0, 1000, BEST_SMALL_LIMIT, BEST_SMALL_LIMIT + 1]) {
      expect(ALL.map((c) => levelNumber(c, LEVEL.FAST, size))).toEqual([4, 3, 6]);
    }
  });

  test("best: br 11, zstd 19, gzip 9 up to 1 MiB; br 9, zstd 9, gzip 9 above it or when unknown", () => {
    for (const size of [0, 1, 100_000, BEST_SMALL_LIMIT]) expect(ALL.map((c) => levelNumber(c, LEVEL.BEST, size))).toEqual([11, 19, 9]);
    for (const size of [BEST_SMALL_LIMIT + 1, 50 * 1024 * 1024, -1]) expect(ALL.map((c) => levelNumber(c, LEVEL.BEST, size))).toEqual([9, 9, 9]);
  });
});

describe("one-shot compression round-trips", () => {
  const inputs: [string, Uint8Array][] = [
    ["empty", new Uint8Array(0)],
    ["one byte", new Uint8Array([65])],
    ["1 KiB of prose", prose(1024)],
    ["100 KiB of prose", prose(100 * 1024, 2)],
    ["random bytes", crypto.getRandomValues(new Uint8Array(20_000))],
  ];
  for (const coding of ALL) {
    for (const [levelName, level] of [["FAST", LEVEL.FAST], ["BEST", LEVEL.BEST]] as [string, Level][]) {
      test(`${name(coding)} at ${levelName}: sync and async decode to the input`, async () => {
        for (const [what, input] of inputs) {
          const sync = compressSync(coding, level, input);
          const pooled = await compressAsync(coding, level, input);
          expect(same(decode(coding, sync), input), `${what}, sync`).toBe(true);
          expect(same(decode(coding, pooled), input), `${what}, async`).toBe(true);
          // The same settings on either thread: the same bytes.
          expect(same(sync, pooled), `${what}: sync and async agree`).toBe(true);
        }
      });
    }

    test(`${name(coding)}: a file over 1 MiB at BEST (the larger level set) round-trips`, async () => {
      const input = prose(BEST_SMALL_LIMIT + 4096, 3);
      const out = await compressAsync(coding, LEVEL.BEST, input);
      expect(out.length).toBeLessThan(input.length / 3);
      expect(same(decode(coding, out), input)).toBe(true);
    }, 30_000);

    test(`${name(coding)}: BEST is no larger than FAST, and both much smaller than prose`, () => {
      const input = prose(64 * 1024, 4);
      const fast = compressSync(coding, LEVEL.FAST, input);
      const best = compressSync(coding, LEVEL.BEST, input);
      expect(fast.length).toBeLessThan(input.length / 2);
      expect(best.length).toBeLessThanOrEqual(fast.length);
    });
  }

  test("gzip output is a gzip member (magic 1f 8b); zstd a zstd frame (28 b5 2f fd)", () => {
    const input = prose(4096);
    expect([...compressSync(GZIP, LEVEL.FAST, input).subarray(0, 2)]).toEqual([0x1f, 0x8b]);
    expect([...compressSync(ZSTD, LEVEL.FAST, input).subarray(0, 4)]).toEqual([0x28, 0xb5, 0x2f, 0xfd]);
  });
});

/** A streaming decompressor fed piece by piece: `push` resolves with everything decoded so far. */
function streamDecoder(coding: Coding) {
  const z = coding === BR ? zlib.createBrotliDecompress() : coding === ZSTD ? zlib.createZstdDecompress() : zlib.createGunzip();
  const out: Uint8Array[] = [];
  let error: Error | null = null;
  z.on("data", (d: Uint8Array) => out.push(d));
  z.on("error", (e: Error) => (error = e));
  const settle = (resolve: (v: Uint8Array) => void, reject: (e: Error) => void) => () => (error ? reject(error) : resolve(Buffer.concat(out)));
  return {
    push: (bytes: Uint8Array) =>
      new Promise<Uint8Array>((resolve, reject) => {
        z.write(bytes);
        z.flush(settle(resolve, reject));
      }),
    end: () =>
      new Promise<Uint8Array>((resolve, reject) => {
        z.once("end", settle(resolve, reject));
        z.end();
      }),
  };
}

describe("the streaming compressor", () => {
  for (const coding of ALL) {
    test(`${name(coding)}: what it gives at each flush decodes to everything written so far`, async () => {
      const z = createCompressor(coding, LEVEL.FAST, -1);
      const given: Uint8Array[] = [];
      z.on("data", (d: Uint8Array) => given.push(d));
      const decoder = streamDecoder(coding);
      const written: Uint8Array[] = [];
      let compressed = 0;
      // Pieces from an SSE-sized event to a large one, over several windows' worth in all.
      const sizes = [40, 1, 300, 7 * 1024, 64 * 1024, 13, 200 * 1024, 5];
      for (let i = 0; i < 30; i++) {
        const piece = prose(sizes[i % sizes.length]!, i + 10);
        written.push(piece);
        await new Promise<void>((resolve) => {
          z.write(piece);
          z.flush(flushFlag(coding), () => resolve());
        });
        const out = Buffer.concat(given.splice(0));
        expect(out.length, `piece ${i} gave output at its flush`).toBeGreaterThan(0);
        compressed += out.length;
        const decoded = await decoder.push(out);
        expect(same(decoded, Buffer.concat(written)), `after piece ${i}`).toBe(true);
      }
      await new Promise<void>((resolve) => {
        z.once("end", resolve);
        z.end();
      });
      const tail = Buffer.concat(given.splice(0));
      compressed += tail.length;
      const all = Buffer.concat(written);
      expect(same(await decoder.push(tail).then(() => decoder.end()), all)).toBe(true);
      expect(compressed).toBeLessThan(all.length / 2);
    }, 20_000);

    test(`${name(coding)}: a known size (a file) at BEST, written whole, decodes`, async () => {
      const input = prose(300 * 1024, 20);
      const z = createCompressor(coding, LEVEL.BEST, input.length);
      const out: Uint8Array[] = [];
      z.on("data", (d: Uint8Array) => out.push(d));
      await new Promise<void>((resolve, reject) => {
        z.once("end", resolve);
        z.once("error", reject);
        for (let at = 0; at < input.length; at += 64 * 1024) z.write(input.subarray(at, at + 64 * 1024));
        z.end();
      });
      expect(same(decode(coding, Buffer.concat(out)), input)).toBe(true);
    }, 30_000);
  }
});
