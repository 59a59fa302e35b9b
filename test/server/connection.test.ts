// The connection as a client sees it: real TCP on 127.0.0.1, raw bytes in and out.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { serve, type HandlerResult, type Server } from "../../src/index.ts";
import type { ServerRequest } from "../../src/server/request.ts";
import { pollUntil } from "../helpers/poll.ts";
import { exchange, RawClient } from "../helpers/raw-client.ts";
import { expectTimeout } from "../helpers/timing.ts";

const BIG = new Uint8Array(4 * 1024 * 1024).map((_, i) => (i * 7 + (i >> 13)) & 255);

function handler(req: ServerRequest): HandlerResult | Promise<HandlerResult> {
  const path = req.path;
  switch (path) {
    case "/hello":
      return "Hello, World!";
    case "/echo":
      return req.bytes().then((body) => ({
        status: 200,
        headers: [["Content-Type", "application/octet-stream"], ["X-Method", req.method]],
        body,
      }));
    case "/big":
      return BIG;
    case "/throw":
      throw new Error("boom");
    case "/reject":
      return Promise.reject(new Error("async boom"));
    case "/async":
      return new Promise<string>((resolve) => setTimeout(() => resolve(`async ${req.query.get("n")}`), 5));
    case "/stream": {
      // The second part comes later: a stream still going when its head is due goes out chunked.
      let part = 0;
      return new Response(
        new ReadableStream({
          async pull(controller) {
            if (part === 1) await Bun.sleep(20);
            if (part === 2) return controller.close();
            controller.enqueue(new TextEncoder().encode(part++ === 0 ? "part one, " : "part two"));
          },
        }),
        { headers: { "Content-Type": "text/plain" } },
      );
    }
    case "/response":
      return new Response(JSON.stringify({ ok: true }), { status: 201, headers: { "Content-Type": "application/json" } });
    case "/nocontent":
      return { status: 204 };
    case "/cookies":
      return { headers: { "Set-Cookie": ["a=1", "b=2"] }, body: "cookies" };
    case "/split-header":
      return { headers: [["X-Evil", "a\r\nInjected: yes"]], body: "x" };
  }
  if (path.startsWith("/n/")) return path.slice(3);
  return null;
}

let server: Server;
let port: number;

beforeAll(() => {
  server = serve({ port: 0, hostname: "127.0.0.1", handler, log: "off", headerTimeout: 1000, keepAliveTimeout: 1500, bodyTimeout: 1000, maxBody: 10 * 1024 * 1024 });
  port = server.port;
});
afterAll(() => server.stop(true));

const GET = (path: string, extra = "") => `GET ${path} HTTP/1.1\r\nHost: test\r\n${extra}\r\n`;

describe("keep-alive and framing", () => {
  test("HTTP/1.1 keeps the connection open across requests", async () => {
    const c = await RawClient.connect(port);
    await c.send(GET("/hello"));
    const a = await c.response();
    expect(a.status).toBe(200);
    expect(a.text()).toBe("Hello, World!");
    expect(a.header("content-length")).toBe("13");
    expect(a.header("content-type")).toBe("text/plain; charset=utf-8");
    expect(a.header("date")).toMatch(/^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    expect(a.header("connection")).toBeUndefined();
    await c.send(GET("/n/second"));
    expect((await c.response()).text()).toBe("second");
    expect(c.ended).toBe(false);
    c.close();
  });

  test("Connection: close is honoured", async () => {
    const c = await RawClient.connect(port);
    await c.send(GET("/hello", "Connection: close\r\n"));
    const r = await c.response();
    expect(r.header("connection")).toBe("close");
    await c.closedByServer();
  });

  test("HTTP/1.0 closes by default and keeps alive only when asked", async () => {
    const c = await RawClient.connect(port);
    await c.send("GET /hello HTTP/1.0\r\n\r\n");
    const r = await c.response();
    expect(r.status).toBe(200);
    expect(r.header("connection")).toBe("close");
    await c.closedByServer();

    const k = await RawClient.connect(port);
    await k.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    expect((await k.response()).header("connection")).toBe("keep-alive");
    await k.send("GET /n/again HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    expect((await k.response()).text()).toBe("again");
    expect(k.ended).toBe(false);
    k.close();
  });

  test("HTTP/1.2 is answered as HTTP/1.1: 1.1 status line, kept alive, chunked stream (RFC 9110 §2.5)", async () => {
    const c = await RawClient.connect(port);
    await c.send("GET /stream HTTP/1.2\r\nHost: t\r\n\r\n");
    const r = await c.response();
    expect(new TextDecoder().decode(r.raw.subarray(0, 17))).toBe("HTTP/1.1 200 OK\r\n");
    expect(r.header("transfer-encoding")).toBe("chunked");
    expect(r.text()).toBe("part one, part two");
    await c.send("GET /n/again HTTP/1.9\r\nHost: t\r\n\r\n");
    expect((await c.response()).text()).toBe("again");
    expect(c.closed).toBe(false);
    c.close();
  });

  test("100 pipelined requests are answered in order, from one write", async () => {
    const c = await RawClient.connect(port);
    let batch = "";
    for (let i = 0; i < 100; i++) batch += GET(`/n/${i}`);
    await c.send(batch);
    for (let i = 0; i < 100; i++) expect((await c.response()).text()).toBe(`${i}`);
    c.close();
  });

  test("pipelined requests with async handlers keep their order", async () => {
    const c = await RawClient.connect(port);
    await c.send(GET("/async?n=1") + GET("/n/sync") + GET("/async?n=3"));
    expect((await c.response()).text()).toBe("async 1");
    expect((await c.response()).text()).toBe("sync");
    expect((await c.response()).text()).toBe("async 3");
    c.close();
  });

  test("a request sent one byte at a time is answered", async () => {
    const c = await RawClient.connect(port);
    const raw = GET("/n/slow", "X-Pad: 1234567890\r\n");
    for (const ch of raw) await c.send(ch);
    expect((await c.response()).text()).toBe("slow");
    c.close();
  });

  test("HEAD gets the GET headers and no body", async () => {
    const c = await RawClient.connect(port);
    await c.send("HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\n" + GET("/n/after"));
    const h = await c.response();
    expect(h.status).toBe(200);
    expect(h.header("content-length")).toBe("13");
    expect(h.body.length).toBe(0);
    // The next response starts right after the head: no stray body bytes.
    expect((await c.response()).text()).toBe("after");
    c.close();
  });

  test("204 has no body and no Content-Length", async () => {
    const r = await exchange(port, GET("/nocontent"));
    expect(r.status).toBe(204);
    expect(r.header("content-length")).toBeUndefined();
    expect(r.header("transfer-encoding")).toBeUndefined();
  });

  test("a Response with a stream goes out chunked on HTTP/1.1", async () => {
    const r = await exchange(port, GET("/stream"));
    expect(r.header("transfer-encoding")).toBe("chunked");
    expect(r.text()).toBe("part one, part two");
    expect(r.header("content-type")).toBe("text/plain");
  });

  test("a streamed body to an HTTP/1.0 client is delimited by the close", async () => {
    const c = await RawClient.connect(port);
    await c.send("GET /stream HTTP/1.0\r\n\r\n");
    await c.closedByServer();
    const r = await c.response();
    expect(r.header("transfer-encoding")).toBeUndefined();
    expect(r.text()).toBe("part one, part two");
  });

  test("a Response object keeps its status and headers", async () => {
    const r = await exchange(port, GET("/response"));
    expect(r.status).toBe(201);
    expect(r.header("content-type")).toBe("application/json");
    expect(JSON.parse(r.text())).toEqual({ ok: true });
  });

  test("Set-Cookie stays separate header lines", async () => {
    const r = await exchange(port, GET("/cookies"));
    expect(r.headers.get("set-cookie")).toEqual(["a=1", "b=2"]);
  });

  test("a header value with CRLF is refused with 500, not sent", async () => {
    const r = await exchange(port, GET("/split-header"));
    expect(r.status).toBe(500);
    expect(r.header("injected")).toBeUndefined();
  });
});

describe("request bodies", () => {
  test("Content-Length body is delivered, also when split", async () => {
    const c = await RawClient.connect(port);
    await c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhello");
    await Bun.sleep(20);
    await c.send(" world" + GET("/n/next"));
    const r = await c.response();
    expect(r.text()).toBe("hello world");
    expect(r.header("x-method")).toBe("POST");
    expect((await c.response()).text()).toBe("next");
    c.close();
  });

  test("chunked upload is decoded, with extensions and trailers", async () => {
    const c = await RawClient.connect(port);
    const raw =
      "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" +
      "5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\n" +
      GET("/n/next");
    for (let i = 0; i < raw.length; i += 7) await c.send(raw.slice(i, i + 7));
    expect((await c.response()).text()).toBe("hello world");
    expect((await c.response()).text()).toBe("next");
    c.close();
  });

  test("a large chunked upload arrives byte for byte (chunks small and large: copied and viewed pieces)", async () => {
    // Chunks of many sizes, so the body gets copies of small pieces between views of large ones.
    const sizes = [100_000, 7, 30_000, 3, 65_541, 1, 16_384, 200_000, 12];
    const parts: Uint8Array[] = [new TextEncoder().encode("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")];
    for (let at = 0, i = 0; at < BIG.length; i++) {
      const n = Math.min(sizes[i % sizes.length]!, BIG.length - at);
      parts.push(new TextEncoder().encode(`${n.toString(16)}\r\n`), BIG.subarray(at, at + n), new TextEncoder().encode("\r\n"));
      at += n;
    }
    parts.push(new TextEncoder().encode("0\r\n\r\n"));
    const c = await RawClient.connect(port);
    await c.send(Buffer.concat(parts));
    const r = await c.response();
    expect(r.status).toBe(200);
    expect(r.body.length).toBe(BIG.length);
    expect(Buffer.from(r.body).equals(BIG)).toBe(true);
    c.close();
  });

  test("Expect: 100-continue gets 100 before the body is sent", async () => {
    const c = await RawClient.connect(port);
    await c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
    const cont = await c.response();
    expect(cont.status).toBe(100);
    await c.send("ping");
    const r = await c.response();
    expect(r.status).toBe(200);
    expect(r.text()).toBe("ping");
    c.close();
  });

  test("Expect: 100-continue with a body over the limit gets 413, never 100", async () => {
    const c = await RawClient.connect(port);
    await c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999\r\nExpect: 100-continue\r\n\r\n");
    const r = await c.response();
    expect(r.status).toBe(413);
    expect(r.header("connection")).toBe("close");
    await c.closedByServer();
  });
});

describe("errors", () => {
  const cases: [string, string, number][] = [
    ["bare LF", "GET / HTTP/1.1\nHost: t\n\n", 400],
    ["obs-fold", "GET / HTTP/1.1\r\nHost: t\r\nX: a\r\n  b\r\n\r\n", 400],
    ["space before colon", "GET / HTTP/1.1\r\nHost : t\r\n\r\n", 400],
    ["missing Host", "GET / HTTP/1.1\r\n\r\n", 400],
    ["HTTP/2.0", "GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505],
    ["'#' in the target", "GET /hash#.txt HTTP/1.1\r\nHost: t\r\n\r\n", 400],
    ["request line too long", `GET /${"a".repeat(9000)} HTTP/1.1\r\nHost: t\r\n\r\n`, 414],
    ["header section too large", `GET / HTTP/1.1\r\nHost: t\r\n${"X-A: b\r\n".repeat(101)}\r\n`, 431],
    ["unknown method", "BREW / HTTP/1.1\r\nHost: t\r\n\r\n", 501],
    ["TE with CL", "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400],
    ["unknown transfer coding", "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501],
    ["bad chunk size", "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400],
    ["body too large", "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 20000000\r\n\r\n", 413],
    ["not found", GET("/nope"), 404],
  ];
  for (const [name, raw, status] of cases) {
    test(`${name} → ${status}, and the server still answers`, async () => {
      const r = await exchange(port, raw);
      expect(r.status).toBe(status);
      expect(r.body.length).toBeGreaterThan(0);
      expect(r.body.length).toBeLessThan(200);
      // Requests we could frame keep their connection; framing errors end it.
      if (status !== 404 && name !== "unknown method") expect(r.header("connection")).toBe("close");
      else expect(r.header("connection")).toBeUndefined();
      expect((await exchange(port, GET("/hello"))).status).toBe(200);
    });
  }

  test("bytes after a refused request are never parsed as another request", async () => {
    const c = await RawClient.connect(port);
    await c.send(
      "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + GET("/n/smuggled"),
    );
    const r = await c.response();
    expect(r.status).toBe(400);
    await c.closedByServer();
    expect(c.pendingBytes).toBe(0); // no second response
  });

  test("a handler that throws gets 500 on that request only", async () => {
    const c = await RawClient.connect(port);
    await c.send(GET("/throw") + GET("/reject") + GET("/n/fine"));
    const origError = console.error;
    console.error = () => {};
    try {
      expect((await c.response()).status).toBe(500);
      expect((await c.response()).status).toBe(500);
      expect((await c.response()).text()).toBe("fine");
    } finally {
      console.error = origError;
    }
    c.close();
  });

  test("an incomplete head gets 408 after the header timeout", async () => {
    const c = await RawClient.connect(port);
    await c.send("GET / HTTP/1.1\r\nHost: t\r\n");
    const r = await c.response(5000);
    expect(r.status).toBe(408);
    expectTimeout(c.lastReceivedAt - c.lastSentAt, 1000);
    await c.closedByServer();
  });

  test("an idle keep-alive connection is closed after the idle timeout", async () => {
    const c = await RawClient.connect(port);
    await c.send(GET("/hello"));
    await c.response();
    await c.closedByServer(5000);
    expect(c.pendingBytes).toBe(0);
    expectTimeout(c.endedAt - c.lastReceivedAt, 1500);
  });

  test("a stalled body upload gets 408 after the body timeout", async () => {
    const c = await RawClient.connect(port);
    await c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc");
    const r = await c.response(5000);
    expect(r.status).toBe(408);
    expectTimeout(c.lastReceivedAt - c.lastSentAt, 1000);
  });

  test("after a refused request the server half-closes, and closes LINGER_MS (2 s) later for a client that stays open", async () => {
    using s = serve({ port: 0, hostname: "127.0.0.1", log: "off", handler });
    const c = await RawClient.connect(s.port, { allowHalfOpen: true });
    await c.send("GET / HTTP/1.1\nHost: t\n\n"); // bare LF: 400
    expect((await c.response()).status).toBe(400);
    await c.closedByServer(); // the FIN: the server reads on, dropping what comes
    expect(c.closed).toBe(false);
    expect(s.connectionCount).toBe(1);
    await pollUntil(() => s.connectionCount === 0, 5000, "the lingering connection to close", { every: 10 });
    expectTimeout(performance.now() - c.lastSentAt, 2000);
    c.close();
  });
});

describe("send timeout", () => {
  const SIZE = 32 * 1024 * 1024; // far more than the socket buffers hold
  const body = new Uint8Array(SIZE);
  const CHUNK = new Uint8Array(64 * 1024);
  const stream = () => {
    let left = SIZE / CHUNK.length;
    return new Response(new ReadableStream({ pull: (c) => (left-- > 0 ? c.enqueue(CHUNK) : c.close()) }));
  };

  /** A client that never reads its response is dropped sendTimeout (1 s) after the server's last progress. */
  async function stalledClient(result: () => HandlerResult, extra = ""): Promise<void> {
    using s = serve({ port: 0, hostname: "127.0.0.1", log: "off", sendTimeout: 1000, handler: result });
    const c = await RawClient.connect(s.port, { keep: false });
    c.pause(); // from before the response: nothing is read
    await c.send(GET("/", extra));
    // The server's last progress is when the socket buffers fill, just after our request.
    await pollUntil(() => s.connectionCount === 0, 3500, "the server to drop the client", { every: 10 });
    expectTimeout(performance.now() - c.lastSentAt, 1000);
    c.resume();
    await c.closedByServer();
    expect(c.received).toBeGreaterThan(0);
    expect(c.received).toBeLessThan(SIZE);
  }

  test("a streamed response to a client that stops reading: dropped after sendTimeout", () => stalledClient(stream));
  test("… also with Connection: close", () => stalledClient(stream, "Connection: close\r\n"));

  // The timer follows the state (connection-timers.ts armTimer): queued output means SEND, in HEAD and in
  // CLOSING alike, so a finished response still waiting for the kernel is timed too.
  test("a whole-buffer response to a client that stops reading: dropped after sendTimeout", () => stalledClient(() => body));
  test("… also with Connection: close", () => stalledClient(() => body, "Connection: close\r\n"));
});

describe("backpressure", () => {
  test("a 4 MiB response to a client that reads slowly arrives byte-exact", async () => {
    const c = await RawClient.connect(port);
    c.pause();
    await c.send(GET("/big") + GET("/n/after-big"));
    await Bun.sleep(200); // the server fills the socket buffers and must queue the rest
    c.resume();
    const r = await c.response(20000);
    expect(r.body.length).toBe(BIG.length);
    expect(Buffer.compare(Buffer.from(r.body), Buffer.from(BIG))).toBe(0);
    expect((await c.response()).text()).toBe("after-big");
    c.close();
  });

  test("several slow clients at once each get their own bytes", async () => {
    const clients = await Promise.all([0, 1, 2, 3].map(() => RawClient.connect(port)));
    for (const c of clients) c.pause();
    await Promise.all(clients.map((c) => c.send(GET("/big"))));
    await Bun.sleep(100);
    for (const c of clients) c.resume();
    for (const c of clients) {
      const r = await c.response(20000);
      expect(Buffer.compare(Buffer.from(r.body), Buffer.from(BIG))).toBe(0);
      c.close();
    }
  });
});

describe("OPTIONS *", () => {
  test("answers for the whole server with Allow", async () => {
    const r = await exchange(port, "OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n");
    expect(r.status).toBe(204);
    expect(r.header("allow")).toContain("GET");
  });
});

describe("handler mistakes", () => {
  test("an invalid status becomes a 500, and the server goes on", async () => {
    using s = serve({ port: 0, hostname: "127.0.0.1", log: "off", handler: (req) => ({ status: req.path === "/a" ? 42 : 101, body: "x" }) });
    const origError = console.error;
    console.error = () => {};
    try {
      expect((await exchange(s.port, GET("/a"))).status).toBe(500);
      expect((await exchange(s.port, GET("/b"))).status).toBe(500);
    } finally {
      console.error = origError;
    }
  });
});
