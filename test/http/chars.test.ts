// Byte helpers the hot path relies on.
import { expect, test } from "bun:test";
import { copyBytes } from "../../src/http/chars.ts";

test("copyBytes copies [start, end) to the offset given, also from a view with a byteOffset", () => {
  const src = new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7]).subarray(2); // 2..7
  const dst = new Uint8Array(6).fill(9);
  copyBytes(src, 1, 4, dst, 2);
  expect([...dst]).toEqual([9, 9, 3, 4, 5, 9]);
  copyBytes(src, 3, 3, dst, 6); // nothing, at the very end
  expect([...dst]).toEqual([9, 9, 3, 4, 5, 9]);
});

test("copyBytes refuses a target too short instead of copying part (Buffer#copy alone would truncate)", () => {
  const dst = new Uint8Array(4);
  expect(() => copyBytes(new Uint8Array(8), 0, 5, dst, 0)).toThrow(RangeError);
  expect(() => copyBytes(new Uint8Array(8), 0, 3, dst, 2)).toThrow(RangeError);
  expect([...dst]).toEqual([0, 0, 0, 0]);
});
