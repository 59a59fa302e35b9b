// --watch as a client sees HTML files over TCP: the script before the last </body> (or at the end),
// with an exact Content-Length, an ETag of its own, compressed variants of the injected bytes, HEAD
// and Range on them; the 404 page and the SPA index injected too; a file past the 8 MiB cap, and
// every file without --watch, sent byte for byte as on disk.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import zlib from "node:zlib";
import { serve, type Server } from "../../src/index.ts";
import { SCRIPT_TAG } from "../../src/live-reload/live-reload.ts";
import { exchange, type RawResponse } from "../helpers/raw-client.ts";
import { GET, HEAD } from "../helpers/wire.ts";
import { wordText } from "../helpers/word-text.ts";

const KiB = 1024;
const MiB = 1024 * KiB;

let root: string;
let watched: Server;
let spa: Server;
let plain: Server;

const BIG = `<!doctype html><html><body>${wordText(20 * KiB, 21).toString("latin1")}</body></html>`; // compressible
const LARGE = `<html><body>${wordText(200 * KiB, 22).toString("latin1")}</body></html>`; // over the 64 KiB whole-response limit
const FILES: Record<string, string> = {
  "index.html": "<html><head><title>home</title></head><body><h1>home</h1></body></html>",
  "upper.html": "<HTML><BODY><P>shout</P></BODY></HTML>",
  "two.html": "<body>a</body><!-- </body> -->tail</body>\n",
  "fragment.html": "<p>no body tag",
  "404.html": "<html><body>missing</body></html>",
  "big.html": BIG,
  "large.html": LARGE,
  "plain.txt": "not html </body>",
  "style.css": "body { color: red }",
};

/** What a watched server sends for a file: the tag before the last </body>, else at the end. */
function injected(text: string): string {
  const at = text.toLowerCase().lastIndexOf("</body");
  return at < 0 ? text + SCRIPT_TAG : text.slice(0, at) + SCRIPT_TAG + text.slice(at);
}

function decode(res: RawResponse): Buffer {
  const coding = res.header("content-encoding");
  if (coding === "br") return zlib.brotliDecompressSync(res.body);
  if (coding === "zstd") return zlib.zstdDecompressSync(res.body);
  if (coding === "gzip") return zlib.gunzipSync(res.body);
  throw new Error(`not compressed: ${coding}`);
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "bunhttp-lr-inject-"));
  for (const [name, text] of Object.entries(FILES)) writeFileSync(join(root, name), text);
  mkdirSync(join(root, "list"));
  writeFileSync(join(root, "list", "item.txt"), "item");
  // A minute old: its date is a strong validator (If-Range by date holds for a plain file).
  const minuteAgo = new Date(Date.now() - 60_000);
  utimesSync(join(root, "index.html"), minuteAgo, minuteAgo);
  // A precompressed sibling of the plain bytes: a watched server must not send it for the page.
  writeFileSync(join(root, "big.html.gz"), zlib.gzipSync(BIG));
  // Past the cap: served untouched, from disk.
  writeFileSync(join(root, "huge.html"), Buffer.concat([Buffer.from("<html><body>"), Buffer.alloc(8 * MiB + 1, 0x61), Buffer.from("</body></html>")]));
  watched = serve({ port: 0, hostname: "127.0.0.1", root, log: "off", watch: true });
  spa = serve({ port: 0, hostname: "127.0.0.1", root, log: "off", watch: true, static: { spa: true } });
  plain = serve({ port: 0, hostname: "127.0.0.1", root, log: "off" });
});

afterAll(async () => {
  await Promise.all([watched.stop(true), spa.stop(true), plain.stop(true)]);
  rmSync(root, { recursive: true, force: true });
});

describe("with --watch", () => {
  const pages = ["index.html", "upper.html", "two.html", "fragment.html", "big.html", "large.html"];
  for (const name of pages) {
    test(`${name}: the script in its place, Content-Length exact`, async () => {
      const res = await exchange(watched.port, GET(`/${name}`));
      expect(res.status).toBe(200);
      const want = injected(FILES[name]!);
      expect(res.text()).toBe(want);
      expect(Number(res.header("content-length"))).toBe(Buffer.byteLength(want));
      expect(res.header("content-type")).toBe("text/html; charset=utf-8");
    });
  }

  test("cases: before </body>, before </BODY>, before the last of two, at the end without one", async () => {
    expect((await exchange(watched.port, GET("/index.html"))).text()).toEndWith(`<h1>home</h1>${SCRIPT_TAG}</body></html>`);
    expect((await exchange(watched.port, GET("/upper.html"))).text()).toEndWith(`<P>shout</P>${SCRIPT_TAG}</BODY></HTML>`);
    expect((await exchange(watched.port, GET("/two.html"))).text()).toBe(`<body>a</body><!-- </body> -->tail${SCRIPT_TAG}</body>\n`);
    expect((await exchange(watched.port, GET("/fragment.html"))).text()).toBe(`<p>no body tag${SCRIPT_TAG}`);
    expect((await exchange(watched.port, GET("/"))).text()).toBe(injected(FILES["index.html"]!)); // the index of a directory
  });

  test("a directory listing gets the script too; its JSON form does not", async () => {
    const html = await exchange(watched.port, `GET /list/ HTTP/1.1\r\nHost: x\r\nAccept: text/html\r\nConnection: close\r\n\r\n`);
    expect(html.status).toBe(200);
    expect(html.text()).toContain("item.txt");
    expect(html.text()).toContain(`${SCRIPT_TAG}</body>`);
    expect(Number(html.header("content-length"))).toBe(html.body.length);
    const json = await exchange(watched.port, `GET /list/ HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\nConnection: close\r\n\r\n`);
    expect(json.text()).not.toContain(SCRIPT_TAG);
    const unwatched = await exchange(plain.port, `GET /list/ HTTP/1.1\r\nHost: x\r\nAccept: text/html\r\nConnection: close\r\n\r\n`);
    expect(unwatched.text()).toContain("item.txt");
    expect(unwatched.text()).not.toContain(SCRIPT_TAG);
  });

  test("files that are not HTML are untouched", async () => {
    expect((await exchange(watched.port, GET("/plain.txt"))).text()).toBe(FILES["plain.txt"]!);
    expect((await exchange(watched.port, GET("/style.css"))).text()).toBe(FILES["style.css"]!);
  });

  test("every file says no-cache: after a reload the browser asks again for a sheet or script it holds", async () => {
    expect((await exchange(watched.port, GET("/style.css"))).header("cache-control")).toBe("no-cache");
    expect((await exchange(watched.port, GET("/plain.txt"))).header("cache-control")).toBe("no-cache");
    expect((await exchange(plain.port, GET("/style.css"))).header("cache-control")).toBeUndefined();
  });

  test("the ETag differs from the plain file's: a cache holding the plain page gets the new one, not 304", async () => {
    const mine = await exchange(watched.port, GET("/index.html"));
    const theirs = await exchange(plain.port, GET("/index.html"));
    expect(mine.header("etag")).toMatch(/^"[^"]+-lr"$/);
    expect(mine.header("etag")).not.toBe(theirs.header("etag"));
    const stale = await exchange(watched.port, GET("/index.html", `If-None-Match: ${theirs.header("etag")}\r\n`));
    expect(stale.status).toBe(200);
    expect(stale.text()).toBe(injected(FILES["index.html"]!));
    const fresh = await exchange(watched.port, GET("/index.html", `If-None-Match: ${mine.header("etag")}\r\n`));
    expect(fresh.status).toBe(304);
  });

  for (const coding of ["gzip", "br", "zstd"]) {
    test(`${coding}: the compressed variant decodes to the injected bytes, with its own ETag`, async () => {
      const res = await exchange(watched.port, GET("/big.html", `Accept-Encoding: ${coding}\r\n`));
      expect(res.status).toBe(200);
      expect(res.header("content-encoding")).toBe(coding);
      expect(decode(res).toString("latin1")).toBe(injected(BIG));
      expect(res.header("vary")).toBe("Accept-Encoding");
      const theirs = await exchange(plain.port, GET("/big.html", `Accept-Encoding: ${coding}\r\n`));
      expect(res.header("etag")!.replace(/^W\//, "")).not.toBe(theirs.header("etag")!.replace(/^W\//, ""));
    });
  }

  test("the precompressed sibling on disk (the plain bytes) is not sent for a watched page", async () => {
    const theirs = await exchange(plain.port, GET("/big.html", "Accept-Encoding: gzip\r\n"));
    expect(zlib.gunzipSync(theirs.body).toString("latin1")).toBe(BIG); // the sibling, without --watch
    const mine = await exchange(watched.port, GET("/big.html", "Accept-Encoding: gzip\r\n"));
    expect(zlib.gunzipSync(mine.body).toString("latin1")).toBe(injected(BIG));
  });

  test("HEAD: the GET's Content-Length and ETag, no body", async () => {
    const get = await exchange(watched.port, GET("/index.html"));
    const head = await exchange(watched.port, HEAD("/index.html"));
    expect(head.status).toBe(200);
    expect(head.header("content-length")).toBe(get.header("content-length"));
    expect(head.header("etag")).toBe(get.header("etag"));
    expect(head.body.length).toBe(0);
  });

  test("Range: slices of the injected bytes, their length as the whole", async () => {
    const want = Buffer.from(injected(FILES["index.html"]!));
    const tail = await exchange(watched.port, GET("/index.html", "Range: bytes=-40\r\n"));
    expect(tail.status).toBe(206);
    expect(tail.header("content-range")).toBe(`bytes ${want.length - 40}-${want.length - 1}/${want.length}`);
    expect(Buffer.from(tail.body).equals(want.subarray(-40))).toBe(true);
    const mid = await exchange(watched.port, GET("/large.html", "Range: bytes=10-19\r\n"));
    expect(mid.status).toBe(206);
    expect(mid.text()).toBe(injected(LARGE).slice(10, 20));
    expect(mid.header("content-range")).toBe(`bytes 10-19/${Buffer.byteLength(injected(LARGE))}`);
  });

  test("If-Range: the injected page's ETag resumes; a date (the plain file's too) gets the whole page", async () => {
    const full = await exchange(watched.port, GET("/index.html"));
    const want = injected(FILES["index.html"]!);
    const byTag = await exchange(watched.port, GET("/index.html", `Range: bytes=0-4\r\nIf-Range: ${full.header("etag")}\r\n`));
    expect(byTag.status).toBe(206);
    expect(byTag.text()).toBe(want.slice(0, 5));
    const plainTag = (await exchange(plain.port, HEAD("/index.html"))).header("etag")!;
    const byPlainTag = await exchange(watched.port, GET("/index.html", `Range: bytes=0-4\r\nIf-Range: ${plainTag}\r\n`));
    expect(byPlainTag.status).toBe(200);
    const byDate = await exchange(watched.port, GET("/index.html", `Range: bytes=0-4\r\nIf-Range: ${full.header("last-modified")}\r\n`));
    expect(byDate.status).toBe(200);
    expect(byDate.text()).toBe(want);
    // Without --watch the same date resumes the plain file.
    const plainByDate = await exchange(plain.port, GET("/index.html", `Range: bytes=0-4\r\nIf-Range: ${full.header("last-modified")}\r\n`));
    expect(plainByDate.status).toBe(206);
  });

  test("the 404 page and the SPA's index.html are HTML too: injected", async () => {
    const missing = await exchange(watched.port, GET("/no/such/page", "Accept: text/html\r\n"));
    expect(missing.status).toBe(404);
    expect(missing.text()).toBe(injected(FILES["404.html"]!));
    const route = await exchange(spa.port, GET("/app/route", "Accept: text/html\r\n"));
    expect(route.status).toBe(200);
    expect(route.text()).toBe(injected(FILES["index.html"]!));
  });

  test("an HTML file over 8 MiB is sent untouched, as without --watch", async () => {
    const mine = await exchange(watched.port, HEAD("/huge.html"));
    const theirs = await exchange(plain.port, HEAD("/huge.html"));
    expect(Number(mine.header("content-length"))).toBe(8 * MiB + 1 + 26);
    expect(mine.header("etag")).toBe(theirs.header("etag")!);
    const tail = await exchange(watched.port, GET("/huge.html", "Range: bytes=-14\r\n"));
    expect(tail.text()).toBe("</body></html>");
  });
});

describe("without --watch", () => {
  test("HTML bytes are exactly the file's, in every coding and for HEAD", async () => {
    for (const name of ["index.html", "upper.html", "fragment.html", "big.html", "large.html", "404.html"]) {
      const res = await exchange(plain.port, GET(`/${name}`));
      expect(Buffer.from(res.body).equals(readFileSync(join(root, name)))).toBe(true);
      expect(res.header("etag")).not.toContain("-lr");
    }
    const br = await exchange(plain.port, GET("/big.html", "Accept-Encoding: br\r\n"));
    expect(decode(br).toString("latin1")).toBe(BIG);
    const head = await exchange(plain.port, HEAD("/index.html"));
    expect(Number(head.header("content-length"))).toBe(FILES["index.html"]!.length);
  });

  test("the live-reload paths are not there (a dot-segment: 404)", async () => {
    expect((await exchange(plain.port, GET("/.bunhttp/live-reload"))).status).toBe(404);
    expect((await exchange(plain.port, GET("/.bunhttp/live-reload.js"))).status).toBe(404);
  });
});
