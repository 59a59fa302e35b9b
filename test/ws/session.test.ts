// The WebSocket session (src/ws/session.ts) on a mock connection, where its bookkeeping can be seen:
// the body budget it counts messages in pieces against, the idle clock, and the close handshake of a
// paused socket and of one closed inside `open` (those two over real TCP).
import { expect, test } from "bun:test";
import { concatBytes } from "../../src/http/chars.ts";
import { serve } from "../../src/serve.ts";
import { Budget } from "../../src/server/budget.ts";
import { Output, QUIET_OWNER } from "../../src/server/output.ts";
import type { UpgradedConnection } from "../../src/server/upgrade.ts";
import { wsSettings, type WebSocketHandler } from "../../src/ws/options.ts";
import { ServerWebSocket } from "../../src/ws/server-websocket.ts";
import { Session } from "../../src/ws/session.ts";
import { Topics } from "../../src/ws/topics.ts";
import { pollUntil } from "../helpers/poll.ts";
import { RawClient } from "../helpers/raw-client.ts";
import { encodeFrame } from "../helpers/ws-raw.ts";
import { wsApp } from "./api-helpers.ts";
import { WS_HANDSHAKE } from "./fixtures/memory-clients.ts";

/** A session on a connection that takes every write and records what the session asks of it. */
function mockSession(handler: WebSocketHandler, budget = new Budget(64 * 1024, 64 * 1024)) {
  const written: Uint8Array[] = [];
  const socket = {
    write(b: Uint8Array, off: number, len: number) {
      written.push(b.slice(off, off + len));
      return len;
    },
  };
  const output = new Output(socket as never, budget, QUIET_OWNER);
  const calls: string[] = [];
  const conn = {
    output,
    remoteAddress: "127.0.0.1",
    remotePort: 40000,
    budget,
    now: 1_000_000,
    setDeadline(ms: number) {
      calls.push(`deadline ${ms}`);
    },
    pause() {
      calls.push("pause");
    },
    resume() {
      calls.push("resume");
    },
    end() {
      calls.push("end");
    },
    destroy() {
      calls.push("destroy");
      session.onClose();
    },
  };
  const session: Session = new Session(conn as UpgradedConnection, { settings: wsSettings(handler), open: new Set(), topics: new Topics() }, null);
  session.ws = new ServerWebSocket(session, undefined);
  session.start(new Uint8Array(0));
  /** The opcodes of the frames written so far (each write here holds whole frames). */
  const opcodes = () => written.flatMap((w) => frameOpcodes(w));
  /** The code of the close frame written last, or -1. */
  const closeCode = () => {
    const last = written.at(-1);
    return last !== undefined && (last[0]! & 0x0f) === 8 && last.length >= 4 ? (last[2]! << 8) | last[3]! : -1;
  };
  return { session, budget, conn, calls, opcodes, closeCode };
}

function frameOpcodes(bytes: Uint8Array): number[] {
  const ops: number[] = [];
  for (let at = 0; at < bytes.length; ) {
    const len7 = bytes[at + 1]! & 0x7f;
    const head = len7 < 126 ? 2 : len7 === 126 ? 4 : 10;
    const len = len7 < 126 ? len7 : len7 === 126 ? (bytes[at + 2]! << 8) | bytes[at + 3]! : new DataView(bytes.buffer, bytes.byteOffset + at + 6, 4).getUint32(0);
    ops.push(bytes[at]! & 0x0f);
    at += head + len;
  }
  return ops;
}

/** A masked client frame (ws-raw.ts's encodeFrame). */
function frame(opcode: number, payload: string | Uint8Array, fin = true): Uint8Array {
  return encodeFrame({ opcode, payload, fin });
}

test("messages in pieces leave the body budget as they end, empty first fragments included", () => {
  const got: unknown[] = [];
  const m = mockSession({ message: (_ws, msg) => void got.push(msg) });
  // Autobahn 6.1.x sends exactly this: an empty first fragment, then the text.
  for (let i = 0; i < 200; i++) m.session.onData(concatBytes([frame(1, "", false), frame(0, "abc")]));
  expect(got.length).toBe(200);
  expect(got[0]).toBe("abc");
  expect(m.budget.receiving).toBe(0);
  expect(m.budget.bodyHeld).toBe(0);
  // A message left in pieces is counted until the socket goes, then released.
  m.session.onData(frame(2, new Uint8Array(1000), false));
  expect(m.budget.receiving).toBe(1);
  expect(m.budget.bodyHeld).toBe(1000);
  m.session.terminate();
  expect(m.budget.receiving).toBe(0);
  expect(m.budget.bodyHeld).toBe(0);
});

/** Frames sent outside a socket callback leave in a microtask (send-batch.ts). */
const sent = () => new Promise<void>((resolve) => queueMicrotask(resolve));

test("past the body budget, the socket holding more than its share fails with 1013; the other goes on", () => {
  const budget = new Budget(64 * 1024, 64 * 1024);
  const a = mockSession({ message() {} }, budget);
  const b = mockSession({ message() {} }, budget);
  a.session.onData(frame(2, new Uint8Array(30_000), false)); // a: 30,000 bytes in pieces
  b.session.onData(frame(2, new Uint8Array(30_000), false)); // b: the same; 60,000 of 65,536 held
  expect(budget.bodyHeld).toBe(60_000);
  // b goes past the budget holding more than half of it (two sockets are receiving): 1013.
  b.session.onData(frame(0, new Uint8Array(10_000), false));
  expect(b.closeCode()).toBe(1013);
  expect(b.calls).toContain("end");
  // Its bytes left the budget; a is untouched and may go on.
  expect(budget.bodyHeld).toBe(30_000);
  expect(budget.receiving).toBe(1);
  a.session.onData(frame(0, new Uint8Array(20_000)));
  expect(a.closeCode()).toBe(-1);
  expect(budget.bodyHeld).toBe(0);
});

test("stop() waits for a client that never answers the close for about 5 s, not more", async () => {
  const server = serve({ port: 0, hostname: "127.0.0.1", ...wsApp({}) });
  const c = await RawClient.connect(server.port, { keep: false });
  c.pause(); // reads nothing: neither the 101 nor our close
  const handshake = typeof WS_HANDSHAKE === "string" ? new TextEncoder().encode(WS_HANDSHAKE) : WS_HANDSHAKE;
  await c.send(handshake);
  await pollUntil(() => server.pendingWebSockets > 0, 5000, "the upgrade");
  const t0 = performance.now();
  await server.stop();
  const took = performance.now() - t0;
  expect(took).toBeGreaterThanOrEqual(4000); // it did wait for the answer…
  expect(took).toBeLessThan(9000); // …for the 5 s close wait and a sweep tick, with slack
  c.reset();
}, 15_000);

test("the idle clock: a peer taking our output is not idle; a quiet one is pinged at half, cut after", async () => {
  const m = mockSession({ idleTimeout: 2, message() {} });
  const start = m.conn.now;
  // 1.5 s in, the kernel takes some of our queued output (the peer reads): activity.
  m.conn.now = start + 1500;
  m.session.onSent();
  m.conn.now = start + 2100;
  m.session.onTimeout();
  await sent();
  expect(m.opcodes()).toEqual([]); // quiet for 0.6 s only: no ping
  m.conn.now = start + 2600;
  m.session.onTimeout();
  await sent();
  expect(m.opcodes()).toEqual([9]); // quiet for 1.1 s, half the idle time: a ping
  m.conn.now = start + 3100;
  m.session.onTimeout();
  expect(m.calls).not.toContain("destroy"); // only 0.5 s since the ping
  m.conn.now = start + 3700;
  m.session.onTimeout();
  expect(m.calls).toContain("destroy"); // a whole half since an unanswered ping
});

test("a pong right after the ping keeps the socket (within the ping's millisecond too)", async () => {
  const m = mockSession({ idleTimeout: 2, message() {} });
  const start = m.conn.now;
  m.conn.now = start + 1200;
  m.session.onTimeout();
  await sent();
  expect(m.opcodes()).toEqual([9]);
  m.session.onData(frame(10, "")); // the pong, at the same millisecond
  m.conn.now = start + 2300;
  m.session.onTimeout();
  await sent();
  expect(m.opcodes()).toEqual([9, 9]); // quiet for half the idle time again: pinged again, not cut
  m.session.onData(frame(10, ""));
  m.conn.now = start + 3400;
  m.session.onTimeout();
  await sent();
  expect(m.opcodes()).toEqual([9, 9, 9]);
  expect(m.calls).not.toContain("destroy");
  // The third goes unanswered: cut a whole half later.
  m.conn.now = start + 4500;
  m.session.onTimeout();
  expect(m.calls).toContain("destroy");
});

test("a paused socket still completes the close handshake it starts", async () => {
  const closed = Promise.withResolvers<number>();
  using server = serve({
    port: 0,
    hostname: "127.0.0.1",
    ...wsApp({
      open(ws: ServerWebSocket) {
        ws.pause();
        queueMicrotask(() => ws.close(1000, "bye"));
      },
    }),
  });
  const t0 = performance.now();
  const c = new WebSocket(`ws://127.0.0.1:${server.port}/`);
  c.onclose = (e) => closed.resolve(e.code);
  expect(await closed.promise).toBe(1000);
  // The peer's close answer was read at once, not after the 5 s wait for one.
  expect(performance.now() - t0).toBeLessThan(4000);
});

test("a close frame that came with the handshake is answered when open() closes the socket", async () => {
  using server = serve({ port: 0, hostname: "127.0.0.1", ...wsApp({ open: (ws: ServerWebSocket) => ws.close(4000, "early") }) });
  const c = await RawClient.connect(server.port, { keep: false });
  const t0 = performance.now();
  const handshake = typeof WS_HANDSHAKE === "string" ? new TextEncoder().encode(WS_HANDSHAKE) : WS_HANDSHAKE;
  await c.send(concatBytes([handshake, frame(8, Uint8Array.from([0x03, 0xe8]))]));
  await c.closedByServer(4500);
  expect(performance.now() - t0).toBeLessThan(4000);
});
