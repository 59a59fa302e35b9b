// Static files as a client sees them: a fixture tree of edge cases built at run time, served over
// real TCP on 127.0.0.1, requests written as raw bytes.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve, type Server } from "../../src/index.ts";
import { spawnChild } from "../helpers/child.ts";
import { pollUntil } from "../helpers/poll.ts";
import { exchange, RawClient, type RawResponse } from "../helpers/raw-client.ts";

const BIG = randomBytes(1024 * 1024); // above the cache limit these servers get (64 KiB): streamed from the file
const MEDIUM = randomBytes(100 * 1024);
const HELLO = "Hello, static!\n";
const SECRET = "TOP SECRET outside the root";
const STYLE = "body { color: #c2410c; }\n";
const STYLE_GZ = Buffer.from("pretend-gzip-bytes\x00\x01\x02");
const STYLE_BR = Buffer.from("pretend-brotli-bytes\xff\xfe");

let tmp: string;
let root: string;
let notFoundRoot: string;
const servers: Server[] = [];
let port: number; // defaults
let allowPort: number; // dotfiles: "allow"
let noListPort: number; // listing: false
let spaPort: number; // spa: true
let ccPort: number; // cacheControl override
let notFoundPort: number; // a root with 404.html

function write(rel: string, data: string | Uint8Array): void {
  writeFileSync(join(root, rel), data);
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "bunhttp-static-"));
  root = join(tmp, "root");
  mkdirSync(join(tmp, "outside"));
  writeFileSync(join(tmp, "outside", "secret.txt"), SECRET);
  for (const d of ["root", "root/sub", "root/sub/inner dir", "root/noindex", "root/noindex/adir", "root/noindex/zdir", "root/noindex/.hidden-dir", "root/.git", "root/.well-known"]) {
    mkdirSync(join(tmp, d));
  }
  write("index.html", "<!doctype html><h1>home</h1>\n");
  write("hello.txt", HELLO);
  write("old.txt", HELLO);
  // Modified an hour ago: its Last-Modified is a strong validator (RFC 9110 §8.8.2.2).
  utimesSync(join(root, "old.txt"), new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
  write("with space.txt", "spaced out\n");
  write("é.txt", "accent\n");
  write("data.json", '{"ok":true}\n');
  write("sub/index.html", "<h1>sub index</h1>\n");
  write("sub/page.txt", "sub page\n");
  write("noindex/a&b<c>.html", "<p>twenty bytes!</p>"); // 20 bytes
  write("noindex/b.txt", "bbb"); // 3 bytes
  write("noindex/big-1000.bin", new Uint8Array(1000)); // 1000 bytes
  write("noindex/.hidden", "hidden in a listing\n");
  write(".env", "PASSWORD=hunter2\n");
  write(".git/config", "[core]\n\tbare = false\n");
  write(".well-known/security.txt", "Contact: mailto:security@example.com\n");
  write("app.3f9a1c2b.js", "console.log('fingerprinted');\n");
  write("main-5TQXR2.css", "main { display: block; }\n");
  write("style.css", STYLE);
  write("style.css.gz", STYLE_GZ);
  write("style.css.br", STYLE_BR);
  write("big.bin", BIG);
  write("medium.bin", MEDIUM);
  write("mutable.txt", "version one\n");
  write("doomed.txt", "here for now\n");
  write("late.css", "late { }\n");
  symlinkSync(join(tmp, "outside", "secret.txt"), join(root, "link-outside.txt"));
  symlinkSync(join(tmp, "outside"), join(root, "dir-outside"));
  symlinkSync("hello.txt", join(root, "link-inside.txt"));
  symlinkSync("loop", join(root, "noindex", "loop")); // ELOOP on stat
  symlinkSync(join(tmp, "outside", "secret.txt"), join(root, "noindex", "outside-link.txt"));
  symlinkSync("../hello.txt", join(root, "noindex", "inside-link.txt"));
  const fifo = Bun.spawnSync(["mkfifo", join(root, "noindex", "pipe")]);
  if (fifo.exitCode !== 0) throw new Error(`mkfifo failed: ${fifo.stderr.toString()}`);

  notFoundRoot = join(tmp, "with-404");
  mkdirSync(notFoundRoot);
  writeFileSync(join(notFoundRoot, "404.html"), "<h1>custom not found</h1>\n");
  writeFileSync(join(notFoundRoot, "here.txt"), "here\n");

  const start = (extra: Parameters<typeof serve>[0] = {}, at = root) => {
    // The file cache of 64 KiB these tests were written for (the default is 128 KiB): larger files stream.
    const s = serve({ port: 0, hostname: "127.0.0.1", root: at, log: "off", ...extra, static: { cacheFileLimit: 64 * 1024, ...extra.static } });
    servers.push(s);
    return s.port;
  };
  port = start();
  allowPort = start({ static: { dotfiles: "allow" } });
  noListPort = start({ static: { listing: false } });
  spaPort = start({ static: { spa: true } });
  ccPort = start({ static: { cacheControl: "public, max-age=60" } });
  notFoundPort = start({}, notFoundRoot);
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop(true)));
  rmSync(tmp, { recursive: true, force: true });
});

function request(method: string, path: string, headers: Record<string, string> = {}): string {
  let s = `${method} ${path} HTTP/1.1\r\nHost: test\r\n`;
  for (const [k, v] of Object.entries(headers)) s += `${k}: ${v}\r\n`;
  return `${s}\r\n`;
}

function get(path: string, headers: Record<string, string> = {}, at = port): Promise<RawResponse> {
  return exchange(at, request("GET", path, headers));
}

function bytesOf(r: RawResponse): Buffer {
  return Buffer.from(r.body);
}

function mtimeOf(rel: string): string {
  return statSync(join(root, rel)).mtime.toUTCString();
}

/** Asks with `fn` until the answer satisfies `ok` (a cached file is stat()ed again at most once a second). */
function askUntil(fn: () => Promise<RawResponse>, ok: (r: RawResponse) => boolean, what: string): Promise<RawResponse> {
  return pollUntil(async () => {
    const r = await fn();
    return ok(r) ? r : null;
  }, 2500, what, { every: 50 });
}

interface Part {
  type: string;
  range: string;
  bytes: Buffer;
}

/** Parses a multipart/byteranges body strictly: each part's length comes from its Content-Range. */
function parseByteranges(r: RawResponse): Part[] {
  const m = /^multipart\/byteranges; boundary=([^\s;]+)$/.exec(r.header("content-type") ?? "");
  if (m === null) throw new Error(`not multipart/byteranges: ${r.header("content-type")}`);
  const delim = `--${m[1]}`;
  const body = bytesOf(r);
  const text = body.toString("latin1");
  const parts: Part[] = [];
  let pos = 0;
  if (!text.startsWith(`${delim}\r\n`)) throw new Error("body does not open with the boundary");
  pos = delim.length + 2;
  for (;;) {
    const headEnd = text.indexOf("\r\n\r\n", pos);
    if (headEnd < 0) throw new Error("part head not terminated");
    const fields = new Map<string, string>();
    for (const line of text.slice(pos, headEnd).split("\r\n")) {
      const i = line.indexOf(":");
      fields.set(line.slice(0, i).toLowerCase(), line.slice(i + 1).trim());
    }
    const range = fields.get("content-range") ?? "";
    const rm = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(range);
    if (rm === null) throw new Error(`bad part Content-Range: ${range}`);
    const n = Number(rm[2]) - Number(rm[1]) + 1;
    const dataStart = headEnd + 4;
    parts.push({ type: fields.get("content-type") ?? "", range, bytes: body.subarray(dataStart, dataStart + n) });
    pos = dataStart + n;
    if (text.startsWith(`\r\n${delim}--\r\n`, pos)) {
      if (pos + delim.length + 6 !== text.length) throw new Error("bytes after the closing boundary");
      return parts;
    }
    if (!text.startsWith(`\r\n${delim}\r\n`, pos)) throw new Error(`no boundary after part ${parts.length}`);
    pos += delim.length + 4;
  }
}

describe("files", () => {
  test("a text file: type with charset, length, validators, and safe headers", async () => {
    const r = await get("/hello.txt");
    expect(r.status).toBe(200);
    expect(r.text()).toBe(HELLO);
    expect(r.header("content-type")).toBe("text/plain; charset=utf-8");
    expect(r.header("content-length")).toBe(String(HELLO.length));
    expect(r.header("last-modified")).toBe(mtimeOf("hello.txt"));
    expect(r.header("etag")).toMatch(/^"[^"]+"$/); // strong: no W/
    expect(r.header("accept-ranges")).toBe("bytes");
    expect(r.header("x-content-type-options")).toBe("nosniff");
    expect(r.header("server")).toBe("bunhttp"); // no version to fingerprint
    expect(r.header("date")).toMatch(/ GMT$/);
    expect(r.header("vary")).toBeUndefined(); // no compressed siblings
    expect(r.header("content-range")).toBeUndefined();
  });

  test.each([
    ["/index.html", "text/html; charset=utf-8"],
    ["/style.css", "text/css; charset=utf-8"],
    ["/app.3f9a1c2b.js", "text/javascript; charset=utf-8"],
    ["/data.json", "application/json; charset=utf-8"],
    ["/big.bin", "application/octet-stream"],
    ["/style.css.gz", "application/gzip"],
  ])("%s is %s", async (path, type) => {
    const r = await exchange(port, request("HEAD", path));
    expect(r.status).toBe(200);
    expect(r.header("content-type")).toBe(type);
  });

  test("a 1 MiB file is streamed byte-exact with its length", async () => {
    const r = await get("/big.bin");
    expect(r.status).toBe(200);
    expect(r.header("content-length")).toBe(String(BIG.length));
    expect(r.header("transfer-encoding")).toBeUndefined();
    expect(r.header("etag")).toMatch(/^"[^"]+"$/);
    expect(r.header("last-modified")).toBe(mtimeOf("big.bin"));
    expect(bytesOf(r).equals(BIG)).toBe(true);
  });

  test("a 100 KiB file arrives byte-exact", async () => {
    const r = await get("/medium.bin");
    expect(r.header("content-length")).toBe(String(MEDIUM.length));
    expect(bytesOf(r).equals(MEDIUM)).toBe(true);
  });

  test.each([
    ["/with%20space.txt", "spaced out\n"],
    ["/%C3%A9.txt", "accent\n"],
    ["/%c3%a9.txt", "accent\n"],
    ["/noindex/a%26b%3Cc%3E.html", "<p>twenty bytes!</p>"],
    ["//hello.txt", HELLO],
    ["/sub/../hello.txt", HELLO],
    ["/./hello.txt", HELLO],
    ["/%68ello.txt", HELLO],
    ["/hello.txt?v=123", HELLO],
  ])("%s is served", async (path, body) => {
    const r = await get(path);
    expect(r.status).toBe(200);
    expect(r.text()).toBe(body);
  });

  test("the same file answers the same way twice (the cached answer is the first one)", async () => {
    const a = await get("/style.css");
    const b = await get("/style.css");
    expect(b.text()).toBe(a.text());
    expect(b.header("etag")).toBe(a.header("etag")!);
    expect(b.header("last-modified")).toBe(a.header("last-modified")!);
  });

  test("keep-alive: several files on one connection", async () => {
    const c = await RawClient.connect(port);
    await c.send(request("GET", "/hello.txt") + request("GET", "/big.bin") + request("GET", "/style.css"));
    expect((await c.response()).text()).toBe(HELLO);
    expect(bytesOf(await c.response()).equals(BIG)).toBe(true);
    expect((await c.response()).text()).toBe(STYLE);
    expect(c.ended).toBe(false);
    c.close();
  });
});

describe("methods", () => {
  test("HEAD has the GET headers and no body", async () => {
    for (const path of ["/hello.txt", "/big.bin", "/style.css"]) {
      const c = await RawClient.connect(port);
      // A GET after the HEAD on the same connection: a stray body would corrupt its parse.
      await c.send(request("GET", path) + request("HEAD", path) + request("GET", "/hello.txt"));
      const g = await c.response();
      const h = await c.response();
      const after = await c.response();
      expect(h.status).toBe(200);
      expect(h.body.length).toBe(0);
      for (const name of ["content-type", "content-length", "etag", "last-modified", "accept-ranges", "cache-control", "vary"]) {
        expect(`${name}: ${h.header(name)}`).toBe(`${name}: ${g.header(name)}`);
      }
      expect(after.text()).toBe(HELLO);
      c.close();
    }
  });

  test("HEAD of the 1 MiB file announces its length", async () => {
    const r = await exchange(port, request("HEAD", "/big.bin"));
    expect(r.header("content-length")).toBe(String(BIG.length));
    expect(r.raw.length).toBeLessThan(1024);
  });

  test.each(["POST", "PUT", "DELETE", "PATCH"])("%s on a file → 405 with Allow", async (method) => {
    const r = await exchange(port, `${method} /hello.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n`);
    expect(r.status).toBe(405);
    expect(r.header("allow")).toBe("GET, HEAD, OPTIONS");
    expect(r.text()).not.toContain(HELLO);
  });

  test("POST on a directory → 405", async () => {
    const r = await exchange(port, "POST /noindex/ HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
    expect(r.status).toBe(405);
    expect(r.header("allow")).toBe("GET, HEAD, OPTIONS");
  });

  test.each(["/hello.txt", "/sub/", "/noindex/", "/big.bin"])("OPTIONS %s → 204 with Allow", async (path) => {
    // Twice: the second may be answered from the cache.
    for (let i = 0; i < 2; i++) {
      const r = await exchange(port, request("OPTIONS", path));
      expect(r.status).toBe(204);
      expect(r.header("allow")).toBe("GET, HEAD, OPTIONS");
      expect(r.body.length).toBe(0);
    }
  });
});

describe("directories", () => {
  test("/sub → 301 to /sub/, keeping the query", async () => {
    const a = await get("/sub");
    expect(a.status).toBe(301);
    expect(a.header("location")).toBe("/sub/");
    const b = await get("/sub?q=1");
    expect(b.status).toBe(301);
    expect(b.header("location")).toBe("/sub/?q=1");
  });

  test("//sub redirects inside this site, not to a host named sub", async () => {
    const r = await get("//sub");
    expect(r.status).toBe(301);
    expect(r.header("location")).toBe("/sub/");
  });

  test.each([
    ["/sub/inner%20dir", "/sub/inner%20dir/"],
    ["/sub/./inner%20dir?a=1&b=2", "/sub/inner%20dir/?a=1&b=2"],
    ["/noindex/../sub", "/sub/"],
  ])("%s → 301 to %s", async (path, location) => {
    const r = await get(path);
    expect(r.status).toBe(301);
    expect(r.header("location")).toBe(location);
  });

  test("/sub/ serves its index.html", async () => {
    const r = await get("/sub/");
    expect(r.status).toBe(200);
    expect(r.text()).toBe("<h1>sub index</h1>\n");
    expect(r.header("content-type")).toBe("text/html; charset=utf-8");
    expect(r.header("cache-control")).toBe("no-cache");
  });

  test("/ serves index.html", async () => {
    const r = await get("/");
    expect(r.status).toBe(200);
    expect(r.text()).toContain("<h1>home</h1>");
  });

  test("listing: names escaped, links encoded, parent link, directories first", async () => {
    const r = await get("/noindex/");
    expect(r.status).toBe(200);
    expect(r.header("content-type")).toBe("text/html; charset=utf-8");
    const html = r.text();
    expect(html).toContain("a&#38;b&#60;c&#62;.html");
    expect(html).not.toContain("a&b<c>");
    expect(html).toContain('href="a%26b%3Cc%3E.html"');
    expect(html).toContain('href="../"');
    const order = ["adir/", "zdir/", "a%26b%3Cc%3E.html", "b.txt", "big-1000.bin"].map((n) => html.indexOf(`href="${n}"`));
    for (const i of order) expect(i).toBeGreaterThan(0);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    // Hidden entries, the FIFO and the symlink loop are left out; the listing still works.
    expect(html).not.toContain(".hidden");
    expect(html).not.toContain("pipe");
    expect(html).not.toContain('"loop');
    // A symlink that leads outside the root is not listed (its size and date would leak); one inside is.
    expect(html).not.toContain("outside-link");
    expect(html).toContain('href="inside-link.txt"');
  });

  test("listing ?sort=size&order=desc: directories first, then the largest file", async () => {
    const html = (await get("/noindex/?sort=size&order=desc")).text();
    const pos = (n: string) => html.indexOf(`href="${n}"`);
    const files = ["big-1000.bin", "a%26b%3Cc%3E.html", "inside-link.txt", "b.txt"].map(pos);
    for (const i of files) expect(i).toBeGreaterThan(0);
    expect(files).toEqual([...files].sort((a, b) => a - b));
    expect(Math.max(pos("adir/"), pos("zdir/"))).toBeLessThan(files[0]!);
  });

  test("the root listing has no parent link", async () => {
    const r = await get("/", {}, notFoundPort);
    expect(r.status).toBe(200);
    expect(r.text()).toContain('href="here.txt"');
    expect(r.text()).not.toContain('href="../"');
  });

  test("Accept: application/json → the listing as JSON", async () => {
    const r = await get("/noindex/", { Accept: "application/json" });
    expect(r.status).toBe(200);
    expect(r.header("content-type")).toBe("application/json; charset=utf-8");
    expect(r.header("vary")).toBe("Accept");
    const j = JSON.parse(r.text()) as { path: string; entries: { name: string; type: string; size: number }[] };
    expect(j.path).toBe("/noindex/");
    expect(j.entries.map((e) => e.name)).toEqual(["adir", "zdir", "a&b<c>.html", "b.txt", "big-1000.bin", "inside-link.txt"]);
    expect(j.entries.find((e) => e.name === "b.txt")).toMatchObject({ type: "file", size: 3 });
    expect(j.entries.find((e) => e.name === "adir")).toMatchObject({ type: "directory" });
  });

  test("dotfiles allowed: hidden entries are listed", async () => {
    const html = (await get("/noindex/", {}, allowPort)).text();
    expect(html).toContain('href=".hidden"');
    expect(html).toContain('href=".hidden-dir/"');
  });

  test("listing: false → 404 for a directory without index, index still served", async () => {
    expect((await get("/noindex/", {}, noListPort)).status).toBe(404);
    expect((await get("/sub/", {}, noListPort)).text()).toBe("<h1>sub index</h1>\n");
  });
});

describe("conditional requests", () => {
  async function validators(path: string) {
    const r = await get(path);
    return { etag: r.header("etag")!, lastModified: r.header("last-modified")! };
  }

  function expect304(r: RawResponse, etag: string, lastModified: string): void {
    expect(r.status).toBe(304);
    expect(r.header("etag")).toBe(etag);
    expect(r.header("last-modified")).toBe(lastModified);
    expect(r.body.length).toBe(0);
  }

  test.each(["/hello.txt", "/big.bin"])("If-None-Match forms on %s", async (path) => {
    const { etag, lastModified } = await validators(path);
    expect304(await get(path, { "If-None-Match": etag }), etag, lastModified);
    expect304(await get(path, { "If-None-Match": `"nope", ${etag}` }), etag, lastModified);
    expect304(await get(path, { "If-None-Match": `W/${etag}` }), etag, lastModified);
    expect304(await get(path, { "If-None-Match": "*" }), etag, lastModified);
    expect((await get(path, { "If-None-Match": '"nope"' })).status).toBe(200);
    expect((await get(path, { "If-None-Match": etag.slice(0, -2) + '"' })).status).toBe(200);
  });

  test("a 304 leaves no body on the connection", async () => {
    const { etag } = await validators("/big.bin");
    const c = await RawClient.connect(port);
    await c.send(request("GET", "/big.bin", { "If-None-Match": etag }) + request("GET", "/hello.txt"));
    expect((await c.response()).status).toBe(304);
    expect((await c.response()).text()).toBe(HELLO);
    c.close();
  });

  test("If-Modified-Since", async () => {
    const { etag, lastModified } = await validators("/hello.txt");
    expect304(await get("/hello.txt", { "If-Modified-Since": lastModified }), etag, lastModified);
    expect304(await get("/hello.txt", { "If-Modified-Since": new Date(Date.now() + 3600e3).toUTCString() }), etag, lastModified);
    expect((await get("/hello.txt", { "If-Modified-Since": "Thu, 01 Jan 1970 00:00:00 GMT" })).status).toBe(200);
    expect((await get("/hello.txt", { "If-Modified-Since": "not a date" })).status).toBe(200);
  });

  test("If-None-Match takes precedence over If-Modified-Since", async () => {
    const { etag, lastModified } = await validators("/hello.txt");
    const r = await get("/hello.txt", { "If-None-Match": '"other"', "If-Modified-Since": lastModified });
    expect(r.status).toBe(200);
    expect(r.text()).toBe(HELLO);
    const s = await get("/hello.txt", { "If-None-Match": etag, "If-Modified-Since": "Thu, 01 Jan 1970 00:00:00 GMT" });
    expect(s.status).toBe(304);
  });

  test("If-Match", async () => {
    const { etag } = await validators("/hello.txt");
    const bad = await get("/hello.txt", { "If-Match": '"nope"' });
    expect(bad.status).toBe(412);
    expect(bad.text()).not.toContain(HELLO);
    expect((await get("/hello.txt", { "If-Match": `W/${etag}` })).status).toBe(412); // strong comparison
    expect((await get("/hello.txt", { "If-Match": etag })).text()).toBe(HELLO);
    expect((await get("/hello.txt", { "If-Match": `"x", ${etag}` })).status).toBe(200);
    expect((await get("/hello.txt", { "If-Match": "*" })).status).toBe(200);
  });

  test("If-Unmodified-Since", async () => {
    expect((await get("/hello.txt", { "If-Unmodified-Since": "Thu, 01 Jan 1970 00:00:00 GMT" })).status).toBe(412);
    const future = new Date(Date.now() + 3600e3).toUTCString();
    expect((await get("/hello.txt", { "If-Unmodified-Since": future })).status).toBe(200);
    expect((await get("/hello.txt", { "If-Unmodified-Since": mtimeOf("hello.txt") })).status).toBe(200);
    expect((await get("/hello.txt", { "If-Unmodified-Since": "garbage" })).status).toBe(200);
  });

  test("a 304 carries Cache-Control and Vary like the 200 would", async () => {
    const r = await get("/app.3f9a1c2b.js");
    const n = await get("/app.3f9a1c2b.js", { "If-None-Match": r.header("etag")! });
    expect(n.status).toBe(304);
    expect(n.header("cache-control")).toBe(r.header("cache-control")!);
    const s = await get("/style.css");
    const m = await get("/style.css", { "If-None-Match": s.header("etag")! });
    expect(m.status).toBe(304);
    expect(m.header("vary")).toBe("Accept-Encoding");
  });
});

describe("ranges", () => {
  test("single range of a small file", async () => {
    const r = await get("/hello.txt", { Range: "bytes=0-4" });
    expect(r.status).toBe(206);
    expect(r.header("content-range")).toBe(`bytes 0-4/${HELLO.length}`);
    expect(r.header("content-length")).toBe("5");
    expect(r.text()).toBe("Hello");
    expect(r.header("etag")).toMatch(/^"/);
    expect(r.header("content-type")).toBe("text/plain; charset=utf-8");
  });

  test.each([
    ["bytes=-7", 8, 14],
    ["bytes=7-", 7, 14],
    ["bytes=0-0", 0, 0],
    ["bytes=14-14", 14, 14],
    ["bytes=10-1000", 10, 14],
  ])("%s of a small file", async (range, start, end) => {
    const r = await get("/hello.txt", { Range: range });
    expect(r.status).toBe(206);
    expect(r.header("content-range")).toBe(`bytes ${start}-${end}/${HELLO.length}`);
    expect(r.text()).toBe(HELLO.slice(start, end + 1));
  });

  test.each([
    ["bytes=1000-2999", 1000, 2999],
    ["bytes=0-0", 0, 0],
    ["bytes=-1000", BIG.length - 1000, BIG.length - 1],
    ["bytes=524288-", 524288, BIG.length - 1],
    ["bytes=262143-262145", 262143, 262145], // across the 256 KiB read pieces
  ])("%s of the 1 MiB file", async (range, start, end) => {
    const r = await get("/big.bin", { Range: range });
    expect(r.status).toBe(206);
    expect(r.header("content-range")).toBe(`bytes ${start}-${end}/${BIG.length}`);
    expect(r.header("content-length")).toBe(String(end - start + 1));
    expect(bytesOf(r).equals(BIG.subarray(start, end + 1))).toBe(true);
  });

  test("multi-range of a small file: multipart/byteranges with the real type per part", async () => {
    const r = await get("/hello.txt", { Range: "bytes=7-12, 0-4" });
    expect(r.status).toBe(206);
    expect(r.header("content-range")).toBeUndefined();
    expect(Number(r.header("content-length"))).toBe(r.body.length);
    const parts = parseByteranges(r);
    expect(parts.map((p) => p.range)).toEqual([`bytes 0-4/${HELLO.length}`, `bytes 7-12/${HELLO.length}`]);
    expect(parts.map((p) => p.bytes.toString())).toEqual(["Hello", "static"]);
    for (const p of parts) expect(p.type).toBe("text/plain; charset=utf-8");
  });

  test("multi-range of the 1 MiB file, then another request on the same connection", async () => {
    const c = await RawClient.connect(port);
    const spec = "bytes=0-99,500000-800000,-100";
    await c.send(request("GET", "/big.bin", { Range: spec }) + request("GET", "/hello.txt"));
    const r = await c.response();
    expect(r.status).toBe(206);
    const parts = parseByteranges(r);
    const want: [number, number][] = [
      [0, 99],
      [500000, 800000],
      [BIG.length - 100, BIG.length - 1],
    ];
    expect(parts.length).toBe(3);
    parts.forEach((p, i) => {
      const [s, e] = want[i]!;
      expect(p.range).toBe(`bytes ${s}-${e}/${BIG.length}`);
      expect(p.type).toBe("application/octet-stream");
      expect(p.bytes.equals(BIG.subarray(s, e + 1))).toBe(true);
    });
    expect((await c.response()).text()).toBe(HELLO); // the Content-Length was exact
    c.close();
  });

  test("overlapping ranges are coalesced into one part", async () => {
    const r = await get("/hello.txt", { Range: "bytes=0-3,2-6" });
    expect(r.status).toBe(206);
    expect(r.header("content-range")).toBe(`bytes 0-6/${HELLO.length}`);
    expect(r.text()).toBe("Hello, ");
  });

  test.each([
    ["/hello.txt", "bytes=1000-", HELLO.length],
    ["/hello.txt", "bytes=-0", HELLO.length],
    ["/big.bin", `bytes=${BIG.length}-`, BIG.length],
  ])("%s with %s → 416 with Content-Range: bytes */size", async (path, range, size) => {
    const r = await get(path, { Range: range });
    expect(r.status).toBe(416);
    expect(r.header("content-range")).toBe(`bytes */${size}`);
    expect(r.body.length).toBeLessThan(100);
  });

  test.each(["bytes=5-1", "items=0-4", "bytes=", "bytes=abc", "bytes=0-4;x"])("malformed %p → 200 with everything", async (range) => {
    const r = await get("/hello.txt", { Range: range });
    expect(r.status).toBe(200);
    expect(r.text()).toBe(HELLO);
    expect(r.header("content-range")).toBeUndefined();
  });

  test("If-Range: a matching ETag → 206, a stale or weak one → 200", async () => {
    const etag = (await get("/big.bin")).header("etag")!;
    const hit = await get("/big.bin", { Range: "bytes=10-19", "If-Range": etag });
    expect(hit.status).toBe(206);
    expect(bytesOf(hit).equals(BIG.subarray(10, 20))).toBe(true);
    const stale = await get("/big.bin", { Range: "bytes=10-19", "If-Range": '"stale-etag"' });
    expect(stale.status).toBe(200);
    expect(stale.body.length).toBe(BIG.length);
    expect((await get("/big.bin", { Range: "bytes=10-19", "If-Range": `W/${etag}` })).status).toBe(200);
  });

  test("If-Range: the Last-Modified date → 206, another date → 200", async () => {
    const lm = mtimeOf("old.txt");
    const hit = await get("/old.txt", { Range: "bytes=0-4", "If-Range": lm });
    expect(hit.status).toBe(206);
    expect(hit.text()).toBe("Hello");
    const old = await get("/old.txt", { Range: "bytes=0-4", "If-Range": "Thu, 01 Jan 1970 00:00:00 GMT" });
    expect(old.status).toBe(200);
    expect(old.text()).toBe(HELLO);
  });

  test("If-Range: the date of a file changed within the last second is weak → 200", async () => {
    write("fresh.txt", HELLO);
    const r = await get("/fresh.txt", { Range: "bytes=0-4", "If-Range": mtimeOf("fresh.txt") });
    expect(r.status).toBe(200);
  });

  test("a range answer leaves no Content-Range on the next full answer", async () => {
    const c = await RawClient.connect(port);
    await c.send(request("GET", "/hello.txt", { Range: "bytes=0-1" }) + request("GET", "/hello.txt"));
    expect((await c.response()).status).toBe(206);
    const full = await c.response();
    expect(full.status).toBe(200);
    expect(full.header("content-range")).toBeUndefined();
    expect(full.text()).toBe(HELLO);
    c.close();
  });
});

describe("precompressed siblings", () => {
  test("Accept-Encoding: br → the .br bytes, its own ETag, Vary", async () => {
    const plain = await get("/style.css");
    const r = await get("/style.css", { "Accept-Encoding": "br" });
    expect(r.status).toBe(200);
    expect(bytesOf(r).equals(STYLE_BR)).toBe(true);
    expect(r.header("content-encoding")).toBe("br");
    expect(r.header("content-length")).toBe(String(STYLE_BR.length));
    expect(r.header("content-type")).toBe("text/css; charset=utf-8");
    expect(r.header("vary")).toBe("Accept-Encoding");
    expect(r.header("etag")).toMatch(/^"[^"]+"$/);
    expect(r.header("etag")).not.toBe(plain.header("etag")!);
  });

  test("gzip, and br preferred at equal q", async () => {
    const g = await get("/style.css", { "Accept-Encoding": "gzip" });
    expect(g.header("content-encoding")).toBe("gzip");
    expect(bytesOf(g).equals(STYLE_GZ)).toBe(true);
    expect(g.header("etag")).not.toBe((await get("/style.css", { "Accept-Encoding": "br" })).header("etag")!);
    const both = await get("/style.css", { "Accept-Encoding": "gzip, deflate, br" });
    expect(both.header("content-encoding")).toBe("br");
    const q = await get("/style.css", { "Accept-Encoding": "br;q=0.5, gzip" });
    expect(q.header("content-encoding")).toBe("gzip");
  });

  test.each([
    ["gzip;q=0", { "Accept-Encoding": "gzip;q=0" }],
    ["identity", { "Accept-Encoding": "identity" }],
    ["no header", {}],
  ])("%s → identity, still with Vary", async (_what, headers) => {
    const r = await get("/style.css", headers);
    expect(r.status).toBe(200);
    expect(r.text()).toBe(STYLE);
    expect(r.header("content-encoding")).toBeUndefined();
    expect(r.header("vary")).toBe("Accept-Encoding");
  });

  test("validators are per variant", async () => {
    const br = await get("/style.css", { "Accept-Encoding": "br" });
    const etag = br.header("etag")!;
    expect((await get("/style.css", { "Accept-Encoding": "br", "If-None-Match": etag })).status).toBe(304);
    // The identity representation does not match the br ETag.
    const id = await get("/style.css", { "If-None-Match": etag });
    expect(id.status).toBe(200);
    expect(id.text()).toBe(STYLE);
  });

  test("a Range is served from the identity bytes, whatever siblings there are (as Caddy does)", async () => {
    const r = await get("/style.css", { "Accept-Encoding": "br", Range: "bytes=0-6" });
    expect(r.status).toBe(206);
    expect(r.header("content-encoding")).toBeUndefined();
    expect(r.header("vary")).toBe("Accept-Encoding");
    expect(r.header("content-range")).toBe(`bytes 0-6/${Buffer.byteLength(STYLE)}`);
    expect(r.text()).toBe(STYLE.slice(0, 7));
  });

  test("asking for the sibling by name sends it as it is", async () => {
    const r = await get("/style.css.gz", { "Accept-Encoding": "gzip" });
    expect(bytesOf(r).equals(STYLE_GZ)).toBe(true);
    expect(r.header("content-encoding")).toBeUndefined();
  });
});

describe("cache-control", () => {
  test.each([
    ["/app.3f9a1c2b.js", "public, max-age=31536000, immutable"],
    ["/main-5TQXR2.css", "public, max-age=31536000, immutable"],
    ["/index.html", "no-cache"],
    ["/", "no-cache"],
    ["/style.css", undefined],
    ["/hello.txt", undefined],
    ["/big.bin", undefined],
  ])("default for %s: %p", async (path, cc) => {
    expect((await get(path)).header("cache-control")).toBe(cc as string);
  });

  test.each(["/app.3f9a1c2b.js", "/index.html", "/style.css", "/big.bin"])("the override applies to %s", async (path) => {
    expect((await get(path, {}, ccPort)).header("cache-control")).toBe("public, max-age=60");
  });
});

describe("dotfiles and symlinks", () => {
  test.each(["/.env", "/.git/config", "/.git/", "/%2eenv", "/noindex/.hidden", "/.well-known/../.env"])("%s → 404", async (path) => {
    const r = await get(path);
    expect(r.status).toBe(404);
    expect(r.text()).not.toContain("hunter2");
    expect(r.text()).not.toContain("bare");
  });

  test("/.well-known/security.txt → 200", async () => {
    const r = await get("/.well-known/security.txt");
    expect(r.status).toBe(200);
    expect(r.text()).toContain("Contact:");
  });

  test("dotfiles: allow → served", async () => {
    expect((await get("/.env", {}, allowPort)).text()).toBe("PASSWORD=hunter2\n");
    expect((await get("/.git/config", {}, allowPort)).status).toBe(200);
  });

  test.each(["/link-outside.txt", "/dir-outside/secret.txt", "/dir-outside/"])("%s (outside the root) → 404", async (path) => {
    const r = await get(path);
    expect(r.status).toBe(404);
    expect(r.text()).not.toContain("SECRET");
  });

  test("a symlink inside the root is followed", async () => {
    const r = await get("/link-inside.txt");
    expect(r.status).toBe(200);
    expect(r.text()).toBe(HELLO);
  });

  test("a FIFO → 404, and the server still answers", async () => {
    // Should the server ever open() the FIFO, it would block this whole process, timers included.
    // A writer in another process makes such an open() return, so a regression fails, not hangs.
    const writer = spawnChild(["sh", "-c", `echo unblock > '${join(root, "noindex", "pipe")}'`]);
    try {
      const c = await RawClient.connect(port);
      await c.send(request("GET", "/noindex/pipe") + request("GET", "/hello.txt"));
      const r = await c.response(2000);
      expect(r.status).toBe(404);
      expect(r.text()).not.toContain("unblock");
      expect((await c.response(2000)).text()).toBe(HELLO);
      c.close();
    } finally {
      writer.kill();
      await writer.exited;
    }
  });
});

describe("paths that fail on the file system", () => {
  // stat() throws ENOTDIR, ELOOP or ENAMETOOLONG for these: a client must not be able to cause a 500.
  test.each([
    ["a file used as a directory", "/hello.txt/x"],
    ["a file with a trailing slash", "/hello.txt/"],
    ["a symlink loop", "/noindex/loop"],
    ["a name too long for the file system", `/${"a".repeat(300)}`],
    ["a path too long for the file system", `/${"abcdefgh/".repeat(500)}x`],
  ])("%s → 404", async (_what, path) => {
    const r = await get(path);
    expect(r.status).toBe(404);
  });
});

describe("path traversal over the wire", () => {
  test.each([
    "/../etc/passwd",
    "/../../../../etc/passwd",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/%2E%2E/outside/secret.txt",
    "/..%2foutside%2fsecret.txt",
    "/a%2f..%2f..%2fetc",
    "/sub/../../outside/secret.txt",
    "/%00",
    "/hello.txt%00.html",
    "/%c0%ae%c0%ae/",
    "/%c0%ae%c0%ae/outside/secret.txt",
    "/%e0%80%ae%e0%80%ae/outside/secret.txt",
    "/..%5coutside%5csecret.txt",
    "/%zz",
  ])("%s → 400 or 404, never a file", async (path) => {
    const r = await get(path);
    expect([400, 404]).toContain(r.status);
    const text = r.text();
    expect(text).not.toContain("SECRET");
    expect(text).not.toContain("root:");
  });

  test("a raw backslash is refused", async () => {
    const r = await get("/..\\outside\\secret.txt");
    expect([400, 404]).toContain(r.status);
    expect(r.text()).not.toContain("SECRET");
  });
});

describe("404.html and single-page apps", () => {
  test("404.html is the body of a 404 when present", async () => {
    const r = await get("/missing", {}, notFoundPort);
    expect(r.status).toBe(404);
    expect(r.text()).toBe("<h1>custom not found</h1>\n");
    expect(r.header("content-type")).toBe("text/html; charset=utf-8");
    const h = await exchange(notFoundPort, request("HEAD", "/missing"));
    expect(h.status).toBe(404);
    expect(h.body.length).toBe(0);
    expect((await get("/here.txt", {}, notFoundPort)).text()).toBe("here\n");
  });

  test("without 404.html a 404 is plain text", async () => {
    const r = await get("/missing");
    expect(r.status).toBe(404);
    expect(r.header("content-type")).toBe("text/plain; charset=utf-8");
  });

  test("spa: an unknown path that accepts HTML gets index.html", async () => {
    const r = await get("/app/route/42", { Accept: "text/html,application/xhtml+xml,*/*;q=0.8" }, spaPort);
    expect(r.status).toBe(200);
    expect(r.text()).toContain("<h1>home</h1>");
    expect(r.header("content-type")).toBe("text/html; charset=utf-8");
  });

  test("spa: an unknown path that wants JSON → 404", async () => {
    const r = await get("/api/missing", { Accept: "application/json" }, spaPort);
    expect(r.status).toBe(404);
    expect(r.text()).not.toContain("<h1>home</h1>");
  });

  test("spa: real files are still themselves, and dotfiles still hidden", async () => {
    expect((await get("/hello.txt", { Accept: "text/html" }, spaPort)).text()).toBe(HELLO);
    const env = await get("/.env", { Accept: "text/html" }, spaPort);
    expect(env.text()).not.toContain("hunter2");
  });
});

describe("cache revalidation", () => {
  test("an overwritten file is served anew, with a new ETag", async () => {
    const before = await get("/mutable.txt");
    expect(before.text()).toBe("version one\n");
    write("mutable.txt", "version two, longer\n");
    const after = await askUntil(() => get("/mutable.txt"), (r) => r.text() === "version two, longer\n", "the new content");
    expect(after.text()).toBe("version two, longer\n");
    expect(after.header("content-length")).toBe("20");
    expect(after.header("etag")).not.toBe(before.header("etag")!);
    // The old validator no longer yields a 304.
    expect((await get("/mutable.txt", { "If-None-Match": before.header("etag")! })).status).toBe(200);
  });

  test("a precompressed sibling added later is picked up, and Vary appears", async () => {
    const before = await get("/late.css", { "Accept-Encoding": "br" });
    expect(before.header("content-encoding")).toBeUndefined();
    expect(before.header("vary")).toBeUndefined();
    write("late.css.br", STYLE_BR);
    const after = await askUntil(() => get("/late.css", { "Accept-Encoding": "br" }), (r) => r.header("content-encoding") === "br", "the .br sibling");
    expect(after.header("content-encoding")).toBe("br");
    expect(bytesOf(after).equals(STYLE_BR)).toBe(true);
    expect(after.header("vary")).toBe("Accept-Encoding");
    expect((await get("/late.css")).header("vary")).toBe("Accept-Encoding");
  });

  test("a deleted file → 404", async () => {
    expect((await get("/doomed.txt")).status).toBe(200);
    unlinkSync(join(root, "doomed.txt"));
    const after = await askUntil(() => get("/doomed.txt"), (r) => r.status === 404, "the 404");
    expect(after.status).toBe(404);
  });
});

describe("the file cache's default limit (128 KiB)", () => {
  // Deleted right after the first answer (well inside the second an entry is trusted): a file held in
  // memory is still answered from there, one read from disk per request is not found.
  test("a 128 KiB file is kept in memory; one byte more is read from disk each time", async () => {
    const at = join(tmp, "limit");
    mkdirSync(at);
    const atLimit = BIG.subarray(0, 128 * 1024);
    writeFileSync(join(at, "at.bin"), atLimit); // 128 KiB: at the limit
    writeFileSync(join(at, "over.bin"), Buffer.concat([atLimit, Buffer.from("x")]));
    const s = serve({ port: 0, hostname: "127.0.0.1", root: at, log: "off" });
    try {
      const ask = (path: string) => exchange(s.port, `GET ${path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`);
      expect((await ask("/at.bin")).status).toBe(200);
      expect((await ask("/over.bin")).status).toBe(200);
      unlinkSync(join(at, "at.bin"));
      unlinkSync(join(at, "over.bin"));
      const kept = await ask("/at.bin");
      expect(kept.status).toBe(200);
      expect(bytesOf(kept).equals(atLimit)).toBe(true);
      expect((await ask("/over.bin")).status).toBe(404);
    } finally {
      await s.stop(true);
    }
  });
});

describe("backpressure", () => {
  test("a 1 MiB file to a client that pauses reading arrives byte-exact", async () => {
    const c = await RawClient.connect(port);
    await c.send(request("GET", "/big.bin") + request("GET", "/hello.txt"));
    // Let some bytes in, then stop reading: the server must queue the rest.
    expect(await c.until(() => c.pendingBytes > 0)).toBe(true);
    c.pause();
    // Meanwhile the server answers other clients.
    expect((await get("/hello.txt")).text()).toBe(HELLO);
    expect((await get("/medium.bin")).body.length).toBe(MEDIUM.length);
    c.resume();
    const r = await c.response(10000);
    expect(r.header("content-length")).toBe(String(BIG.length));
    expect(bytesOf(r).equals(BIG)).toBe(true);
    expect((await c.response()).text()).toBe(HELLO);
    c.close();
  });
});
