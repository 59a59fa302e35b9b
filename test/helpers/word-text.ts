// Text that compresses (about 6:1), made from a seed: the static compression tests' fixtures.

const WORDS = (
  "the quick brown fox jumps over a lazy dog while seven wizards quietly box jugs of liquor " +
  "function return const let var import export default class extends async await yield new this " +
  "pack my box with five dozen liquor jugs how vexingly quick daft zebras jump sphinx of black quartz " +
  "judge my vow server client request response header body stream buffer socket compress encode"
)
  .split(" ")
  .map((w) => Buffer.from(w));

/** `size` bytes of words picked by a xorshift generator from `seed`, twelve to a line. */
export function wordText(size: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let s = seed | 0 || 1;
  let pos = 0;
  let n = 0;
  while (pos < size) {
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    const w = WORDS[(s >>> 0) % WORDS.length]!;
    const len = Math.min(w.length, size - pos);
    w.copy(out, pos, 0, len);
    pos += len;
    if (pos < size) out[pos++] = ++n % 12 === 0 ? 10 : 32;
  }
  return out;
}
