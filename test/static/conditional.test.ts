// The validators and the precondition decisions are pure: one row per case, fields in, verdict out.
import { describe, expect, test } from "bun:test";
import { etagMatches, evaluatePreconditions, ifRangeHolds, parseHttpDate, type PreconditionFields } from "../../src/static/conditional.ts";

const ETAG = '"abc-1"';
const MTIME = Date.UTC(2024, 0, 2, 3, 4, 5) / 1000; // Tue, 02 Jan 2024 03:04:05 GMT
const AT = "Tue, 02 Jan 2024 03:04:05 GMT";
const BEFORE = "Tue, 02 Jan 2024 03:04:04 GMT";
const AFTER = "Tue, 02 Jan 2024 03:04:06 GMT";

describe("etagMatches", () => {
  /** [field value, our etag, weak comparison, expected] */
  const cases: [string, string, boolean, boolean][] = [
    ['"abc-1"', ETAG, false, true],
    ['"abc-2"', ETAG, false, false],
    ["*", ETAG, false, true],
    [" * ", ETAG, true, true],
    ['"x", "abc-1"', ETAG, false, true],
    ['"x",,"abc-1"', ETAG, true, true],
    ['W/"abc-1"', ETAG, true, true], // weak comparison ignores W/
    ['W/"abc-1"', ETAG, false, false], // strong comparison needs both strong (§8.8.3.2)
    ['"abc-1"', 'W/"abc-1"', true, true],
    ['"abc-1"', 'W/"abc-1"', false, false],
    ["abc-1", ETAG, true, false], // unquoted: malformed, no match
    ['"abc-1', ETAG, true, false], // unterminated
    ['"x", abc-1', ETAG, true, false], // malformed after a tag: no match
    ["", ETAG, true, false],
  ];
  for (const [value, etag, weak, expected] of cases) {
    test(`${JSON.stringify(value)} vs ${etag}, ${weak ? "weak" : "strong"} → ${expected}`, () => {
      expect(etagMatches(value, etag, weak)).toBe(expected);
    });
  }
});

describe("parseHttpDate", () => {
  test("IMF-fixdate, in whole seconds", () => expect(parseHttpDate(AT)).toBe(MTIME));
  test("not a date → NaN", () => expect(parseHttpDate("yesterday-ish")).toBeNaN());
});

describe("evaluatePreconditions (RFC 9110 §13.2.2)", () => {
  const none: PreconditionFields = { ifMatch: undefined, ifNoneMatch: undefined, ifModifiedSince: undefined, ifUnmodifiedSince: undefined };
  /** [what, fields, GET or HEAD, expected] */
  const cases: [string, Partial<PreconditionFields>, boolean, 0 | 304 | 412][] = [
    ["no preconditions", {}, true, 0],
    // step 1: If-Match
    ["If-Match matches", { ifMatch: ETAG }, true, 0],
    ["If-Match *", { ifMatch: "*" }, true, 0],
    ["If-Match differs → 412", { ifMatch: '"other"' }, true, 412],
    ["If-Match is strong: a weak tag fails", { ifMatch: `W/${ETAG}` }, true, 412],
    // step 2: If-Unmodified-Since, only without If-Match
    ["If-Unmodified-Since at the mtime", { ifUnmodifiedSince: AT }, true, 0],
    ["If-Unmodified-Since after", { ifUnmodifiedSince: AFTER }, true, 0],
    ["If-Unmodified-Since before → 412", { ifUnmodifiedSince: BEFORE }, true, 412],
    ["If-Unmodified-Since not a date: ignored", { ifUnmodifiedSince: "soon" }, true, 0],
    ["If-Match wins over If-Unmodified-Since", { ifMatch: ETAG, ifUnmodifiedSince: BEFORE }, true, 0],
    // step 3: If-None-Match
    ["If-None-Match matches → 304", { ifNoneMatch: ETAG }, true, 304],
    ["If-None-Match is weak: a weak tag matches", { ifNoneMatch: `W/${ETAG}` }, true, 304],
    ["If-None-Match * → 304", { ifNoneMatch: "*" }, true, 304],
    ["If-None-Match differs", { ifNoneMatch: '"other"' }, true, 0],
    ["If-None-Match matches, not GET/HEAD → 412", { ifNoneMatch: ETAG }, false, 412],
    // step 4: If-Modified-Since, only without If-None-Match, only GET/HEAD
    ["If-Modified-Since at the mtime → 304", { ifModifiedSince: AT }, true, 304],
    ["If-Modified-Since after → 304", { ifModifiedSince: AFTER }, true, 304],
    ["If-Modified-Since before", { ifModifiedSince: BEFORE }, true, 0],
    ["If-Modified-Since not a date: ignored", { ifModifiedSince: "soon" }, true, 0],
    ["If-Modified-Since is ignored for other methods", { ifModifiedSince: AT }, false, 0],
    ["If-None-Match differs: If-Modified-Since is not asked", { ifNoneMatch: '"other"', ifModifiedSince: AT }, true, 0],
    // the order: a failed step 1 or 2 answers before step 3
    ["If-Match fails before If-None-Match", { ifMatch: '"other"', ifNoneMatch: ETAG }, true, 412],
    ["If-Unmodified-Since fails before If-Modified-Since", { ifUnmodifiedSince: BEFORE, ifModifiedSince: AT }, true, 412],
  ];
  for (const [what, fields, getOrHead, expected] of cases) {
    test(`${what} → ${expected}`, () => {
      expect(evaluatePreconditions({ ...none, ...fields }, { etag: ETAG, mtimeSeconds: MTIME }, getOrHead)).toBe(expected);
    });
  }
});

describe("ifRangeHolds (RFC 9110 §13.1.5)", () => {
  const mtimeMs = MTIME * 1000 + 250;
  const later = mtimeMs + 60_000;
  /** [what, If-Range value, now, expected] */
  const cases: [string, string, number, boolean][] = [
    ["the same strong ETag", ETAG, later, true],
    ["another ETag", '"other"', later, false],
    ["a weak ETag never", `W/${ETAG}`, later, false],
    ["spaces around are ignored", `  ${ETAG} `, later, true],
    ["the Last-Modified date", AT, later, true],
    ["another date", AFTER, later, false],
    ["the date of a file changed within the last second is weak", AT, mtimeMs + 999, false],
    ["exactly one second later it is strong", AT, mtimeMs + 1000, true],
    ["not a date", "soon", later, false],
  ];
  for (const [what, value, now, expected] of cases) {
    test(`${what} → ${expected}`, () => expect(ifRangeHolds(value, ETAG, mtimeMs, now)).toBe(expected));
  }
  test("byDate false: the Last-Modified date no longer holds, the strong ETag still does", () => {
    expect(ifRangeHolds(AT, ETAG, mtimeMs, later, false)).toBe(false);
    expect(ifRangeHolds(ETAG, ETAG, mtimeMs, later, false)).toBe(true);
  });
});
