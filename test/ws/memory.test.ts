// WebSocket memory, measured as the RSS of a server in its own process (fixtures/memory-server.ts), after
// a full GC there:
// - 10,000 idle WebSockets against 10,000 idle keep-alive HTTP connections: what each WebSocket costs
//   beyond an idle HTTP connection (the goal is ≤ 4 KiB; asserted ≤ 8 KiB). The clients run in a process
//   of their own (fixtures/memory-clients.ts): both sides' descriptors would not fit under one limit.
// - A client that never reads: an app that sends 200 MiB regardless, one that waits for drain, and
//   closeOnBackpressureLimit. The server's RSS stays within backpressureLimit plus a margin.
// - A client that floods the server with big messages and never reads the echoes: the server stops
//   reading (TCP makes the client wait), so its RSS stays bounded too.
// - 100 clients each sending most of a big message and never its end: the server holds about its body
//   budget of them, and the sockets past their share get 1013.
// Bun.serve runs the same scenarios in the same harness; its numbers are printed, not asserted.
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { type Child, killAll, openFdsOf, rssOf, run, spawnChild } from "../helpers/child.ts";
import { pollUntil } from "../helpers/poll.ts";
import { exchange, RawClient } from "../helpers/raw-client.ts";
import { GET } from "../helpers/wire.ts";
import { encodeFrame, OP } from "../helpers/ws-raw.ts";
import { WS_HANDSHAKE } from "./fixtures/memory-clients.ts";
import type { MemoryServerConfig, MemoryServerStats } from "./fixtures/memory-server.ts";

type Kind = "ours" | "bun";
const KiB = 1024;
const MiB = 1024 * KiB;
const FIXTURES = join(import.meta.dir, "fixtures");

afterAll(killAll);

// ---- the server in its own process ----------------------------------------------------------------

interface MemoryServer {
  child: Child;
  port: number;
  /** A full GC in the server, then its RSS and counters. */
  stats(): Promise<MemoryServerStats>;
}

async function startMemoryServer(kind: Kind, config: MemoryServerConfig, ulimitN?: number): Promise<MemoryServer> {
  const child = spawnChild([process.execPath, join(FIXTURES, "memory-server.ts"), kind, JSON.stringify(config)], { ulimitN });
  await child.until(() => child.stdout().includes("\n") || child.dead, 10_000, "the server's port");
  if (!child.stdout().includes("\n")) throw new Error(`the server exited with ${child.exitCode()}: ${child.stderr()}`);
  const port = Number(child.stdout().trim());
  const stats = async () => {
    const r = await exchange(port, GET("/__stats", "Connection: close\r\n"), 10_000);
    if (r.status !== 200) throw new Error(`no stats: ${r.status}`);
    return JSON.parse(r.text()) as MemoryServerStats;
  };
  return { child, port, stats };
}

async function stop(child: Child): Promise<void> {
  child.kill("SIGKILL");
  await child.exited;
}

const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;

// ---- 10,000 idle connections ------------------------------------------------------------------------

/** Descriptors each child may open beyond its connections (Bun's own, the stats connection, …). */
const SPARE_FDS = 512;
const hardLimit = await (async () => {
  const out = (await run(["sh", "-c", "ulimit -Hn"])).stdout.trim();
  return out === "unlimited" ? Infinity : Number(out);
})();
/** 10,000, or as many as the hard limit on open files lets each child hold. */
const IDLE = Math.min(10_000, hardLimit - SPARE_FDS);
/** Connections made and closed before the baseline, so that code and pools the first ones need exist. */
const WARM_UP = 64;

type Idle = "http" | "ws";

/** Opens `count` idle connections of `what` from a child (which stays alive holding them); asserts all were answered. */
async function openIdle(server: MemoryServer, count: number, what: Idle): Promise<Child> {
  const clients = spawnChild([process.execPath, join(FIXTURES, "memory-clients.ts"), String(server.port), String(count), what], {
    ulimitN: count + SPARE_FDS,
  });
  await clients.until(() => clients.stdout().includes("\n") || clients.dead, 30_000, `${count} idle connections`);
  if (clients.dead) throw new Error(`the clients exited with ${clients.exitCode()}: ${clients.stderr()}`);
  const { statuses } = JSON.parse(clients.stdout()) as { statuses: Record<string, number> };
  expect(statuses).toEqual({ [what === "ws" ? "101" : "200"]: count });
  return clients;
}

/** Kills the clients and waits until the server has let go of every connection. */
async function closeIdle(server: MemoryServer, clients: Child, fds: number): Promise<void> {
  await stop(clients);
  await pollUntil(() => openFdsOf(server.child.pid) <= fds, 20_000, `the server's descriptors to return to ${fds}`, { every: 50 });
  await pollUntil(async () => (await server.stats()).webSockets === 0, 10_000, "no WebSocket left open", { every: 50 });
}

/** The RSS of `count` idle connections of `what`, per connection, in a fresh server. */
async function idleCost(kind: Kind, what: Idle, count: number): Promise<number> {
  const server = await startMemoryServer(kind, { mode: "echo" }, count + SPARE_FDS);
  try {
    const fds = openFdsOf(server.child.pid);
    await closeIdle(server, await openIdle(server, WARM_UP, what), fds);
    const before = await server.stats();
    const clients = await openIdle(server, count, what);
    const after = await server.stats();
    expect(openFdsOf(server.child.pid)).toBeGreaterThanOrEqual(fds + count);
    expect(after.webSockets).toBe(what === "ws" ? count : 0);
    await closeIdle(server, clients, fds);
    // Every WebSocket's close handler ran.
    if (what === "ws") expect((await server.stats()).closed).toBe(WARM_UP + count);
    return (after.rss - before.rss) / count;
  } finally {
    await stop(server.child);
  }
}

/** Each idle WebSocket's RSS beyond an idle HTTP connection's, printed with both. */
async function webSocketOverHttp(kind: Kind): Promise<number> {
  const http = await idleCost(kind, "http", IDLE);
  const ws = await idleCost(kind, "ws", IDLE);
  const f = (b: number) => `${Math.round(b)} B`;
  console.log(`${kind}: ${IDLE} idle connections, RSS each: HTTP keep-alive ${f(http)}, WebSocket ${f(ws)}, a WebSocket beyond HTTP ${f(ws - http)}`);
  return ws - http;
}

// Under a hard limit too low for 1,000 connections the per-socket number would be mostly noise.
test.skipIf(IDLE < 1000)(`${IDLE} idle WebSockets: each costs at most 8 KiB of RSS beyond an idle HTTP connection (goal 4 KiB)`, async () => {
  expect(await webSocketOverHttp("ours")).toBeLessThanOrEqual(8 * KiB);
}, 60_000);

test.skipIf(IDLE < 1000)(`Bun.serve, for comparison: ${IDLE} idle WebSockets (printed, not asserted)`, async () => {
  await webSocketOverHttp("bun");
}, 60_000);

// ---- backpressure ---------------------------------------------------------------------------------------

const LIMIT = 1 * MiB;
const SIZE = 256 * KiB;
/** 200 MiB, if nothing were dropped or held back. */
const MESSAGES = 800;
/** A server frame of SIZE bytes: 2 bytes of header and a 64-bit length, unmasked. */
const FRAME = SIZE + 10;
/** Above backpressureLimit: the app's own message buffer, the GC's slack, read buffers. */
const MARGIN = 8 * MiB;

/** A WebSocket client that sends the handshake, then reads nothing (not even the 101) until resumed. */
async function neverReading(port: number): Promise<RawClient> {
  const c = await RawClient.connect(port, { keep: false });
  c.pause();
  await c.send(WS_HANDSHAKE);
  return c;
}

const sendsOf = (s: MemoryServerStats) => s.sends.sent + s.sends.queued + s.sends.dropped;

function summary(kind: Kind, what: string, before: MemoryServerStats, after: MemoryServerStats): string {
  const { sent, queued, dropped } = after.sends;
  return `${kind}: ${what}: RSS ${mib(before.rss)} → ${mib(after.rss)} (+${mib(after.rss - before.rss)}); send(): ${sent} sent, ${queued} queued (-1), ${dropped} dropped (0); most buffered ${Math.round(after.maxBuffered / KiB)} KiB`;
}

/**
 * A server whose open() runs `mode` (fixtures/memory-server.ts) against a client that never reads; waits
 * until the app is done sending (`flood`: all its sends made; `polite`: stopped at backpressure).
 */
async function serverSends(kind: Kind, mode: "flood" | "polite", closeOnBackpressureLimit = false) {
  const websocket = { backpressureLimit: LIMIT, closeOnBackpressureLimit };
  const server = await startMemoryServer(kind, { mode, size: SIZE, messages: MESSAGES, websocket });
  const before = await server.stats();
  const client = await neverReading(server.port);
  const done = (s: MemoryServerStats) => (mode === "flood" ? sendsOf(s) === MESSAGES : s.sends.queued + s.sends.dropped > 0);
  const after = await pollUntil(async () => {
    const s = await server.stats();
    return done(s) ? s : null;
  }, 10_000, `the app's sends (${mode})`, { every: 50 });
  return { server, client, before, after };
}

/** Resumes reading and waits until `bytes` have arrived; resolves with all that arrived so far. */
async function readAll(client: RawClient, bytes: number, ms: number): Promise<number> {
  client.resume();
  await client.until(() => client.received >= bytes, ms, `${bytes} bytes`);
  return client.received;
}

async function ignoringBackpressure(kind: Kind) {
  const { server, client, before, after } = await serverSends(kind, "flood");
  try {
    console.log(summary(kind, `an app sending ${MESSAGES} × ${SIZE / KiB} KiB to a client that never reads`, before, after));
    // What was sent or queued, and nothing else, reaches the client once it reads.
    const kept = (after.sends.sent + after.sends.queued) * FRAME;
    const received = await readAll(client, kept, 10_000);
    return { before, after, kept, received };
  } finally {
    client.reset();
    await stop(server.child);
  }
}

test("an app sending 200 MiB to a client that never reads: RSS stays within backpressureLimit + 8 MiB", async () => {
  const { before, after, kept, received } = await ignoringBackpressure("ours");
  expect(after.rss - before.rss).toBeLessThanOrEqual(LIMIT + MARGIN);
  expect(after.sends.dropped).toBeGreaterThan(0);
  expect(after.sends.queued).toBeGreaterThan(0);
  // A message is queued while under the limit, so the queue passes it by one message at most.
  expect(after.maxBuffered).toBeLessThanOrEqual(LIMIT + FRAME);
  expect(after.closed).toBe(0);
  expect(received - kept).toBeGreaterThan(0); // the 101 head
  expect(received - kept).toBeLessThan(1024);
}, 30_000);

async function waitingForDrain(kind: Kind) {
  const { server, client, before, after } = await serverSends(kind, "polite");
  try {
    console.log(summary(kind, "an app that waits for drain, to a client that never reads", before, after));
    // Once the client reads, drain lets the app send the rest: all 200 MiB arrive.
    const received = await readAll(client, MESSAGES * FRAME, 30_000);
    const end = await server.stats();
    return { before, after, received, end };
  } finally {
    client.reset();
    await stop(server.child);
  }
}

test("an app that sends until send() returns -1 and waits for drain: RSS stays flat, then drain sends the rest", async () => {
  const { before, after, end } = await waitingForDrain("ours");
  expect(after.rss - before.rss).toBeLessThanOrEqual(LIMIT + MARGIN);
  expect(after.sends.dropped).toBe(0);
  expect(after.maxBuffered).toBeLessThanOrEqual(LIMIT);
  expect(end.drains).toBeGreaterThan(0);
  expect(end.sends.dropped).toBe(0);
}, 40_000);

async function closingOnLimit(kind: Kind) {
  const { server, client, before, after } = await serverSends(kind, "flood", true);
  try {
    const closed = await pollUntil(async () => {
      const s = await server.stats();
      return s.closed === 1 ? s : null;
    }, 10_000, "the server to close the socket", { every: 50 });
    console.log(`${summary(kind, "closeOnBackpressureLimit", before, after)}; close code in close(): ${closed.closeCodes}`);
    client.resume();
    await client.until(() => client.ended, 10_000, "the client to see the close");
    return { before, after, closed };
  } finally {
    client.reset();
    await stop(server.child);
  }
}

test("closeOnBackpressureLimit: true closes a socket that reaches the limit", async () => {
  const { before, after, closed } = await closingOnLimit("ours");
  expect(closed.webSockets).toBe(0);
  expect(after.rss - before.rss).toBeLessThanOrEqual(LIMIT + MARGIN);
}, 30_000);

/** A masked binary client frame of `size` bytes (≥ 64 KiB: a 64-bit length, a 14-byte header). */
function maskedFrame(size: number): Uint8Array {
  return encodeFrame({ opcode: OP.BINARY, payload: new Uint8Array(size).fill(0x61) });
}

/**
 * Writes `frame` until `state.written` bytes reach `total` frames' worth, as fast as the socket takes
 * them; false once the socket took nothing for `stallMs` (or closed).
 */
async function pump(c: RawClient, frame: Uint8Array, total: number, state: { written: number }, stallMs: number): Promise<boolean> {
  let progress = performance.now();
  while (state.written < total * frame.length) {
    if (c.closed) return false;
    const at = state.written % frame.length;
    const n = c.socket.write(frame, at, frame.length - at);
    if (n > 0) {
      state.written += n;
      progress = performance.now();
    } else if (n < 0 || performance.now() - progress > stallMs) {
      return false;
    } else {
      await Bun.sleep(1);
    }
  }
  return true;
}

async function floodingClient(kind: Kind) {
  const server = await startMemoryServer(kind, { mode: "echo", websocket: { backpressureLimit: LIMIT } });
  const client = await neverReading(server.port);
  try {
    const before = await server.stats();
    const frame = maskedFrame(SIZE);
    const state = { written: 0 };
    const all = await pump(client, frame, MESSAGES, state, 1000);
    const stalled = await server.stats();
    const rawRss = rssOf(server.child.pid);
    // Stalled, and not merely slow: nothing more is read while the client still reads nothing.
    await Bun.sleep(300);
    const later = await server.stats();
    console.log(
      `${summary(kind, `a client writing ${MESSAGES} × ${SIZE / KiB} KiB, never reading the echoes`, before, stalled)}; ` +
        `the client wrote ${mib(state.written)} before ${all ? "finishing" : "the server stopped reading"}; ` +
        `messages handled ${stalled.messages}, then ${later.messages}; RSS before GC ${mib(rawRss)}`,
    );
    // Once the client reads, the server reads again, and the rest goes through.
    client.resume();
    const rest = await pump(client, frame, MESSAGES, state, 10_000);
    const end = await pollUntil(async () => {
      const s = await server.stats();
      return s.messages === MESSAGES ? s : null;
    }, 20_000, `${MESSAGES} messages handled`, { every: 50 });
    return { before, stalled, later, all, rest, end };
  } finally {
    client.reset();
    await stop(server.child);
  }
}

test("a client flooding big messages and never reading the echoes: the server stops reading, RSS bounded", async () => {
  const { before, stalled, later, all, rest, end } = await floodingClient("ours");
  expect(all).toBe(false);
  expect(later.messages).toBe(stalled.messages);
  expect(stalled.rss - before.rss).toBeLessThanOrEqual(LIMIT + 2 * MARGIN);
  expect(rest).toBe(true);
  expect(end.closed).toBe(0);
}, 40_000);

/** 100 clients each send 3 MiB of a 4 MiB message and never its end; returns the server's RSS growth and closes. */
async function partialMessages(budget: number) {
  const CLIENTS = 100;
  const server = await startMemoryServer("ours", { mode: "echo", websocket: { maxPayloadLength: 8 * MiB }, serve: { bodyBudget: budget } });
  const clients: RawClient[] = [];
  try {
    const before = await server.stats();
    const partial = maskedFrame(4 * MiB).subarray(0, 14 + 3 * MiB);
    for (let i = 0; i < CLIENTS; i++) {
      const c = await RawClient.connect(server.port, { keep: false });
      await c.send(WS_HANDSHAKE);
      clients.push(c);
    }
    // 300 MiB offered; what the server keeps of it is bounded by the budget (plus a read per socket).
    await Promise.all(clients.map((c) => pump(c, partial, 1, { written: 0 }, 1500)));
    // What the kernel still holds for the server is read meanwhile: wait for its RSS to settle.
    let after = await server.stats();
    for (let i = 0; i < 20; i++) {
      await Bun.sleep(100);
      const next = await server.stats();
      const settled = Math.abs(next.rss - after.rss) < MiB;
      after = next;
      if (settled) break;
    }
    console.log(`ours: ${CLIENTS} × 3 MiB of 4 MiB messages, body budget ${mib(budget)}: RSS ${mib(before.rss)} → ${mib(after.rss)} (+${mib(after.rss - before.rss)}); ${after.closed} sockets failed (1013)`);
    return { clients: CLIENTS, growth: after.rss - before.rss, closed: after.closed, messages: after.messages };
  } finally {
    for (const c of clients) c.reset();
    await stop(server.child);
  }
}

test("100 clients each sending 3 MiB of a 4 MiB message, never its end: the server holds about its body budget", async () => {
  // Measured here: +49 to +75 MiB (the 8 MiB budget, plus the garbage of 300 MiB of reads that the
  // allocator keeps); the next test, with a budget too large to matter, shows what every byte costs.
  const r = await partialMessages(8 * MiB);
  expect(r.growth).toBeLessThanOrEqual(128 * MiB);
  expect(r.closed).toBeGreaterThanOrEqual(r.clients / 2);
  expect(r.messages).toBe(0);
}, 40_000);

test("for comparison: the same with a 1 GiB body budget (printed, not asserted)", async () => {
  await partialMessages(1024 * MiB);
}, 40_000);

test("Bun.serve, for comparison: the same backpressure scenarios (printed, not asserted)", async () => {
  const flood = await ignoringBackpressure("bun");
  expect(flood.received).toBeGreaterThan(flood.kept);
  const polite = await waitingForDrain("bun");
  expect(polite.received).toBeGreaterThan(MESSAGES * FRAME);
  await closingOnLimit("bun");
  const client = await floodingClient("bun");
  expect(client.end.messages).toBe(MESSAGES);
}, 60_000);
