#!/usr/bin/env bun
// The load client of bench/ws.ts: many WebSocket connections in one process on raw Bun.connect, made
// to cost far less per message than the server it measures.
//
//   bun bench/ws-client.ts '<JSON Config>'     (bench/ws.ts starts it pinned to core 0)
//
// - The HTTP upgrade is done by hand (key, 101, Sec-WebSocket-Accept checked); then every frame sent
//   is one pre-built masked frame, the same bytes again: the outgoing stream of a connection is that
//   frame repeated, so a batch of k frames is one write of k × frame bytes out of a buffer built
//   once. A short write keeps its place in that stream and goes on at `drain`.
// - Received frames are counted by their headers alone (2, 4 or 10 bytes: FIN+opcode, length); the
//   payload is skipped, whatever the chunk boundaries. Every header is checked: the expected opcode,
//   unmasked, the expected length; anything else (a close frame, a ping, a stray byte) aborts the run.
// - echo: each connection keeps `inflight` frames outstanding: every k frames received, k more sent.
// - broadcast: one publisher connection and `subscribers` subscriber connections; the publisher sends
//   `batch` frames in one write whenever fewer than inflight − batch messages are undelivered
//   (counted as deliveries still missing, summed over all subscribers).
// - Before timing: a correctness check (echo: a distinct payload per connection comes back equal,
//   byte for byte; broadcast: every subscriber receives the publisher's check message, equal), then
//   `prime` seconds of traffic (the client's own JIT warm-up), then "ready" on stdout.
//
// Protocol on stdin/stdout, one JSON line each way:
//   → {"ready":true,"note":…}          after the check and the priming
//   ← go SECONDS                        counters reset at once; traffic stops SECONDS later
//   → {"frames":…,"messages":…,"seconds":…,"cpu":…,"reads":…,"writes":…}   (cpu: this process's, s)
//   ← quit                              connections closed, exit 0
// Any error: a message on stderr and exit 1.
import type { Socket } from "bun";
import { clientFrame } from "./lib/ws-frame.ts";
import { parseResponses, type RawResponse } from "./lib/raw-http.ts";

export interface Config {
  port: number;
  mode: "echo" | "broadcast";
  /** Echo: connections. Broadcast: subscribers (plus one publisher). */
  conns: number;
  /** Echo: frames in flight per connection. Broadcast: messages published but not yet delivered to all. */
  inflight: number;
  /** Broadcast: frames per publisher write. */
  batch: number;
  size: number;
  binary: boolean;
  /** Seconds of traffic before "ready". */
  prime: number;
}

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

function fail(msg: string): never {
  process.stderr.write(`bench/ws-client.ts: ${msg}\n`);
  process.exit(1);
}

/** A stream that repeats one frame forever, written from a buffer holding `copies` frames. */
class FrameStream {
  readonly frame: number;
  readonly buf: Uint8Array;
  constructor(frame: Uint8Array, copies: number) {
    this.frame = frame.length;
    this.buf = new Uint8Array(frame.length * copies);
    for (let i = 0; i < copies; i++) this.buf.set(frame, i * frame.length);
  }
}

interface Conn {
  socket: Socket<Conn> | null;
  /** Handshake bytes received so far (until the 101's blank line). */
  head: Buffer | null;
  key: string;
  opened: () => void;
  /** Payload bytes of the current frame still to skip. */
  skip: number;
  /** A header cut by a chunk boundary: its bytes so far. */
  hbuf: Uint8Array;
  hlen: number;
  /** Frames fully received (counted on their last byte). */
  frames: number;
  /** Bytes owed to the outgoing stream, and where in the frame the stream stands. */
  pending: number;
  phase: number;
  out: FrameStream;
  /** While set, received payload bytes are kept here (the correctness check). */
  capture: Uint8Array[] | null;
  /** Echo: send a frame back for each frame received. */
  refill: boolean;
}

const cfg = JSON.parse(process.argv[2] ?? fail("needs a JSON config")) as Config;
const EXPECT_B0 = 0x80 | (cfg.binary ? 2 : 1);
const payload = new Uint8Array(cfg.size);
for (let i = 0; i < cfg.size; i++) payload[i] = cfg.binary ? (i * 2654435761) >>> 24 : 0x61 + (i % 26);
const benchFrame = clientFrame(cfg.binary ? 2 : 1, payload);

let running = true; // refills on; off when the timed window ends
let deliveries = 0; // broadcast: frames received by all subscribers together
let published = 0;
let reads = 0; // data events after the handshake
let writes = 0;
let publisher: Conn | null = null;

function headerLength(b1: number): number {
  const l = b1 & 127;
  return l < 126 ? 2 : l === 126 ? 4 : 10;
}

/** Counts the frames in `chunk`, checking each header; returns how many ended in it. */
function receive(c: Conn, chunk: Uint8Array): number {
  const n = chunk.length;
  let i = 0;
  let done = 0;
  while (i < n) {
    if (c.skip > 0) {
      const k = c.skip < n - i ? c.skip : n - i;
      if (c.capture !== null) c.capture.push(chunk.slice(i, i + k));
      c.skip -= k;
      i += k;
      if (c.skip === 0) done++;
      continue;
    }
    let h = chunk;
    let at = i;
    if (c.hlen > 0 || n - i < 2 || n - i < headerLength(chunk[i + 1]!)) {
      // A header across chunks: gather its bytes in hbuf (10 at most).
      while (i < n && (c.hlen < 2 || c.hlen < headerLength(c.hbuf[1]!))) c.hbuf[c.hlen++] = chunk[i++]!;
      if (c.hlen < 2 || c.hlen < headerLength(c.hbuf[1]!)) return done;
      h = c.hbuf;
      at = 0;
      c.hlen = 0;
    } else {
      i += headerLength(chunk[i + 1]!);
    }
    const b0 = h[at]!;
    const b1 = h[at + 1]!;
    if (b0 !== EXPECT_B0 || b1 & 0x80) badFrame(c, h, at);
    let len = b1 & 127;
    if (len === 126) len = (h[at + 2]! << 8) | h[at + 3]!;
    else if (len === 127) {
      if (h[at + 2]! | h[at + 3]! | h[at + 4]! | h[at + 5]!) badFrame(c, h, at);
      len = ((h[at + 6]! << 24) >>> 0) + ((h[at + 7]! << 16) | (h[at + 8]! << 8) | h[at + 9]!);
    }
    if (len !== cfg.size) fail(`a frame of ${len} bytes, expected ${cfg.size}`);
    c.skip = len;
    if (len === 0) done++;
  }
  return done;
}

function badFrame(c: Conn, h: Uint8Array, at: number): never {
  const op = h[at]! & 15;
  const what = op === 8 ? "a close frame" : op === 9 ? "a ping" : "an unexpected frame";
  // The bytes from the header on (as far as this chunk goes): a close frame's code and reason are there.
  const bytes = Buffer.from(h.subarray(at, at + 32)).toString("hex");
  fail(`${what} on connection ${conns.indexOf(c)} where a ${cfg.binary ? "binary" : "text"} frame was expected (FIN set, unmasked): ${bytes}`);
}

/** Writes what the stream owes until the kernel takes less (then `drain` calls again). */
function pump(c: Conn): void {
  const s = c.socket!;
  const out = c.out;
  while (c.pending > 0) {
    const room = out.buf.length - c.phase;
    const len = c.pending < room ? c.pending : room;
    const wrote = s.write(out.buf, c.phase, len);
    writes++;
    if (wrote < 0) fail("socket closed while writing");
    c.pending -= wrote;
    c.phase = (c.phase + wrote) % out.frame;
    if (wrote < len) return;
  }
}

function send(c: Conn, frames: number): void {
  c.pending += frames * c.out.frame;
  pump(c);
}

/** Broadcast: tops the publisher up while fewer than inflight − batch messages are undelivered. */
function publish(): void {
  const p = publisher!;
  while (running && published * cfg.conns - deliveries <= (cfg.inflight - cfg.batch) * cfg.conns) {
    published += cfg.batch;
    send(p, cfg.batch);
  }
}

function handshake(c: Conn, chunk: Uint8Array): void {
  c.head = c.head === null ? Buffer.from(chunk) : Buffer.concat([c.head, chunk]);
  const got: RawResponse[] = [];
  // A 101 ends at its head: what follows is frames.
  const used = parseResponses(c.head, got, false);
  const res = got[0];
  if (res === undefined) return;
  const accept = new Bun.CryptoHasher("sha1").update(c.key + GUID).digest("base64");
  if (!res.statusLine.startsWith("HTTP/1.1 101 ")) fail(`handshake answered "${res.statusLine}"`);
  if (res.headers.get("sec-websocket-accept") !== accept) fail(`bad Sec-WebSocket-Accept: ${res.headers.get("sec-websocket-accept") ?? "(none)"}, expected ${accept}`);
  const rest = c.head.subarray(used);
  c.head = null;
  c.opened();
  if (rest.length > 0) onFrames(c, receive(c, rest));
}

function onFrames(c: Conn, k: number): void {
  if (k === 0) return;
  c.frames += k;
  if (c.refill && running) send(c, k);
  else if (publisher !== null && c !== publisher) {
    deliveries += k;
    publish();
  }
}

const handlers = {
  binaryType: "uint8array" as const,
  data(s: Socket<Conn>, chunk: Uint8Array) {
    const c = s.data;
    if (c.head !== null || c.socket === null) return handshake(c, chunk);
    reads++;
    onFrames(c, receive(c, chunk));
  },
  drain(s: Socket<Conn>) {
    pump(s.data);
  },
  close(s: Socket<Conn>) {
    if (!quitting) fail(`connection ${conns.indexOf(s.data)} closed by the server`);
  },
  error(_s: Socket<Conn>, e: Error) {
    fail(`socket error: ${e.message}`);
  },
  connectError(_s: Socket<Conn>, e: Error) {
    fail(`cannot connect: ${e.message}`);
  },
};

const conns: Conn[] = [];
let quitting = false;

async function open(path: string, out: FrameStream): Promise<Conn> {
  const key = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
  let opened!: () => void;
  const ready = new Promise<void>((r) => (opened = r));
  const c: Conn = {
    socket: null, head: null, key, opened, skip: 0, hbuf: new Uint8Array(10), hlen: 0,
    frames: 0, pending: 0, phase: 0, out, capture: null, refill: false,
  };
  conns.push(c);
  const s = await Bun.connect<Conn>({ hostname: "127.0.0.1", port: cfg.port, data: c, socket: handlers });
  c.head = Buffer.alloc(0);
  c.socket = s;
  s.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${cfg.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  await withTimeout(ready, 10_000, `the handshake on ${path}`);
  return c;
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: Timer | undefined;
  const t = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)));
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves once `test` holds, checking every millisecond (the check runs before timing only). */
async function until(test: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!test()) {
    if (performance.now() > deadline) fail(`timed out after ${ms} ms waiting for ${what}`);
    await Bun.sleep(1);
  }
}

function equal(parts: Uint8Array[], want: Uint8Array): boolean {
  return Buffer.concat(parts).equals(want);
}

/**
 * Sends one frame as long as the benchmark's whose payload starts with `tag`, and keeps what the
 * connection receives; returns the payload.
 */
function sendCheck(c: Conn, tag: string): Uint8Array {
  const p = payload.slice();
  p.set(new TextEncoder().encode(tag).subarray(0, p.length));
  c.capture = [];
  c.out = new FrameStream(clientFrame(cfg.binary ? 2 : 1, p), 1);
  send(c, 1);
  return p;
}

/** Back to the benchmark's frames, counters at zero (the check frame was all sent: its answer came). */
function endCheck(c: Conn, stream: FrameStream): void {
  if (c.pending !== 0) fail("check frame not all written");
  c.capture = null;
  c.frames = 0;
  c.phase = 0;
  c.out = stream;
}

async function setUp(): Promise<string> {
  const stream = new FrameStream(benchFrame, Math.max(cfg.inflight, cfg.batch));
  if (cfg.mode === "echo") {
    const list = await Promise.all(Array.from({ length: cfg.conns }, () => open("/echo", stream)));
    // Check: a distinct payload per connection comes back equal, before any benchmark frame is sent.
    const sent = list.map((c, i) => sendCheck(c, `check ${i} `));
    await until(() => list.every((c) => c.frames >= 1), 10_000, "the echo of the check frames");
    for (const [i, c] of list.entries()) {
      if (c.frames !== 1 || !equal(c.capture!, sent[i]!)) fail(`connection ${i}: the echo differs from what was sent`);
      endCheck(c, stream);
      c.refill = true;
      send(c, cfg.inflight);
    }
    return `${cfg.conns} connections × ${cfg.inflight} in flight, ${cfg.size} B ${cfg.binary ? "binary" : "text"}; echo of a distinct payload checked on each`;
  }
  const subs = await Promise.all(Array.from({ length: cfg.conns }, () => open("/sub", stream)));
  const pub = await open("/pub", stream);
  for (const c of subs) c.capture = [];
  const p = sendCheck(pub, "broadcast check ");
  await until(() => subs.every((c) => c.frames >= 1), 10_000, "every subscriber to receive the check message");
  for (const [i, c] of subs.entries()) {
    if (c.frames !== 1 || !equal(c.capture!, p)) fail(`subscriber ${i}: the message received differs from the one published`);
    endCheck(c, stream);
  }
  endCheck(pub, stream);
  publisher = pub;
  publish();
  return `1 publisher → ${cfg.conns} subscribers, ${cfg.inflight} messages in flight, ${cfg.batch} per write, ${cfg.size} B ${cfg.binary ? "binary" : "text"}; every subscriber got the check message`;
}

function count(): number {
  if (cfg.mode === "broadcast") return deliveries;
  let n = 0;
  for (const c of conns) n += c.frames;
  return n;
}

const note = await setUp();
await Bun.sleep(cfg.prime * 1000);
console.log(JSON.stringify({ ready: true, note }));

for await (const line of console) {
  const [cmd, arg] = line.trim().split(" ");
  if (cmd === "go") {
    const f0 = count();
    const p0 = published;
    const r0 = reads;
    const w0 = writes;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await Bun.sleep(Number(arg) * 1000);
    const frames = count() - f0;
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    running = false;
    const messages = cfg.mode === "broadcast" ? published - p0 : frames;
    console.log(JSON.stringify({ frames, messages, seconds, cpu: (cpu.user + cpu.system) / 1e6, reads: reads - r0, writes: writes - w0 }));
  } else if (cmd === "quit") {
    quitting = true;
    for (const c of conns) c.socket?.end();
    process.exit(0);
  } else fail(`unknown command ${JSON.stringify(line)}`);
}
