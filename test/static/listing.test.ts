// The listing's pure parts: the order a query asks for, the format Accept asks for, sorting, escaping.
import { describe, expect, test } from "bun:test";
import { encodeSegment, escapeHtml, formatSize, type ListingEntry, listingOrder, sortListing, wantsJsonListing } from "../../src/static/listing.ts";

describe("listingOrder", () => {
  const cases: [string, string, boolean][] = [
    ["", "name", false],
    ["sort=size", "size", false],
    ["sort=date&order=desc", "date", true],
    ["sort=name&order=desc", "name", true],
    ["sort=SIZE&order=DESC", "name", false], // exact values only
    ["sort=owner&order=up", "name", false],
  ];
  for (const [query, sort, descending] of cases) {
    test(`?${query} → ${sort} ${descending ? "desc" : "asc"}`, () => {
      expect(listingOrder(new URLSearchParams(query))).toEqual({ sort: sort as "name", descending });
    });
  }
});

describe("wantsJsonListing", () => {
  const cases: [string, boolean][] = [
    ["application/json", true],
    ["application/json, */*;q=0.5", true],
    ["text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", false],
    ["text/html, application/json", false], // both: the page
    ["*/*", false],
    ["", false],
  ];
  for (const [accept, json] of cases) test(`${JSON.stringify(accept)} → ${json ? "JSON" : "HTML"}`, () => expect(wantsJsonListing(accept)).toBe(json));
});

describe("sortListing", () => {
  const entry = (name: string, type: ListingEntry["type"], size: number, mtimeMs: number): ListingEntry => ({
    name,
    type,
    size,
    mtimeMs,
    modified: new Date(mtimeMs).toISOString(),
  });
  const entries = () => [entry("b.txt", "file", 30, 1), entry("z", "directory", 0, 3), entry("a.txt", "file", 10, 2), entry("c.txt", "file", 10, 0)];
  const names = (es: ListingEntry[]) => es.map((e) => e.name);
  test("directories first, then by name", () => expect(names(sortListing(entries(), "name", false))).toEqual(["z", "a.txt", "b.txt", "c.txt"]));
  test("by size, descending; equal sizes by name, descending too", () => {
    expect(names(sortListing(entries(), "size", true))).toEqual(["z", "b.txt", "c.txt", "a.txt"]);
  });
  test("by date", () => expect(names(sortListing(entries(), "date", false))).toEqual(["z", "c.txt", "b.txt", "a.txt"]));
});

describe("names in a page", () => {
  test("escapeHtml", () => expect(escapeHtml(`a&b<c>"d'`)).toBe("a&#38;b&#60;c&#62;&#34;d&#39;"));
  test("encodeSegment encodes what encodeURIComponent leaves", () => expect(encodeSegment("a b!'()*?#/é")).toBe("a%20b%21%27%28%29%2A%3F%23%2F%C3%A9"));
  test("formatSize", () => {
    expect([0, 1023, 1024, 10 * 1024, 1536 * 1024, 5 * 1024 ** 4 * 1024].map(formatSize)).toEqual(["0 B", "1023 B", "1.0 KiB", "10 KiB", "1.5 MiB", "5120 TiB"]);
  });
});

describe("names that could not be asked for", () => {
  test("are left out of the listing, so every link in it works", async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { serve } = await import("../../src/index.ts");
    const dir = mkdtempSync(join(tmpdir(), "bunhttp-listing-"));
    for (const name of ["ok.txt", "back\\slash.txt", "tab\there.txt", "new\nline.txt", "del\x7f.txt", "sp ace.txt"]) writeFileSync(join(dir, name), "x");
    const s = serve({ port: 0, hostname: "127.0.0.1", log: "off", root: dir });
    try {
      const json = (await (await fetch(new URL("/", s.url), { headers: { Accept: "application/json" } })).json()) as { entries: { name: string }[] };
      expect(json.entries.map((e) => e.name).sort()).toEqual(["ok.txt", "sp ace.txt"]);
      const html = await (await fetch(new URL("/", s.url), { headers: { Accept: "text/html" } })).text();
      const links = [...html.matchAll(/<a href="([^"]+)"/g)].map((m) => m[1]!).filter((h) => !h.startsWith("?") && h !== "../");
      expect(links.sort()).toEqual(["ok.txt", "sp%20ace.txt"]);
      for (const href of links) expect((await fetch(new URL(href, s.url))).status).toBe(200);
    } finally {
      await s.stop(true);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
