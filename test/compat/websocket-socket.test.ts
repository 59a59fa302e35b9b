// The ServerWebSocket object against Bun.serve's, with Bun's own WebSocket client (raw TCP where the
// client must stop reading): what send/sendText/sendBinary/ping/pong return, backpressure (-1, 0,
// drain, closeOnBackpressureLimit), ping and pong handlers, close/terminate and the codes each side
// sees, readyState, cork, remoteAddress, data, binaryType and getBufferedAmount().
import { describe, expect, test } from "bun:test";
import { sameOnBoth } from "../helpers/compat.ts";
import type { WsClient } from "../helpers/ws-client.ts";
import { OP, WsRaw } from "../helpers/ws-raw.ts";
import { closeOf, EventLog, openWs, withLog, wsApp } from "../ws/api-helpers.ts";

const text = (data: unknown) => new TextDecoder().decode(data as Uint8Array);

describe("sending", () => {
  test("send, sendText and sendBinary return the payload bytes sent; the state open() sees", async () => {
    const seen = await sameOnBoth(
      ...withLog<{ open: Record<string, unknown>; got: unknown[] }, Record<string, unknown>>(
        (log) =>
          wsApp(
            {
              open(ws: any) {
                log.push({
                  readyState: ws.readyState,
                  remoteAddress: ws.remoteAddress,
                  binaryType: ws.binaryType,
                  buffered: ws.getBufferedAmount(),
                  data: ws.data,
                  send: ws.send("hello"),
                  sendUtf8: ws.send("héllo €"), // UTF-8 bytes, not chars
                  sendText: ws.sendText("hi"),
                  sendBinary: ws.sendBinary(new Uint8Array(5)),
                  sendBytes: ws.send(new Uint8Array(200)),
                  sendBuffer: ws.send(Buffer.from("buf")),
                  sendArrayBuffer: ws.send(new ArrayBuffer(3)),
                  sendLarge: ws.send("x".repeat(70_000)),
                  sendCompressFlag: ws.send("hello", true), // no perMessageDeflate: sent plain
                  sendEmpty: ws.send(""),
                });
              },
            },
            (req) => ({ path: new URL(req.url).pathname, n: 1 }),
          ),
        async ({ port }, log) => {
          const c = await openWs(port, "/p");
          const got: unknown[] = [];
          for (let i = 0; i < 10; i++) {
            const m = await c.next();
            got.push(typeof m === "string" ? ["text", m.length] : ["binary", m.byteLength]);
          }
          c.socket.close();
          return { open: log.entries[0]!, got };
        },
      ),
    );
    expect(seen.open).toEqual({
      readyState: 1,
      remoteAddress: "127.0.0.1",
      binaryType: "nodebuffer",
      buffered: 0,
      data: { path: "/p", n: 1 },
      send: 5,
      sendUtf8: 10,
      sendText: 2,
      sendBinary: 5,
      sendBytes: 200,
      sendBuffer: 3,
      sendArrayBuffer: 3,
      sendLarge: 70_000,
      sendCompressFlag: 5,
      sendEmpty: 0,
    });
    expect(seen.got).toEqual([
      ["text", 5],
      ["text", 7],
      ["text", 2],
      ["binary", 5],
      ["binary", 200],
      ["binary", 3],
      ["binary", 3],
      ["text", 70_000],
      ["text", 5],
      ["text", 0],
    ]);
  });

  test("cork(fn) returns fn's value, and what fn sends arrives in order", async () => {
    const seen = await sameOnBoth(
      () =>
        wsApp({
          message(ws: any) {
            const r = ws.cork((arg: unknown) => {
              ws.send("a");
              ws.sendText("b");
              ws.sendBinary(new Uint8Array([99]));
              ws.send("d");
              return { value: 42, argIsWs: arg === ws };
            });
            ws.send(JSON.stringify(r));
          },
        }),
      async ({ port }) => {
        const c = await openWs(port);
        c.socket.send("go");
        const got: unknown[] = [];
        for (let i = 0; i < 5; i++) {
          const m = await c.next();
          got.push(typeof m === "string" ? m : [...m]);
        }
        c.socket.close();
        return got;
      },
    );
    expect(seen).toEqual(["a", "b", [99], "d", JSON.stringify({ value: 42, argIsWs: true })]);
  });
});

describe("backpressure, over raw TCP to a client that stops reading", () => {
  const CHUNK = new Uint8Array(64 * 1024);
  const FRAME = 10 + CHUNK.length; // a 64 KiB payload needs the 8-byte length (RFC 6455 §5.2)

  /**
   * Sends 64 KiB binary messages to a paused raw client until send() returns 0 (dropped), then lets it
   * read: what send() returned along the way, what the server's handlers saw, and what arrived.
   */
  function flood(websocket: Record<string, unknown>) {
    let log!: EventLog;
    let socket: any;
    return {
      options: () => {
        log = new EventLog();
        return wsApp({
          ...websocket,
          open(ws: any) {
            socket = ws;
            log.push(["open"]);
          },
          drain: () => log.push(["drain"]),
          close: (_ws: any, code: number) => log.push(["close", code]),
        });
      },
      check: async ({ port }: { port: number }) => {
        const raw = await WsRaw.connect(port);
        await log.until((e) => e.length > 0, 5000, "open");
        raw.raw.pause();
        const results: number[] = [];
        let bufferedAtDrop = 0;
        for (let i = 0; i < 2000; i++) {
          const r = socket.send(CHUNK);
          results.push(r);
          if (r === 0) {
            bufferedAtDrop = socket.getBufferedAmount();
            break;
          }
        }
        const firstQueued = results.indexOf(-1);
        const sent = results.filter((r) => r !== 0).length;
        const summary = {
          first: results[0],
          queuedAfterSome: firstQueued > 0,
          onlyMinusOneAfter: results.slice(firstQueued, -1).every((r) => r === -1),
          droppedLast: results.at(-1),
          bufferedAtDrop,
          bufferedWhilePaused: socket.getBufferedAmount() > 0,
        };
        raw.raw.resume();
        return { raw, log, sent, summary, socket };
      },
    };
  }

  // Bun: the first sends go straight out (their byte count), then -1 (queued) once the kernel's buffer
  // is full, then 0 (dropped) once more than backpressureLimit is queued (default 16 MiB). The
  // dropped messages never arrive; `drain` runs once the client reads again.
  for (const limit of [undefined, 1 << 20]) {
    test(`-1 when queued, 0 when dropped past backpressureLimit ${limit ?? "(default 16 MiB)"}, then drain`, async () => {
      const { options, check } = flood(limit === undefined ? {} : { backpressureLimit: limit, closeOnBackpressureLimit: false });
      const seen = await sameOnBoth(options, async (s) => {
        const { raw, log, sent, summary, socket } = await check(s);
        await log.until((e) => e.some(([k]) => k === "drain"), 5000, "drain");
        // Every message send() did not drop arrives, whole; nothing more.
        await raw.raw.until(() => raw.raw.pendingBytes >= sent * FRAME, 10_000, "every queued message");
        const frames = raw.frames;
        const result = {
          ...summary,
          bufferedAtDrop: summary.bufferedAtDrop >= (limit ?? 16 << 20),
          framesArrived: frames.length === sent && frames.every((f) => f.opcode === OP.BINARY && f.payload.length === CHUNK.length),
          extraBytes: raw.raw.pendingBytes - sent * FRAME,
          bufferedAfter: socket.getBufferedAmount(),
          readyState: socket.readyState,
          closed: log.entries.some(([k]) => k === "close"),
        };
        raw.close();
        return result;
      });
      expect(seen).toEqual({
        first: CHUNK.length,
        queuedAfterSome: true,
        onlyMinusOneAfter: true,
        droppedLast: 0,
        bufferedAtDrop: true,
        bufferedWhilePaused: true,
        framesArrived: true,
        extraBytes: 0,
        bufferedAfter: 0,
        readyState: 1,
        closed: false,
      });
    }, 20_000);
  }

  // Bun: the send that finds more than the limit queued returns 0 and closes the socket; the close
  // handler gets 1006 and the client sees the connection end.
  test("closeOnBackpressureLimit: the send past the limit returns 0 and the socket closes", async () => {
    const { options, check } = flood({ backpressureLimit: 1 << 20, closeOnBackpressureLimit: true });
    const seen = await sameOnBoth(options, async (s) => {
      const { raw, log, summary } = await check(s);
      await log.until((e) => e.some(([k]) => k === "close"), 5000, "close");
      await raw.raw.closedByServer(5000);
      return {
        droppedLast: summary.droppedLast,
        queuedAfterSome: summary.queuedAfterSome,
        close: log.entries.find(([k]) => k === "close"),
        ended: raw.raw.ended,
      };
    });
    expect(seen).toEqual({ droppedLast: 0, queuedAfterSome: true, close: ["close", 1006], ended: true });
  }, 20_000);
});

describe("pings and pongs", () => {
  // Bun: ping()/pong() return the payload bytes; Bun's client answers the ping, and the server's
  // `pong` gets its data (a Buffer); a client ping reaches `ping` and is answered with a pong
  // automatically, even with a `ping` handler given.
  test("ws.ping → the client's pong → `pong(ws, data)`; a client ping → `ping(ws, data)` and a pong", async () => {
    const seen = await sameOnBoth(
      ...withLog(
        (log) =>
          wsApp({
            open: (ws: any) => log.push(["returned", ws.ping("pp"), ws.pong("qq"), ws.ping()]),
            ping: (_ws: any, data: any) => log.push(["ping", data?.constructor?.name, text(data)]),
            pong: (_ws: any, data: any) => log.push(["pong", data?.constructor?.name, text(data)]),
          }),
        async ({ port }, log) => {
          const c = await openWs(port);
          await log.until((e) => e.filter(([k]) => k === "pong").length === 2, 5000, "the client's pongs");
          c.socket.ping("cp");
          await log.until((e) => e.some(([k]) => k === "ping"), 5000, "the client's ping");
          await c.control.until((e) => e.filter(([k]) => k === "pong").length === 2, 5000, "the server's pong");
          c.socket.close();
          const sent = (kind: string) => c.control.entries.filter(([k]) => k === kind).map(([, data]) => data);
          return { log: log.entries, clientPings: sent("ping"), clientPongs: sent("pong") };
        },
      ),
    );
    expect(seen).toEqual({
      log: [
        ["returned", 2, 2, 0],
        ["pong", "Buffer", "pp"],
        ["pong", "Buffer", ""],
        ["ping", "Buffer", "cp"],
      ],
      clientPings: ["pp", ""],
      clientPongs: ["qq", "cp"],
    });
  });
});

describe("closing", () => {
  // Bun runs the close handler inside ws.close(), so readyState is already 3 when close() returns, and
  // send() returns 0 from then on. Entries are compared by name: the order of "close" and "after
  // close()" is that implementation detail.
  const closingApp = (log: EventLog) =>
    wsApp({
      open: (ws: any) => log.push(["open", ws.readyState]),
      message(ws: any, m: string) {
        if (m === "close") ws.close(4000, "bye");
        else if (m === "close-no-args") ws.close();
        else if (m === "terminate") ws.terminate();
        log.push(["after", ws.readyState, ws.send("late")]);
      },
      close: (ws: any, code: number, reason: string) => log.push(["close", ws.readyState, code, reason, ws.send("z"), ws.data]),
    });

  // Measured on Bun 1.4.5: [what the client sees, what the close handler gets].
  const cases: [string, (c: WsClient) => void, { code: number; reason: string }, unknown[]][] = [
    ["ws.close(4000, 'bye')", (c) => c.socket.send("close"), { code: 4000, reason: "bye" }, [3, 4000, "bye", 0, "/c"]],
    ["ws.close()", (c) => c.socket.send("close-no-args"), { code: 1000, reason: "" }, [3, 1000, "", 0, "/c"]],
    ["ws.terminate()", (c) => c.socket.send("terminate"), { code: 1006, reason: "" }, [3, 1006, "", 0, "/c"]],
    ["the client's close(4001, 'x')", (c) => c.socket.close(4001, "x"), { code: 4001, reason: "x" }, [3, 4001, "x", 0, "/c"]],
    ["the client's close()", (c) => c.socket.close(), { code: 1005, reason: "" }, [3, 1005, "", 0, "/c"]],
  ];
  for (const [name, act, client, close] of cases) {
    test(`${name}: the codes each side sees, and readyState`, async () => {
      const seen = await sameOnBoth(
        ...withLog(closingApp, async ({ port }, log) => {
          const c = await openWs(port, "/c");
          act(c);
          const client = await closeOf(c);
          await log.until((e) => e.some(([k]) => k === "close"), 5000, "the close handler");
          return { client, server: Object.fromEntries(log.entries.map(([k, ...rest]) => [k, rest])) };
        }),
      );
      // "after": readyState and send()'s result once ws.close()/terminate() has returned.
      const after = name.startsWith("ws.") ? { after: [3, 0] } : {};
      expect(seen).toEqual({ client, server: { open: [1], close, ...after } });
    });
  }
});

describe("binaryType", () => {
  // Bun: binary messages come as a Buffer by default; "arraybuffer" and "uint8array" set in open()
  // change it, for `ping`/`pong` data too. Text is always a string.
  for (const type of ["default", "nodebuffer", "arraybuffer", "uint8array"]) {
    test(`${type}: what message and ping handlers get`, async () => {
      const seen = await sameOnBoth(
        () =>
          wsApp({
            open(ws: any) {
              if (ws.data !== "/default") ws.binaryType = ws.data.slice(1);
            },
            message(ws: any, m: any) {
              const bytes = typeof m === "string" ? m : [...new Uint8Array(m.buffer ?? m, m.byteOffset ?? 0, m.byteLength)];
              ws.send(
                JSON.stringify({
                  binaryType: ws.binaryType,
                  type: typeof m,
                  ctor: m.constructor.name,
                  isBuffer: Buffer.isBuffer(m),
                  bytes,
                }),
              );
            },
            ping: (ws: any, data: any) => ws.send(JSON.stringify({ ping: data.constructor.name })),
          }),
        async ({ port }) => {
          const c = await openWs(port, `/${type}`);
          c.socket.send(new Uint8Array([1, 2, 3]));
          c.socket.send("t");
          c.socket.ping("p");
          const got = [await c.next(), await c.next(), await c.next()].map((m) => JSON.parse(m as string));
          c.socket.close();
          return got;
        },
      );
      const ctor = { default: "Buffer", nodebuffer: "Buffer", arraybuffer: "ArrayBuffer", uint8array: "Uint8Array" }[type]!;
      expect(seen).toEqual([
        { binaryType: type === "default" ? "nodebuffer" : type, type: "object", ctor, isBuffer: ctor === "Buffer", bytes: [1, 2, 3] },
        { binaryType: type === "default" ? "nodebuffer" : type, type: "string", ctor: "String", isBuffer: false, bytes: "t" },
        { ping: ctor },
      ]);
    });
  }

  test("blob: messages and ping data come as Blobs", async () => {
    const seen = await sameOnBoth(
      () =>
        wsApp({
          open(ws: any) {
            ws.binaryType = "blob";
          },
          message(ws: any, m: any) {
            if (typeof m === "string") return;
            void (m as Blob).bytes().then((b) => ws.send(JSON.stringify({ ctor: m.constructor.name, size: m.size, bytes: [...b] })));
          },
          ping: (ws: any, data: any) => ws.send(JSON.stringify({ ping: data.constructor.name })),
        }),
      async ({ port }) => {
        const c = await openWs(port, "/blob");
        c.socket.send(new Uint8Array([4, 5, 6]));
        const first = JSON.parse((await c.next()) as string);
        c.socket.ping("p");
        const second = JSON.parse((await c.next()) as string);
        c.socket.close();
        return [first, second];
      },
    );
    expect(seen).toEqual([{ ctor: "Blob", size: 3, bytes: [4, 5, 6] }, { ping: "Blob" }]);
  });
});
