// Shared pieces of the hardening tests: Latin-1 bytes and text, a seeded PRNG, and a bounded pool.
import { decodeLatin1 } from "../../src/http/chars.ts";
import { latin1 as bytes } from "../helpers/split.ts";

export const MiB = 1024 * 1024;

/** Bytes of a string whose every char code is one byte ("\xff" stays one byte, NUL stays NUL), and back. */
export { bytes };
export function text(b: Uint8Array): string {
  return decodeLatin1(b, 0, b.length);
}

/** mulberry32: a small seeded PRNG, so a failing fuzz run can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs `task(i)` for i in [0, count) with at most `limit` at once. */
export async function pool(count: number, limit: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
}
