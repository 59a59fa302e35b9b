// Response bodies that stream: a first piece leaves as soon as it exists (server-sent events), an
// empty piece is not the end, a stream already whole gets Content-Length, and a stream that fails
// becomes a 500 before its head and a cut connection after.
import { describe, expect, test } from "bun:test";
import { serve } from "../../src/index.ts";
import { RawClient } from "../helpers/raw-client.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const GET = (path: string) => `GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`;
const SSE = { "Content-Type": "text/event-stream", "Cache-Control": "no-store" };

const text = (c: RawClient) => dec.decode(c.pending);
const headEnd = (c: RawClient) => text(c).indexOf("\r\n\r\n");

describe("server-sent events", () => {
  test("the first event leaves at once, not with the second 300 ms later", async () => {
    using server = serve({
      port: 0,
      hostname: "127.0.0.1",
      log: "off",
      fetch: () =>
        new Response(
          new ReadableStream<Uint8Array>({
            start(controller) {
              controller.enqueue(enc.encode("data: first\n\n"));
              setTimeout(() => {
                controller.enqueue(enc.encode("data: second\n\n"));
                controller.close();
              }, 300);
            },
          }),
          { headers: SSE },
        ),
    });
    const c = await RawClient.connect(server.port);
    const sentAt = performance.now();
    await c.send(GET("/events"));
    await c.until(() => headEnd(c) >= 0, 5000, "the head");
    const headAt = performance.now();
    await c.until(() => text(c).includes("data: first"), 5000, "the first event");
    const firstAt = performance.now();
    // Not held back for the second event (due 300 ms after the handler ran).
    expect(text(c)).not.toContain("data: second");
    expect(firstAt - headAt).toBeLessThan(150);
    const res = await c.response();
    expect(res.header("transfer-encoding")).toBe("chunked");
    expect(res.header("content-type")).toBe("text/event-stream");
    expect(res.text()).toBe("data: first\n\ndata: second\n\n");
    // The second one really was later (the stream is not whole at once).
    expect(performance.now() - sentAt).toBeGreaterThanOrEqual(250);
    c.close();
  });

  test("the same from a `handler` returning a Reply with a stream body", async () => {
    using server = serve({
      port: 0,
      hostname: "127.0.0.1",
      log: "off",
      handler: () => ({
        headers: SSE,
        body: new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(enc.encode("data: one\n\n"));
            setTimeout(() => {
              controller.enqueue(enc.encode("data: two\n\n"));
              controller.close();
            }, 300);
          },
        }),
      }),
    });
    const c = await RawClient.connect(server.port);
    await c.send(GET("/"));
    await c.until(() => text(c).includes("data: one"), 5000, "the first event");
    expect(text(c)).not.toContain("data: two");
    expect((await c.response()).text()).toBe("data: one\n\ndata: two\n\n");
    c.close();
  });

  test("one event, then the stream stays open: head and event go out, the connection is kept", async () => {
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    let cancelled = false;
    using server = serve({
      port: 0,
      hostname: "127.0.0.1",
      log: "off",
      fetch: (req) =>
        new URL(req.url).pathname === "/after"
          ? new Response("after")
          : new Response(
              new ReadableStream<Uint8Array>({
                start(c) {
                  controller = c;
                  c.enqueue(enc.encode("data: only\n\n"));
                },
                cancel() {
                  cancelled = true;
                },
              }),
              { headers: SSE },
            ),
    });
    const c = await RawClient.connect(server.port);
    await c.send(GET("/events"));
    await c.until(() => text(c).includes("data: only\n\n\r\n"), 5000, "the head and the first chunk");
    const got = text(c);
    expect(got.startsWith("HTTP/1.1 200 OK\r\n")).toBe(true);
    expect(got).toContain("Transfer-Encoding: chunked\r\n");
    expect(got.endsWith("\r\n\r\nc\r\ndata: only\n\n\r\n")).toBe(true);
    expect(c.closed).toBe(false);
    expect(cancelled).toBe(false);
    // Still open: more events go out, and after the end the connection serves the next request.
    controller.enqueue(enc.encode("data: later\n\n"));
    await c.until(() => text(c).includes("data: later"), 5000, "a later event");
    controller.close();
    expect((await c.response()).text()).toBe("data: only\n\ndata: later\n\n");
    await c.send(GET("/after"));
    expect((await c.response()).text()).toBe("after");
    c.close();
  });
});

describe("a quiet stream", () => {
  test("is not closed by the idle or header timeout while it waits for its source", async () => {
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    using server = serve({
      port: 0,
      hostname: "127.0.0.1",
      log: "off",
      keepAliveTimeout: 200,
      headerTimeout: 200,
      fetch: () =>
        new Response(
          new ReadableStream<Uint8Array>({
            start(c) {
              controller = c;
              c.enqueue(enc.encode("data: a\n\n"));
            },
          }),
          { headers: SSE },
        ),
    });
    const c = await RawClient.connect(server.port);
    await c.send(GET("/"));
    await c.until(() => text(c).includes("data: a"), 5000, "the first event");
    // Longer than both timeouts plus a sweep of the server's once-a-second timer.
    await Bun.sleep(1500);
    expect(c.closed).toBe(false);
    controller.enqueue(enc.encode("data: b\n\n"));
    controller.close();
    expect((await c.response()).text()).toBe("data: a\n\ndata: b\n\n");
    c.close();
  });
});

describe("pieces and framing", () => {
  test("an empty piece in the middle is not the end: hello, '', world arrive as 'hello world'", async () => {
    using server = serve({
      port: 0,
      hostname: "127.0.0.1",
      log: "off",
      fetch: () =>
        new Response(
          new ReadableStream<Uint8Array>({
            async start(controller) {
              controller.enqueue(enc.encode("hello"));
              await Bun.sleep(20);
              controller.enqueue(new Uint8Array(0));
              await Bun.sleep(20);
              controller.enqueue(enc.encode(" world"));
              controller.close();
            },
          }),
        ),
    });
    const c = await RawClient.connect(server.port);
    await c.send(GET("/"));
    const res = await c.response();
    expect(res.header("transfer-encoding")).toBe("chunked");
    expect(res.text()).toBe("hello world");
    const raw = dec.decode(res.raw);
    // One last chunk, at the very end.
    expect(raw.indexOf("0\r\n\r\n")).toBe(raw.length - 5);
    expect(raw.endsWith("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")).toBe(true);
    c.close();
  });

  test("an empty piece between pieces enqueued at once is dropped too", async () => {
    using server = serve({
      port: 0,
      hostname: "127.0.0.1",
      log: "off",
      fetch: () =>
        new Response(
          new ReadableStream<Uint8Array>({
            start(controller) {
              controller.enqueue(enc.encode("hello"));
              controller.enqueue(new Uint8Array(0));
              controller.enqueue(enc.encode(" world"));
              controller.close();
            },
          }),
        ),
    });
    const c = await RawClient.connect(server.port);
    await c.send(GET("/"));
    const res = await c.response();
    expect(res.text()).toBe("hello world");
    c.close();
  });

  test("a stream that enqueues everything at once gets Content-Length", async () => {
    using server = serve({
      port: 0,
      hostname: "127.0.0.1",
      log: "off",
      fetch: () =>
        new Response(
          new ReadableStream<Uint8Array>({
            start(controller) {
              controller.enqueue(enc.encode("all "));
              controller.enqueue(enc.encode("at "));
              controller.enqueue(enc.encode("once"));
              controller.close();
            },
          }),
        ),
    });
    const c = await RawClient.connect(server.port);
    await c.send(GET("/") + GET("/"));
    for (let i = 0; i < 2; i++) {
      const res = await c.response();
      expect(res.text()).toBe("all at once");
      expect(res.header("transfer-encoding")).toBeUndefined();
      expect(res.header("content-length")).toBe("11");
    }
    c.close();
  });

  test("a stream with one piece and the end at once gets Content-Length", async () => {
    using server = serve({
      port: 0,
      hostname: "127.0.0.1",
      log: "off",
      handler: () => ({
        body: new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(enc.encode("single"));
            controller.close();
          },
        }),
      }),
    });
    const c = await RawClient.connect(server.port);
    await c.send(GET("/"));
    const res = await c.response();
    expect(res.header("content-length")).toBe("6");
    expect(res.text()).toBe("single");
    c.close();
  });

  test("an empty stream gets Content-Length: 0", async () => {
    using server = serve({
      port: 0,
      hostname: "127.0.0.1",
      log: "off",
      fetch: () => new Response(new ReadableStream<Uint8Array>({ start: (c) => c.close() })),
    });
    const c = await RawClient.connect(server.port);
    await c.send(GET("/"));
    const res = await c.response();
    expect(res.header("content-length")).toBe("0");
    expect(res.body.length).toBe(0);
    c.close();
  });
});

describe("a stream that fails", () => {
  test("before its first piece: 500, and the connection goes on", async () => {
    using server = serve({
      port: 0,
      hostname: "127.0.0.1",
      log: "off",
      fetch: (req) =>
        new URL(req.url).pathname === "/ok"
          ? new Response("ok")
          : new Response(
              new ReadableStream<Uint8Array>({
                start(controller) {
                  setTimeout(() => controller.error(new Error("source failed early")), 10);
                },
              }),
            ),
    });
    const c = await RawClient.connect(server.port);
    await c.send(GET("/fail"));
    const res = await c.response();
    expect(res.status).toBe(500);
    await c.send(GET("/ok"));
    expect((await c.response()).text()).toBe("ok");
    c.close();
  });

  test("failing at once (pull throws): 500", async () => {
    using server = serve({
      port: 0,
      hostname: "127.0.0.1",
      log: "off",
      fetch: () =>
        new Response(
          new ReadableStream<Uint8Array>({
            pull() {
              throw new Error("pull failed");
            },
          }),
        ),
    });
    const c = await RawClient.connect(server.port);
    await c.send(GET("/"));
    expect((await c.response()).status).toBe(500);
    c.close();
  });

  test("after its first piece: the connection is cut, without a last chunk", async () => {
    using server = serve({
      port: 0,
      hostname: "127.0.0.1",
      log: "off",
      fetch: () =>
        new Response(
          new ReadableStream<Uint8Array>({
            start(controller) {
              controller.enqueue(enc.encode("partial"));
              setTimeout(() => controller.error(new Error("source failed late")), 50);
            },
          }),
        ),
    });
    const c = await RawClient.connect(server.port);
    await c.send(GET("/"));
    await c.closedByServer();
    const got = text(c);
    expect(got.startsWith("HTTP/1.1 200 OK\r\n")).toBe(true);
    expect(got).toContain("Transfer-Encoding: chunked\r\n");
    expect(got.endsWith("\r\n\r\n7\r\npartial\r\n")).toBe(true);
    expect(got).not.toContain("\r\n0\r\n\r\n");
  });
});
