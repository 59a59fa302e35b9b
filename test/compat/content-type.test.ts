// The Content-Type Bun.serve infers for a Response body its headers do not type, and HEAD
// advertising what GET would (RFC 9110 §9.3.2; Bun's own bun-serve-head.test.ts asks it, though Bun
// 1.4.5 still leaves Content-Type out of a HEAD unless the headers hold it).
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onBoth, sameOnBoth } from "../helpers/compat.ts";
import { exchange } from "../helpers/raw-client.ts";
import { GET, HEAD, summarize } from "../helpers/wire.ts";

const dir = mkdtempSync(join(tmpdir(), "compat-type-"));
writeFileSync(join(dir, "page.html"), "<h1>hi</h1>");
writeFileSync(join(dir, "noext"), "plain");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const form = () => {
  const f = new FormData();
  f.append("a", "1");
  return f;
};

const TEXT = "text/plain;charset=utf-8";
const BYTES = "application/octet-stream";
/** [name, the Response, the Content-Type Bun.serve sends for a GET (null: none)] */
const CASES: [string, () => Response, string | null][] = [
  ["string", () => new Response("hello"), TEXT],
  ["clone of a string Response", () => new Response("hello").clone() as Response, TEXT],
  ["clone of a clone", () => new Response("hello").clone().clone() as Response, TEXT],
  ["a Response that was cloned", () => { const r = new Response("hello"); r.clone(); return r; }, TEXT],
  ["Uint8Array", () => new Response(new Uint8Array([1, 2, 3])), BYTES],
  ["clone of a bytes Response", () => new Response(new Uint8Array([1, 2, 3])).clone() as Response, BYTES],
  ["ArrayBuffer", () => new Response(new ArrayBuffer(3)), BYTES],
  ["untyped Blob", () => new Response(new Blob(["abc"])), TEXT],
  ["typed Blob", () => new Response(new Blob(["<h1>hi</h1>"], { type: "text/html" })), "text/html;charset=utf-8"],
  ["binary Blob", () => new Response(new Blob(["x"], { type: "image/png" })), "image/png"],
  ["sliced Blob", () => new Response(new Blob(["abcdef"], { type: "text/html" }).slice(0, 3)), "text/html;charset=utf-8"],
  ["clone of a Blob Response", () => new Response(new Blob(["x"], { type: "text/css" })).clone() as Response, "text/css;charset=utf-8"],
  ["empty untyped Blob", () => new Response(new Blob([])), null],
  ["empty typed Blob", () => new Response(new Blob([], { type: "text/html" })), "text/html;charset=utf-8"],
  ["new Response(res.body, res) of a string", () => { const r = new Response("hello"); return new Response(r.body, r); }, BYTES],
  ["new Response(res.body, res) of a Blob", () => { const r = new Response(new Blob(["x"], { type: "text/css" })); return new Response(r.body, r); }, "text/css;charset=utf-8"],
  ["URLSearchParams", () => new Response(new URLSearchParams("a=1&b=2")), "application/x-www-form-urlencoded;charset=UTF-8"],
  ["Response.json", () => Response.json({ a: 1 }), "application/json;charset=utf-8"],
  ["Bun.file (.html)", () => new Response(Bun.file(join(dir, "page.html"))), "text/html;charset=utf-8"],
  ["Bun.file with a type", () => new Response(Bun.file(join(dir, "page.html"), { type: "application/x-foo" })), "application/x-foo"],
  ["Bun.file, no extension", () => new Response(Bun.file(join(dir, "noext"))), BYTES],
  ["a number", () => new Response(42 as unknown as string), TEXT],
  ["an object", () => new Response({ toString: () => "obj" } as unknown as string), TEXT],
  ["explicit Content-Type", () => new Response("hi", { headers: { "content-type": "text/foo" } }), "text/foo"],
  ["empty string", () => new Response(""), null],
  ["empty bytes", () => new Response(new Uint8Array(0)), null],
  ["null body", () => new Response(null), null],
  ["a user stream", () => new Response(new ReadableStream({ start: (c) => (c.enqueue("abc"), c.close()) })), null],
];

describe("Content-Type of a GET", () => {
  test.each(CASES)("%s", async (_name, make, type) => {
    const bun = await sameOnBoth(() => ({ fetch: make }), async (s) => summarize(await exchange(s.port, GET())));
    expect(bun.headers["content-type"] ?? null).toBe(type as string);
  });

  test("FormData: multipart with the boundary its body uses", async () => {
    const { bun, ours } = await onBoth(() => ({ fetch: () => new Response(form()) }), async (s) => summarize(await exchange(s.port, GET())));
    for (const r of [bun, ours]) {
      const boundary = /^multipart\/form-data; boundary=(.+)$/.exec(r.headers["content-type"]!)?.[1];
      expect(boundary).toBeDefined();
      expect(r.body.startsWith(`--${boundary}\r\n`)).toBe(true);
    }
  });
});

describe("HEAD says what GET says, with no body", () => {
  test.each(CASES)("%s", async (_name, make) => {
    const { bun, ours } = await onBoth(() => ({ fetch: make }), async (s) => ({
      get: summarize(await exchange(s.port, GET())),
      head: summarize(await exchange(s.port, HEAD())),
    }));
    expect(ours.get).toEqual(bun.get);
    const { body: _, ...get } = ours.get;
    // A stream of unknown length: Bun says chunked for HEAD; we say the length GET gets.
    expect(ours.head).toEqual({ ...get, body: "" });
    expect(bun.head.body).toBe("");
    if (bun.head.headers["transfer-encoding"] === undefined) expect(bun.head.headers["content-length"]).toBe(get.headers["content-length"]!);
  });
});
