// A file's own headers are pure functions of its name and stat(): one row per case.
import { describe, expect, test } from "bun:test";
import type { BigIntStats } from "node:fs";
import { contentTypeFor, defaultCacheControl, makeEtag } from "../../src/static/file-headers.ts";

describe("fingerprint detection", () => {
  const cases: [string, boolean][] = [
    ["app.3f9a1c2b.js", true],
    ["main-5TQXR2.css", true],
    ["chunk-ABCD2345.js", true],
    ["vendor.0123abcd4567.css", true],
    ["android-chrome-192x192.png", false],
    ["report-202401.pdf", false],
    ["photo-123456.jpg", false],
    ["style.css", false],
    ["read-me-please.txt", false],
    ["deadbeef.js", false], // the whole name: no separator before it
  ];
  for (const [name, immutable] of cases) {
    test(`${name} → ${immutable ? "immutable" : "no default"}`, () => {
      expect(defaultCacheControl(name, "application/octet-stream")).toBe(immutable ? "public, max-age=31536000, immutable" : undefined);
    });
  }
});

describe("defaultCacheControl", () => {
  test("HTML is revalidated, even with a fingerprint", () => {
    expect(defaultCacheControl("index.html", "text/html; charset=utf-8")).toBe("no-cache");
    expect(defaultCacheControl("page.3f9a1c2b.html", "text/html; charset=utf-8")).toBe("no-cache");
  });
  test("everyFile (live reload): every file is revalidated but a fingerprinted one", () => {
    expect(defaultCacheControl("style.css", "text/css; charset=utf-8", true)).toBe("no-cache");
    expect(defaultCacheControl("app.js", "text/javascript; charset=utf-8", true)).toBe("no-cache");
    expect(defaultCacheControl("app.3f9a1c2b.js", "text/javascript; charset=utf-8", true)).toBe("public, max-age=31536000, immutable");
    expect(defaultCacheControl("index.html", "text/html; charset=utf-8", true)).toBe("no-cache");
  });
});

describe("contentTypeFor", () => {
  const cases: [string, string][] = [
    ["a.txt", "text/plain; charset=utf-8"],
    ["index.html", "text/html; charset=utf-8"],
    ["style.css", "text/css; charset=utf-8"],
    ["app.js", "text/javascript; charset=utf-8"],
    ["data.json", "application/json; charset=utf-8"],
    ["icon.svg", "image/svg+xml; charset=utf-8"],
    ["manifest.webmanifest", "application/manifest+json; charset=utf-8"],
    ["photo.PNG", "image/png"],
    ["font.woff2", "font/woff2"],
    ["archive.tar.gz", "application/gzip"],
    ["no-extension", "application/octet-stream"],
    ["weird.zzzz", "application/octet-stream"],
  ];
  for (const [name, type] of cases) test(`${name} → ${type}`, () => expect(contentTypeFor(name)).toBe(type));
});

describe("makeEtag", () => {
  const st = { ino: 1234n, size: 56n, mtimeNs: 1_700_000_000_123_456_789n } as BigIntStats;
  test("inode, size and mtime in ns, base 36, strong", () => {
    expect(makeEtag(st)).toBe(`"${(1234).toString(36)}-${(56).toString(36)}-${(1_700_000_000_123_456_789n).toString(36)}"`);
  });
  test("a sibling's tag names its coding", () => {
    expect(makeEtag(st, "br")).toBe(makeEtag(st).replace(/"$/, '-br"'));
  });
  test("a change of a nanosecond is a new tag", () => {
    expect(makeEtag({ ...st, mtimeNs: st.mtimeNs + 1n } as BigIntStats)).not.toBe(makeEtag(st));
  });
});
