// A long-lived keep-alive connection that is never quiet for long must never be cut, whatever mix of
// requests it makes: each request's timers (head, body, handler, send, idle) count from that request,
// not from an earlier one. Every timeout here is 1000 ms and no pause is longer than 300 ms, over
// about eight timeouts' worth of time; a deadline kept from an earlier request would pass within it
// (the server's sweep looks once a second, so 2.1 s of one kind of timer is enough to be sure).
import { expect, test } from "bun:test";
import { serve } from "../../src/index.ts";
import { RawClient } from "../helpers/raw-client.ts";

const PAUSE = 300;
const BIG = new Uint8Array(32 * 1024 * 1024).fill(0x61); // more than the socket buffers hold, even grown by the kernel

test("a busy connection outlives every timeout with a mix of heads, uploads, slow handlers and downloads", async () => {
  using s = serve({
    port: 0,
    hostname: "127.0.0.1",
    log: "off",
    headerTimeout: 1000,
    bodyTimeout: 1000,
    handlerTimeout: 1000,
    sendTimeout: 1000,
    keepAliveTimeout: 1000,
    async handler(req) {
      if (req.path === "/upload") return `got ${(await req.text()).length}`;
      if (req.path === "/slow") {
        await Bun.sleep(PAUSE);
        return "slow";
      }
      if (req.path === "/big") return { body: BIG };
      return "ok";
    },
  });
  const c = await RawClient.connect(s.port);
  const steps: [string, () => Promise<void>][] = [
    [
      "a head in two pieces",
      async () => {
        await c.send("GET /a HTTP/1.1\r\n");
        await Bun.sleep(PAUSE);
        await c.send("Host: t\r\n\r\n");
        expect((await c.response()).text()).toBe("ok");
      },
    ],
    [
      "a body in two pieces",
      async () => {
        await c.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n12345");
        await Bun.sleep(PAUSE);
        await c.send("67890");
        expect((await c.response()).text()).toBe("got 10");
      },
    ],
    [
      "a slow handler",
      async () => {
        await c.send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n");
        expect((await c.response()).text()).toBe("slow");
      },
    ],
    [
      "a download read late",
      async () => {
        c.pause();
        await c.send("GET /big HTTP/1.1\r\nHost: t\r\n\r\n");
        await Bun.sleep(PAUSE);
        c.resume();
        expect((await c.response()).body.length).toBe(BIG.length);
      },
    ],
    [
      "quick requests, each after a pause (idle to idle: 2.1 s in all)",
      async () => {
        for (let i = 0; i < 7; i++) {
          await Bun.sleep(PAUSE);
          await c.send("GET /b HTTP/1.1\r\nHost: t\r\n\r\n");
          expect((await c.response()).text()).toBe("ok");
        }
      },
    ],
    [
      "slow handlers pipelined (one handler after another: 2.1 s in all)",
      async () => {
        await c.send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n".repeat(7));
        for (let i = 0; i < 7; i++) expect((await c.response()).text()).toBe("slow");
      },
    ],
  ];
  const t0 = performance.now();
  let done = 0;
  while (performance.now() - t0 < 8000) {
    const [name, step] = steps[done % steps.length]!;
    await step();
    if (c.ended) throw new Error(`the server closed the connection after step ${done} (${name})`);
    done++;
  }
  expect(done).toBeGreaterThanOrEqual(steps.length);
  expect(c.ended).toBe(false);
}, 20_000);
