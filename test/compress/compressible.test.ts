// Which Content-Type values are worth compressing: text and text-like formats yes, formats that are
// compressed already (images but SVG, fonts like woff2, archives, audio, video) and unknown bytes no.
import { expect, test } from "bun:test";
import { isCompressibleType } from "../../src/compress/compressible.ts";

/** [Content-Type value, compressed?]. */
const CASES: [string | null | undefined, boolean][] = [
  // text, with parameters and in any case
  ["text/html", true],
  ["text/html; charset=utf-8", true],
  ["TEXT/HTML; Charset=UTF-8", true],
  ["  text/css ;charset=utf-8", true],
  ["text/plain", true],
  ["text/event-stream", true],
  ["text/csv", true],
  ["text/javascript; charset=utf-8", true],
  // JavaScript, JSON and XML, with structured syntax suffixes
  ["application/javascript", true],
  ["application/json", true],
  ["application/json; charset=utf-8", true],
  ["Application/JSON", true],
  ["application/ld+json", true],
  ["application/problem+json", true],
  ["application/manifest+json", true],
  ["application/xml", true],
  ["application/atom+xml", true],
  ["application/rss+xml; charset=utf-8", true],
  ["application/xhtml+xml", true],
  ["application/wasm", true],
  ["image/svg+xml", true],
  ["image/SVG+XML; charset=utf-8", true],
  ["font/ttf", true],
  ["font/otf", true],
  // compressed already
  ["image/png", false],
  ["image/jpeg", false],
  ["image/gif", false],
  ["image/webp", false],
  ["image/avif", false],
  ["font/woff2", false],
  ["font/woff", false],
  ["application/zip", false],
  ["application/gzip", false],
  ["application/x-bzip2", false],
  ["application/zstd", false],
  ["audio/mpeg", false],
  ["audio/ogg", false],
  ["video/mp4", false],
  ["video/webm", false],
  ["application/pdf", false],
  // unknown bytes, and nothing
  ["application/octet-stream", false],
  ["application/x-something+zip", false],
  ["", false],
  [null, false],
  [undefined, false],
  // a suffix is only a suffix: "+json" on a non-application type is not JSON
  ["image/x+json", false],
];

test.each(CASES)("%p → %p", (type, expected) => {
  expect(isCompressibleType(type)).toBe(expected);
});

test("the answer is the same when asked again (remembered), for many distinct values", () => {
  // More distinct values than the memo holds: it is cleared, never wrong.
  for (let i = 0; i < 600; i++) {
    expect(isCompressibleType(`text/x-${i}`)).toBe(true);
    expect(isCompressibleType(`image/x-${i}`)).toBe(false);
  }
  for (const [type, expected] of CASES) expect(isCompressibleType(type)).toBe(expected);
});
