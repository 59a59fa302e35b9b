// WebSockets through the proxy: a Bun.serve backend with echo handlers (and one that speaks first), a
// proxy in front of it, and real clients (Bun's WebSocket and the `ws` package) going through. The 101
// is the upstream's (its Sec-WebSocket-Accept and its own fields), messages of every kind cross both
// ways, and a close from either side closes the other and frees the tunnel. An upgrade the backend
// refuses comes back as its status; one to a closed port is a 502.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { join } from "node:path";
import type WsType from "ws";
import { serve, type Server } from "../../src/index.ts";
import { REPO } from "../helpers/child.ts";
import { pollUntil, Wakeup } from "../helpers/poll.ts";
import { exchange, RawClient } from "../helpers/raw-client.ts";
import { connectWs, patternBytes, within, type WhatwgSocket, type WsClient, wrapWs } from "../helpers/ws-client.ts";
import { closedPort } from "./upstreams.ts";

// Bun resolves the bare name "ws" to its own stand-in; the package's file is the real `ws`.
const WS: typeof WsType = require(join(REPO, "node_modules", "ws", "index.js"));

const MiB = 1024 * 1024;
const KEY = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT = createHash("sha1").update(`${KEY}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");

interface Closed {
  kind: string;
  code: number;
  reason: string;
}

let backend: ReturnType<typeof Bun.serve>;
let server: Server;
/** What the backend's close handler was given, in order. */
const closes: Closed[] = [];
const wake = new Wakeup();

beforeAll(() => {
  backend = Bun.serve<{ kind: string }>({
    port: 0,
    hostname: "127.0.0.1",
    fetch(req, srv) {
      const path = new URL(req.url).pathname;
      if (path === "/ws/refuse") return new Response("go away", { status: 403, headers: { "X-Refused": "yes" } });
      const kind = path.split("/")[2] ?? "echo";
      if (srv.upgrade(req, { data: { kind }, headers: { "X-Upstream": "bun" } })) return undefined;
      return new Response("not a websocket", { status: 400 });
    },
    websocket: {
      maxPayloadLength: 4 * MiB,
      open(ws) {
        if (ws.data.kind === "first") ws.send("hello first");
      },
      message(ws, msg) {
        if (msg === "close-me") return ws.close(4001, "bye");
        if (msg === "drop-me") return ws.terminate();
        ws.send(msg);
      },
      close(ws, code, reason) {
        closes.push({ kind: ws.data.kind, code, reason });
        wake.fire();
      },
    },
  });
  server = serve({
    port: 0,
    hostname: "127.0.0.1",
    log: "off",
    proxy: { "/ws": `http://127.0.0.1:${backend.port}`, "/dead": `http://127.0.0.1:${closedPort()}` },
  });
});

afterAll(async () => {
  await server.stop(true);
  backend.stop(true);
});

const url = (path: string) => `ws://127.0.0.1:${server.port}${path}`;

/** A `ws` client with the response head it got kept (its 'upgrade' event). */
function wsClient(path: string) {
  const socket = new WS(url(path));
  const upgrade = Promise.withResolvers<Record<string, string | string[] | undefined>>();
  socket.on("upgrade", (res) => upgrade.resolve(res.headers));
  socket.on("error", () => {}); // reported through the promises
  return { socket, headers: upgrade.promise };
}

type Connect = (path: string) => Promise<WsClient<WhatwgSocket>>;
const CLIENTS: [string, Connect][] = [
  ["Bun's WebSocket", (path) => connectWs(url(path)) as Promise<WsClient<WhatwgSocket>>],
  ["ws", (path) => wrapWs(wsClient(path).socket as unknown as WhatwgSocket)],
];

/** The backend's close handler has run `n` times in all; resolves with the latest. */
async function backendClosed(n: number): Promise<Closed> {
  await pollUntil(() => closes.length >= n, 5000, "the backend's close handler", { wake });
  return closes[n - 1]!;
}

/** The tunnel is gone: the proxy holds no connection. */
async function tunnelsGone(): Promise<void> {
  await pollUntil(() => server.connectionCount === 0, 5000, "the proxy to hold no connection");
}

describe("the handshake", () => {
  test("raw: the 101 carries the upstream's Sec-WebSocket-Accept and its own fields", async () => {
    const c = await RawClient.connect(server.port);
    await c.send(`GET /ws/echo HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    const r = await c.response(); // (exchange() would skip a 1xx)
    c.close();
    expect(r.status).toBe(101);
    expect(r.header("sec-websocket-accept")).toBe(ACCEPT);
    expect(r.header("x-upstream")).toBe("bun");
    expect(r.header("upgrade")?.toLowerCase()).toBe("websocket");
    expect(r.header("connection")?.toLowerCase()).toContain("upgrade");
    await tunnelsGone();
  });

  test("ws: the 101's fields reach the client", async () => {
    const { socket, headers } = wsClient("/ws/echo");
    const c = await wrapWs(socket as unknown as WhatwgSocket);
    const h = await headers;
    expect(h["x-upstream"]).toBe("bun");
    expect(h["sec-websocket-accept"]).toBeDefined(); // ws checks it against its key: it opened
    await c.echo("after the handshake");
    socket.close();
    await c.closed;
    await tunnelsGone();
  });
});

for (const [name, connect] of CLIENTS) {
  describe(`${name} through the proxy`, () => {
    test("text and binary messages echo, small and 1 MiB", async () => {
      const c = await connect("/ws/echo");
      await c.echo("hello through the proxy");
      await c.echo("héllo 🌍 wörld");
      await c.echo(patternBytes(1));
      await c.echo(patternBytes(125));
      await c.echo(patternBytes(65_536));
      await c.echo("t".repeat(MiB), 10_000);
      await c.echo(patternBytes(MiB, 7), 10_000);
      // Many in a row, answered in order.
      for (let i = 0; i < 50; i++) c.socket.send(`n${i}`);
      for (let i = 0; i < 50; i++) expect(await c.next()).toBe(`n${i}`);
      c.socket.close();
      await c.closed;
      await tunnelsGone();
    }, 30_000);

    test("an upstream that speaks first: its message arrives right after the open", async () => {
      const c = await connect("/ws/first");
      expect(await c.next()).toBe("hello first");
      await c.echo("and back");
      c.socket.close();
      await c.closed;
      await tunnelsGone();
    });

    test("the client closes: the upstream hears its code and reason, the tunnel goes", async () => {
      const before = closes.length;
      const c = await connect("/ws/echo");
      await c.echo("before the close");
      c.socket.close(4000, "client done");
      const closed = await within(c.closed, 5000, "the client's close");
      expect(closed.code).toBe(4000);
      const seen = await backendClosed(before + 1);
      expect(seen).toEqual({ kind: "echo", code: 4000, reason: "client done" });
      await tunnelsGone();
    });

    test("the upstream closes: the client gets its code and reason, the tunnel goes", async () => {
      const c = await connect("/ws/echo");
      c.socket.send("close-me");
      const closed = await within(c.closed, 5000, "the close");
      expect(closed.code).toBe(4001);
      expect(closed.reason).toBe("bye");
      await tunnelsGone();
    });

    test("the upstream drops the connection: the client's closes too", async () => {
      const c = await connect("/ws/echo");
      await c.echo("alive");
      c.socket.send("drop-me");
      const closed = await within(c.closed, 5000, "the close");
      expect(closed.code).toBe(1006);
      await tunnelsGone();
    });
  });
}

test("ws: a client that drops its connection: the upstream's socket closes", async () => {
  const before = closes.length;
  const { socket } = wsClient("/ws/echo");
  const c = await wrapWs(socket as unknown as WhatwgSocket);
  await c.echo("alive");
  socket.terminate();
  const seen = await backendClosed(before + 1);
  expect(seen.kind).toBe("echo");
  expect(seen.code).toBe(1006);
  await tunnelsGone();
});

describe("upgrades that fail", () => {
  test("the upstream refuses with 403: the client gets the 403, its body and fields", async () => {
    const r = await exchange(
      server.port,
      `GET /ws/refuse HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    expect(r.status).toBe(403);
    expect(r.text()).toBe("go away");
    expect(r.header("x-refused")).toBe("yes");
    expect(r.headers.has("sec-websocket-accept")).toBe(false);
  });

  test("ws: a 403 reaches the client as its unexpected response", async () => {
    const socket = new WS(url("/ws/refuse"));
    const res = await within(
      new Promise<number>((resolve) => socket.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0))),
      5000,
      "the unexpected response",
    );
    socket.on("error", () => {});
    expect(res).toBe(403);
    socket.terminate();
  });

  test("Bun's WebSocket: a 403 fails the connection (no open)", async () => {
    const socket = new WebSocket(url("/ws/refuse"));
    const outcome = await within(
      new Promise<string>((resolve) => {
        socket.addEventListener("open", () => resolve("open"));
        socket.addEventListener("close", () => resolve("closed"));
      }),
      5000,
      "the failed connection",
    );
    expect(outcome).toBe("closed");
  });

  test("an upgrade to a closed port: 502", async () => {
    const r = await exchange(
      server.port,
      `GET /dead/socket HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    expect(r.status).toBe(502);
    const socket = new WS(url("/dead/socket"));
    socket.on("error", () => {});
    const status = await within(
      new Promise<number>((resolve) => socket.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0))),
      5000,
      "the unexpected response",
    );
    expect(status).toBe(502);
    socket.terminate();
  });
});

describe("an idle tunnel", () => {
  test("is closed after the proxy timeout with nothing either way; traffic keeps it open", async () => {
    const quick = serve({ port: 0, hostname: "127.0.0.1", log: "off", proxyTimeout: 400, proxy: { "/ws": `http://127.0.0.1:${backend.port}` } });
    try {
      // Busy: a message every 100 ms for 1.2 s (three timeouts' worth) keeps it open.
      const busy = new WebSocket(`ws://127.0.0.1:${quick.port}/ws/echo`);
      await new Promise((resolve, reject) => ((busy.onopen = resolve), (busy.onerror = reject)));
      let echoed = 0;
      busy.onmessage = () => echoed++;
      for (let i = 0; i < 12; i++) {
        busy.send(`m${i}`);
        await Bun.sleep(100);
      }
      expect(busy.readyState).toBe(WebSocket.OPEN);
      expect(echoed).toBeGreaterThanOrEqual(11);
      // Quiet: closed after about the timeout (the sweep runs at a quarter of it).
      const t0 = performance.now();
      const closed = await new Promise<number>((resolve) => (busy.onclose = () => resolve(performance.now())));
      expect(closed - t0).toBeGreaterThanOrEqual(300);
      expect(closed - t0).toBeLessThan(3000);
    } finally {
      await quick.stop(true);
    }
  });
});
