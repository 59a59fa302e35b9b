// WebSocket through real clients nobody here wrote: Bun's own WebSocket and the `ws` npm package, against
// our serve(). Echo of text and of binary at every length boundary of the frame header, upgrade()'s data
// and headers, subprotocol selection, close codes both ways, pings, permessage-deflate, many clients.
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type WsType from "ws";
import { serve } from "../../src/serve.ts";
import { REPO } from "../helpers/child.ts";
import { pollUntil, Wakeup } from "../helpers/poll.ts";
import { connectWs, patternBytes, within, wrapWs, type WhatwgSocket, type WsClient } from "../helpers/ws-client.ts";

// Bun resolves the bare name "ws" to a built-in stand-in written over its own client, so importing "ws"
// would test Bun's client twice. The package's own file is the real `ws`.
const WS: typeof WsType = require(join(REPO, "node_modules", "ws", "index.js"));

interface Conn {
  id: string | null;
  user: string | null;
  path: string;
}

interface Closed {
  id: string | null;
  code: number;
  reason: string;
}

interface Echo {
  url(path: string, query?: Record<string, string>): string;
  /** What the server's close handler was given, in order. */
  closes: Closed[];
  /** Payloads of the pings the server's ping handler heard. */
  pings: string[];
  wake: Wakeup;
  stop(): Promise<void>;
}

const servers: Echo[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

/**
 * An echo server. upgrade() gets `{ id, user, path }` as data (from the query and the path) and the
 * headers `X-Hello: world`, plus `Sec-WebSocket-Protocol: <protocol>` when the query names one. The
 * message "whoami" is answered with the data as JSON; /close-me is closed with 4001 "done" at open,
 * /ping-me is pinged at open, and on /compressed every echo is sent with `compress` set.
 */
function startEcho(websocket: Record<string, unknown> = {}): Echo {
  const closes: Closed[] = [];
  const pings: string[] = [];
  const wake = new Wakeup();
  const server = serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(req, srv) {
      const url = new URL(req.url);
      const q = url.searchParams;
      const headers: Record<string, string> = { "X-Hello": "world" };
      const protocol = q.get("protocol");
      if (protocol) headers["Sec-WebSocket-Protocol"] = protocol;
      const data: Conn = { id: q.get("id"), user: q.get("user"), path: url.pathname };
      if (srv.upgrade(req, { data, headers })) return;
      return new Response("not a WebSocket request", { status: 400 });
    },
    websocket: {
      open(ws: any) {
        if (ws.data.path === "/close-me") ws.close(4001, "done");
        else if (ws.data.path === "/ping-me") ws.ping("from server");
      },
      message(ws: any, m: string | Buffer) {
        if (m === "whoami") ws.send(JSON.stringify(ws.data));
        else ws.send(m, ws.data.path === "/compressed");
      },
      close(ws: any, code: number, reason: string) {
        closes.push({ id: ws.data.id, code, reason });
        wake.fire();
      },
      ping(_ws: any, data: Buffer) {
        pings.push(Buffer.from(data).toString());
        wake.fire();
      },
      ...websocket,
    },
  });
  const echo: Echo = {
    url: (path, query = {}) => {
      const u = new URL(path, `ws://127.0.0.1:${server.port}`);
      for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
      return u.href;
    },
    closes,
    pings,
    wake,
    stop: async () => {
      await server.stop(true);
    },
  };
  servers.push(echo);
  return echo;
}

/** The close the server's handler got for connection `id`. */
function serverClose(s: Echo, id: string): Promise<Closed> {
  return pollUntil(() => s.closes.find((c) => c.id === id), 5000, `the server's close handler for ${id}`, { wake: s.wake });
}

type Connect = (url: string, protocols?: string[]) => Promise<WsClient<WhatwgSocket>>;

const CLIENTS: [string, Connect][] = [
  ["Bun's WebSocket", (url, protocols) => connectWs(url, protocols)],
  ["ws", (url, protocols) => wrapWs(new WS(url, protocols))],
];

const BINARY_SIZES = [0, 1, 125, 126, 65535, 65536, 1 << 20];

describe.each(CLIENTS)("%s", (_name, connect) => {
  test("opens, and echoes text (ASCII, multi-byte UTF-8, 70,000 characters)", async () => {
    const s = startEcho();
    const c = await connect(s.url("/"));
    expect(c.socket.readyState).toBe(1);
    await c.echo("hello");
    await c.echo("");
    await c.echo("héllo wörld — ✓ 🌍");
    await c.echo("ab🌍".repeat(17_500));
    c.socket.close();
    await within(c.closed, 5000, "the close");
  });

  test(`binary comes back byte for byte at ${BINARY_SIZES.join(", ")} bytes`, async () => {
    const s = startEcho();
    const c = await connect(s.url("/"));
    for (const size of BINARY_SIZES) {
      const sent = patternBytes(size, size);
      c.socket.send(sent);
      const got = await c.next(10_000);
      expect(typeof got).not.toBe("string");
      expect((got as Uint8Array).length).toBe(size);
      expect(Buffer.from(got as Uint8Array).equals(Buffer.from(sent))).toBe(true);
    }
    c.socket.close();
  }, 30_000);

  test("upgrade()'s data reaches the handlers", async () => {
    const s = startEcho();
    const c = await connect(s.url("/room/7", { id: "d1", user: "ada" }));
    c.socket.send("whoami");
    expect(JSON.parse((await c.next()) as string)).toEqual({ id: "d1", user: "ada", path: "/room/7" });
    c.socket.close(1000);
    expect(await serverClose(s, "d1")).toEqual({ id: "d1", code: 1000, reason: "" });
  });

  test("the subprotocol the app passes in upgrade()'s headers is the one selected", async () => {
    const s = startEcho();
    const c = await connect(s.url("/", { protocol: "superchat" }), ["chat", "superchat"]);
    expect(c.socket.protocol).toBe("superchat");
    await c.echo("still works");
    c.socket.close();
  });

  test("the client closes with 4000 'bye': the server's close handler gets them, the close is clean", async () => {
    const s = startEcho();
    const c = await connect(s.url("/", { id: "c1" }));
    c.socket.close(4000, "bye");
    const closed = await within(c.closed, 5000, "the client's close");
    expect([closed.code, closed.wasClean]).toEqual([4000, true]);
    expect(await serverClose(s, "c1")).toEqual({ id: "c1", code: 4000, reason: "bye" });
  });

  test("the server's answer to the client's close echoes its code and reason, as Bun.serve's does", async () => {
    const s = startEcho();
    const c = await connect(s.url("/"));
    c.socket.close(4000, "bye");
    expect(await within(c.closed, 5000, "the client's close")).toEqual({ code: 4000, reason: "bye", wasClean: true });
  });

  test("the server closes with 4001 'done': the client sees them, the close is clean", async () => {
    const s = startEcho();
    const c = await connect(s.url("/close-me", { id: "s1" }));
    expect(await within(c.closed, 5000, "the close")).toEqual({ code: 4001, reason: "done", wasClean: true });
    expect((await serverClose(s, "s1")).code).toBe(4001);
  });

  test("200 clients at once, each echoing 5 messages", async () => {
    const s = startEcho();
    const clients = await Promise.all(Array.from({ length: 200 }, (_, i) => connect(s.url("/", { id: `m${i}` }), undefined)));
    await Promise.all(
      clients.map(async (c, i) => {
        for (let j = 0; j < 5; j++) {
          await c.echo(`client ${i} message ${j}`, 10_000);
          await c.echo(patternBytes(100 + j * 1000, i), 10_000);
        }
      }),
    );
    for (const c of clients) c.socket.close(1000, "done");
    await Promise.all(clients.map((c) => within(c.closed, 10_000, "every close")));
    await pollUntil(() => s.closes.length === 200, 10_000, "200 server-side closes", { wake: s.wake });
    expect(s.closes.every((c) => c.code === 1000 && c.reason === "done")).toBe(true);
  }, 60_000);
});

describe("Bun's WebSocket only", () => {
  test("with no subprotocol selected by the app none is sent (so Bun's client, which offered one, refuses)", async () => {
    const s = startEcho();
    await expect(connectWs(s.url("/"), ["chat"])).rejects.toThrow("Missing client protocol");
  });

  test("with no subprotocol offered or selected, it opens with none", async () => {
    const s = startEcho();
    const c = await connectWs(s.url("/"));
    expect(c.socket.protocol).toBe("");
    await c.echo("no protocol");
    c.socket.close();
  });

  test("permessage-deflate is negotiated with it, and 1 MiB of compressible text echoes intact", async () => {
    const s = startEcho({ perMessageDeflate: true });
    const c = await connectWs(s.url("/compressed"));
    expect(c.socket.extensions).toStartWith("permessage-deflate");
    await c.echo("compress me, please. ".repeat(50_000), 10_000);
    await c.echo(patternBytes(100_000), 10_000);
    c.socket.close();
  }, 30_000);
});

/** A `ws` client with the response head it got kept (its 'upgrade' event). */
function wsClient(url: string, protocols?: string[], options: WsType.ClientOptions = {}) {
  const socket = new WS(url, protocols, options);
  const upgrade = Promise.withResolvers<Record<string, string | string[] | undefined>>();
  socket.on("upgrade", (res) => upgrade.resolve(res.headers));
  socket.on("error", () => {}); // reported through the promises below
  return { socket, headers: upgrade.promise };
}

/** Whether each text or binary message `socket` receives has RSV1 (permessage-deflate's "compressed") set. */
function watchRsv1(socket: WsType): boolean[] {
  const seen: boolean[] = [];
  socket.once("open", () => {
    // ws's Receiver reads each frame's first two bytes in getInfo(); data frames set _compressed from RSV1.
    const receiver = (socket as any)._receiver;
    const getInfo = receiver.getInfo;
    receiver.getInfo = function (this: any, cb: unknown) {
      const starts = this._bufferedBytes >= 2 && this._fragmented === 0; // a message's first frame
      getInfo.call(this, cb);
      if (starts && (this._opcode === 1 || this._opcode === 2)) seen.push(this._compressed);
    };
  });
  return seen;
}

describe("ws only", () => {
  test("upgrade()'s headers reach the client in the 101", async () => {
    const s = startEcho();
    const { socket, headers } = wsClient(s.url("/"));
    const c = await wrapWs(socket);
    const h = await headers;
    expect(h["x-hello"]).toBe("world");
    expect(h["sec-websocket-protocol"]).toBeUndefined();
    await c.echo("after the headers");
    socket.close();
  });

  test("with no subprotocol selected by the app none is sent (so ws, which offered one, refuses)", async () => {
    const s = startEcho();
    const { socket, headers } = wsClient(s.url("/"), ["chat"]);
    const error = new Promise<Error>((resolve) => socket.on("error", resolve));
    const h = await within(headers, 5000, "the 101");
    expect(h["sec-websocket-protocol"]).toBeUndefined();
    expect((await within(error, 5000, "ws's handshake error")).message).toBe("Server sent no subprotocol");
  });

  test("a text message sent in fragments, split inside a character, comes back whole", async () => {
    const s = startEcho();
    const { socket } = wsClient(s.url("/"));
    const c = await wrapWs(socket);
    const whole = Buffer.from("fragments: héllo 🌍 wörld");
    const cuts = [0, 13, 14, 20, 22, whole.length]; // 13|14 and 20|22 fall inside é and 🌍
    for (let i = 1; i < cuts.length; i++) {
      socket.send(whole.subarray(cuts[i - 1], cuts[i]), { binary: false, fin: i === cuts.length - 1 });
    }
    expect(await c.next()).toBe(whole.toString());
    socket.close();
  });

  test("a message over maxPayloadLength closes the connection with 1009", async () => {
    const s = startEcho({ maxPayloadLength: 1000 });
    const { socket } = wsClient(s.url("/"));
    const c = await wrapWs(socket);
    await c.echo(patternBytes(1000));
    socket.send(patternBytes(1001));
    expect((await within(c.closed, 5000, "the close")).code).toBe(1009);
  });

  test("the client's ping gets a pong with its payload; the server's ping handler hears it", async () => {
    const s = startEcho();
    const { socket } = wsClient(s.url("/"));
    await wrapWs(socket);
    const pong = new Promise<string>((resolve) => socket.on("pong", (d) => resolve(d.toString())));
    socket.ping("are you there");
    expect(await within(pong, 5000, "the pong")).toBe("are you there");
    await pollUntil(() => s.pings.includes("are you there"), 5000, "the server's ping handler", { wake: s.wake });
    socket.close();
  });

  test("the server's ws.ping() reaches the client's 'ping' event", async () => {
    const s = startEcho();
    const { socket } = wsClient(s.url("/ping-me"));
    const ping = new Promise<string>((resolve) => socket.on("ping", (d) => resolve(d.toString())));
    const c = await wrapWs(socket);
    expect(await within(ping, 5000, "the server's ping")).toBe("from server");
    await c.echo("after the ping");
    socket.close();
  });

  describe("permessage-deflate", () => {
    const big = "The quick brown fox jumps over the lazy dog. ".repeat(24_000); // ~1 MiB, compressible
    const bigBinary = new Uint8Array(1 << 20).map((_, i) => (i % 64) & 0xff);

    test("negotiated: large compressible messages echo intact, and send(m, true) sends them compressed", async () => {
      const s = startEcho({ perMessageDeflate: true });
      const { socket, headers } = wsClient(s.url("/compressed"), undefined, { perMessageDeflate: true });
      const rsv1 = watchRsv1(socket);
      const c = await wrapWs(socket);
      expect((await headers)["sec-websocket-extensions"]).toStartWith("permessage-deflate");
      expect(socket.extensions).toStartWith("permessage-deflate");
      await c.echo(big, 10_000);
      await c.echo(bigBinary, 10_000);
      await c.echo("small", 10_000);
      for (let i = 0; i < 20; i++) await c.echo(`message ${i} `.repeat(200 + i), 10_000); // context carried over
      expect(rsv1).toHaveLength(23);
      expect(rsv1.slice(0, 2)).toEqual([true, true]);
      socket.close(1000);
      await within(c.closed, 5000, "the close");
    }, 30_000);

    test("negotiated, but send(m) without compress sends plain frames", async () => {
      const s = startEcho({ perMessageDeflate: true });
      const { socket } = wsClient(s.url("/"), undefined, { perMessageDeflate: true });
      const rsv1 = watchRsv1(socket);
      const c = await wrapWs(socket);
      expect(socket.extensions).toStartWith("permessage-deflate");
      await c.echo(big, 10_000);
      expect(rsv1).toEqual([false]);
      socket.close();
    }, 30_000);

    test("a client asking for server_max_window_bits=10 is declined, or answered and held to it", async () => {
      // Repeats 4 KiB apart: a compressor with a window over 1 KiB refers back to them, and ws inflates
      // with the window the answer names, so a server that says 10 and uses more fails the inflate.
      const block = patternBytes(4096, 7).map((b, i) => b ^ ((i * i) & 0xff));
      const spread = Buffer.concat(Array.from({ length: 50 }, () => block));
      const s = startEcho({ perMessageDeflate: true });
      const { socket, headers } = wsClient(s.url("/compressed"), undefined, {
        perMessageDeflate: { serverMaxWindowBits: 10, serverNoContextTakeover: true },
      });
      const c = await wrapWs(socket);
      const answer = (await headers)["sec-websocket-extensions"];
      if (answer !== undefined) {
        const bits = /server_max_window_bits=(\d+)/.exec(String(answer));
        expect(bits).not.toBeNull();
        expect(Number(bits![1])).toBeLessThanOrEqual(10);
      }
      await c.echo(spread, 10_000);
      await c.echo(spread, 10_000);
      socket.close();
    }, 30_000);

    test("not offered by the server: no extension, and the echo still works", async () => {
      const s = startEcho();
      const { socket, headers } = wsClient(s.url("/compressed"), undefined, { perMessageDeflate: true });
      const rsv1 = watchRsv1(socket);
      const c = await wrapWs(socket);
      expect((await headers)["sec-websocket-extensions"]).toBeUndefined();
      expect(socket.extensions).toBe("");
      await c.echo(big, 10_000);
      expect(rsv1).toEqual([false]);
      socket.close();
    }, 30_000);
  });
});
