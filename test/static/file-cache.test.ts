// The hot-file cache over a real temporary tree, with the clock passed in: what an entry holds, when
// it is trusted, when it is stat()ed again and dropped, and what the byte limits keep out.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getDateLine } from "../../src/http/date.ts";
import { type Entry, type FileCacheOptions, FileCache, fullResponse, type Variant } from "../../src/static/file-cache.ts";
import { statInside } from "../../src/static/file-system.ts";

let tmp: string;
let root: string;
const T0 = 1_000_000;

beforeAll(() => {
  tmp = realpathSync(mkdtempSync(join(tmpdir(), "bunhttp-cache-")));
  root = join(tmp, "root");
  mkdirSync(root);
  writeFileSync(join(tmp, "outside.gz"), "outside");
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let n = 0;
/** A fresh file (and siblings) under the root; its request key. */
function file(data: string, siblings: Record<string, string> = {}, ext = ".txt"): { key: string; path: string; name: string } {
  const name = `f${n++}${ext}`;
  const path = join(root, name);
  writeFileSync(path, data);
  for (const [suffix, bytes] of Object.entries(siblings)) writeFileSync(path + suffix, bytes);
  return { key: `/${name}`, path, name };
}

function cache(o: Partial<FileCacheOptions> = {}): FileCache {
  return new FileCache({ root, fileLimit: 1024, totalLimit: 1 << 20, cacheControl: undefined, compressMinSize: null, ...o });
}

function add(c: FileCache, f: { key: string; path: string; name: string }, now = T0) {
  return c.add(f.key, f.path, f.name, statInside(f.path, root)!, now);
}

/** The entry's precompressed siblings, in coding order (br, zstd, gzip). */
const siblingsOf = (e: Entry): Variant[] => e.sibling.filter((v): v is Variant => v !== undefined);
const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));

describe("an entry", () => {
  test("a small file: its bytes, validators and pre-encoded header lines", () => {
    const f = file("hello");
    const e = add(cache(), f)!;
    expect(e.contentType).toBe("text/plain; charset=utf-8");
    expect(siblingsOf(e)).toEqual([]);
    expect(text(e.identity.body)).toBe("hello");
    expect(e.identity.size).toBe(5);
    expect(e.identity.headLines).toBe(
      "Content-Type: text/plain; charset=utf-8\r\nAccept-Ranges: bytes\r\nX-Content-Type-Options: nosniff\r\n" +
        `Last-Modified: ${e.identity.lastModified}\r\nETag: ${e.identity.etag}\r\n`,
    );
    expect(text(e.identity.head200)).toBe(e.identity.headLines);
    expect(e.identity.mtimeSeconds).toBe(Math.floor(e.identity.mtimeMs / 1000));
  });

  test("a file over the file limit keeps no bytes, only its size", () => {
    const e = add(cache({ fileLimit: 4 }), file("hello"))!;
    expect(e.identity.body).toBeNull();
    expect(e.identity.size).toBe(5);
  });

  test("precompressed siblings: variants with their own ETag and Content-Encoding, and Vary on all", () => {
    const e = add(cache(), file("body {}", { ".br": "BR", ".gz": "GZ" }, ".css"))!;
    expect(e.siblings).toBe(0b101); // br and gzip
    expect(siblingsOf(e).map((v) => text(v.body))).toEqual(["BR", "GZ"]);
    const [br] = siblingsOf(e);
    expect(br!.etag).toEndWith('-br"');
    expect(br!.headLines).toContain("Content-Encoding: br\r\n");
    for (const v of [e.identity, ...siblingsOf(e)]) expect(v.headLines).toContain("Vary: Accept-Encoding\r\n");
  });

  test("a sibling that leads outside the root is not one", () => {
    const f = file("x");
    symlinkSync(join(tmp, "outside.gz"), `${f.path}.gz`);
    expect(siblingsOf(add(cache(), f)!)).toEqual([]);
  });

  test("Cache-Control: the default per file, or the option for every file", () => {
    expect(add(cache(), file("<p>", {}, ".html"))!.identity.headLines).toContain("Cache-Control: no-cache\r\n");
    expect(add(cache(), file("x"))!.cacheControl).toBeUndefined();
    const e = add(cache({ cacheControl: "max-age=60" }), file("<p>", {}, ".html"))!;
    expect(e.cacheControl).toBe("max-age=60");
    expect(e.identity.headLines).toContain("Cache-Control: max-age=60\r\n");
  });
});

describe("revalidation", () => {
  test("trusted for a second without a look at the disk", () => {
    const c = cache();
    const f = file("one");
    const e = add(c, f);
    writeFileSync(f.path, "changed!");
    expect(c.get(f.key, T0 + 999)).toBe(e!);
  });

  test("after a second, an unchanged file keeps its entry, trusted for another second", () => {
    const c = cache();
    const f = file("one");
    const e = add(c, f)!;
    expect(c.get(f.key, T0 + 1000)).toBe(e);
    expect(e.checkedAt).toBe(T0 + 1000);
  });

  test("after a second, a changed file's entry is dropped", () => {
    const c = cache();
    const f = file("one");
    add(c, f);
    writeFileSync(f.path, "changed!");
    expect(c.get(f.key, T0 + 1000)).toBeUndefined();
    expect(c.get(f.key, T0 + 1001)).toBeUndefined();
  });

  test("a deleted file, a new sibling, a deleted sibling: each drops the entry", () => {
    const c = cache();
    const gone = file("x");
    const grows = file("x");
    const shrinks = file("x", { ".gz": "GZ" });
    for (const f of [gone, grows, shrinks]) add(c, f);
    unlinkSync(gone.path);
    writeFileSync(`${grows.path}.br`, "BR");
    unlinkSync(`${shrinks.path}.gz`);
    for (const f of [gone, grows, shrinks]) expect(c.get(f.key, T0 + 1000)).toBeUndefined();
  });
});

describe("limits", () => {
  test("an entry larger than the total limit is answered but not kept", () => {
    const c = cache({ totalLimit: 4 });
    const f = file("hello");
    expect(add(c, f)).not.toBeNull();
    expect(c.get(f.key, T0)).toBeUndefined();
  });

  test("the oldest entries make room for a new one", () => {
    const c = cache({ totalLimit: 10 });
    const [a, b, d] = [file("aaaa"), file("bbbb"), file("dddd")];
    for (const f of [a, b, d]) add(c, f);
    expect(c.get(a.key, T0)).toBeUndefined();
    expect(c.get(b.key, T0)).toBeDefined();
    expect(c.get(d.key, T0)).toBeDefined();
  });

  test("re-adding a key replaces its bytes rather than counting them twice", () => {
    const c = cache({ totalLimit: 10 });
    const a = file("aaaa");
    const b = file("bbbb");
    add(c, a);
    add(c, a);
    add(c, b);
    expect(c.get(a.key, T0)).toBeDefined();
    expect(c.get(b.key, T0)).toBeDefined();
  });
});

describe("lookupFile", () => {
  test("a known file by path, kept apart from the request path's key", () => {
    const c = cache();
    const f = file("<h1>not found</h1>", {}, ".html");
    const e = c.lookupFile(f.key, f.path, f.name, T0)!;
    expect(text(e.identity.body)).toBe("<h1>not found</h1>");
    expect(c.lookupFile(f.key, f.path, f.name, T0 + 10)).toBe(e);
    expect(c.get(f.key, T0)).toBeUndefined();
  });

  test("missing, or not a regular file: null", () => {
    const c = cache();
    expect(c.lookupFile("/404.html", join(root, "404-missing.html"), "404.html", T0)).toBeNull();
    expect(c.lookupFile("/", root, "", T0)).toBeNull();
  });

  test("a change is seen after a second", () => {
    const c = cache();
    const f = file("old");
    c.lookupFile(f.key, f.path, f.name, T0);
    writeFileSync(f.path, "newer");
    expect(text(c.lookupFile(f.key, f.path, f.name, T0 + 1000)!.identity.body)).toBe("newer");
  });

  test("a change is seen after a second even while the page is asked for all the time", () => {
    const c = cache();
    const f = file("old");
    c.lookupFile(f.key, f.path, f.name, T0);
    writeFileSync(f.path, "newer");
    let body: string | null = null;
    for (let t = T0 + 400; t <= T0 + 1200; t += 400) body = text(c.lookupFile(f.key, f.path, f.name, t)!.identity.body);
    expect(body).toBe("newer");
  });
});

describe("fullResponse", () => {
  test("status line, the cached head, Date, Server, Content-Length, then the body; one buffer per second", () => {
    const e = add(cache(), file("hello"))!;
    const date = getDateLine();
    const full = fullResponse(e.identity);
    const again = fullResponse(e.identity);
    const s = text(full)!;
    expect(s.startsWith(`HTTP/1.1 200 OK\r\n${e.identity.headLines}Date: `)).toBe(true);
    expect(s).toMatch(/\r\nServer: bunhttp\r\nContent-Length: 5\r\n\r\nhello$/);
    if (getDateLine() === date) expect(again).toBe(full); // (unless the second turned meanwhile)
  });
});
