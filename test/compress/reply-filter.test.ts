// compressReply, the engine's reply filter, called directly with a request that only has an
// Accept-Encoding: which replies it leaves alone (the same object back), the header forms it reads,
// what it remakes (Content-Length, ETag, Vary, Content-Encoding), and which bodies are compressed
// whole (on this thread or the pool) or streamed. TCP behaviour is in test/app/compression.test.ts.
import { describe, expect, test } from "bun:test";
import zlib from "node:zlib";
import { compressReply, markConstant } from "../../src/compress/reply-filter.ts";
import { activeStreams } from "../../src/compress/stream-compressor.ts";
import { OCTET_STREAM_TYPE, TEXT_PLAIN_TYPE } from "../../src/http/response.ts";
import type { BodySource } from "../../src/server/body.ts";
import type { Reply } from "../../src/server/reply.ts";
import type { ServerRequest } from "../../src/server/request.ts";

const enc = new TextEncoder();
const OPTIONS = { minSize: 1024 };
const TEXT = Array.from({ length: 400 }, (_, i) => `line ${i} of the response, word ${(i * 37) % 101}\n`).join("");
const LARGE = TEXT.repeat(20); // over 32 KiB: compressed on the pool

const requestWith = (ae: string | undefined) =>
  ({ head: { header: (n: string) => (n.toLowerCase() === "accept-encoding" ? ae : undefined) } }) as unknown as ServerRequest;
const BR_REQ = requestWith("gzip, deflate, br, zstd");

/** The reply's header list as [lower-cased name, value] pairs (the filter's output is always a list). */
function fields(r: Reply): [string, string][] {
  expect(Array.isArray(r.headers)).toBe(true);
  return (r.headers as [string, string][]).map(([n, v]) => [n.toLowerCase(), v]);
}
const field = (r: Reply, name: string) => fields(r).find(([n]) => n === name)?.[1];
const fieldsNamed = (r: Reply, name: string) => fields(r).filter(([n]) => n === name).map(([, v]) => v);

async function filtered(reply: Reply, req = BR_REQ, options = OPTIONS): Promise<Reply> {
  return await compressReply(reply, req, options);
}

/** Reads a BodySource to its end, as the engine does. */
async function drain(s: BodySource): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for (let p = await s.read(); p !== null; p = await s.read()) parts.push(p);
  s.close();
  return Buffer.concat(parts);
}

function decode(coding: string | undefined, body: Uint8Array): string {
  const b = coding === "br" ? zlib.brotliDecompressSync(body) : coding === "zstd" ? zlib.zstdDecompressSync(body) : coding === "gzip" ? zlib.gunzipSync(body) : body;
  return new TextDecoder().decode(b);
}

const typed = (type: string, body: Reply["body"], extra: [string, string][] = []): Reply => ({
  status: 200,
  headers: [["Content-Type", type], ...extra],
  body,
});

describe("left alone: the same reply back", () => {
  const cases: [string, Reply][] = [
    ["101 with an upgrade", { status: 101, headers: [["Upgrade", "websocket"]], upgrade: () => ({}) as never }],
    ["a 1xx", { status: 103, headers: [["Link", "</a.css>; rel=preload"]] }],
    ["204", { status: 204, headers: [["Content-Type", "text/plain"]], body: TEXT }],
    ["206", { status: 206, headers: [["Content-Type", "text/plain"], ["Content-Range", "bytes 0-9/99"]], body: TEXT }],
    ["304 of a type not compressed", { status: 304, headers: [["Content-Type", "image/png"], ["ETag", '"x"']], body: null }],
    ["304 whose 200 is under minSize", { status: 304, headers: [["Content-Type", "text/plain"], ["ETag", '"x"']], body: null, length: 10 }],
    ["no body", { status: 200, headers: [["Content-Type", "text/plain"]] }],
    ["a body under minSize", typed("text/plain", "x".repeat(1023))],
    ["bytes under minSize", typed("text/plain", new Uint8Array(1023))],
    ["a BodySource whose length is under minSize", { ...typed("text/plain", { read: () => null, close: () => {} }), length: 10 }],
    ["a raw reply", { ...typed("text/plain", TEXT), raw: enc.encode("HTTP/1.1 200 OK\r\n\r\n") }],
    ["pre-encoded header lines (not the text/bytes defaults)", { status: 200, headers: enc.encode("Content-Type: text/plain\r\n"), body: TEXT }],
    ["no Content-Type at all", { status: 200, headers: [["X-A", "b"]], body: TEXT }],
    ["image/png", typed("image/png", TEXT)],
    ["font/woff2", typed("font/woff2", TEXT)],
    ["application/octet-stream lines (bytes)", { status: 200, headers: OCTET_STREAM_TYPE, body: enc.encode(TEXT) }],
    ["Cache-Control: no-transform", typed("text/plain", TEXT, [["Cache-Control", "no-transform"]])],
    ["Cache-Control: Public,No-Transform", typed("text/plain", TEXT, [["Cache-Control", "Public,No-Transform"]])],
    ["Content-Encoding: gzip", typed("text/plain", TEXT, [["Content-Encoding", "gzip"]])],
    ["Content-Range on a 200", typed("text/plain", TEXT, [["Content-Range", "bytes 0-9/10"]])],
  ];
  test.each(cases)("%s", (_name, reply) => {
    expect(compressReply(reply, BR_REQ, OPTIONS)).toBe(reply);
  });

  test("a 304 naming a compressible type: the Vary and weak ETag its compressed 200 has, no Content-Encoding", () => {
    const r = compressReply({ status: 304, headers: [["Content-Type", "text/plain"], ["ETag", '"x"']], body: null }, BR_REQ, OPTIONS) as Reply;
    expect(r.status).toBe(304);
    expect(field(r, "etag")).toBe('W/"x"');
    expect(field(r, "vary")).toBe("Accept-Encoding");
    expect(field(r, "content-encoding")).toBeUndefined();
    expect(r.body ?? null).toBeNull();
  });

  test("a Cache-Control that only looks like no-transform is not one", async () => {
    const r = await filtered(typed("text/plain", TEXT, [["Cache-Control", "x-no-transformed"]]));
    expect(field(r, "content-encoding")).toBe("br");
  });
});

describe("whole bodies", () => {
  test("a string with the text/plain default lines (a handler's string): compressed, typed, Vary", () => {
    const r = compressReply({ status: 200, headers: TEXT_PLAIN_TYPE, body: TEXT }, BR_REQ, OPTIONS) as Reply;
    expect(r).not.toBeInstanceOf(Promise); // small: on this thread
    expect(field(r, "content-type")).toBe("text/plain; charset=utf-8");
    expect(field(r, "content-encoding")).toBe("br");
    expect(field(r, "vary")).toBe("Accept-Encoding");
    expect(decode("br", r.body as Uint8Array)).toBe(TEXT);
    expect(r.status).toBe(200);
  });

  test("over 32 KiB: a promise (the pool), decoding the same", async () => {
    const p = compressReply(typed("application/json", LARGE), BR_REQ, OPTIONS);
    expect(p).toBeInstanceOf(Promise);
    const r = await p;
    expect(decode("br", r.body as Uint8Array)).toBe(LARGE);
  });

  test.each([
    ["Uint8Array", () => enc.encode(TEXT)],
    ["ArrayBuffer", () => enc.encode(TEXT).buffer as ArrayBuffer],
  ] as [string, () => Uint8Array | ArrayBuffer][])("a %s body", async (_n, make) => {
    const r = await filtered(typed("text/css", make()));
    expect(decode(field(r, "content-encoding"), r.body as Uint8Array)).toBe(TEXT);
  });

  test.each([
    ["gzip", "gzip"],
    ["zstd;q=1, gzip;q=0.9", "zstd"],
    ["*", "br"],
  ])("Accept-Encoding %p → %p", async (ae, coding) => {
    const r = await filtered(typed("text/plain", TEXT), requestWith(ae));
    expect(field(r, "content-encoding")).toBe(coding);
    expect(decode(coding, r.body as Uint8Array)).toBe(TEXT);
  });

  test("no Accept-Encoding: the body as it was, Vary added, the ETag strong, the length kept", async () => {
    const body = enc.encode(TEXT);
    const r = await filtered({ ...typed("text/plain", body, [["ETag", '"e1"']]), length: body.length }, requestWith(undefined));
    expect(r.body).toBe(body);
    expect(field(r, "content-encoding")).toBeUndefined();
    expect(field(r, "vary")).toBe("Accept-Encoding");
    expect(field(r, "etag")).toBe('"e1"');
    expect(r.length).toBe(body.length);
  });

  test("output no smaller than the input: identity, with Vary", async () => {
    const random = crypto.getRandomValues(new Uint8Array(4096));
    const r = await filtered(typed("text/plain", random));
    expect(r.body).toBe(random);
    expect(field(r, "content-encoding")).toBeUndefined();
    expect(field(r, "vary")).toBe("Accept-Encoding");
  });

  test("the app's Content-Length is dropped (the engine frames the new body), the rest kept in order", async () => {
    const r = await filtered(typed("text/plain", TEXT, [["Content-Length", String(TEXT.length)], ["X-One", "1"], ["Set-Cookie", "a=1"], ["Set-Cookie", "b=2"]]));
    expect(field(r, "content-length")).toBeUndefined();
    expect(fieldsNamed(r, "set-cookie")).toEqual(["a=1", "b=2"]);
    expect(fields(r).map(([n]) => n)).toEqual(["content-type", "x-one", "set-cookie", "set-cookie", "vary", "content-encoding"]);
  });

  test("the reply given is not changed (its header list is shared by later responses)", async () => {
    const headers: [string, string][] = [["Content-Type", "text/plain"], ["ETag", '"e"'], ["Vary", "Origin"]];
    const reply: Reply = { status: 200, headers, body: TEXT };
    const snapshot = JSON.stringify(headers);
    await filtered(reply);
    await filtered(reply, requestWith(undefined));
    expect(JSON.stringify(reply.headers)).toBe(snapshot);
    expect(reply.body).toBe(TEXT);
  });
});

describe("the header forms a reply may use", () => {
  test("a Headers object", async () => {
    const r = await filtered({ status: 200, headers: new Headers({ "content-type": "application/xml", etag: '"h"' }), body: TEXT });
    expect(field(r, "content-type")).toBe("application/xml");
    expect(field(r, "etag")).toBe('W/"h"');
    expect(field(r, "content-encoding")).toBe("br");
  });

  test("a record, with an array value", async () => {
    const r = await filtered({ status: 201, headers: { "Content-Type": "text/html", "Set-Cookie": ["a=1", "b=2"] }, body: TEXT });
    expect(r.status).toBe(201);
    expect(fieldsNamed(r, "set-cookie")).toEqual(["a=1", "b=2"]);
    expect(field(r, "content-encoding")).toBe("br");
  });

  test("no type in the headers: the defaultType line Bun.serve would infer", async () => {
    const r = await filtered({ status: 200, headers: [["X-A", "1"]], body: TEXT, defaultType: enc.encode("Content-Type: text/html;charset=utf-8\r\n") });
    expect(field(r, "content-type")).toBe("text/html;charset=utf-8");
    expect(field(r, "content-encoding")).toBe("br");
  });

  test("Content-Encoding: identity is no coding: compressed, and it is not sent along", async () => {
    const r = await filtered(typed("text/plain", TEXT, [["Content-Encoding", "identity"]]));
    expect(fieldsNamed(r, "content-encoding")).toEqual(["br"]);
  });
});

describe("ETag and Vary", () => {
  test.each([
    ['"abc"', 'W/"abc"'],
    ['W/"abc"', 'W/"abc"'],
  ])("ETag %s → %s when compressed", async (etag, expected) => {
    const r = await filtered(typed("text/plain", TEXT, [["ETag", etag]]));
    expect(field(r, "etag")).toBe(expected);
  });

  test.each([
    ["Origin", "Origin, Accept-Encoding"],
    ["Origin, Cookie", "Origin, Cookie, Accept-Encoding"],
    ["accept-encoding", "accept-encoding"],
    ["Origin, Accept-Encoding", "Origin, Accept-Encoding"],
    ["*", "*"],
  ])("Vary: %s → %s", async (vary, expected) => {
    for (const req of [BR_REQ, requestWith(undefined)]) {
      const r = await filtered(typed("text/plain", TEXT, [["Vary", vary]]), req);
      expect(fieldsNamed(r, "vary")).toEqual([expected]);
    }
  });

  test("two Vary fields become one list", async () => {
    const r = await filtered(typed("text/plain", TEXT, [["Vary", "Origin"], ["Vary", "Cookie"]]));
    expect(fieldsNamed(r, "vary")).toEqual(["Origin, Cookie, Accept-Encoding"]);
  });
});

describe("streamed bodies", () => {
  test("a ReadableStream: a compressing source, no length, decoding to the stream's bytes", async () => {
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 10; i++) c.enqueue(enc.encode(TEXT));
        c.close();
      },
    });
    const r = await filtered(typed("text/event-stream", stream));
    expect(field(r, "content-encoding")).toBe("br");
    expect(r.length).toBeUndefined();
    expect(activeStreams()).toBe(1);
    expect(decode("br", await drain(r.body as BodySource))).toBe(TEXT.repeat(10));
    expect(activeStreams()).toBe(0);
  });

  test("a Blob: streamed through the compressor", async () => {
    const r = await filtered(typed("text/plain", new Blob([TEXT, TEXT])), requestWith("gzip"));
    expect(field(r, "content-encoding")).toBe("gzip");
    expect(decode("gzip", await drain(r.body as BodySource))).toBe(TEXT + TEXT);
  });

  test("a BodySource of known length: compressed, the length dropped; identity keeps it", async () => {
    const bytes = enc.encode(TEXT);
    const source = (): BodySource => {
      let done = false;
      return { read: () => (done ? null : ((done = true), bytes)), close: () => {} };
    };
    const r = await filtered({ ...typed("text/plain", source()), length: bytes.length }, requestWith("zstd"));
    expect(field(r, "content-encoding")).toBe("zstd");
    expect(r.length).toBeUndefined();
    expect(decode("zstd", await drain(r.body as BodySource))).toBe(TEXT);
    const plain = await filtered({ ...typed("text/plain", source()), length: bytes.length }, requestWith(undefined));
    expect(plain.length).toBe(bytes.length);
    expect(field(plain, "vary")).toBe("Accept-Encoding");
    (plain.body as BodySource).close();
  });

  test("a stream of unknown length is compressed even if it turns out small (its size is not known ahead)", async () => {
    const stream = new ReadableStream<Uint8Array>({ start: (c) => (c.enqueue(enc.encode("data: hi\n\n")), c.close()) });
    const r = await filtered(typed("text/event-stream", stream), requestWith("gzip"));
    expect(field(r, "content-encoding")).toBe("gzip");
    expect(decode("gzip", await drain(r.body as BodySource))).toBe("data: hi\n\n");
  });
});

describe("a constant reply (a route's Response)", () => {
  test("is compressed once per coding: the same reply comes back, decoding right", async () => {
    const reply = typed("text/plain", TEXT);
    markConstant(reply);
    const a = await compressReply(reply, BR_REQ, OPTIONS);
    const b = await compressReply(reply, BR_REQ, OPTIONS);
    expect(b).toBe(a);
    expect(field(a, "content-encoding")).toBe("br");
    expect(decode("br", a.body as Uint8Array)).toBe(TEXT);
    // Another reply with the same content is not the constant one: made anew.
    const other = await compressReply(typed("text/plain", TEXT), BR_REQ, OPTIONS);
    expect(other).not.toBe(a);
  });

  test("a large one (on the pool): concurrent requests share one compression", async () => {
    const reply = typed("application/json", LARGE);
    markConstant(reply);
    const p1 = compressReply(reply, BR_REQ, OPTIONS);
    const p2 = compressReply(reply, BR_REQ, OPTIONS);
    expect(p2).toBe(p1);
    const r = await p1;
    expect(await compressReply(reply, BR_REQ, OPTIONS)).toBe(r);
  });
});

