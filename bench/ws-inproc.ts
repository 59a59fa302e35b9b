#!/usr/bin/env bun
// CPU per WebSocket message of our user-space path, without the kernel or a load client: the server's
// socket handlers are driven with fake sockets that take every write (as bench/inproc.ts does for
// HTTP). The tool for before/after comparisons of one change; bench/ws.ts gives the end-to-end numbers
// against Bun.serve.
//
//   bun run bench/ws-inproc.ts [--rounds N] [--messages N] [--case echo|binary|broadcast]
//
// Cases: echo of 32-byte text messages arriving 16 to a read; echo of 64 KiB binary messages, one to
// a read; a broadcast, one publisher's 32-byte message to 1,000 subscribers, 16 messages to a read.
// Prints ns per message (per delivery for the broadcast): the median and the best of the rounds.
import { capture, fakeSocket, writes } from "./lib/captured-server.ts";
import { clientFrame } from "./lib/ws-frame.ts";

const argv = process.argv.slice(2);
const arg = (name: string, dflt: number) => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : dflt);
const ROUNDS = arg("--rounds", 5);
const MESSAGES = arg("--messages", 400_000);
const ONLY = argv.includes("--case") ? argv[argv.indexOf("--case") + 1] : undefined;

const HANDSHAKE = new TextEncoder().encode(
  "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
);

/** `count` fresh copies of `chunk` (the parser unmasks in place, and Bun gives fresh chunks). */
function copies(chunk: Uint8Array, count: number): Uint8Array[] {
  return Array.from({ length: count }, () => chunk.slice());
}

const APP = {
  fetch(req: Request, server: { upgrade(r: Request): boolean }) {
    return server.upgrade(req) ? undefined : new Response("no", { status: 400 });
  },
};

interface Case {
  name: string;
  /** Runs `messages` messages; returns how many deliveries they made. */
  run(messages: number): Promise<number>;
}

function echoCase(name: string, opcode: number, size: number, perRead: number): Case {
  return {
    name,
    async run(messages) {
      const { handlers, stop } = capture({ ...APP, websocket: { message: process.env.NOSEND ? () => {} : (ws: { send(m: unknown): void }, m: unknown) => ws.send(m) } });
      const s = fakeSocket(40000);
      handlers.open(s);
      handlers.data(s, HANDSHAKE.slice());
      const one = clientFrame(opcode, new Uint8Array(size).fill(120));
      const batch = new Uint8Array(one.length * perRead);
      for (let i = 0; i < perRead; i++) batch.set(one, i * one.length);
      const reads = Math.ceil(messages / perRead);
      // Text must stay valid UTF-8, so each read is a fresh copy (cheap at this size). Binary reads
      // reuse a pool: unmasking again garbles the bytes, which nobody reads, and a 64 KiB copy per
      // read would be the bench's own cost.
      const pool = copies(batch, opcode === 1 ? Math.min(reads, 4096) : 16);
      const t0 = Bun.nanoseconds();
      if (opcode === 1) for (let r = 0; r < reads; r++) handlers.data(s, r < pool.length ? pool[r]! : batch.slice());
      else for (let r = 0; r < reads; r++) handlers.data(s, pool[r & 15]!);
      const ns = Bun.nanoseconds() - t0;
      handlers.close(s);
      await stop();
      return ns / (reads * perRead);
    },
  };
}

const broadcast: Case = {
  name: "broadcast 32 B text to 1,000 subscribers, 16 per read (ns per delivery)",
  async run(messages) {
    const { handlers, stop } = capture({
      ...APP,
      websocket: {
        open: (ws: { subscribe(t: string): void }) => ws.subscribe("t"),
        message: (ws: { publish(t: string, m: unknown): void }, m: unknown) => ws.publish("t", m),
      },
    });
    const subs = Array.from({ length: 1001 }, (_, i) => fakeSocket(40000 + i));
    for (const s of subs) {
      handlers.open(s);
      handlers.data(s, HANDSHAKE.slice());
    }
    await Promise.resolve();
    const one = clientFrame(1, new Uint8Array(32).fill(120));
    const batch = new Uint8Array(one.length * 16);
    for (let i = 0; i < 16; i++) batch.set(one, i * one.length);
    const reads = Math.ceil(messages / 16 / 1000);
    const pub = subs[0]!;
    const t0 = Bun.nanoseconds();
    for (let r = 0; r < reads; r++) {
      handlers.data(pub, batch.slice());
      await Promise.resolve(); // (published frames leave in a microtask after the callback)
    }
    const ns = Bun.nanoseconds() - t0;
    for (const s of subs) handlers.close(s);
    await stop();
    return ns / (reads * 16 * 1000);
  },
};

const cases: Case[] = [
  echoCase("echo 32 B text, 16 per read (ns per message)", 1, 32, 16),
  echoCase("echo 64 KiB binary, 1 per read (ns per message)", 2, 64 * 1024, 1),
  broadcast,
].filter((_, i) => ONLY === undefined || ["echo", "binary", "broadcast"][i] === ONLY);

for (const c of cases) {
  const results: number[] = [];
  const messages = c.name.includes("64 KiB") ? MESSAGES / 40 : MESSAGES;
  await c.run(Math.min(messages, 20_000)); // warm-up
  for (let r = 0; r < ROUNDS; r++) {
    Bun.gc(true);
    results.push(await c.run(messages));
  }
  results.sort((a, b) => a - b);
  const median = results[Math.floor(results.length / 2)]!;
  console.log(`${c.name.padEnd(72)} median ${median.toFixed(0).padStart(6)} ns   best ${results[0]!.toFixed(0).padStart(6)} ns`);
}
console.log(`(${writes.bytes} bytes written to the fake sockets)`);
