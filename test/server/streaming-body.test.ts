// Request bodies over TCP as they arrive: dispatched at the head, fed piece by piece to the handler
// (ours or fetch's), bounded by maxBody, 100-continue only when read, and what happens to a body
// nobody reads.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve } from "../../src/index.ts";
import type { ServerRequest } from "../../src/server/request.ts";
import { pollUntil } from "../helpers/poll.ts";
import { RawClient } from "../helpers/raw-client.ts";

const enc = new TextEncoder();
const MiB = 1024 * 1024;

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Rejects after `ms` so a missing event fails the test with a name instead of hanging it. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, Bun.sleep(ms).then(() => Promise.reject(new Error(`timed out waiting for ${what}`)))]);
}

/** One turn of the event loop, so each write reaches the server on its own. */
const turn = () => new Promise<void>((r) => setImmediate(r));

function pattern(n: number, seed = 0): Uint8Array {
  return new Uint8Array(n).map((_, i) => (i * 131 + seed + (i >> 9)) & 255);
}

function split(b: Uint8Array, piece: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < b.length; i += piece) out.push(b.subarray(i, Math.min(b.length, i + piece)));
  return out;
}

function chunk(b: Uint8Array): Uint8Array {
  return Buffer.concat([enc.encode(`${b.length.toString(16)}\r\n`), b, enc.encode("\r\n")]);
}

const LAST = enc.encode("0\r\n\r\n");
const head = (path: string, fields: string, method = "POST") => `${method} ${path} HTTP/1.1\r\nHost: t\r\n${fields}\r\n`;
const GET = (path: string) => `GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`;

describe("a body in many pieces reaches a `handler`", () => {
  // Bytes the handler has taken so far, to wait on between sends: each piece reaches it on its own.
  let taken = 0;
  let pieces = 0;
  let entered = deferred();
  let server: ReturnType<typeof serve>;

  beforeAll(() => {
    server = serve({
      port: 0,
      hostname: "127.0.0.1",
      log: "off",
      async handler(req: ServerRequest) {
        entered.resolve();
        switch (req.path) {
          case "/iter": {
            const parts: Uint8Array[] = [];
            for await (const c of req.body!) {
              parts.push(c.slice());
              taken += c.length;
              pieces++;
            }
            return { headers: [["X-Pieces", `${parts.length}`]], body: Buffer.concat(parts) };
          }
          case "/text":
            return await req.text();
          case "/json":
            return JSON.stringify(await req.json());
          case "/form": {
            const form = await req.formData();
            const entries: string[][] = [];
            for (const [k, v] of form.entries()) {
              const file = v as unknown as File;
              entries.push(typeof v === "string" ? [k, v] : [k, `file ${file.name} ${file.type} ${await file.text()}`]);
            }
            return JSON.stringify(entries);
          }
        }
        return null;
      },
    });
  });
  afterAll(() => server.stop(true));

  const reset = () => {
    taken = 0;
    pieces = 0;
    entered = deferred();
  };

  test("Content-Length: for await gets each piece as it is sent, byte-exact", async () => {
    reset();
    const body = pattern(200_000);
    const c = await RawClient.connect(server.port);
    await c.send(head("/iter", `Content-Length: ${body.length}\r\n`));
    await within(entered.promise, 5000, "the handler to be entered");
    let sent = 0;
    for (const p of split(body, 20_000)) {
      await c.send(p);
      sent += p.length;
      // Every byte sent so far reaches the handler before the rest is sent.
      await pollUntil(() => taken === sent, 5000, `the handler to take ${sent} bytes`);
    }
    const res = await c.response();
    expect(res.status).toBe(200);
    expect(Number(res.header("x-pieces"))).toBeGreaterThanOrEqual(10);
    expect(Buffer.from(res.body).equals(Buffer.from(body))).toBe(true);
    c.close();
  });

  test("chunked: for await gets each chunk as it is sent, byte-exact", async () => {
    reset();
    const body = pattern(150_000, 7);
    const c = await RawClient.connect(server.port);
    await c.send(head("/iter", "Transfer-Encoding: chunked\r\n"));
    await within(entered.promise, 5000, "the handler to be entered");
    let sent = 0;
    for (const p of split(body, 15_000)) {
      await c.send(chunk(p));
      sent += p.length;
      await pollUntil(() => taken === sent, 5000, `the handler to take ${sent} bytes`);
    }
    await c.send(LAST);
    const res = await c.response();
    expect(res.status).toBe(200);
    expect(Buffer.from(res.body).equals(Buffer.from(body))).toBe(true);
    expect(pieces).toBeGreaterThanOrEqual(10);
    c.close();
  });

  test("the handler is entered before the body is complete", async () => {
    reset();
    const c = await RawClient.connect(server.port);
    await c.send(head("/text", "Content-Length: 10\r\n") + "hello");
    // The second half has not been sent: entering now is only possible if dispatch does not wait for it.
    await within(entered.promise, 5000, "the handler to be entered before the body ends");
    await c.send("world");
    const res = await c.response();
    expect(res.text()).toBe("helloworld");
    c.close();
  });

  test("await req.text(): multi-byte characters split across small writes (Content-Length and chunked)", async () => {
    const text = "héllo wörld — ☃ 😀 ".repeat(150);
    const body = enc.encode(text);
    for (const chunked of [false, true]) {
      reset();
      const c = await RawClient.connect(server.port);
      await c.send(head("/text", chunked ? "Transfer-Encoding: chunked\r\n" : `Content-Length: ${body.length}\r\n`));
      for (const p of split(body, 37)) {
        await c.send(chunked ? chunk(p) : p);
        await turn();
      }
      if (chunked) await c.send(LAST);
      const res = await c.response();
      expect(res.status).toBe(200);
      expect(res.text()).toBe(text);
      c.close();
    }
  });

  test("a chunked body of small, large and small chunks in one write arrives byte-exact", async () => {
    reset();
    const large = pattern(20_000, 3);
    const raw = Buffer.concat([
      enc.encode(head("/iter", "Transfer-Encoding: chunked\r\n")),
      chunk(enc.encode("AAAAA")),
      chunk(large),
      chunk(enc.encode("BBBBB")),
      LAST,
    ]);
    const c = await RawClient.connect(server.port);
    await c.send(raw);
    const res = await c.response();
    const expected = Buffer.concat([enc.encode("AAAAA"), large, enc.encode("BBBBB")]);
    expect(res.body.length).toBe(expected.length);
    expect(Buffer.from(res.body).equals(expected)).toBe(true);
    c.close();
  });

  test("req.json() of a body sent in pieces", async () => {
    reset();
    const body = enc.encode(JSON.stringify({ a: [1, 2, 3], s: "héllo", nested: { ok: true } }));
    const c = await RawClient.connect(server.port);
    await c.send(head("/json", `Content-Length: ${body.length}\r\nContent-Type: application/json\r\n`));
    for (const p of split(body, 5)) {
      await c.send(p);
      await turn();
    }
    const res = await c.response();
    expect(JSON.parse(res.text())).toEqual({ a: [1, 2, 3], s: "héllo", nested: { ok: true } });
    c.close();
  });

  test("req.formData(), urlencoded, sent in pieces", async () => {
    reset();
    const body = enc.encode("a=1&b=hello+world&c=%C3%A9t%C3%A9&a=2");
    const c = await RawClient.connect(server.port);
    await c.send(head("/form", `Content-Length: ${body.length}\r\nContent-Type: application/x-www-form-urlencoded\r\n`));
    for (const p of split(body, 4)) {
      await c.send(p);
      await turn();
    }
    const res = await c.response();
    expect(JSON.parse(res.text())).toEqual([
      ["a", "1"],
      ["b", "hello world"],
      ["c", "été"],
      ["a", "2"],
    ]);
    c.close();
  });

  test("req.formData(), multipart, chunked in pieces", async () => {
    reset();
    const b = "----bunhttp-boundary";
    const body = enc.encode(
      `--${b}\r\nContent-Disposition: form-data; name="field"\r\n\r\nvalue one\r\n` +
        `--${b}\r\nContent-Disposition: form-data; name="upload"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nfile contents\r\n` +
        `--${b}--\r\n`,
    );
    const c = await RawClient.connect(server.port);
    await c.send(head("/form", `Transfer-Encoding: chunked\r\nContent-Type: multipart/form-data; boundary=${b}\r\n`));
    for (const p of split(body, 16)) {
      await c.send(chunk(p));
      await turn();
    }
    await c.send(LAST);
    const res = await c.response();
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text())).toEqual([
      ["field", "value one"],
      ["upload", "file a.txt text/plain;charset=utf-8 file contents"],
    ]);
    c.close();
  });
});

describe("a body in many pieces reaches a `fetch` handler", () => {
  let taken = 0;
  let entered = deferred();
  let server: ReturnType<typeof serve>;

  beforeAll(() => {
    server = serve({
      port: 0,
      hostname: "127.0.0.1",
      log: "off",
      async fetch(req) {
        entered.resolve();
        const path = new URL(req.url).pathname;
        if (path === "/text") return new Response(await req.text());
        if (path === "/reader") {
          const reader = req.body!.getReader();
          const parts: Uint8Array[] = [];
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            parts.push(value.slice());
            taken += value.length;
          }
          return new Response(Buffer.concat(parts), { headers: { "X-Pieces": `${parts.length}` } });
        }
        if (path === "/echo") return new Response(req.body);
        return new Response("not found", { status: 404 });
      },
    });
  });
  afterAll(() => server.stop(true));

  test("await req.text(), Content-Length in pieces, entered before the body ends", async () => {
    entered = deferred();
    const text = "fetch handler body ✓ ".repeat(500);
    const body = enc.encode(text);
    const c = await RawClient.connect(server.port);
    const parts = split(body, 1000);
    await c.send(head("/text", `Content-Length: ${body.length}\r\n`));
    await c.send(parts[0]!);
    await within(entered.promise, 5000, "the fetch handler to be entered before the body ends");
    for (const p of parts.slice(1)) {
      await c.send(p);
      await turn();
    }
    const res = await c.response();
    expect(res.status).toBe(200);
    expect(res.text()).toBe(text);
    c.close();
  });

  test("req.body reader, chunked, gets each chunk as it is sent, byte-exact", async () => {
    entered = deferred();
    taken = 0;
    const body = pattern(120_000, 11);
    const c = await RawClient.connect(server.port);
    await c.send(head("/reader", "Transfer-Encoding: chunked\r\n"));
    await within(entered.promise, 5000, "the fetch handler to be entered");
    let sent = 0;
    for (const p of split(body, 12_000)) {
      await c.send(chunk(p));
      sent += p.length;
      await pollUntil(() => taken === sent, 5000, `the fetch handler to take ${sent} bytes`);
    }
    await c.send(LAST);
    const res = await c.response();
    expect(res.status).toBe(200);
    expect(Number(res.header("x-pieces"))).toBeGreaterThanOrEqual(10);
    expect(Buffer.from(res.body).equals(Buffer.from(body))).toBe(true);
    c.close();
  });

  test("an echo `new Response(req.body)` streams back while the 4 MiB upload is still going", async () => {
    const body = pattern(4 * MiB, 5);
    const c = await RawClient.connect(server.port);
    await c.send(head("/echo", `Content-Length: ${body.length}\r\n`));
    const parts = split(body, 64 * 1024);
    const half = parts.length / 2;
    for (const p of parts.slice(0, half)) await c.send(p);
    // Half of the body is sent and none of the rest: response bytes must already be coming.
    await c.until(() => c.pendingBytes > 1024 * 1024, 10_000, "echoed bytes before the upload ends");
    for (const p of parts.slice(half)) await c.send(p);
    const res = await c.response(20_000);
    expect(res.status).toBe(200);
    expect(res.body.length).toBe(body.length);
    expect(Buffer.from(res.body).equals(Buffer.from(body))).toBe(true);
    c.close();
  });
});

describe("echo and the next request", () => {
  test("a `handler` echoing req.body, then a pipelined GET in the same write: both answered", async () => {
    using server = serve({ port: 0, hostname: "127.0.0.1", log: "off", handler: (req) => (req.path === "/next" ? "next" : { body: req.body }) });
    const body = pattern(100_000, 9);
    const c = await RawClient.connect(server.port);
    await c.send(Buffer.concat([enc.encode(head("/echo", `Content-Length: ${body.length}\r\n`)), body, enc.encode(GET("/next"))]));
    const echo = await c.response();
    expect(Buffer.from(echo.body).equals(Buffer.from(body))).toBe(true);
    expect((await c.response()).text()).toBe("next");
    c.close();
  });
});

describe("maxBody", () => {
  test("a chunked body that grows past maxBody: 413, then the connection closes", async () => {
    using server = serve({ port: 0, hostname: "127.0.0.1", log: "off", maxBody: 1000, handler: (req) => req.text() });
    const c = await RawClient.connect(server.port);
    await c.send(head("/", "Transfer-Encoding: chunked\r\n"));
    await c.send(chunk(new Uint8Array(600).fill(97)));
    await turn();
    await c.send(chunk(new Uint8Array(600).fill(98)));
    const res = await c.response();
    expect(res.status).toBe(413);
    expect(res.header("connection")).toBe("close");
    await c.closedByServer();
  });

  test("a chunked body read with for await that grows past maxBody: 413, then close", async () => {
    using server = serve({
      port: 0,
      hostname: "127.0.0.1",
      log: "off",
      maxBody: 1000,
      async handler(req) {
        let n = 0;
        for await (const c of req.body!) n += c.length;
        return `${n}`;
      },
    });
    const c = await RawClient.connect(server.port);
    await c.send(head("/", "Transfer-Encoding: chunked\r\n") + "3e8\r\n" + "x".repeat(1000) + "\r\n");
    await turn();
    await c.send("1\r\ny\r\n0\r\n\r\n");
    const res = await c.response();
    expect(res.status).toBe(413);
    await c.closedByServer();
  });

  test("a Content-Length over maxBody: 413 before any body byte is sent, then close", async () => {
    let dispatched = 0;
    using server = serve({
      port: 0,
      hostname: "127.0.0.1",
      log: "off",
      maxBody: 1000,
      handler: (req) => {
        dispatched++;
        return req.text();
      },
    });
    const c = await RawClient.connect(server.port);
    await c.send(head("/", "Content-Length: 1001\r\n"));
    const res = await c.response();
    expect(res.status).toBe(413);
    await c.closedByServer();
    expect(dispatched).toBe(0);
  });

  test("exactly maxBody in pieces is accepted", async () => {
    using server = serve({ port: 0, hostname: "127.0.0.1", log: "off", maxBody: 1000, handler: (req) => req.text() });
    const c = await RawClient.connect(server.port);
    await c.send(head("/", "Transfer-Encoding: chunked\r\n"));
    await c.send(chunk(new Uint8Array(500).fill(97)));
    await turn();
    await c.send(chunk(new Uint8Array(500).fill(97)));
    await c.send(LAST);
    const res = await c.response();
    expect(res.status).toBe(200);
    expect(res.text()).toBe("a".repeat(1000));
    c.close();
  });
});

describe("Expect: 100-continue", () => {
  test("no 100 until the handler reads; then 100, then the final response", async () => {
    const entered = deferred();
    const gate = deferred();
    using server = serve({
      port: 0,
      hostname: "127.0.0.1",
      log: "off",
      async handler(req) {
        entered.resolve();
        await gate.promise;
        return `got ${await req.text()}`;
      },
    });
    const c = await RawClient.connect(server.port);
    await c.send(head("/", "Content-Length: 11\r\nExpect: 100-continue\r\n"));
    await within(entered.promise, 5000, "the handler to be entered");
    // The handler is running but has not read: nothing may be sent yet.
    await Bun.sleep(150);
    expect(c.pendingBytes).toBe(0);
    gate.resolve();
    const cont = await c.response();
    expect(cont.status).toBe(100);
    expect(cont.raw.length).toBe("HTTP/1.1 100 Continue\r\n\r\n".length);
    await c.send("hello world");
    const res = await c.response();
    expect(res.status).toBe(200);
    expect(res.text()).toBe("got hello world");
    expect(res.header("connection")).toBeUndefined();
    c.close();
  });

  test("a fetch handler reading its body triggers the 100", async () => {
    using server = serve({ port: 0, hostname: "127.0.0.1", log: "off", fetch: async (req) => new Response(`got ${await req.text()}`) });
    const c = await RawClient.connect(server.port);
    await c.send(head("/", "Content-Length: 5\r\nExpect: 100-continue\r\n"));
    expect((await c.response()).status).toBe(100);
    await c.send("hello");
    expect((await c.response()).text()).toBe("got hello");
    c.close();
  });

  test("a handler that answers 404 without reading: no 100, Connection: close, and the close", async () => {
    using server = serve({ port: 0, hostname: "127.0.0.1", log: "off", handler: () => ({ status: 404, body: "no" }) });
    const c = await RawClient.connect(server.port);
    await c.send(head("/", "Content-Length: 100000\r\nExpect: 100-continue\r\n"));
    const res = await c.response();
    expect(res.status).toBe(404);
    expect(res.header("connection")).toBe("close");
    await c.closedByServer();
    expect(c.pendingBytes).toBe(0);
  });

  test("a fetch handler that answers without reading: no 100, Connection: close", async () => {
    using server = serve({ port: 0, hostname: "127.0.0.1", log: "off", fetch: () => new Response("no", { status: 404 }) });
    const c = await RawClient.connect(server.port);
    await c.send(head("/", "Content-Length: 100000\r\nExpect: 100-continue\r\n"));
    const res = await c.response();
    expect(res.status).toBe(404);
    expect(res.header("connection")).toBe("close");
    await c.closedByServer();
  });

  test("a 100-continue to an HTTP/1.0 request is never sent", async () => {
    using server = serve({ port: 0, hostname: "127.0.0.1", log: "off", handler: (req) => req.text() });
    const c = await RawClient.connect(server.port);
    await c.send("POST / HTTP/1.0\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
    await Bun.sleep(100);
    expect(c.pendingBytes).toBe(0);
    await c.send("abc");
    const res = await c.response();
    expect(res.status).toBe(200);
    expect(res.text()).toBe("abc");
  });
});

describe("a body nobody reads", () => {
  const unread = () => ({ headers: [["X-Unread", "1"]] as [string, string][], body: "ignored the body" });

  test("≤ 1 MiB: dropped, and the connection stays for the next request", async () => {
    using server = serve({ port: 0, hostname: "127.0.0.1", log: "off", handler: (req) => (req.path === "/next" ? "next" : unread()) });
    const c = await RawClient.connect(server.port);
    await c.send(head("/", "Content-Length: 1000\r\n") + "x".repeat(100));
    const first = await c.response();
    expect(first.status).toBe(200);
    expect(first.header("connection")).toBeUndefined();
    await c.send("y".repeat(900) + GET("/next"));
    const second = await c.response();
    expect(second.text()).toBe("next");
    expect(c.closed).toBe(false);
    c.close();
  });

  test("pipelined after an unread body: each request gets its own response, in order", async () => {
    using server = serve({ port: 0, hostname: "127.0.0.1", log: "off", handler: (req) => (req.path === "/next" ? "next" : unread()) });
    const c = await RawClient.connect(server.port);
    const chunkedBody = `${chunk(enc.encode("z".repeat(3000))).toString()}0\r\n\r\n`;
    await c.send(
      head("/", "Content-Length: 5000\r\n") + "x".repeat(5000) + head("/", "Transfer-Encoding: chunked\r\n") + chunkedBody + GET("/next"),
    );
    expect((await c.response()).header("x-unread")).toBe("1");
    expect((await c.response()).header("x-unread")).toBe("1");
    expect((await c.response()).text()).toBe("next");
    expect(c.closed).toBe(false);
    c.close();
  });

  test("a large body arriving over time after the response is dropped (≤ 1 MiB in all)", async () => {
    using server = serve({ port: 0, hostname: "127.0.0.1", log: "off", handler: (req) => (req.path === "/next" ? "next" : unread()) });
    const c = await RawClient.connect(server.port);
    const total = 900 * 1024;
    await c.send(head("/", `Content-Length: ${total}\r\n`));
    expect((await c.response()).status).toBe(200);
    for (const p of split(new Uint8Array(total).fill(120), 64 * 1024)) {
      await c.send(p);
      await turn();
    }
    await c.send(GET("/next"));
    expect((await c.response()).text()).toBe("next");
    c.close();
  });

  test("an async handler that never reads while its body fills the buffer: dropped, next request answered", async () => {
    const entered = deferred();
    const gate = deferred();
    using server = serve({
      port: 0,
      hostname: "127.0.0.1",
      log: "off",
      bodyBufferSize: 16 * 1024,
      async handler(req) {
        if (req.path === "/next") return "next";
        entered.resolve();
        await gate.promise;
        return unread();
      },
    });
    const c = await RawClient.connect(server.port);
    await c.send(head("/", `Content-Length: ${600 * 1024}\r\n`));
    await within(entered.promise, 5000, "the handler to be entered");
    // More than the body buffer: the server stops reading until the handler answers.
    const sending = c.send(Buffer.concat([new Uint8Array(600 * 1024).fill(120), enc.encode(GET("/next"))]));
    for (let i = 0; i < 10; i++) await turn();
    gate.resolve();
    await sending;
    const first = await c.response();
    expect(first.header("x-unread")).toBe("1");
    expect(first.header("connection")).toBeUndefined();
    expect((await c.response()).text()).toBe("next");
    c.close();
  });

  test("a fetch handler that never reads a small body: the connection stays for the next request", async () => {
    using server = serve({ port: 0, hostname: "127.0.0.1", log: "off", fetch: (req) => new Response(new URL(req.url).pathname) });
    const c = await RawClient.connect(server.port);
    await c.send(head("/first", "Content-Length: 3000\r\n") + "x".repeat(1000));
    expect((await c.response()).text()).toBe("/first");
    await c.send("x".repeat(2000) + GET("/second"));
    expect((await c.response()).text()).toBe("/second");
    expect(c.closed).toBe(false);
    c.close();
  });

  test("> 1 MiB: Connection: close on the response, and the connection closes", async () => {
    using server = serve({ port: 0, hostname: "127.0.0.1", log: "off", handler: unread });
    const c = await RawClient.connect(server.port);
    await c.send(head("/", `Content-Length: ${2 * MiB}\r\n`) + "x".repeat(64 * 1024));
    const res = await c.response();
    expect(res.status).toBe(200);
    expect(res.header("connection")).toBe("close");
    await c.closedByServer();
  });

  test("> 1 MiB unread by a fetch handler: Connection: close on the response, and the connection closes", async () => {
    using server = serve({ port: 0, hostname: "127.0.0.1", log: "off", fetch: () => new Response("ignored the body") });
    const c = await RawClient.connect(server.port);
    await c.send(head("/", `Content-Length: ${2 * MiB}\r\n`) + "x".repeat(64 * 1024));
    const res = await c.response();
    expect(res.status).toBe(200);
    expect(res.header("connection")).toBe("close");
    await c.closedByServer();
  });

  test("a chunked body that grows past 1 MiB unread: the connection closes after the response", async () => {
    using server = serve({ port: 0, hostname: "127.0.0.1", log: "off", handler: (req) => (req.path === "/next" ? "next" : unread()) });
    const c = await RawClient.connect(server.port);
    await c.send(head("/", "Transfer-Encoding: chunked\r\n"));
    expect((await c.response()).status).toBe(200);
    const piece = chunk(new Uint8Array(64 * 1024).fill(120));
    for (let i = 0; i < 40 && !c.closed; i++) {
      await c.send(piece).catch(() => {});
      await turn();
    }
    await c.closedByServer();
  });
});

describe("a POST to a static file", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "bunhttp-body-"));
    writeFileSync(join(dir, "file.txt"), "static contents\n");
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("405 with Allow at once, without waiting for the body; the connection goes on", async () => {
    using server = serve({ port: 0, hostname: "127.0.0.1", log: "off", root: dir });
    const c = await RawClient.connect(server.port);
    await c.send(head("/file.txt", "Content-Length: 5000\r\n"));
    const res = await c.response();
    expect(res.status).toBe(405);
    expect(res.header("allow")).toContain("GET");
    expect(res.header("allow")).toContain("HEAD");
    expect(res.header("allow")).not.toContain("POST");
    await c.send("b".repeat(5000) + GET("/file.txt"));
    const file = await c.response();
    expect(file.status).toBe(200);
    expect(file.text()).toBe("static contents\n");
    c.close();
  });
});

describe("curl -T (a real client's Expect: 100-continue)", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "bunhttp-curl-"));
    writeFileSync(join(dir, "upload.bin"), pattern(9 * MiB));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs curl uploading upload.bin; returns its status and how many bytes it says it uploaded. */
  async function curlUpload(url: string): Promise<{ status: number; uploaded: number }> {
    const p = Bun.spawn(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{size_upload}", "-T", join(dir, "upload.bin"), url], { stdout: "pipe" });
    const [status, uploaded] = (await new Response(p.stdout).text()).trim().split(" ").map(Number);
    await p.exited;
    return { status: status!, uploaded: uploaded! };
  }

  test.skipIf(!Bun.which("curl"))("a 9 MB upload to a missing file gets its 404 with nothing of the body sent", async () => {
    using server = serve({ port: 0, hostname: "127.0.0.1", log: "off", root: dir });
    const r = await curlUpload(`http://127.0.0.1:${server.port}/missing.bin`);
    expect(r.status).toBe(404);
    expect(r.uploaded).toBe(0); // nginx: 0 too; before, the 100 went out first and all 9 MB were sent
  });

  test.skipIf(!Bun.which("curl"))("a handler that reads gets the 9 MB, after its 100 Continue", async () => {
    using server = serve({ port: 0, hostname: "127.0.0.1", log: "off", maxBody: 16 * MiB, handler: async (req) => `${(await req.bytes()).length}` });
    const r = await curlUpload(`http://127.0.0.1:${server.port}/upload`);
    expect(r.status).toBe(200);
    expect(r.uploaded).toBe(9 * MiB);
  });
});
