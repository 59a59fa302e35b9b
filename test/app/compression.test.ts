// App responses compressed on the fly (issue 13), over TCP: what fetch, routes and our handler return,
// of a compressible type and at least the minimum size, goes out in br, zstd or gzip as the client
// asks: whole with Content-Length, a stream chunked and flushed a piece at a time (an SSE event is
// not held back), every such response with Vary. The exclusions go out untouched; the decoded body
// is always the original, byte for byte.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import zlib from "node:zlib";
import { Hono } from "hono";
import { serve, type Server } from "../../src/index.ts";
import { killAll, REPO, spawnChild } from "../helpers/child.ts";
import { pollUntil, Wakeup } from "../helpers/poll.ts";
import { exchange, RawClient, type RawResponse } from "../helpers/raw-client.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Deterministic text that compresses as prose does (not as one repeated word), with some UTF-8. */
function prose(chars: number, seed: number): string {
  const words = ["the", "server", "sends", "bytes", "café", "naïve", "réponse", "日本語", "stream", "chunk", "header", "vary", "flush", "événement"];
  let x = seed;
  let s = "";
  while (s.length < chars) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    s += words[(x >>> 8) % words.length] + ((x >>> 4) % 11 === 0 ? ".\n" : " ");
  }
  return s.slice(0, chars);
}

const TEXT = prose(6000, 1);
const LARGE = prose(100_000, 2); // above the size compressed on this thread: done on the pool
const JSON_BODY = { items: prose(5000, 3).split(" ") };
const PNG_LIKE = enc.encode(prose(4000, 4)); // compressible bytes, but labelled as an image
/** Random bytes: compressed, they come out larger. */
const RANDOM = crypto.getRandomValues(new Uint8Array(8192));

type CodingName = "br" | "zstd" | "gzip";
const CODINGS: CodingName[] = ["br", "zstd", "gzip"];

function decodeWhole(coding: string | undefined, body: Uint8Array): Uint8Array {
  if (coding === undefined) return body;
  if (coding === "br") return zlib.brotliDecompressSync(body);
  if (coding === "zstd") return zlib.zstdDecompressSync(body);
  if (coding === "gzip") return zlib.gunzipSync(body);
  throw new Error(`unexpected Content-Encoding ${coding}`);
}

function decompressor(coding: string | undefined): zlib.Gunzip | zlib.BrotliDecompress | zlib.ZstdDecompress | null {
  if (coding === undefined) return null;
  if (coding === "br") return zlib.createBrotliDecompress();
  if (coding === "zstd") return zlib.createZstdDecompress();
  if (coding === "gzip") return zlib.createGunzip();
  throw new Error(`unexpected Content-Encoding ${coding}`);
}

const request = (method: string, path: string, ae?: string) =>
  `${method} ${path} HTTP/1.1\r\nHost: t\r\n${ae === undefined ? "" : `Accept-Encoding: ${ae}\r\n`}\r\n`;
const get = (port: number, path: string, ae?: string) => exchange(port, request("GET", path, ae));
const head = (port: number, path: string, ae?: string) => exchange(port, request("HEAD", path, ae));

const varyNames = (r: RawResponse) => (r.header("vary") ?? "").split(",").map((v) => v.trim().toLowerCase());

/** A whole body: compressed in `coding` (or identity), framed by Content-Length, Vary, decoding to `original`. */
function expectWhole(r: RawResponse, coding: CodingName | undefined, original: Uint8Array): void {
  expect(r.status).toBeLessThan(300);
  expect(r.header("content-encoding")).toBe(coding);
  expect(r.header("transfer-encoding")).toBeUndefined();
  expect(r.header("content-length")).toBe(String(r.body.length));
  expect(varyNames(r)).toContain("accept-encoding");
  if (coding !== undefined) expect(r.body.length).toBeLessThan(original.length);
  expect(Buffer.from(decodeWhole(coding, r.body)).equals(Buffer.from(original))).toBe(true);
}

/** The same response untouched: no coding, the app's bytes as they were. */
function expectUntouched(r: RawResponse, original: Uint8Array): void {
  expect(r.header("content-encoding")).toBeUndefined();
  expect(Buffer.from(r.body).equals(Buffer.from(original))).toBe(true);
  expect(r.header("content-length")).toBe(String(original.length));
}

// ---- the server under test ----------------------------------------------------------------------

const STREAM_TOTAL = 1024 * 1024;
const STREAM_PIECE = 7 * 1024;
const STREAM_BYTES = enc.encode(prose(STREAM_TOTAL, 5)).subarray(0, STREAM_TOTAL);

/** 1 MiB in 7 KiB pieces, each made on a later turn: a body of unknown length. */
function pieces(): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      await new Promise((r) => setImmediate(r));
      if (at >= STREAM_BYTES.length) return c.close();
      c.enqueue(STREAM_BYTES.slice(at, at + STREAM_PIECE));
      at += STREAM_PIECE;
    },
  });
}

const SSE_GAP = 2000;
const FIRST_EVENT = `id: 1\ndata: ${prose(300, 6)}\n\n`;
const SECOND_EVENT = `id: 2\ndata: ${prose(300, 7)}\n\n`;
/** When each SSE stream's second event went out (performance.now()), by the path's tag. */
const secondSentAt = new Map<string, number>();

/** One event now, the second SSE_GAP ms later, then the end. */
function events(tag: string): ReadableStream<Uint8Array> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(enc.encode(FIRST_EVENT));
      timer = setTimeout(() => {
        secondSentAt.set(tag, performance.now());
        c.enqueue(enc.encode(SECOND_EVENT));
        c.close();
      }, SSE_GAP);
    },
    cancel: () => clearTimeout(timer),
  });
}

const TYPE = (type: string) => ({ "Content-Type": type });
const GZIPPED = zlib.gzipSync(enc.encode(TEXT));

/** Paths whose whole bodies are compressed, with what each decodes to. */
const WHOLE: Record<string, Uint8Array> = {
  "/fetch/string": enc.encode(TEXT),
  "/fetch/large": enc.encode(LARGE),
  "/fetch/bytes": enc.encode(TEXT),
  "/fetch/json": enc.encode(JSON.stringify(JSON_BODY)),
  "/route": enc.encode(TEXT),
  "/handler/string": enc.encode(TEXT),
  "/handler/reply": enc.encode(TEXT),
  "/handler/large-reply": enc.encode(LARGE),
};

function fetchApp(request: Request): Response {
  const url = new URL(request.url);
  const p = url.pathname;
  switch (p) {
    case "/fetch/string":
      return new Response(TEXT);
    case "/fetch/large":
      return new Response(LARGE, { headers: TYPE("text/html; charset=utf-8") });
    case "/fetch/bytes":
      return new Response(enc.encode(TEXT), { headers: TYPE("text/plain; charset=utf-8") });
    case "/fetch/json":
      return Response.json(JSON_BODY);
    case "/stream":
      return new Response(pieces(), { headers: TYPE("application/javascript") });
    case "/sized": {
      // ?n=<bytes>: a text body of that many bytes (ASCII).
      const n = Number(url.searchParams.get("n"));
      return new Response("x".repeat(n), { headers: TYPE("text/plain") });
    }
    case "/utf8": {
      // ?n=<chars> of a 3-byte character.
      return new Response("日".repeat(Number(url.searchParams.get("n"))), { headers: TYPE("text/plain; charset=utf-8") });
    }
    case "/status/204":
      return new Response(null, { status: 204 });
    case "/status/304":
      return new Response(null, { status: 304, headers: { ETag: '"v1"', "Content-Type": "text/plain" } });
    case "/status/206":
      return new Response(TEXT, { status: 206, headers: { ...TYPE("text/plain"), "Content-Range": `bytes 0-${TEXT.length - 1}/99999` } });
    case "/content-range":
      return new Response(TEXT, { headers: { ...TYPE("text/plain"), "Content-Range": `bytes 0-${TEXT.length - 1}/${TEXT.length}` } });
    case "/no-transform":
      return new Response(TEXT, { headers: { ...TYPE("text/plain"), "Cache-Control": "public, max-age=60, no-transform" } });
    case "/app-encoded":
      return new Response(GZIPPED, { headers: { ...TYPE("text/plain"), "Content-Encoding": "gzip" } });
    case "/identity-encoded":
      return new Response(TEXT, { headers: { ...TYPE("text/plain"), "Content-Encoding": "identity" } });
    case "/png":
      return new Response(PNG_LIKE, { headers: TYPE("image/png") });
    case "/untyped-bytes":
      return new Response(PNG_LIKE); // application/octet-stream
    case "/random":
      return new Response(RANDOM, { headers: TYPE("text/plain") });
    case "/etag/strong":
      return new Response(TEXT, { headers: { ...TYPE("text/plain"), ETag: '"abc123"' } });
    case "/etag/weak":
      return new Response(TEXT, { headers: { ...TYPE("text/plain"), ETag: 'W/"abc123"' } });
    case "/vary/origin":
      return new Response(TEXT, { headers: { ...TYPE("text/plain"), Vary: "Origin" } });
    case "/vary/star":
      return new Response(TEXT, { headers: { ...TYPE("text/plain"), Vary: "*" } });
    case "/vary/already":
      return new Response(TEXT, { headers: { ...TYPE("text/plain"), Vary: "origin, accept-encoding" } });
  }
  const sse = /^\/sse\/(\w+)$/.exec(p);
  if (sse) return new Response(events(sse[1]!), { headers: { ...TYPE("text/event-stream"), "Cache-Control": "no-cache" } });
  return new Response("not found", { status: 404 });
}

function appOptions() {
  return {
    port: 0,
    hostname: "127.0.0.1",
    log: "off" as const,
    routes: {
      "/route": () => new Response(TEXT, { headers: TYPE("text/html; charset=utf-8") }),
      "/static-route": new Response(TEXT, { headers: TYPE("text/html; charset=utf-8") }),
    },
    handler(req: { path: string }) {
      if (req.path === "/handler/string") return TEXT;
      if (req.path === "/handler/reply") return { status: 201, headers: { "Content-Type": "application/javascript" }, body: TEXT };
      if (req.path === "/handler/large-reply") return { status: 200, headers: [["Content-Type", "application/xml"]] as [string, string][], body: LARGE };
      if (req.path === "/handler/bytes") return PNG_LIKE; // bytes: application/octet-stream
      return null;
    },
    fetch: fetchApp,
  };
}

let server: Server;
let port: number;
let plain: Server; // compress: false
beforeAll(() => {
  server = serve(appOptions());
  port = server.port;
  plain = serve({ ...appOptions(), compress: false });
});
afterAll(async () => {
  await server.stop(true);
  await plain.stop(true);
});

// ---- whole bodies -------------------------------------------------------------------------------

describe("whole bodies: compressed as asked, with Content-Length and Vary", () => {
  for (const path of Object.keys(WHOLE)) {
    for (const coding of CODINGS) {
      test(`${path}, Accept-Encoding: ${coding}`, async () => {
        const r = await get(port, path, coding);
        expectWhole(r, coding, WHOLE[path]!);
      });
    }
    test(`${path}, no Accept-Encoding: identity, still Vary`, async () => {
      const r = await get(port, path);
      expectWhole(r, undefined, WHOLE[path]!);
    });
  }

  test("our handler's Reply keeps its status and type", async () => {
    const r = await get(port, "/handler/reply", "gzip");
    expect(r.status).toBe(201);
    expect(r.header("content-type")).toBe("application/javascript");
    expect(r.header("content-encoding")).toBe("gzip");
  });
});

// ---- streams ------------------------------------------------------------------------------------

describe("a stream of unknown length: chunked, decoding to the original", () => {
  for (const coding of [...CODINGS, undefined]) {
    test(`1 MiB in 7 KiB pieces, ${coding ?? "no Accept-Encoding"}`, async () => {
      const r = await get(port, "/stream", coding);
      expect(r.status).toBe(200);
      expect(r.header("transfer-encoding")).toBe("chunked");
      expect(r.header("content-length")).toBeUndefined();
      expect(r.header("content-encoding")).toBe(coding);
      expect(varyNames(r)).toContain("accept-encoding");
      if (coding !== undefined) expect(r.body.length).toBeLessThan(STREAM_TOTAL / 2);
      const decoded = decodeWhole(coding, r.body);
      expect(decoded.length).toBe(STREAM_TOTAL);
      expect(Buffer.from(decoded).equals(Buffer.from(STREAM_BYTES))).toBe(true);
    }, 20_000);
  }
});

/**
 * Reads a chunked response off a raw socket as it arrives, decoding each chunk at once with a
 * streaming decompressor, as a browser's EventSource does: `text()` is what has decoded so far.
 */
class IncrementalReader {
  readonly wake = new Wakeup();
  headers: Map<string, string> | null = null;
  ended = false;
  #buf = new Uint8Array(0);
  #decoded = "";
  #utf8 = new TextDecoder();
  #z: ReturnType<typeof decompressor> = null;
  #tail: number;

  /** `tail`: keep only the last so many characters decoded (for long streams). */
  constructor(c: RawClient, tail = Infinity) {
    this.#tail = tail;
    c.onData = (chunk) => {
      const joined = new Uint8Array(this.#buf.length + chunk.length);
      joined.set(this.#buf);
      joined.set(chunk, this.#buf.length);
      this.#buf = joined;
      this.#parse();
    };
  }

  text(): string {
    return this.#decoded;
  }

  #add(text: string): void {
    this.#decoded += text;
    if (this.#decoded.length > this.#tail) this.#decoded = this.#decoded.slice(-this.#tail);
    this.wake.fire();
  }

  #parse(): void {
    if (this.headers === null) {
      const end = Buffer.from(this.#buf).indexOf("\r\n\r\n");
      if (end < 0) return;
      const lines = dec.decode(this.#buf.subarray(0, end)).split("\r\n").slice(1);
      this.headers = new Map(lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]));
      this.#buf = this.#buf.slice(end + 4);
      const z = decompressor(this.headers.get("content-encoding"));
      if (z !== null) {
        z.on("data", (d: Uint8Array) => this.#add(this.#utf8.decode(d, { stream: true })));
        z.on("end", () => {
          this.ended = true;
          this.wake.fire();
        });
      }
      this.#z = z;
      this.wake.fire();
    }
    for (;;) {
      const b = Buffer.from(this.#buf);
      const lineEnd = b.indexOf("\r\n");
      if (lineEnd < 0) return;
      const size = parseInt(dec.decode(b.subarray(0, lineEnd)), 16);
      if (b.length < lineEnd + 2 + size + 2) return;
      const data = this.#buf.slice(lineEnd + 2, lineEnd + 2 + size);
      this.#buf = this.#buf.slice(lineEnd + 2 + size + 2);
      if (size === 0) {
        if (this.#z !== null) this.#z.end();
        else {
          this.ended = true;
          this.wake.fire();
        }
        return;
      }
      if (this.#z !== null) this.#z.write(data);
      else this.#add(this.#utf8.decode(data, { stream: true }));
    }
  }
}

describe("server-sent events: the first event decodes at once, not with the second 2 s later", () => {
  for (const coding of [...CODINGS, undefined]) {
    test(`text/event-stream, ${coding ?? "no Accept-Encoding"}`, async () => {
      const tag = coding ?? "identity";
      const c = await RawClient.connect(port);
      try {
        const reader = new IncrementalReader(c);
        const sentAt = performance.now();
        await c.send(request("GET", `/sse/${tag}`, coding));
        await pollOn(reader, () => reader.text().includes(FIRST_EVENT), "the first event, decoded");
        const firstAt = performance.now();
        expect(reader.headers!.get("content-encoding")).toBe(coding);
        expect(reader.headers!.get("transfer-encoding")).toBe("chunked");
        expect(reader.headers!.get("vary")).toBe("Accept-Encoding");
        expect(secondSentAt.has(tag)).toBe(false);
        expect(reader.text()).toBe(FIRST_EVENT);
        // Well before the second event is due (SSE_GAP ms after the request).
        console.log(`SSE ${tag}: first event decoded ${(firstAt - sentAt).toFixed(1)} ms after the request`);
        expect(firstAt - sentAt).toBeLessThan(1000);
        await pollOn(reader, () => reader.ended, "the end of the stream");
        expect(reader.text()).toBe(FIRST_EVENT + SECOND_EVENT);
        // The second really came later: the test could tell the two apart.
        expect(secondSentAt.get(tag)! - sentAt).toBeGreaterThanOrEqual(SSE_GAP * 0.9);
      } finally {
        c.close();
      }
    }, 10_000);
  }
});

async function pollOn(reader: IncrementalReader, f: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!f()) {
    const left = deadline - performance.now();
    if (left <= 0) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await reader.wake.next(left);
  }
}

// ---- exclusions ---------------------------------------------------------------------------------

describe("exclusions: identity, the body untouched", () => {
  const AE = "br, zstd, gzip";

  test("a body under the minimum size (1024 by default); at the minimum, compressed", async () => {
    expectUntouched(await get(port, "/sized?n=1023", AE), enc.encode("x".repeat(1023)));
    const at = await get(port, "/sized?n=1024", AE);
    expectWhole(at, "br", enc.encode("x".repeat(1024)));
  });

  test("the minimum counts UTF-8 bytes, not characters", async () => {
    // 341 × 3 = 1023 bytes: under; 342 × 3 = 1026: compressed.
    expectUntouched(await get(port, "/utf8?n=341", AE), enc.encode("日".repeat(341)));
    expectWhole(await get(port, "/utf8?n=342", AE), "br", enc.encode("日".repeat(342)));
  });

  test("serve({ compress: { minSize } }) moves the minimum", async () => {
    await using low = serve({ ...appOptions(), compress: { minSize: 100 } });
    expectWhole(await get(low.port, "/sized?n=200", AE), "br", enc.encode("x".repeat(200)));
    expectUntouched(await get(low.port, "/sized?n=99", AE), enc.encode("x".repeat(99)));
    await using high = serve({ ...appOptions(), compress: { minSize: 10_000 } });
    expectUntouched(await get(high.port, "/fetch/string", AE), enc.encode(TEXT));
    expectWhole(await get(high.port, "/fetch/large", AE), "br", enc.encode(LARGE));
  });

  test("204 and 304 from the app", async () => {
    const r204 = await get(port, "/status/204", AE);
    expect(r204.status).toBe(204);
    expect(r204.header("content-encoding")).toBeUndefined();
    expect(r204.body.length).toBe(0);
    const r304 = await get(port, "/status/304", AE);
    expect(r304.status).toBe(304);
    expect(r304.header("content-encoding")).toBeUndefined();
    expect(r304.body.length).toBe(0);
    // A 304 naming a compressible type gets the ETag and Vary its compressed 200 would have (RFC
    // 9110 §15.4.5): the client that asked br holds W/"v1". Without a coding, the tag stays strong.
    expect(r304.header("etag")).toBe('W/"v1"');
    expect(r304.header("vary")).toBe("Accept-Encoding");
    const plain = await get(port, "/status/304");
    expect(plain.header("etag")).toBe('"v1"');
    expect(plain.header("vary")).toBe("Accept-Encoding");
  });

  test("206 from the app", async () => {
    const r = await get(port, "/status/206", AE);
    expect(r.status).toBe(206);
    expect(r.header("content-range")).toBe(`bytes 0-${TEXT.length - 1}/99999`);
    expectUntouched(r, enc.encode(TEXT));
  });

  test("a 200 with Content-Range", async () => {
    const r = await get(port, "/content-range", AE);
    expect(r.header("content-range")).toBeDefined();
    expectUntouched(r, enc.encode(TEXT));
  });

  test("Cache-Control: no-transform", async () => {
    const r = await get(port, "/no-transform", AE);
    expect(r.header("cache-control")).toBe("public, max-age=60, no-transform");
    expectUntouched(r, enc.encode(TEXT));
  });

  test("a Content-Encoding the app set: its bytes, its one coding", async () => {
    const r = await get(port, "/app-encoded", AE);
    expect(r.headers.get("content-encoding")).toEqual(["gzip"]);
    expect(Buffer.from(r.body).equals(GZIPPED)).toBe(true);
    expect(dec.decode(zlib.gunzipSync(r.body))).toBe(TEXT);
  });

  test("Content-Encoding: identity from the app is no coding: compressed, one Content-Encoding", async () => {
    const r = await get(port, "/identity-encoded", AE);
    expect(r.headers.get("content-encoding")).toEqual(["br"]);
    expectWhole(r, "br", enc.encode(TEXT));
  });

  test("image/png", async () => {
    const r = await get(port, "/png", AE);
    expect(r.header("content-type")).toBe("image/png");
    expectUntouched(r, PNG_LIKE);
  });

  test("bytes without a type (application/octet-stream), from fetch and from our handler", async () => {
    for (const path of ["/untyped-bytes", "/handler/bytes"]) {
      const r = await get(port, path, AE);
      expect(r.header("content-type")).toBe("application/octet-stream");
      expectUntouched(r, PNG_LIKE);
    }
  });

  test("a body that compression would make larger goes as it is (with Vary)", async () => {
    const r = await get(port, "/random", AE);
    expectUntouched(r, RANDOM);
    expect(varyNames(r)).toContain("accept-encoding");
  });
});

// ---- headers ------------------------------------------------------------------------------------

describe("ETag and Vary", () => {
  test("a strong ETag is made weak on a compressed response, kept strong on identity", async () => {
    for (const coding of CODINGS) expect((await get(port, "/etag/strong", coding)).header("etag")).toBe('W/"abc123"');
    expect((await get(port, "/etag/strong")).header("etag")).toBe('"abc123"');
  });

  test("a weak ETag stays as it is", async () => {
    expect((await get(port, "/etag/weak", "gzip")).header("etag")).toBe('W/"abc123"');
    expect((await get(port, "/etag/weak")).header("etag")).toBe('W/"abc123"');
  });

  test("Vary: Origin becomes Origin, Accept-Encoding (identity too)", async () => {
    const r = await get(port, "/vary/origin", "br");
    expect(r.header("content-encoding")).toBe("br");
    expect(r.headers.get("vary")).toEqual(["Origin, Accept-Encoding"]);
    expect((await get(port, "/vary/origin")).headers.get("vary")).toEqual(["Origin, Accept-Encoding"]);
  });

  test("Vary: * is left alone", async () => {
    const r = await get(port, "/vary/star", "br");
    expect(r.headers.get("vary")).toEqual(["*"]);
    expect(r.header("content-encoding")).toBe("br");
    expect(dec.decode(zlib.brotliDecompressSync(r.body))).toBe(TEXT);
  });

  test("a static route's 304 carries the Vary and the (weak) ETag its compressed 200 has", async () => {
    const full = await get(port, "/static-route", "br");
    expect(full.header("content-encoding")).toBe("br");
    const tag = full.header("etag")!;
    expect(tag).toStartWith('W/"');
    const again = await exchange(port, `GET /static-route HTTP/1.1\r\nHost: t\r\nAccept-Encoding: br\r\nIf-None-Match: ${tag}\r\n\r\n`);
    expect(again.status).toBe(304);
    expect(again.header("etag")).toBe(tag);
    expect(again.header("vary")).toBe("Accept-Encoding");
    expect(again.header("content-encoding")).toBeUndefined();
    // Identity: the strong tag, still with Vary.
    const plain = await get(port, "/static-route");
    const same = await exchange(port, `GET /static-route HTTP/1.1\r\nHost: t\r\nIf-None-Match: ${plain.header("etag")}\r\n\r\n`);
    expect(same.status).toBe(304);
    expect(same.header("etag")).toBe(plain.header("etag"));
    expect(same.header("etag")).not.toStartWith("W/");
    expect(same.header("vary")).toBe("Accept-Encoding");
  });

  test("a Vary that names Accept-Encoding already does not name it twice", async () => {
    const r = await get(port, "/vary/already", "gzip");
    expect(r.headers.get("vary")).toEqual(["origin, accept-encoding"]);
  });
});

describe("HEAD gives the headers GET gives", () => {
  const fields = (r: RawResponse) => ["content-encoding", "content-length", "transfer-encoding", "vary", "etag", "content-type"].map((n) => r.header(n));
  for (const [path, coding] of [
    ["/fetch/string", "br"],
    ["/fetch/string", "gzip"],
    ["/fetch/string", undefined],
    ["/fetch/large", "zstd"],
    ["/handler/string", "gzip"],
    ["/etag/strong", "br"],
    ["/route", "zstd"],
  ] as [string, string | undefined][]) {
    test(`${path}, ${coding ?? "no Accept-Encoding"}`, async () => {
      const g = await get(port, path, coding);
      const h = await head(port, path, coding);
      expect(g.header("content-encoding")).toBe(coding);
      expect(h.body.length).toBe(0);
      expect(fields(h)).toEqual(fields(g));
    });
  }
});

// ---- compress: false ----------------------------------------------------------------------------

describe("compress: false changes nothing", () => {
  test.each(["/fetch/string", "/fetch/json", "/handler/string", "/route", "/etag/strong", "/vary/origin"])("%s", async (path) => {
    const r = await get(plain.port, path, "br, zstd, gzip");
    expect(r.header("content-encoding")).toBeUndefined();
    expect(varyNames(r)).not.toContain("accept-encoding");
    const original = path in WHOLE ? WHOLE[path]! : enc.encode(TEXT);
    expectUntouched(r, original);
    if (path === "/etag/strong") expect(r.header("etag")).toBe('"abc123"');
    if (path === "/vary/origin") expect(r.headers.get("vary")).toEqual(["Origin"]);
  });

  test("a stream stays identity", async () => {
    const r = await get(plain.port, "/stream", "gzip");
    expect(r.header("content-encoding")).toBeUndefined();
    expect(Buffer.from(r.body).equals(Buffer.from(STREAM_BYTES))).toBe(true);
  }, 20_000);
});

// ---- q-values -----------------------------------------------------------------------------------

describe("the coding by q-value", () => {
  const table: [string, CodingName | undefined][] = [
    ["identity;q=1, gzip;q=0.5", undefined],
    ["gzip;q=0", undefined],
    ["gzip;q=0, br", "br"],
    ["*", "br"],
    ["*;q=0.5, gzip", "gzip"],
    ["gzip, br", "br"],
    ["gzip, zstd", "zstd"],
    ["br;q=0.5, zstd;q=0.8, gzip;q=0.2", "zstd"],
    ["gzip;q=1.0, br;q=0.9", "gzip"],
    ["GZIP", "gzip"],
    ["x-gzip", "gzip"],
    ["deflate", undefined],
    ["", undefined],
  ];
  test.each(table)("Accept-Encoding: %p → %p", async (ae, expected) => {
    const r = await get(port, "/fetch/string", ae);
    expectWhole(r, expected, enc.encode(TEXT));
  });
});

// ---- other clients and frameworks ---------------------------------------------------------------

describe("a Hono app", () => {
  let hono: Server;
  const big = { rows: prose(8000, 8).split(" ").map((w, i) => ({ i, w })) };
  const page = `<!doctype html><html><body>${prose(8000, 9)}</body></html>`;
  beforeAll(() => {
    const app = new Hono();
    app.get("/json", (c) => c.json(big));
    app.get("/html", (c) => c.html(page));
    app.get("/small", (c) => c.text("hi"));
    hono = serve({ port: 0, hostname: "127.0.0.1", log: "off", fetch: app.fetch });
  });
  afterAll(() => hono.stop(true));

  test("c.json, large: compressed", async () => {
    const r = await get(hono.port, "/json", "gzip, deflate, br");
    expect(r.header("content-type")).toStartWith("application/json");
    expectWhole(r, "br", enc.encode(JSON.stringify(big)));
  });

  test("c.html, large: compressed", async () => {
    const r = await get(hono.port, "/html", "gzip");
    expect(r.header("content-type")).toStartWith("text/html");
    expectWhole(r, "gzip", enc.encode(page));
  });

  test("c.text, small: identity", async () => {
    expectUntouched(await get(hono.port, "/small", "gzip"), enc.encode("hi"));
  });
});

describe("Bun's fetch client (it asks for compression and decodes)", () => {
  test("a whole body", async () => {
    const r = await fetch(`http://127.0.0.1:${port}/fetch/large`);
    expect(r.headers.get("content-encoding")).toBe("br");
    expect(await r.text()).toBe(LARGE);
  });

  test("a stream", async () => {
    const r = await fetch(`http://127.0.0.1:${port}/stream`);
    expect(r.headers.get("content-encoding")).toBe("br");
    const body = new Uint8Array(await r.arrayBuffer());
    expect(Buffer.from(body).equals(Buffer.from(STREAM_BYTES))).toBe(true);
  }, 20_000);

  test("JSON", async () => {
    const r = await fetch(`http://127.0.0.1:${port}/fetch/json`);
    expect(await r.json()).toEqual(JSON_BODY);
  });
});

// ---- memory -------------------------------------------------------------------------------------

/**
 * A server in its own process (its RSS is its own): /sse sends 512 KiB of varied text at once (to
 * fill a compressor's window), then a small event every 200 ms until the client goes; /__stats
 * gives, after a full GC, the RSS, the compressing streams and the open connections.
 */
const SSE_SERVER = `
import { serve } from ${JSON.stringify(join(REPO, "src/index.ts"))};
import { activeStreams } from ${JSON.stringify(join(REPO, "src/compress/stream-compressor.ts"))};
const enc = new TextEncoder();
const words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliett", "kilo", "lima"];
function prose(bytes, seed) {
  let x = seed, s = "";
  while (s.length < bytes) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    s += words[(x >>> 8) % words.length] + ((x >>> 4) % 11 === 0 ? ".\\n" : " ") + ((x >>> 12) & 1023) + " ";
  }
  return enc.encode(s.slice(0, bytes));
}
let streams = 0;
const server = serve({
  port: 0, hostname: "127.0.0.1", log: "off",
  handler(req) {
    if (req.path === "/__stats") {
      Bun.gc(true);
      return JSON.stringify({ rss: process.memoryUsage().rss, active: activeStreams(), connections: server.connectionCount });
    }
    if (req.path !== "/sse") return null;
    const seed = ++streams;
    let timer;
    return {
      status: 200,
      headers: [["Content-Type", "text/event-stream"]],
      body: new ReadableStream({
        start(c) {
          const burst = prose(512 * 1024, seed); // not kept once sent (a closure over it would be)
          for (let at = 0; at < burst.length; at += 16384) c.enqueue(burst.subarray(at, at + 16384));
          let i = 0;
          timer = setInterval(() => c.enqueue(enc.encode("id: " + i++ + "\\ndata: tick\\n\\n")), 200);
        },
        cancel: () => clearInterval(timer),
      }),
    };
  },
});
process.stdout.write(server.port + "\\n");
`;

describe("100 SSE streams at once: at most MAX_STREAMS compressors, memory bounded", () => {
  const MiB = 1024 * 1024;
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "bunhttp-sse-mem-"));
    writeFileSync(join(dir, "sse-server.ts"), SSE_SERVER);
  });
  afterAll(async () => {
    await killAll();
    rmSync(dir, { recursive: true, force: true });
  });

  test("64 streams in br, the next 36 identity and nearly free; all released at the end", async () => {
    const child = spawnChild([process.execPath, join(dir, "sse-server.ts")]);
    await child.until(() => child.stdout().includes("\n") || child.dead, 10_000, "the child's port");
    const childPort = Number(child.stdout().trim());
    const stats = async () =>
      JSON.parse((await exchange(childPort, "GET /__stats HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")).text()) as {
        rss: number;
        active: number;
        connections: number;
      };
    const clients: RawClient[] = [];
    const readers: IncrementalReader[] = [];
    /** Opens `n` SSE streams; resolves once each has decoded past its burst to a tick. */
    const open = async (n: number) => {
      const from = readers.length;
      for (let i = 0; i < n; i++) {
        const c = await RawClient.connect(childPort, { keep: false });
        readers.push(new IncrementalReader(c, 64));
        clients.push(c);
        await c.send(request("GET", "/sse", "gzip, deflate, br, zstd"));
      }
      await pollUntil(() => readers.slice(from).every((r) => r.text().includes("data: tick")), 30_000, `${n} streams past their burst`, { every: 20 });
    };
    try {
      // Warm up (code loaded, buffers made), then the baseline with nothing open.
      await open(1);
      clients.pop()!.close();
      readers.pop();
      await pollUntil(async () => ((s) => s.active === 0 && s.connections === 1)(await stats()), 5000, "the warm-up to end", { every: 50 });
      const before = await stats();

      await open(64);
      const at64 = await stats();
      expect(at64.active).toBe(64);
      await open(36);
      const at100 = await stats();
      expect(at100.active).toBe(64);

      const codings = readers.map((r) => r.headers!.get("content-encoding") ?? "identity");
      expect(codings.filter((c) => c === "br").length).toBe(64);
      expect(codings.filter((c) => c === "identity").length).toBe(36);
      expect(readers.every((r) => r.headers!.get("vary") === "Accept-Encoding")).toBe(true);

      const growth64 = at64.rss - before.rss;
      const extra36 = at100.rss - at64.rss;
      console.log(
        `100 SSE streams (br asked): RSS ${(before.rss / MiB).toFixed(1)} MiB idle, +${(growth64 / MiB).toFixed(1)} MiB for 64 compressing ` +
          `(${(growth64 / 64 / MiB).toFixed(2)} MiB each), ${extra36 >= 0 ? "+" : ""}${(extra36 / MiB).toFixed(1)} MiB for 36 more in identity`,
      );
      // Measured: about 1.3 MiB a compressing stream (83 to 87 MiB for 64); the 36 identity ones
      // within ±8 MiB of nothing (compressed, they would add ~47). Generous bounds that still tell
      // the two apart.
      expect(growth64).toBeLessThan(64 * 2 * MiB);
      expect(extra36).toBeLessThan(20 * MiB);

      for (const c of clients) c.close();
      await pollUntil(async () => ((s) => s.active === 0 && s.connections === 1)(await stats()), 10_000, "every stream to be released", { every: 50 });
    } finally {
      for (const c of clients) c.close();
      child.kill();
      await child.exited;
    }
  }, 60_000);
});
