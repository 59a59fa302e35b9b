// Hono's upgradeWebSocket and websocket from `hono/bun`, unchanged, on our serve(): a Bun WebSocket
// client gets the greeting from onOpen, echoes text and binary through onMessage (Hono hands binary on
// as the message's ArrayBuffer, so it must be exactly the message), and its close reaches onClose; a
// client that offers a subprotocol is refused, since Hono selects none.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Hono } from "hono";
import { upgradeWebSocket, websocket } from "hono/bun";
import { serve } from "../../src/serve.ts";
import { pollUntil, Wakeup } from "../helpers/poll.ts";
import { connectWs, patternBytes, within } from "../helpers/ws-client.ts";

const closes: { code: number; reason: string }[] = [];
const wake = new Wakeup();

const app = new Hono();
app.get("/", (c) => c.text("plain HTTP still works"));
app.get(
  "/ws",
  upgradeWebSocket((c) => {
    const name = c.req.query("name") ?? "nobody";
    return {
      onOpen(_event, ws) {
        ws.send(`welcome ${name}`);
      },
      onMessage(event, ws) {
        ws.send(typeof event.data === "string" ? `echo: ${event.data}` : (event.data as ArrayBuffer));
      },
      onClose(event) {
        closes.push({ code: event.code, reason: event.reason });
        wake.fire();
      },
    };
  }),
);

let server: any;
beforeAll(() => {
  server = serve({ port: 0, hostname: "127.0.0.1", fetch: app.fetch, websocket });
});
afterAll(async () => {
  await server?.stop(true);
});

test("onOpen, onMessage (text and binary) and onClose, through a Bun WebSocket", async () => {
  const c = await connectWs(`ws://127.0.0.1:${server.port}/ws?name=hono`);
  expect(await c.next()).toBe("welcome hono");
  c.socket.send("hi");
  expect(await c.next()).toBe("echo: hi");
  for (const size of [1, 126, 70_000]) await c.echo(patternBytes(size, size), 10_000);
  c.socket.close(4000, "bye");
  expect((await within(c.closed, 5000, "the close")).code).toBe(4000);
  await pollUntil(() => closes.length > 0, 5000, "Hono's onClose", { wake });
  expect(closes).toEqual([{ code: 4000, reason: "bye" }]);
});

test("a client that offers a subprotocol is refused: Hono selects none, and we send none", async () => {
  // Hono never passes Sec-WebSocket-Protocol to upgrade() (it relies on Bun.serve echoing the client's
  // first). We send a subprotocol only when the app selects one (RFC 6455 §4.2.2), so Bun's client,
  // like ws and browsers, fails the handshake: the difference the README's WebSocket table names.
  await expect(connectWs(`ws://127.0.0.1:${server.port}/ws?name=proto`, ["chat", "other"])).rejects.toThrow("Missing client protocol");
});

test("the app's plain routes answer beside it, and /ws without an upgrade goes on to a 404", async () => {
  const base = `http://127.0.0.1:${server.port}`;
  const plain = await fetch(`${base}/`);
  expect(await plain.text()).toBe("plain HTTP still works");
  expect((await fetch(`${base}/ws`)).status).toBe(404);
});
