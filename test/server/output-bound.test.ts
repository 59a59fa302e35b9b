// The output bound: a client that pipelines requests and reads nothing gets no more answers made than
// fit outputHighWater beyond what the kernel holds; requests wait unparsed, and all are answered, in
// order, once it reads.
import { expect, test } from "bun:test";
import { serve } from "../../src/index.ts";
import { pollUntil } from "../helpers/poll.ts";
import { RawClient } from "../helpers/raw-client.ts";

const N = 1000;
/** 16 KiB, different for every request throughout (a damaged or misplaced byte shows). */
const bodyFor = (i: number) => `${i}:`.padEnd(16 * 1024, String.fromCharCode(97 + (i % 26)));

/** Waits until `value()` has not changed for `quiet` ms (it is driven by another side we cannot await). */
async function settle(value: () => number, quiet: number, ms: number): Promise<number> {
  const deadline = Date.now() + ms;
  let last = value();
  let since = Date.now();
  while (Date.now() < deadline) {
    await Bun.sleep(25);
    const v = value();
    if (v !== last) {
      last = v;
      since = Date.now();
    } else if (Date.now() - since >= quiet) {
      return v;
    }
  }
  throw new Error("the value never settled");
}

test(`${N} pipelined GETs of 16 KiB from a client that reads nothing: parsing stops, then all arrive in order, byte-exact`, async () => {
  let dispatched = 0;
  using server = serve({
    port: 0,
    hostname: "127.0.0.1",
    log: "off",
    handler: (req) => {
      dispatched++;
      return bodyFor(Number(req.query.get("i")));
    },
  });
  const c = await RawClient.connect(server.port);
  c.pause();
  let batch = "";
  for (let i = 0; i < N; i++) batch += `GET /?i=${i} HTTP/1.1\r\nHost: t\r\n\r\n`;
  await c.send(batch);
  // Some answers are made, then the server must stop. The loopback socket buffers take the first
  // few MiB whatever the server does (measured: ~4.2 MB, about 260 of these responses, with Linux's
  // default tcp_wmem max of 4 MiB; the server's own queue then held ~66 KB), so the bound seen from
  // here is "well short of all of them", not outputHighWater itself.
  await pollUntil(() => dispatched > 0, 5000, "the first dispatch");
  const stalled = await settle(() => dispatched, 300, 10_000);
  expect(stalled).toBeGreaterThan(0);
  expect(stalled).toBeLessThan(N / 2);
  expect(server.connectionCount).toBe(1);

  c.resume();
  for (let i = 0; i < N; i++) {
    const res = await c.response(10_000);
    expect(res.status).toBe(200);
    const body = res.text();
    if (body !== bodyFor(i)) {
      const at = [...body].findIndex((ch, k) => ch !== bodyFor(i)[k]);
      throw new Error(`response ${i} is out of order or damaged from byte ${at}: ${JSON.stringify(body.slice(at, at + 16))}`);
    }
  }
  expect(dispatched).toBe(N);
  expect(c.closed).toBe(false);
  c.close();
});

test("the bound holds for responses of a stream too: a paused client stalls a streaming handler", async () => {
  let pulled = 0;
  const piece = new Uint8Array(16 * 1024).fill(121);
  using server = serve({
    port: 0,
    hostname: "127.0.0.1",
    log: "off",
    fetch: () =>
      new Response(
        new ReadableStream<Uint8Array>({
          pull(controller) {
            pulled++;
            if (pulled > 4000) controller.close();
            else controller.enqueue(piece);
          },
        }),
      ),
  });
  const c = await RawClient.connect(server.port);
  c.pause();
  await c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  await pollUntil(() => pulled > 0, 5000, "the first pull");
  const stalled = await settle(() => pulled, 300, 10_000);
  // 4000 pieces is 64 MiB: far more than any kernel buffer holds.
  expect(stalled).toBeLessThan(1000);
  c.resume();
  const res = await c.response(30_000);
  expect(res.body.length).toBe(4000 * piece.length);
  c.close();
});

test("a connection's queued output is never overwritten by another connection's responses", async () => {
  let dispatched = 0;
  using server = serve({
    port: 0,
    hostname: "127.0.0.1",
    log: "off",
    handler: (req) => {
      dispatched++;
      return (req.path === "/a" ? "A" : "B").repeat(16 * 1024);
    },
  });
  const a = await RawClient.connect(server.port);
  a.pause();
  await a.send(`GET /a HTTP/1.1\r\nHost: t\r\n\r\n`.repeat(N));
  await pollUntil(() => dispatched > 0, 5000, "the first dispatch");
  await settle(() => dispatched, 300, 10_000);
  // Another client is answered while the first one's tail waits for the kernel.
  const b = await RawClient.connect(server.port);
  for (let i = 0; i < 20; i++) {
    await b.send(`GET /b HTTP/1.1\r\nHost: t\r\n\r\n`);
    expect((await b.response()).text()).toBe("B".repeat(16 * 1024));
  }
  b.close();
  a.resume();
  for (let i = 0; i < N; i++) {
    const text = (await a.response(10_000)).text();
    if (text !== "A".repeat(16 * 1024)) {
      const at = text.search(/[^A]/);
      throw new Error(`response ${i} to A holds other bytes from ${at}: ${JSON.stringify(text.slice(at, at + 16))}`);
    }
  }
  a.close();
});
