// The paths a review of the engine found wrong, each kept as a test: 100 Continue for a response that
// streams the body back, a Blob shorter than its size, FINs while answers are still queued, empty
// lines between requests, a silent new connection, stop() with a stalled client, late body reads.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve } from "../../src/index.ts";
import { RawClient } from "../helpers/raw-client.ts";
import { expectTimeout } from "../helpers/timing.ts";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "bunhttp-edge-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("Expect: 100-continue with a response that streams the body back: 100 first, then the echo", async () => {
  using server = serve({ port: 0, hostname: "127.0.0.1", log: "off", bodyTimeout: 3000, fetch: (req) => new Response(req.body) });
  const c = await RawClient.connect(server.port);
  await c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  await c.until(() => c.text().includes("100 Continue"), 2000, "100 Continue");
  await c.send("hello");
  const interim = await c.response();
  expect(interim.status).toBe(100);
  const res = await c.response();
  expect([res.status, res.text()]).toEqual([200, "hello"]);
  c.close();
});

test("Expect: 100-continue and a handler that works a while before reading: no 408 meanwhile", async () => {
  using server = serve({
    port: 0,
    hostname: "127.0.0.1",
    log: "off",
    bodyTimeout: 500,
    fetch: async (req) => {
      await Bun.sleep(1500); // longer than bodyTimeout: the client is rightly holding its body back
      return new Response(`got ${await req.text()}`);
    },
  });
  const c = await RawClient.connect(server.port);
  await c.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  await c.until(() => c.text().includes("100 Continue"), 4000, "100 Continue");
  await c.send("hello");
  await c.response(); // the 100
  const res = await c.response();
  expect([res.status, res.text()]).toEqual([200, "got hello"]);
  c.close();
});

test("a Blob body shorter than its size: the connection is cut, the next answer never becomes its body", async () => {
  const path = join(dir, "shrinking.txt");
  writeFileSync(path, "0123456789".repeat(10));
  const file = Bun.file(path);
  expect(file.size).toBe(100); // cached by the BunFile
  using server = serve({ port: 0, hostname: "127.0.0.1", log: "off", handler: (req) => (req.path === "/f" ? { body: file } : "next response\n") });
  writeFileSync(path, "short\n");
  const c = await RawClient.connect(server.port);
  await c.send("GET /f HTTP/1.1\r\nHost: x\r\n\r\nGET /other HTTP/1.1\r\nHost: x\r\n\r\n");
  await c.closedByServer();
  expect(c.text()).not.toContain("next response");
  expect(c.text()).toContain("Content-Length: 100\r\n");
});

test("a FIN while an unread body is being dropped: the queued answer still arrives whole", async () => {
  const body = "y".repeat(4 * 1024 * 1024);
  using server = serve({ port: 0, hostname: "127.0.0.1", log: "off", handler: () => body });
  const c = await RawClient.connect(server.port, { allowHalfOpen: true });
  c.pause();
  await c.send(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n${"z".repeat(10)}`);
  await Bun.sleep(200); // no event says the server's answer is queued behind the full socket buffers
  c.shutdown(); // the rest of the body never comes
  c.resume();
  await c.closedByServer();
  const { list } = c.responses();
  expect(list.length).toBe(1);
  expect(list[0]!.body.length).toBe(body.length);
});

test("a source of known length and a large unread body: the head says Connection: close", async () => {
  writeFileSync(join(dir, "big.bin"), new Uint8Array(300_000));
  using server = serve({ port: 0, hostname: "127.0.0.1", log: "off", root: dir });
  const c = await RawClient.connect(server.port);
  await c.send(`GET /big.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n${"b".repeat(1000)}`);
  const res = await c.response();
  expect(res.status).toBe(200);
  expect(res.header("connection")).toBe("close");
  await c.closedByServer();
});

test("empty lines after a request are idle time, not an incomplete head (no 408)", async () => {
  using server = serve({ port: 0, hostname: "127.0.0.1", log: "off", headerTimeout: 1000, keepAliveTimeout: 10_000, handler: () => "ok\n" });
  const c = await RawClient.connect(server.port);
  await c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n\r\n");
  expect((await c.response()).status).toBe(200);
  expect(await c.until(() => c.ended, 2500)).toBe(false); // past headerTimeout, still open
  await c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  expect((await c.response()).status).toBe(200);
  c.close();
});

test("a FIN after a partial head closes at once, without a 408", async () => {
  using server = serve({ port: 0, hostname: "127.0.0.1", log: "off", headerTimeout: 3000, handler: () => "ok\n" });
  const c = await RawClient.connect(server.port, { allowHalfOpen: true });
  await c.send("GET / HTTP/1.1\r\nHost:");
  const t0 = performance.now();
  c.shutdown();
  await c.closedByServer();
  expect(performance.now() - t0).toBeLessThan(1000);
  expect(c.text()).toBe("");
});

test("a new connection that sends nothing is closed after headerTimeout, not keepAliveTimeout", async () => {
  using server = serve({ port: 0, hostname: "127.0.0.1", log: "off", headerTimeout: 1000, keepAliveTimeout: 6000, handler: () => "ok\n" });
  const t0 = performance.now();
  const c = await RawClient.connect(server.port);
  await c.closedByServer(5000);
  expectTimeout(performance.now() - t0, 1000);
  expect(c.received).toBe(0);
});

test("stop() resolves once a client that reads nothing is cut at sendTimeout", async () => {
  const big = "x".repeat(8 * 1024 * 1024);
  const server = serve({ port: 0, hostname: "127.0.0.1", log: "off", sendTimeout: 1000, handler: () => big });
  const c = await RawClient.connect(server.port, { keep: false });
  c.pause();
  await c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  await Bun.sleep(200); // the answer is queued behind the full socket buffers
  const t0 = performance.now();
  await server.stop();
  expect(performance.now() - t0).toBeLessThan(4000);
  c.reset();
});

test("a bad chunk while a streamed answer waits for its first piece: 400, not a silent cut", async () => {
  using server = serve({
    port: 0,
    hostname: "127.0.0.1",
    log: "off",
    handler: () => new Response(new ReadableStream({ async pull(ctl) { await Bun.sleep(1000); ctl.close(); } })),
  });
  const c = await RawClient.connect(server.port);
  await c.send("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
  await Bun.sleep(50);
  await c.send("zz\r\n");
  expect((await c.response()).status).toBe(400);
  c.close();
});

test("a body read after its response was sent rejects instead of ending early", async () => {
  let later: Promise<string> | undefined;
  using server = serve({
    port: 0,
    hostname: "127.0.0.1",
    log: "off",
    handler: (req) => {
      later = Promise.resolve().then(() => Bun.sleep(50)).then(() => req.text());
      return "answered\n";
    },
  });
  const c = await RawClient.connect(server.port);
  await c.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world");
  expect((await c.response()).status).toBe(200);
  await expect(later!).rejects.toThrow(/dropped/);
  c.close();
});
