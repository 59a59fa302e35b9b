// Accept-Encoding → q-value per coding, and the coding chosen from those a resource has.
import { describe, expect, test } from "bun:test";
import { CODINGS, type CodingName, IDENTITY, pickCoding, preferences, qualityOf, refusesIdentity } from "../../src/compress/negotiate.ts";

const acceptsCoding = (header: string, coding: string) => qualityOf(header, coding as CodingName) / 1000;
function chooseCoding(header: string | undefined, available: CodingName[]): CodingName | null {
  let mask = 0;
  for (const name of available) mask |= 1 << CODINGS.findIndex((c) => c.name === name);
  const c = pickCoding(preferences(header), mask);
  return c === IDENTITY ? null : CODINGS[c]!.name;
}

/** [header, coding, expected q]. */
const Q_CASES: [string, string, number][] = [
  ["gzip", "gzip", 1],
  ["gzip", "br", 0],
  ["gzip;q=0", "gzip", 0],
  ["gzip;q=0.000", "gzip", 0],
  ["gzip;q=0.", "gzip", 0],
  ["gzip;q=1", "gzip", 1],
  ["gzip;q=1.0", "gzip", 1],
  ["gzip;q=1.000", "gzip", 1],
  ["gzip;q=0.5, br;q=0.4", "gzip", 0.5],
  ["gzip;q=0.5, br;q=0.4", "br", 0.4],
  ["gzip;q=0.001", "gzip", 0.001],
  ["deflate, gzip;q=0.8", "gzip", 0.8],
  // `*` covers what is not named, and only that
  ["*", "br", 1],
  ["*", "gzip", 1],
  ["*;q=0.3", "zstd", 0.3],
  ["*;q=0, gzip", "gzip", 1],
  ["*;q=0, gzip", "br", 0],
  ["gzip, *;q=0.2", "br", 0.2],
  ["br;q=0, *", "br", 0],
  ["*, br;q=0", "br", 0],
  // x-gzip is gzip (RFC 9110 §12.5.3), and nothing else
  ["x-gzip", "gzip", 1],
  ["x-gzip;q=0.7", "gzip", 0.7],
  ["x-gzip", "br", 0],
  ["x-br", "br", 0],
  ["gzip, gzip;q=0.2", "gzip", 1],
  ["gzip;q=0.2, x-gzip;q=0.6", "gzip", 0.6],
  // case and whitespace
  ["GZIP", "gzip", 1],
  ["Br", "br", 1],
  ["gzip;Q=0.5", "gzip", 0.5],
  ["  gzip ; q=0.7 ,br  ", "gzip", 0.7],
  ["  gzip ; q=0.7 ,br  ", "br", 1],
  ["gzip;q = 0.7", "gzip", 0.7],
  ["gzip,br", "br", 1],
  ["gzip,\tbr", "br", 1],
  // malformed q-values refuse that element
  ["gzip;q=abc", "gzip", 0],
  ["gzip;q=", "gzip", 0],
  ["gzip;q", "gzip", 0],
  ["gzip;q=1.5", "gzip", 0],
  ["gzip;q=2", "gzip", 0],
  ["gzip;q=-1", "gzip", 0],
  ["gzip;q=0.1234", "gzip", 0],
  ["gzip;q=.5", "gzip", 0],
  ["gzip;q=0.5;q=0.5", "gzip", 0],
  ["gzip;q=0.5x", "gzip", 0],
  ["gzip;level=9", "gzip", 0],
  ["gzip;q=abc, br", "br", 1],
  // identity only, nothing, or names that only look alike
  ["identity", "gzip", 0],
  ["identity;q=1, *;q=0", "br", 0],
  ["", "gzip", 0],
  [",", "gzip", 0],
  [" , ,", "br", 0],
  ["gzipped", "gzip", 0],
  ["gz", "gzip", 0],
  ["brotli", "br", 0],
];

/** [header, available on disk, chosen]. */
const CHOOSE_CASES: [string | undefined, CodingName[], CodingName | null][] = [
  [undefined, ["br", "gzip"], null],
  ["", ["br", "gzip"], null],
  ["identity", ["br", "gzip"], null],
  ["gzip, br", [], null],
  ["gzip", ["gzip"], "gzip"],
  ["gzip", ["br"], null],
  ["br", ["gzip"], null],
  ["gzip, br", ["br", "gzip"], "br"],
  ["gzip, br", ["gzip", "br"], "br"],
  ["gzip, deflate, br, zstd", ["br", "zstd", "gzip"], "br"],
  ["zstd, gzip", ["zstd", "gzip"], "zstd"],
  ["gzip;q=0.5, br;q=0.5", ["br", "gzip"], "br"],
  ["br;q=0.4, gzip;q=0.5", ["br", "gzip"], "gzip"],
  ["br;q=0.9, gzip", ["br", "gzip"], "gzip"],
  ["gzip;q=0", ["gzip"], null],
  ["gzip;q=0, br;q=0", ["br", "gzip"], null],
  ["br;q=0, gzip;q=0.1", ["br", "gzip"], "gzip"],
  ["*", ["gzip"], "gzip"],
  ["*", ["gzip", "zstd", "br"], "br"],
  ["*;q=0", ["br", "gzip"], null],
  ["*;q=0, gzip", ["br", "gzip"], "gzip"],
  ["br;q=0, *", ["br", "gzip"], "gzip"],
  ["x-gzip", ["gzip"], "gzip"],
  ["GZIP, BR", ["gzip", "br"], "br"],
  ["gzip;q=bad, br;q=bad", ["br", "gzip"], null],
  // identity wins only when the client rates it above every coding we have
  ["identity;q=1, gzip;q=0.5", ["gzip"], null],
  ["identity;q=0.5, gzip", ["gzip"], "gzip"],
  ["identity;q=0.5, gzip;q=0.5", ["gzip"], "gzip"],
  ["*;q=0.9, gzip;q=0.5", ["gzip"], null],
  ["identity;q=0, gzip;q=0.1", ["gzip"], "gzip"],
];

/** [header, identity refused?] */
const IDENTITY_CASES: [string | undefined, boolean][] = [
  [undefined, false],
  ["", false],
  ["gzip", false],
  ["identity;q=0", true],
  ["gzip, identity;q=0", true],
  ["*;q=0", true],
  ["*;q=0, identity", false],
  ["identity;q=0.001", false],
  ["identity;q=bad", true],
  ["*;q=0, gzip", true],
];

describe("acceptsCoding", () => {
  test.each(Q_CASES)("%p, %s → q=%d", (header, coding, q) => {
    expect(acceptsCoding(header, coding)).toBe(q);
  });
});

describe("chooseCoding", () => {
  test.each(CHOOSE_CASES)("%p with %p on disk → %p", (header, available, chosen) => {
    expect(chooseCoding(header, available)).toBe(chosen);
  });
});

describe("identity", () => {
  test.each(IDENTITY_CASES)("%p → refused %p", (header, refused) => {
    expect(refusesIdentity(preferences(header))).toBe(refused);
  });
  test("a header is parsed once and remembered", () => {
    expect(preferences("gzip;q=0.3, br")).toBe(preferences("gzip;q=0.3, br"));
  });
});
