// Bun.file bodies: a slice is answered 206 with `Content-Range: bytes a-b/*`, and a Range request
// for a whole file is answered from the file, as under Bun.serve.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onBoth, sameOnBoth } from "../helpers/compat.ts";
import { exchange } from "../helpers/raw-client.ts";
import { GET, HEAD, summarize } from "../helpers/wire.ts";

const dir = mkdtempSync(join(tmpdir(), "compat-file-"));
const F = join(dir, "f.txt");
const TEXT = "hello world, this is a file\n"; // 28 bytes
writeFileSync(F, TEXT);
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// Bun.file's size is read by exists() too; made once the tracking is on (the first server starts it).
let sizedByExists: Blob;
beforeAll(async () => {
  await sameOnBoth(() => ({ fetch: () => new Response("x") }), async () => null);
  const f = Bun.file(F);
  await f.exists();
  sizedByExists = f;
});

const answer = (make: () => Response, request = GET()) =>
  sameOnBoth(() => ({ fetch: make }), async (s) => summarize(await exchange(s.port, request)));

describe("a slice of a Bun.file", () => {
  test.each([
    ["slice(2, 7)", () => Bun.file(F).slice(2, 7), "bytes 2-6/*", "llo w"],
    ["slice(2)", () => Bun.file(F).slice(2), "bytes 2-27/*", TEXT.slice(2)],
    ["slice(0, 5)", () => Bun.file(F).slice(0, 5), "bytes 0-4/*", "hello"],
    ["slice(5, 1000)", () => Bun.file(F).slice(5, 1000), "bytes 5-27/*", TEXT.slice(5)],
    ["slice(3, 3)", () => Bun.file(F).slice(3, 3), "bytes 3-3/*", ""],
    ["slice(1000)", () => Bun.file(F).slice(1000), "bytes 28-28/*", ""],
    ["a slice of a slice", () => Bun.file(F).slice(2, 20).slice(3, 5), "bytes 5-6/*", " w"],
    // Negative positions count from Bun's largest Blob size (2^52 - 1) while the file's size is unread,
    // so a negative start lands past the end; from a slice's size, or the file's once read.
    ["slice(-Infinity, -Infinity)", () => Bun.file(F).slice(-Infinity, -Infinity), "bytes 0-0/*", ""],
    ["slice(10, -Infinity)", () => Bun.file(F).slice(10, -Infinity), "bytes 10-10/*", ""],
    ["slice(-14, Infinity)", () => Bun.file(F).slice(-14, Infinity), "bytes 28-28/*", ""],
    ["slice(-14, -Infinity)", () => Bun.file(F).slice(-14, -Infinity), "bytes 28-28/*", ""],
    ["slice(128, -28)", () => Bun.file(F).slice(128, -28), "bytes 28-28/*", ""],
    ["slice(-10)", () => Bun.file(F).slice(-10), "bytes 28-28/*", ""],
    ["slice(-1000, 5)", () => Bun.file(F).slice(-1000, 5), "bytes 28-28/*", ""],
    ["slice(2, -5)", () => Bun.file(F).slice(2, -5), "bytes 2-27/*", TEXT.slice(2)],
    ["slice(-Infinity, 5)", () => Bun.file(F).slice(-Infinity, 5), "bytes 0-4/*", "hello"],
    ["slice(Infinity)", () => Bun.file(F).slice(Infinity), "bytes 28-28/*", ""],
    ["slice(10, NaN)", () => Bun.file(F).slice(10, NaN), "bytes 10-10/*", ""],
    ["slice(2, 7).slice(-1)", () => Bun.file(F).slice(2, 7).slice(-1), "bytes 6-6/*", "w"],
    ["slice(2, 20).slice(1, -2)", () => Bun.file(F).slice(2, 20).slice(1, -2), "bytes 3-17/*", TEXT.slice(3, 18)],
    ["slice(2).slice(-1)", () => Bun.file(F).slice(2).slice(-1), "bytes 28-28/*", ""],
    ["slice(-10) once the size is read", () => (f => (f.size, f.slice(-10)))(Bun.file(F)), "bytes 18-27/*", TEXT.slice(18)],
    ["slice(2, -5) once exists() said so", () => sizedByExists.slice(2, -5), "bytes 2-22/*", TEXT.slice(2, 23)],
  ])("%s: 206, Content-Range %s", async (_name, blob, range, body) => {
    const bun = await answer(() => new Response(blob()));
    expect(bun).toEqual({
      status: 206,
      reason: "Partial Content",
      headers: { "content-type": "text/plain;charset=utf-8", "content-length": `${body.length}`, "content-range": range },
      body,
    });
  });

  test.each([
    ["slice(0)", () => Bun.file(F).slice(0)],
    ["slice(0, 28)", () => Bun.file(F).slice(0, 28)],
    ["slice(0, 1000)", () => Bun.file(F).slice(0, 1000)],
    ["slice(0, -5), the size unread", () => Bun.file(F).slice(0, -5)],
    ["slice(-Infinity)", () => Bun.file(F).slice(-Infinity)],
    ["slice(NaN, Infinity)", () => Bun.file(F).slice(NaN, Infinity)],
  ])("%s covers the file: 200, no Content-Range", async (_name, blob) => {
    const bun = await answer(() => new Response(blob()));
    expect(bun.status).toBe(200);
    expect(bun.headers["content-range"]).toBeUndefined();
    expect(bun.body).toBe(TEXT);
  });

  test("206 whatever status the Response has; its own Content-Range is kept", async () => {
    expect((await answer(() => new Response(Bun.file(F).slice(2, 7), { status: 404 }))).status).toBe(206);
    const own = await answer(() => new Response(Bun.file(F).slice(2, 7), { headers: { "content-range": "bytes 9-9/9" } }));
    expect([own.status, own.headers["content-range"]]).toEqual([206, "bytes 9-9/9"]);
  });

  test("HEAD: the length; we also send GET's status and Content-Range (Bun 1.4.5 says 200)", async () => {
    const { bun, ours } = await onBoth(() => ({ fetch: () => new Response(Bun.file(F).slice(2, 7)) }), async (s) => summarize(await exchange(s.port, HEAD())));
    expect([bun.status, bun.headers["content-length"], bun.body]).toEqual([200, "5", ""]);
    expect(ours).toEqual({
      status: 206,
      reason: "Partial Content",
      headers: { "content-type": "text/plain;charset=utf-8", "content-length": "5", "content-range": "bytes 2-6/*" },
      body: "",
    });
  });
});

describe("a Range request for a Bun.file body", () => {
  const whole = () => new Response(Bun.file(F));
  const range = (r: string, method = "GET") => `${method} / HTTP/1.1\r\nHost: t\r\nRange: ${r}\r\n\r\n`;

  test.each([
    ["bytes=0-3", "bytes 0-3/28", "hell"],
    ["bytes=-3", "bytes 25-27/28", "le\n"],
    ["bytes=20-", "bytes 20-27/28", " a file\n"],
    ["bytes=0-1000", "bytes 0-27/28", TEXT],
  ])("%s: 206 with %s", async (r, contentRange, body) => {
    const bun = await answer(whole, range(r));
    expect(bun).toEqual({
      status: 206,
      reason: "Partial Content",
      headers: {
        "content-type": "text/plain;charset=utf-8",
        "content-length": `${body.length}`,
        "content-range": contentRange,
        "accept-ranges": "bytes",
      },
      body,
    });
  });

  test("past the end: 416 with bytes */size", async () => {
    const bun = await answer(whole, range("bytes=100-200"));
    expect(bun).toEqual({
      status: 416,
      reason: "Range Not Satisfiable",
      headers: { "content-length": "0", "content-range": "bytes */28", "accept-ranges": "bytes" },
      body: "",
    });
  });

  test.each([
    ["several ranges", whole, range("bytes=0-1,3-4")],
    ["junk", whole, range("junk")],
    ["a HEAD", whole, range("bytes=0-3", "HEAD")],
    ["a status other than 200", () => new Response(Bun.file(F), { status: 404 }), range("bytes=0-3")],
    ["a Content-Range of its own", () => new Response(Bun.file(F), { headers: { "content-range": "bytes 1-2/3" } }), range("bytes=0-3")],
    ["a Blob that is not a file", () => new Response(new Blob([TEXT])), range("bytes=0-3")],
  ])("ignored for %s: the whole body", async (_name, make, request) => {
    const r = await sameOnBoth(() => ({ fetch: make }), async (s) => {
      const res = await exchange(s.port, request);
      return { status: res.status, length: res.header("content-length") };
    });
    expect(r.length).toBe("28");
    expect(r.status === 200 || r.status === 404).toBe(true);
  });

  test("a slice ignores the Range and answers its own part", async () => {
    const bun = await answer(() => new Response(Bun.file(F).slice(2, 20)), range("bytes=0-3"));
    expect([bun.status, bun.headers["content-range"], bun.body]).toEqual([206, "bytes 2-19/*", TEXT.slice(2, 20)]);
  });
});
