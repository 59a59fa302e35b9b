// Byte helpers the hot path relies on.
import { describe, expect, test } from "bun:test";
import { copyBytes, equalsLower, isToken } from "../../src/http/chars.ts";
import { guarded, latin1 } from "../helpers/split.ts";

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

describe("equalsLower", () => {
  // [bytes, lower-case name, equal]
  const rows: [string, string, boolean][] = [
    ["host", "host", true],
    ["HOST", "host", true],
    ["Transfer-Encoding", "transfer-encoding", true],
    ["tRaNsFeR-eNcOdInG", "transfer-encoding", true],
    ["100-CONTINUE", "100-continue", true],
    ["", "", true],
    ["hos", "host", false], // shorter
    ["hostx", "host", false], // longer
    ["", "host", false],
    ["host", "", false],
    ["hosT ", "host", false], // a trailing space is not trimmed here
    ["Hosu", "host", false], // last byte differs
    ["iost", "host", false], // first byte differs
    // Only A-Z fold: the `| 0x20` trick would make these equal.
    ["@", "`", false],
    ["[", "{", false],
    ["\x0d", "-", false], // CR | 0x20 is '-'
    // obs-text never matches a letter, whatever its low bits.
    ["\xc8ost", "host", false],
    ["\xe8ost", "host", false],
  ];
  for (const [raw, lower, equal] of rows) {
    test(`${JSON.stringify(raw)} vs ${JSON.stringify(lower)}: ${equal}`, () => {
      // Inside a larger buffer, through a read guard: it reads [start, end) and nothing else.
      const pad = 3;
      const buf = new Uint8Array(pad + raw.length + 4).fill(0x41); // 'A' around it
      buf.set(latin1(raw), pad);
      const bad: number[] = [];
      expect(equalsLower(guarded(buf, pad, pad + raw.length, bad), pad, pad + raw.length, lower)).toBe(equal);
      expect(bad).toEqual([]);
    });
  }
});

describe("isToken", () => {
  test.each([
    ["GET", true],
    ["x-custom", true],
    ["!#$%&'*+-.^_`|~09AZaz", true],
    ["", false],
    ["a b", false],
    ["a,b", false],
    ["bad@name", false],
    ['a"b', false],
    ["caf\xe9", false], // obs-text is no tchar
    ["\u0100", false], // nor is anything past 0xFF (its low byte, 0x00, is not the question)
    ["\u0161", false], // low byte 0x61 is 'a': must not pass as one
  ])("%p: %p", (s, want) => {
    expect(isToken(s)).toBe(want);
  });

  test("a range [start, end) of the string, and an empty range is no token", () => {
    expect(isToken(" ab ", 1, 3)).toBe(true);
    expect(isToken(" ab ", 0, 3)).toBe(false);
    expect(isToken("ab", 1, 1)).toBe(false);
  });
});
