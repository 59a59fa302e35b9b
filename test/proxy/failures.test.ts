// The reverse proxy against upstreams that fail or misbehave, and clients that do: refused and closed
// connections, bad response framing, stalls before and after the head, requests our parser refuses,
// hop-by-hop fields both ways, Expect, HEAD/204/304, HTTP/1.0 clients and pipelining. Every case runs
// over TCP through one proxy (proxyTimeout 300 ms) to raw backends that record the bytes they got; after
// each failure the proxy must still answer (a good upstream gives 200), and a connection that carried a
// bad response must be closed by the proxy, never reused: the next request comes on a new one.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { serve, type Server } from "../../src/index.ts";
import { exchange, RawClient } from "../helpers/raw-client.ts";
import { GET } from "../helpers/wire.ts";
import { type Answer, type BackendConnection, closedPort, ok, RawBackend, type UpstreamRequest } from "./upstreams.ts";

const TIMEOUT = 300;
/** Well past the proxy timeout plus its sweep (a quarter of it), for a loaded machine. */
const LATE = 3000;

let server: Server;
/** The backend each test scripts (its `answer` is set per test). */
let bad: RawBackend;
/** Always answers 200 "good". */
let good: RawBackend;
/** Accepts, reads, and closes at once without a byte. */
let slammer: RawBackend;

beforeAll(() => {
  bad = RawBackend.start();
  good = RawBackend.start((_req, conn) => void conn.write(ok("good")));
  slammer = RawBackend.start((_req, conn) => conn.end(), {});
  server = serve({
    port: 0,
    hostname: "127.0.0.1",
    log: "off",
    proxyTimeout: TIMEOUT,
    proxy: {
      "/bad": bad.url,
      "/good": good.url,
      "/refused": `http://127.0.0.1:${closedPort()}`,
      "/slam": slammer.url,
    },
  });
});

afterAll(async () => {
  await server.stop(true);
  for (const b of [bad, good, slammer]) b.stop();
});

const POST = (path: string, body: string, extra = "") => `POST ${path} HTTP/1.1\r\nHost: t\r\nContent-Length: ${body.length}\r\n${extra}\r\n${body}`;

/** `bad` answers every request with these bytes and leaves its connection open (a proxy might reuse it). */
function answerWith(bytes: string | ((req: UpstreamRequest) => string)): void {
  bad.answer = (req, conn) => void conn.write(typeof bytes === "string" ? bytes : bytes(req));
}

/** The connection that carried `bad`'s latest request. */
function lastConn(): BackendConnection {
  const req = bad.requests.at(-1);
  if (req === undefined) throw new Error("bad got no request");
  return req.conn;
}

/**
 * The proxy is healthy after a failure: the good upstream answers through it, and when `used` (the
 * connection that carried a bad response) is given, the proxy has closed it and the next request to
 * the same upstream comes on a connection of its own.
 */
async function expectHealthy(used?: BackendConnection): Promise<void> {
  const r = await exchange(server.port, GET("/good/after"));
  expect(r.status).toBe(200);
  expect(r.text()).toBe("good");
  if (used === undefined) return;
  await bad.until(() => used.closed, 2000, "the proxy to close the upstream connection that failed");
  bad.answer = (_req, conn) => void conn.write(ok("fine"));
  const accepted = bad.accepted;
  const again = await exchange(server.port, GET("/bad/after"));
  expect(again.status).toBe(200);
  expect(again.text()).toBe("fine");
  expect(lastConn()).not.toBe(used);
  expect(bad.accepted).toBe(accepted + 1);
}

/** One request on a fresh client connection; the client is returned for inspection (closed by the caller). */
async function send(raw: string): Promise<RawClient> {
  const c = await RawClient.connect(server.port);
  await c.send(raw);
  return c;
}

// ---- 1. nothing to talk to ---------------------------------------------------------------------

describe("an upstream that cannot be reached", () => {
  test("connection refused (a port whose listener was closed): 502 with a small body", async () => {
    const r = await exchange(server.port, GET("/refused/x"));
    expect(r.status).toBe(502);
    expect(r.body.length).toBeGreaterThan(0);
    expect(r.body.length).toBeLessThan(200);
    await expectHealthy();
  });

  test("a POST to a refused port: 502, and the body does not hang the connection", async () => {
    const c = await send(`${POST("/refused/p", "x".repeat(100))}${GET("/good/next")}`);
    const first = await c.response();
    expect(first.status).toBe(502);
    // The body came whole with the head: the connection goes on to the next request.
    const next = await c.response();
    expect(next.status).toBe(200);
    expect(next.text()).toBe("good");
    c.close();
    await expectHealthy();
  });

  test("a streamed upload to a refused port: 502, then the rest of the body does not hang the connection", async () => {
    const c = await send(`POST /refused/big HTTP/1.1\r\nHost: t\r\nContent-Length: ${300 * 1024}\r\n\r\n${"x".repeat(1024)}`);
    const first = await c.response(LATE);
    expect(first.status).toBe(502);
    // The rest of the body, then another request: answered, or the connection closed; never a hang.
    await c.send("x".repeat(299 * 1024) + GET("/good/next"));
    await c.until(() => c.ended || c.text().endsWith("good"), LATE, "the next answer or the close");
    c.close();
    await expectHealthy();
  });

  test("an upstream that accepts and closes without a byte: 502", async () => {
    const before = slammer.accepted;
    const r = await exchange(server.port, POST("/slam/x", "body"));
    expect(r.status).toBe(502);
    expect(slammer.accepted).toBe(before + 1); // a POST is not retried
    const g = await exchange(server.port, GET("/slam/y"));
    expect(g.status).toBe(502);
    await expectHealthy();
  });
});

// ---- 2. closed mid-response ----------------------------------------------------------------------

describe("an upstream that closes mid-response", () => {
  test("under a Content-Length: the client sees fewer bytes and a closed connection, never a short complete response", async () => {
    bad.answer = async (_req, conn) => {
      await conn.write(`HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n${"a".repeat(100)}`);
      conn.end();
    };
    const c = await send(GET("/bad/cl"));
    await c.closedByServer(LATE);
    const text = c.text();
    const headEnd = text.indexOf("\r\n\r\n");
    expect(text.startsWith("HTTP/1.1 200")).toBe(true);
    expect(text).toMatch(/content-length: 1000\r\n/i);
    expect(text.length - headEnd - 4).toBeLessThan(1000);
    expect(c.responses().list.length).toBe(0); // nothing that parses as a complete response
    c.close();
    await expectHealthy(lastConn());
  });

  test("under a Content-Length, reset by the upstream: the client's connection is cut too", async () => {
    bad.answer = async (_req, conn) => {
      await conn.write(`HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n${"b".repeat(5000)}`);
      conn.reset();
    };
    const c = await send(GET("/bad/rst"));
    await c.closedByServer(LATE);
    expect(c.text()).toMatch(/^HTTP\/1\.1 200/);
    expect(c.received).toBeLessThan(100000);
    c.close();
    await expectHealthy(lastConn());
  });

  test("chunked: no final 0-chunk reaches the client, and its connection is closed", async () => {
    bad.answer = async (_req, conn) => {
      await conn.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
      conn.end();
    };
    const c = await send(GET("/bad/chunked"));
    await c.closedByServer(LATE);
    const text = c.text();
    expect(text).toMatch(/^HTTP\/1\.1 200/);
    expect(text).toMatch(/transfer-encoding: chunked\r\n/i);
    expect(text).not.toContain("\r\n0\r\n\r\n");
    expect(c.responses().list.length).toBe(0);
    c.close();
    await expectHealthy(lastConn());
  });

  test("a chunked head, then the close before any chunk: 502 (no byte of the response had gone out)", async () => {
    bad.answer = async (_req, conn) => {
      await conn.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Head: 1\r\n\r\n");
      await bad.until(() => server.pendingRequests > 0 && conn.sent > 0, 1000, "the head to be sent");
      await Bun.sleep(20); // the head has been read by the proxy: the close comes in a later read
      conn.end();
    };
    const r = await exchange(server.port, GET("/bad/chunked-then-close"), LATE);
    expect(r.status).toBe(502);
    expect(r.headers.has("x-head")).toBe(false);
    await expectHealthy(lastConn());
  });

  test("under a Content-Length, the close right after the head: the head, then the cut", async () => {
    bad.answer = async (_req, conn) => {
      await conn.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
      await Bun.sleep(20);
      conn.end();
    };
    const c = await send(GET("/bad/cl-then-close"));
    await c.closedByServer(LATE);
    expect(c.text()).toMatch(/^HTTP\/1\.1 200/);
    expect(c.responses().list.length).toBe(0);
    c.close();
    await expectHealthy(lastConn());
  });

  test("an empty body delimited by the close: 200 with an empty body", async () => {
    bad.answer = async (_req, conn) => {
      await conn.write("HTTP/1.1 200 OK\r\nX-Empty: 1\r\n\r\n");
      await Bun.sleep(20);
      conn.end();
    };
    const r = await exchange(server.port, GET("/bad/empty-eof"), LATE);
    expect(r.status).toBe(200);
    expect(r.header("x-empty")).toBe("1");
    expect(r.body.length).toBe(0);
    await expectHealthy(lastConn());
  });

  test("a body delimited by the upstream's close (no framing) is whole, and framed for the client", async () => {
    bad.answer = async (_req, conn) => {
      await conn.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil ");
      await conn.write("the close");
      conn.end();
    };
    const c = await send(GET("/bad/eof") + GET("/good/next"));
    const r = await c.response(LATE);
    expect(r.status).toBe(200);
    expect(r.text()).toBe("until the close");
    // Framed on our side (chunked), so the client connection goes on.
    const next = await c.response(LATE);
    expect(next.text()).toBe("good");
    c.close();
    await expectHealthy(lastConn());
  });
});

// ---- 3. invalid framing from the upstream --------------------------------------------------------

const BAD_RESPONSES: [name: string, bytes: string][] = [
  ["Content-Length and Transfer-Encoding together", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"],
  ["two different Content-Lengths", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"],
  ["a Content-Length that is not a number", "HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\nhello"],
  ["a bad chunk size in the same write as the head", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"],
  ["a transfer coding other than chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nhello"],
  ["Transfer-Encoding in an HTTP/1.0 response", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"],
  ["a status code of letters (2OO)", "HTTP/1.1 2OO OK\r\nContent-Length: 2\r\n\r\nok"],
  ["an ICY status line", "ICY 200 OK\r\nContent-Length: 2\r\n\r\nok"],
  ["HTTP/2 in the status line", "HTTP/2 200 OK\r\nContent-Length: 2\r\n\r\nok"],
  ["a status code out of range", "HTTP/1.1 999 Nine\r\nContent-Length: 2\r\n\r\nok"],
  ["no status line at all, fields first", "Content-Length: 2\r\n\r\nok"],
  ["HTTP/0.9 style: a body and nothing else", "<html><body>hello</body></html>\n"],
  ["obs-fold in a response field", "HTTP/1.1 200 OK\r\nX-Long: one\r\n  two\r\nContent-Length: 2\r\n\r\nok"],
  ["a bare LF ending the status line", "HTTP/1.1 200 OK\nContent-Length: 2\r\n\r\nok"],
  ["a bare LF ending a field line", "HTTP/1.1 200 OK\r\nX-A: 1\nContent-Length: 2\r\n\r\nok"],
  ["only bare LFs", "HTTP/1.1 200 OK\nContent-Length: 2\n\nok"],
  ["a bare CR in a field", "HTTP/1.1 200 OK\r\nX-A: 1\rX-B: 2\r\nContent-Length: 2\r\n\r\nok"],
  ["whitespace before the colon", "HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok"],
  ["a 101 to a request that asked for no upgrade", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n"],
];

describe("invalid framing from the upstream: 502, and its connection is closed, not reused", () => {
  for (const [name, bytes] of BAD_RESPONSES) {
    test(name, async () => {
      answerWith(bytes);
      const started = performance.now();
      const r = await exchange(server.port, GET("/bad/framing"), LATE);
      expect(r.status).toBe(502);
      // Refused on sight, not after waiting out the timeout.
      expect(performance.now() - started).toBeLessThan(TIMEOUT);
      await expectHealthy(lastConn());
    });
  }

  test("a bad chunk size in a later write, before any chunk: 502", async () => {
    bad.answer = async (_req, conn) => {
      await conn.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
      await Bun.sleep(20);
      await conn.write("zz\r\nhello\r\n0\r\n\r\n");
    };
    const r = await exchange(server.port, GET("/bad/later-bad-chunk"), LATE);
    expect(r.status).toBe(502);
    await expectHealthy(lastConn());
  });

  test("a bad chunk size after the head went out: the client's connection is cut, no final chunk", async () => {
    bad.answer = async (_req, conn) => {
      await conn.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
      // The head and the first chunk have reached the client before the bad chunk comes.
      await c.until(() => c.text().includes("hello"), 2000, "the first chunk at the client");
      await conn.write("zz\r\nmore\r\n0\r\n\r\n");
    };
    const c = await RawClient.connect(server.port);
    await c.send(GET("/bad/late-chunk") + GET("/good/next"));
    await c.closedByServer(LATE);
    const text = c.text();
    expect(text).toMatch(/^HTTP\/1\.1 200/);
    expect(text).toContain("hello");
    expect(text).not.toContain("more");
    expect(text).not.toContain("\r\n0\r\n\r\n");
    expect(text).not.toContain("good"); // the pipelined request was not answered on a broken connection
    c.close();
    await expectHealthy(lastConn());
  });

  test("bytes after a complete Content-Length body: the response is passed, the connection not reused", async () => {
    answerWith(`${ok("fine")}HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled`);
    const r = await exchange(server.port, GET("/bad/extra"));
    expect(r.status).toBe(200);
    expect(r.text()).toBe("fine");
    await expectHealthy(lastConn());
  });

  test("a body after a 204: the 204 goes through bodiless, the connection is not reused", async () => {
    answerWith("HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled");
    const c = await send(GET("/bad/204-extra") + GET("/good/next"));
    const r = await c.response();
    expect(r.status).toBe(204);
    const next = await c.response();
    expect(next.text()).toBe("good");
    expect(c.text()).not.toContain("smuggled");
    c.close();
    await expectHealthy(lastConn());
  });
});

// ---- 4. slow upstreams and slow clients ---------------------------------------------------------

describe("timeouts", () => {
  // Nothing of the response has reached the client yet in either: it can still be told, with a 504.
  const SLOW_HEADS: [string, string, Answer][] = [
    ["an upstream that reads the request and never answers", "/bad/silent", () => {}],
    ["a chunked head and then nothing", "/bad/head-then-stall", (_req, conn) => void conn.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")],
  ];
  for (const [name, path, answer] of SLOW_HEADS) {
    test(`${name}, for longer than proxyTimeout: 504`, async () => {
      bad.answer = answer;
      const c = await send(GET(path));
      const r = await c.response(LATE + 1000);
      const elapsed = c.lastReceivedAt - c.lastSentAt;
      expect(r.status).toBe(504);
      expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT - 50);
      expect(elapsed).toBeLessThan(LATE);
      c.close();
      await expectHealthy(lastConn());
    });
  }

  test("an upload slower than proxyTimeout is not cut: the timeout counts from the request's end", async () => {
    bad.answer = (req, conn) => void conn.write(ok(`got ${req.body.length}`));
    const pieces = 9;
    const piece = "u".repeat(1000);
    const c = await send(`POST /bad/upload HTTP/1.1\r\nHost: t\r\nContent-Length: ${pieces * piece.length}\r\n\r\n`);
    const started = performance.now();
    // One piece every TIMEOUT / 3 ms: three times the timeout in all (pacing the sender is the point here).
    for (let i = 0; i < pieces; i++) {
      await Bun.sleep(TIMEOUT / 3);
      expect(await c.send(piece)).toBe(true);
    }
    expect(performance.now() - started).toBeGreaterThan(2 * TIMEOUT);
    const r = await c.response(LATE);
    expect(r.status).toBe(200);
    expect(r.text()).toBe(`got ${pieces * piece.length}`);
    c.close();
    await expectHealthy();
  });

  test("a chunked upload slower than proxyTimeout is not cut either", async () => {
    bad.answer = (req, conn) => void conn.write(ok(`got ${req.body.length} chunked=${req.chunked}`));
    const c = await send("POST /bad/upload-chunked HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (let i = 0; i < 9; i++) {
      await Bun.sleep(TIMEOUT / 3);
      expect(await c.send(`3e8\r\n${"c".repeat(1000)}\r\n`)).toBe(true);
    }
    await c.send("0\r\n\r\n");
    const r = await c.response(LATE);
    expect(r.status).toBe(200);
    expect(r.text()).toBe("got 9000 chunked=true");
    c.close();
    await expectHealthy();
  });

  test("an upstream that stalls mid-body for longer than proxyTimeout: the client's connection is cut", async () => {
    bad.answer = (_req, conn) => void conn.write(`HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n${"s".repeat(10)}`);
    const c = await send(GET("/bad/stall"));
    await c.until(() => c.text().includes("ssssssssss"), 2000, "the first body bytes");
    const firstBytes = c.lastReceivedAt;
    await c.closedByServer(LATE + 1000);
    const elapsed = c.endedAt - firstBytes;
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT - 50);
    expect(elapsed).toBeLessThan(LATE);
    expect(c.text().endsWith("s".repeat(10))).toBe(true); // nothing was made up to fill the length
    c.close();
    await expectHealthy(lastConn());
  });

  test("a chunked body that stalls: cut, without the final chunk", async () => {
    bad.answer = (_req, conn) => void conn.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nslow\r\n");
    const c = await send(GET("/bad/stall-chunked"));
    await c.closedByServer(LATE + 1000);
    expect(c.text()).toContain("slow");
    expect(c.text()).not.toContain("\r\n0\r\n\r\n");
    c.close();
    await expectHealthy(lastConn());
  });
});

// ---- 5. requests the proxy must never pass on ---------------------------------------------------

const BAD_REQUESTS: [name: string, raw: string, status: number][] = [
  ["Content-Length with Transfer-Encoding", "POST /bad/x HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 400],
  ["two different Content-Lengths", "POST /bad/x HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400],
  ["a bad chunk size at the body's start", "POST /bad/x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", 400],
  ["obs-fold in a request field", "GET /bad/x HTTP/1.1\r\nHost: t\r\nX-Long: one\r\n  two\r\n\r\n", 400],
  ["a bare LF in the head", "GET /bad/x HTTP/1.1\nHost: t\r\n\r\n", 400],
  ["whitespace before a colon", "GET /bad/x HTTP/1.1\r\nHost : t\r\n\r\n", 400],
  ["an oversized head", `GET /bad/x HTTP/1.1\r\nHost: t\r\nX-Big: ${"b".repeat(70 * 1024)}\r\n\r\n`, 431],
  ["a dot segment", "GET /bad/../secret HTTP/1.1\r\nHost: t\r\n\r\n", 400],
  ["an encoded dot segment", "GET /bad/%2e%2e/secret HTTP/1.1\r\nHost: t\r\n\r\n", 400],
];

describe("a request our parser refuses never reaches the upstream", () => {
  for (const [name, raw, status] of BAD_REQUESTS) {
    test(`${name}: ${status}`, async () => {
      bad.answer = (req, conn) => void conn.write(ok(req.target));
      const before = bad.received;
      const accepted = bad.accepted;
      const r = await exchange(server.port, raw);
      expect(r.status).toBe(status);
      // A good request after it reaches the upstream: had the bad one gone up, its bytes would be first.
      const after = await exchange(server.port, GET("/bad/after-refused"));
      expect(after.text()).toBe("/bad/after-refused");
      // Exactly the good request's bytes arrived since: nothing of the refused one.
      expect(bad.requests.at(-1)!.target).toBe("/bad/after-refused");
      expect(bad.received - before).toBe(bad.requests.at(-1)!.head.length);
      expect(bad.accepted - accepted).toBeLessThanOrEqual(1);
    });
  }

  test("a chunked body that turns malformed mid-way: the upstream sees no final chunk and a closed connection", async () => {
    bad.answer = (req, conn) => void conn.write(ok(`got ${req.body.length}`));
    const c = await send("POST /bad/midway HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
    await bad.until(() => bad.conns.some((b) => !b.closed && b.text().includes("POST /bad/midway")), 2000, "the head upstream");
    const up = bad.conns.find((b) => b.text().includes("POST /bad/midway"))!;
    await bad.until(() => up.text().includes("hello"), 2000, "the first chunk upstream");
    await c.send("zz\r\nnot a chunk\r\n0\r\n\r\n");
    await bad.until(() => up.closed, 2000, "the proxy to close the upstream connection");
    // (The connection may have carried earlier requests: look from this one's head on.)
    const mine = up.text().slice(up.text().indexOf("POST /bad/midway"));
    expect(mine).toContain("5\r\nhello\r\n");
    expect(mine).not.toContain("\r\n0\r\n\r\n");
    expect(mine).not.toContain("not a chunk");
    expect(up.requests.some((r) => r.target === "/bad/midway")).toBe(false); // never a complete request
    // The client gets a 400, or its connection cut.
    await c.until(() => c.ended || c.text().includes("\r\n\r\n"), 2000, "an answer or a close");
    if (c.text().length > 0) expect(c.text()).toMatch(/^HTTP\/1\.1 400/);
    c.close();
    await expectHealthy();
  });

  test("a Content-Length body cut short by the client: the upstream connection is closed, never completed", async () => {
    bad.answer = (req, conn) => void conn.write(ok(`got ${req.body.length}`));
    const c = await send(`POST /bad/short HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n${"x".repeat(10)}`);
    await bad.until(() => bad.conns.some((b) => b.text().includes("POST /bad/short") && b.text().endsWith("x".repeat(10))), 2000, "the start of the body upstream");
    const up = bad.conns.find((b) => b.text().includes("POST /bad/short"))!;
    c.reset();
    await bad.until(() => up.closed, 2000, "the proxy to close the upstream connection");
    expect(up.requests.some((r) => r.target === "/bad/short")).toBe(false);
    await expectHealthy();
  });
});

// ---- 6. hop-by-hop fields ---------------------------------------------------------------------

describe("hop-by-hop fields never cross", () => {
  const HOP_REQUEST = [
    "Connection: close, X-Secret",
    "X-Secret: hush",
    "Keep-Alive: timeout=5",
    "TE: trailers",
    "Trailer: X-Checksum",
    "Upgrade: websocket",
    "Proxy-Authorization: Basic dXNlcjpwYXNz",
    "Proxy-Connection: keep-alive",
    "X-Kept: yes",
  ];

  test("request: Connection, the fields it names, Keep-Alive, TE, Trailer, Upgrade, Proxy-*", async () => {
    answerWith((req) => ok(req.target));
    const r = await exchange(server.port, `GET /bad/hop HTTP/1.1\r\nHost: t\r\n${HOP_REQUEST.join("\r\n")}\r\n\r\n`);
    expect(r.status).toBe(200);
    const req = bad.requests.at(-1)!;
    expect(req.target).toBe("/bad/hop");
    for (const name of ["connection", "x-secret", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade", "proxy-authorization", "proxy-connection"]) {
      expect(req.headers.has(name), name).toBe(false);
    }
    expect(req.head).not.toContain("hush");
    expect(req.header("x-kept")).toBe("yes");
    // The client asked to close: it gets its response, then the close.
    await expectHealthy();
  });

  test("request: a field named by a second Connection line, any case", async () => {
    answerWith((req) => ok(req.target));
    const r = await exchange(server.port, "GET /bad/hop2 HTTP/1.1\r\nHost: t\r\nconnection: keep-alive\r\nCONNECTION: x-one , X-Two\r\nX-ONE: 1\r\nx-two: 2\r\nX-Three: 3\r\n\r\n");
    expect(r.status).toBe(200);
    const req = bad.requests.at(-1)!;
    expect(req.headers.has("x-one")).toBe(false);
    expect(req.headers.has("x-two")).toBe(false);
    expect(req.headers.has("connection")).toBe(false);
    expect(req.header("x-three")).toBe("3");
  });

  test("request: a chunked body streamed up carries our Transfer-Encoding only, once", async () => {
    bad.answer = (req, conn) => void conn.write(ok(`got ${req.body.length}`));
    const c = await send(
      "POST /bad/rechunk HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: X-Gone\r\nX-Gone: 1\r\nTE: trailers\r\n\r\n5\r\nhello\r\n",
    );
    await bad.until(() => bad.conns.some((b) => b.text().includes("POST /bad/rechunk") && b.text().includes("hello")), 2000, "the first chunk upstream");
    await c.send("6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n");
    const r = await c.response();
    expect(r.text()).toBe("got 11");
    const req = bad.requests.at(-1)!;
    expect(req.headers.get("transfer-encoding")).toEqual(["chunked"]);
    expect(req.head.match(/transfer-encoding/gi)?.length).toBe(1);
    expect(req.headers.has("content-length")).toBe(false);
    expect(req.headers.has("x-gone")).toBe(false);
    expect(req.headers.has("te")).toBe(false);
    c.close();
  });

  test("request: a Content-Length body goes up with our Content-Length, no Transfer-Encoding", async () => {
    answerWith((req) => ok(`got ${req.body.length}`));
    const r = await exchange(server.port, POST("/bad/cl-up", "hello", "Keep-Alive: 1\r\n"));
    expect(r.text()).toBe("got 5");
    const req = bad.requests.at(-1)!;
    expect(req.headers.get("content-length")).toEqual(["5"]);
    expect(req.headers.has("transfer-encoding")).toBe(false);
    expect(req.headers.has("keep-alive")).toBe(false);
  });

  test("response: Connection and what it names, Keep-Alive, Proxy-Authenticate, Trailer, Upgrade do not reach the client", async () => {
    answerWith(
      "HTTP/1.1 200 OK\r\nConnection: X-Foo, keep-alive\r\nX-Foo: 1\r\nKeep-Alive: timeout=5, max=100\r\nProxy-Authenticate: Basic realm=x\r\n" +
        "Trailer: X-Sum\r\nUpgrade: h2c\r\nProxy-Connection: keep-alive\r\nX-Bar: 2\r\nContent-Length: 2\r\n\r\nok",
    );
    const r = await exchange(server.port, GET("/bad/hop-back"));
    expect(r.status).toBe(200);
    expect(r.text()).toBe("ok");
    for (const name of ["x-foo", "keep-alive", "proxy-authenticate", "trailer", "upgrade", "proxy-connection"]) {
      expect(r.headers.has(name), name).toBe(false);
    }
    // Our own Connection, if any, never carries the upstream's tokens.
    expect(r.header("connection") ?? "").not.toMatch(/x-foo/i);
    expect(r.header("x-bar")).toBe("2");
    expect(r.headers.get("content-length")).toEqual(["2"]);
  });
});

// ---- 7. Expect: 100-continue ----------------------------------------------------------------------

describe("Expect: 100-continue", () => {
  test("the client gets our 100 Continue, then the upstream's response; Expect does not go up", async () => {
    bad.answer = (req, conn) => void conn.write(ok(`got ${new TextDecoder().decode(req.body)}`));
    const c = await send("POST /bad/expect HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    const cont = await c.response();
    expect(cont.status).toBe(100);
    await c.send("hello");
    const r = await c.response();
    expect(r.status).toBe(200);
    expect(r.text()).toBe("got hello");
    const req = bad.requests.at(-1)!;
    expect(req.headers.has("expect")).toBe(false);
    expect(c.text().match(/HTTP\/1\.1 100/g)?.length).toBe(1);
    c.close();
  });

  test("an upstream's own 100 Continue is dropped: the client sees one 100, ours", async () => {
    bad.answer = (req, conn) => void conn.write(`HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n${ok(`got ${req.body.length}`)}`);
    const c = await send("POST /bad/expect2 HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    expect((await c.response()).status).toBe(100);
    await c.send("hello");
    const r = await c.response();
    expect(r.status).toBe(200);
    expect(r.text()).toBe("got 5");
    expect(c.text().match(/HTTP\/1\.1 1\d\d/g)).toEqual(["HTTP/1.1 100"]);
    c.close();
  });

  test("without Expect, an upstream's interim responses do not reach the client", async () => {
    answerWith(`HTTP/1.1 100 Continue\r\n\r\n${ok("after interim")}`);
    const c = await send(POST("/bad/interim", "abc"));
    const r = await c.response();
    expect(r.status).toBe(200);
    expect(r.text()).toBe("after interim");
    expect(c.text()).not.toContain("100 Continue");
    c.close();
  });

  test("with Expect, to a path the upstream does not have: its 404 comes back", async () => {
    bad.answer = (req, conn) => void conn.write(`HTTP/1.1 404 Not Found\r\nContent-Length: ${9 + req.target.length}\r\n\r\nno such: ${req.target}`);
    const c = await send("PUT /bad/missing HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    expect((await c.response()).status).toBe(100);
    await c.send("hello");
    const r = await c.response();
    expect(r.status).toBe(404);
    expect(r.text()).toBe("no such: /bad/missing");
    expect(bad.requests.at(-1)!.body.length).toBe(5);
    c.close();
    await expectHealthy();
  });
});

// ---- 8. bodiless responses -------------------------------------------------------------------------

describe("HEAD, 204 and 304", () => {
  test("HEAD: the upstream's Content-Length, no body: the next pipelined response starts right after the head", async () => {
    answerWith((req) => (req.method === "HEAD" ? "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1234\r\n\r\n" : ok("next")));
    const c = await send(`HEAD /bad/h HTTP/1.1\r\nHost: t\r\n\r\n${GET("/bad/g")}`);
    await c.until(() => c.text().endsWith("next"), 2000, "both responses");
    const text = c.text();
    const headEnd = text.indexOf("\r\n\r\n") + 4;
    const head = text.slice(0, headEnd);
    expect(head).toMatch(/^HTTP\/1\.1 200/);
    expect(head).toMatch(/\r\ncontent-length: 1234\r\n/i);
    expect(head).not.toMatch(/transfer-encoding/i);
    expect(text.slice(headEnd)).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(text.slice(headEnd)).toMatch(/\r\n\r\nnext$/);
    c.close();
  });

  test("HEAD answered with chunked framing: a head only, and the connection goes on", async () => {
    answerWith((req) => (req.method === "HEAD" ? "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" : ok("next")));
    const c = await send(`HEAD /bad/hc HTTP/1.1\r\nHost: t\r\n\r\n${GET("/bad/g")}`);
    await c.until(() => c.text().endsWith("next"), 2000, "both responses");
    const text = c.text();
    const headEnd = text.indexOf("\r\n\r\n") + 4;
    expect(text.slice(headEnd)).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    c.close();
  });

  for (const [status, line] of [
    [204, "HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n"],
    [304, 'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\n\r\n'],
  ] as const) {
    test(`${status}: no body, no Transfer-Encoding, and the client's connection is reused`, async () => {
      answerWith((req) => (req.target.endsWith("/first") ? line : ok("second")));
      const c = await RawClient.connect(server.port);
      await c.send(GET("/bad/first"));
      const r = await c.response();
      expect(r.status).toBe(status);
      expect(r.body.length).toBe(0);
      expect(r.headers.has("transfer-encoding")).toBe(false);
      if (status === 304) expect(r.header("etag")).toBe('"v1"');
      // Nothing follows the head; the same client connection takes another request.
      expect(c.pendingBytes).toBe(0);
      await c.send(GET("/bad/second"));
      const second = await c.response();
      expect(second.status).toBe(200);
      expect(second.text()).toBe("second");
      expect(c.closed).toBe(false);
      c.close();
      // The upstream connection was fine too: both requests rode it.
      expect(bad.requests.at(-1)!.conn).toBe(bad.requests.at(-2)!.conn);
    });
  }
});

// ---- 9. HTTP/1.0 clients ------------------------------------------------------------------------------

describe("an HTTP/1.0 client and a chunked upstream response", () => {
  test("a small body: the client gets it whole, unchunked", async () => {
    answerWith("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
    const c = await send("GET /bad/old HTTP/1.0\r\n\r\n");
    await c.closedByServer();
    const text = c.text();
    const headEnd = text.indexOf("\r\n\r\n") + 4;
    expect(text).toMatch(/^HTTP\/1\.[01] 200/);
    expect(text.slice(0, headEnd)).not.toMatch(/transfer-encoding/i);
    expect(text.slice(headEnd)).toBe("hello world");
    const cl = /\r\ncontent-length: (\d+)\r\n/i.exec(text.slice(0, headEnd));
    if (cl) expect(Number(cl[1])).toBe(11);
    c.close();
  });

  test("a large body streamed in many chunks: ended by the close, every byte right", async () => {
    const size = 300 * 1024;
    const pattern = (i: number) => String.fromCharCode(97 + (i % 26));
    bad.answer = async (_req, conn) => {
      await conn.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
      for (let sent = 0; sent < size; ) {
        const n = Math.min(7000, size - sent);
        let s = "";
        for (let i = 0; i < n; i++) s += pattern(sent + i);
        await conn.write(`${n.toString(16)}\r\n${s}\r\n`);
        sent += n;
      }
      await conn.write("0\r\n\r\n");
    };
    const c = await send("GET /bad/old-big HTTP/1.0\r\n\r\n");
    await c.closedByServer(LATE);
    expect(c.errored).toBe(false);
    const text = c.text();
    const headEnd = text.indexOf("\r\n\r\n") + 4;
    expect(text.slice(0, headEnd)).not.toMatch(/transfer-encoding/i);
    const body = text.slice(headEnd);
    expect(body.length).toBe(size);
    let bad_ = -1;
    for (let i = 0; i < size; i++) {
      if (body[i] !== pattern(i)) {
        bad_ = i;
        break;
      }
    }
    expect(bad_).toBe(-1);
    c.close();
  });
});

// ---- 10. pipelining ---------------------------------------------------------------------------------

describe("pipelined requests", () => {
  test("three requests in one write: three responses, in order", async () => {
    bad.answer = async (req, conn) => {
      // The first is the slowest to answer: order must still hold.
      if (req.target.endsWith("/p1")) await Bun.sleep(50);
      await conn.write(ok(`${req.method} ${req.target} ${req.body.length}`));
    };
    const c = await send(`${GET("/bad/p1")}${POST("/bad/p2", "twelve bytes")}${GET("/bad/p3")}`);
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push((await c.response()).text());
    expect(answers).toEqual(["GET /bad/p1 0", "POST /bad/p2 12", "GET /bad/p3 0"]);
    c.close();
  });

  test("pipelined across upstreams and a failure: each answered in order", async () => {
    answerWith((req) => ok(req.target));
    const c = await send(`${GET("/bad/one")}${GET("/refused/two")}${GET("/good/three")}${GET("/bad/four")}`);
    const got = [];
    for (let i = 0; i < 4; i++) {
      const r = await c.response();
      got.push(`${r.status} ${r.text().trim()}`);
    }
    expect(got[0]).toBe("200 /bad/one");
    expect(got[1]).toMatch(/^502 /);
    expect(got[2]).toBe("200 good");
    expect(got[3]).toBe("200 /bad/four");
    c.close();
  });
});
