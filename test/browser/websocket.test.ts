// A page in headless Chromium talks WebSocket to our serve(): it gets the subprotocol the app selects,
// exchanges text and binary (ArrayBuffer) messages, then the server closes with 4002 "bye" and the page
// records the close code, reason and wasClean. The page is inline HTML from a route on the same server.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser } from "playwright-core";
import { haveChromium, launchChromium } from "../helpers/chromium.ts";
import { serve } from "../../src/serve.ts";
import { pollUntil } from "../helpers/poll.ts";

// The page offers two subprotocols (the app selects the second), sends text, then 1,024 bytes as an ArrayBuffer, checks each echo, then asks to be closed.
const PAGE = `<!doctype html>
<title>ws</title>
<script>
const log = [];
const ws = new WebSocket("ws://" + location.host + "/ws", ["chat", "superchat"]);
ws.binaryType = "arraybuffer";
const sent = new Uint8Array(1024).map((_, i) => (i * 7) & 255);
ws.onopen = () => { log.push("open:" + ws.protocol); ws.send("hello from the page ✓"); };
ws.onmessage = (e) => {
  if (typeof e.data === "string") {
    log.push("text:" + e.data);
    ws.send(sent.buffer);
  } else {
    const got = new Uint8Array(e.data);
    const same = got.length === sent.length && got.every((b, i) => b === sent[i]);
    log.push("binary:" + got.length + ":" + (same ? "same" : "different"));
    ws.send("close me");
  }
};
ws.onerror = () => log.push("error");
ws.onclose = (e) => { window.result = { log, code: e.code, reason: e.reason, wasClean: e.wasClean }; };
</script>`;

let browser: Browser;
let server: any;
const serverCloses: { code: number; reason: string }[] = [];

beforeAll(async () => {
  if (!haveChromium) return;
  server = serve({
    port: 0,
    hostname: "127.0.0.1",
    routes: { "/": new Response(PAGE, { headers: { "Content-Type": "text/html; charset=utf-8" } }) },
    fetch(req, srv) {
      const headers = { "Sec-WebSocket-Protocol": "superchat" };
      if (new URL(req.url).pathname === "/ws" && srv.upgrade(req, { headers })) return;
      return new Response("not found", { status: 404 });
    },
    websocket: {
      message(ws: any, m: string | Buffer) {
        if (m === "close me") ws.close(4002, "bye");
        else ws.send(m);
      },
      close(_ws: any, code: number, reason: string) {
        serverCloses.push({ code, reason });
      },
    },
  });
  browser = await launchChromium();
}, 30_000);

afterAll(async () => {
  if (!haveChromium) return;
  await browser?.close();
  await server?.stop(true);
});

describe.skipIf(!haveChromium)("in Chromium", () => {
  test("the selected subprotocol, text and binary echo, then the server's close with 4002 'bye' is seen, cleanly", async () => {
    const page = await browser.newPage();
    try {
      await page.goto(server.url.href);
      await page.waitForFunction("window.result !== undefined", undefined, { timeout: 10_000 });
      const result = await page.evaluate("window.result");
      expect(result).toEqual({
        log: ["open:superchat", "text:hello from the page ✓", "binary:1024:same"],
        code: 4002,
        reason: "bye",
        wasClean: true,
      });
      await pollUntil(() => serverCloses.length > 0, 5000, "the server's close handler");
      expect(serverCloses).toEqual([{ code: 4002, reason: "bye" }]);
    } finally {
      await page.close();
    }
  }, 30_000);
});
