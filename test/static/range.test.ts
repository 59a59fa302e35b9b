// parseRange is pure: one row per case, the header and size in, the ranges (or the verdict) out.
import { describe, expect, test } from "bun:test";
import { contentRange, MAX_RANGES, parseRange, RANGE_IGNORE, RANGE_UNSATISFIABLE, type RangeResult } from "../../src/static/range.ts";

const IGNORE = RANGE_IGNORE;
const UNSAT = RANGE_UNSATISFIABLE;

/** [what, header, size, expected]; ranges as [start, end] pairs, inclusive. */
const CASES: [string, string, number, [number, number][] | typeof IGNORE | typeof UNSAT][] = [
  // single ranges
  ["first-last", "bytes=0-9", 100, [[0, 9]]],
  ["middle", "bytes=10-19", 100, [[10, 19]]],
  ["open-ended", "bytes=10-", 100, [[10, 99]]],
  ["open-ended from 0 (the whole thing)", "bytes=0-", 100, [[0, 99]]],
  ["suffix", "bytes=-10", 100, [[90, 99]]],
  ["suffix of one byte", "bytes=-1", 100, [[99, 99]]],
  ["last clipped at the end", "bytes=90-200", 100, [[90, 99]]],
  ["last exactly the last byte", "bytes=0-99", 100, [[0, 99]]],
  ["bytes=0-0 is the first byte, not the whole file", "bytes=0-0", 100, [[0, 0]]],
  ["last byte alone", "bytes=99-99", 100, [[99, 99]]],
  ["suffix longer than the size is the whole file", "bytes=-1000", 100, [[0, 99]]],
  ["suffix exactly the size", "bytes=-100", 100, [[0, 99]]],
  ["15-digit last is clipped", "bytes=0-999999999999999", 100, [[0, 99]]],
  ["size 1, suffix", "bytes=-1", 1, [[0, 0]]],
  // unsatisfiable
  ["-0 asks for nothing", "bytes=-0", 100, UNSAT],
  ["-000 asks for nothing", "bytes=-000", 100, UNSAT],
  ["first = size", "bytes=100-", 100, UNSAT],
  ["first = size, with last", "bytes=100-200", 100, UNSAT],
  ["first > size", "bytes=1000-2000", 100, UNSAT],
  ["every range unsatisfiable", "bytes=200-300, 100-, -0", 100, UNSAT],
  ["size 0: open range", "bytes=0-", 0, UNSAT],
  ["size 0: 0-0", "bytes=0-0", 0, UNSAT],
  ["size 0: suffix", "bytes=-5", 0, UNSAT],
  // several ranges
  ["unsatisfiable ones are dropped, the rest kept", "bytes=0-1,200-300", 100, [[0, 1]]],
  ["unsatisfiable first, satisfiable later", "bytes=500-,-0,5-6", 100, [[5, 6]]],
  ["two disjoint", "bytes=0-9,20-29", 100, [[0, 9], [20, 29]]],
  ["sorted by start", "bytes=50-59,0-9", 100, [[0, 9], [50, 59]]],
  ["overlapping are coalesced", "bytes=0-10,5-20", 100, [[0, 20]]],
  ["contained range is absorbed", "bytes=0-50,10-20", 100, [[0, 50]]],
  ["adjacent are coalesced", "bytes=10-19,20-29", 100, [[10, 29]]],
  ["adjacent out of order are coalesced", "bytes=20-29,10-19", 100, [[10, 29]]],
  ["one byte apart stay apart", "bytes=10-19,21-29", 100, [[10, 19], [21, 29]]],
  ["suffix overlapping an open range", "bytes=-10,50-", 100, [[50, 99]]],
  ["three, with a suffix, sorted", "bytes=-5,20-29,0-9", 100, [[0, 9], [20, 29], [95, 99]]],
  ["clipped ranges coalesce at the end", "bytes=90-200,95-", 100, [[90, 99]]],
  ["the same range twice", "bytes=3-4,3-4", 100, [[3, 4]]],
  // syntax: case and whitespace
  ["unit is case-insensitive (upper)", "BYTES=0-9", 100, [[0, 9]]],
  ["unit is case-insensitive (mixed)", "Bytes=0-9", 100, [[0, 9]]],
  ["whitespace around commas", "bytes=0-9 , 20-29 ,\t40-49", 100, [[0, 9], [20, 29], [40, 49]]],
  ["leading whitespace in the set", "bytes= 0-9", 100, [[0, 9]]],
  ["empty list elements are allowed", "bytes=0-9,,20-29,", 100, [[0, 9], [20, 29]]],
  // ignored: the whole representation is sent
  ["first > last", "bytes=5-1", 100, IGNORE],
  ["first > last next to a good range", "bytes=0-9,5-1", 100, IGNORE],
  ["other unit", "items=0-9", 100, IGNORE],
  ["unit only", "bytes", 100, IGNORE],
  ["empty header", "", 100, IGNORE],
  ["bytes= with nothing", "bytes=", 100, IGNORE],
  ["bytes= with only commas", "bytes=,, ,", 100, IGNORE],
  ["no dash", "bytes=5", 100, IGNORE],
  ["dash alone", "bytes=-", 100, IGNORE],
  ["letters", "bytes=a-b", 100, IGNORE],
  ["letters after digits", "bytes=0-9x", 100, IGNORE],
  ["double dash", "bytes=--5", 100, IGNORE],
  ["negative last", "bytes=0--5", 100, IGNORE],
  ["suffix with a second dash", "bytes=-5-", 100, IGNORE],
  ["suffix that looks like a range", "bytes=-1-5", 100, IGNORE],
  ["trailing dash", "bytes=0-9-", 100, IGNORE],
  ["plus sign", "bytes=+5-9", 100, IGNORE],
  ["hex", "bytes=0x10-20", 100, IGNORE],
  ["exponent", "bytes=1e2-", 100, IGNORE],
  ["decimal point", "bytes=1.5-9", 100, IGNORE],
  ["space inside first", "bytes=1 0-20", 100, IGNORE],
  ["space inside last", "bytes=0-1 0", 100, IGNORE],
  ["space before the dash", "bytes=0 -9", 100, IGNORE],
  ["space after the dash", "bytes=0- 9", 100, IGNORE],
  ["huge first", "bytes=99999999999999999999-", 100, IGNORE],
  ["huge last", "bytes=0-99999999999999999999", 100, IGNORE],
  ["huge suffix", "bytes=-99999999999999999999", 100, IGNORE],
  ["non-ASCII digits", "bytes=٠-٩", 100, IGNORE],
  ["a parameter", "bytes=0-9;q=1", 100, IGNORE],
  ["colon instead of equals", "bytes:0-9", 100, IGNORE],
];

/** Ranges as [start, end] pairs, so a table row stays one line. */
function shape(r: RangeResult): typeof IGNORE | typeof UNSAT | [number, number][] {
  return typeof r === "string" ? r : r.map(({ start, end }): [number, number] => [start, end]);
}

describe("parseRange", () => {
  test.each(CASES)("%s: %p (size %d)", (_what, header, size, expected) => {
    expect(shape(parseRange(header, size))).toEqual(expected);
  });

  test(`${MAX_RANGES} ranges are served, ${MAX_RANGES + 1} are ignored`, () => {
    const specs = (n: number) => Array.from({ length: n }, (_, i) => `${i * 3}-${i * 3}`).join(",");
    const ok = parseRange(`bytes=${specs(MAX_RANGES)}`, 1000);
    expect(Array.isArray(ok) && ok.length).toBe(MAX_RANGES);
    expect(parseRange(`bytes=${specs(MAX_RANGES + 1)}`, 1000)).toBe(IGNORE);
    // Many overlapping ranges are still too many, even though they would coalesce to one.
    expect(parseRange(`bytes=${Array(MAX_RANGES + 1).fill("0-9").join(",")}`, 1000)).toBe(IGNORE);
  });

  test("the limit is a parameter", () => {
    expect(parseRange("bytes=0-1,3-4", 100, 1)).toBe(IGNORE);
    expect(shape(parseRange("bytes=0-1,3-4", 100, 2))).toEqual([[0, 1], [3, 4]]);
  });

  test("results do not alias each other across calls", () => {
    const a = parseRange("bytes=0-1,1-5", 100);
    const b = parseRange("bytes=0-1,1-5", 100);
    expect(a).toEqual(b);
    if (Array.isArray(a)) a[0]!.end = 42;
    expect(shape(b)).toEqual([[0, 5]]);
  });
});

describe("contentRange", () => {
  test.each([
    [0, 0, 1, "bytes 0-0/1"],
    [10, 19, 100, "bytes 10-19/100"],
    [1048000, 1048575, 1048576, "bytes 1048000-1048575/1048576"],
  ])("%d-%d of %d → %s", (start, end, size, expected) => {
    expect(contentRange({ start, end }, size)).toBe(expected);
  });
});
