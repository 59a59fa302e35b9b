// Slow and endless clients: heads trickled a byte at a time, bodies that stall or never end, lengths
// and extensions far past the limits. Each must be cut off within its timeout or limit, with the right
// status, while a normal client on a fresh connection keeps getting quick answers.
//
// The server runs in a child process (its own event loop, its own RSS), with timeouts of 1000 ms; the
// sweep checks deadlines once a second, so a timeout fires between 1 and 2 s after it is armed.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rssOf, type ServerChild, startServerChild } from "../helpers/child.ts";
import { pollUntil } from "../helpers/poll.ts";
import { exchange, RawClient } from "../helpers/raw-client.ts";
import { expectTimeout } from "../helpers/timing.ts";
import { MiB } from "./helpers.ts";

const MAX_BODY = 1 * MiB;
let dir: string;
let child: ServerChild;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "bunhttp-slow-"));
  writeFileSync(join(dir, "small.txt"), "small file\n");
  child = await startServerChild(dir, { headerTimeout: 1000, bodyTimeout: 1000, keepAliveTimeout: 1000, maxBody: MAX_BODY });
});

afterAll(() => {
  child?.kill();
  rmSync(dir, { recursive: true, force: true });
});

const GET_SMALL = "GET /small.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";

/** A normal request on a fresh connection; returns its latency in ms (throws if it fails). */
async function timedGet(): Promise<number> {
  const t0 = performance.now();
  const r = await exchange(child.port, GET_SMALL, 3000);
  const ms = performance.now() - t0;
  if (r.status !== 200 || r.text() !== "small file\n") throw new Error(`normal GET failed: ${r.status}`);
  return ms;
}

/** Reads what the peer got: the first response's status, or 0 if it was closed without one. */
function statusOf(p: RawClient): number {
  return p.responses().list[0]?.status ?? 0;
}

describe("slowloris: heads trickled one byte at a time", () => {
  test("200 clients sending a header byte every ~100 ms all get 408 or are closed within a few seconds, while a normal client stays fast", async () => {
    const N = 200;
    // Never completes in time: the head is 300+ bytes and 10 bytes/s arrive.
    const head = `GET / HTTP/1.1\r\nHost: t\r\nX-Slow: ${"a".repeat(300)}\r\n\r\n`;
    const peers = await Promise.all(Array.from({ length: N }, () => RawClient.connect(child.port)));
    const sent = new Array<number>(N).fill(0);
    const firstByteAt = new Array<number>(N).fill(0);
    const doneAt = new Array<number>(N).fill(0);

    // One timer drives every slow client: each sends its next byte every 100 ms.
    const tick = setInterval(() => {
      const now = performance.now();
      for (let i = 0; i < N; i++) {
        const p = peers[i]!;
        if (doneAt[i]) continue;
        if (p.ended || p.received > 0) {
          doneAt[i] = now;
          continue;
        }
        if (sent[i]! < head.length && p.socket.write(head.charAt(sent[i]!)) === 1) {
          if (sent[i] === 0) firstByteAt[i] = now;
          sent[i]!++;
        }
      }
    }, 100);

    // Meanwhile, a normal client makes request after request on fresh connections.
    const latencies: number[] = [];
    try {
      const allDone = () => doneAt.every((t) => t > 0);
      const deadline = performance.now() + 6000;
      while (!allDone() && performance.now() < deadline) {
        latencies.push(await timedGet());
        await Bun.sleep(50); // pacing between normal requests, not a wait for an event
      }
      await pollUntil(allDone, Math.max(0, deadline - performance.now()), "every slow client to be cut off");
    } finally {
      clearInterval(tick);
    }

    await Promise.all(peers.map((p) => p.until(() => p.ended, 3000)));
    const statuses = peers.map(statusOf);
    const cutoff = peers.map((_, i) => doneAt[i]! - firstByteAt[i]!);
    const maxCut = Math.max(...cutoff);
    const maxLatency = Math.max(...latencies);
    console.log(
      `slowloris: ${N} clients, ${statuses.filter((s) => s === 408).length} got 408, ` +
        `${statuses.filter((s) => s === 0).length} closed silently; cut off after ${Math.min(...cutoff).toFixed(0)}–${maxCut.toFixed(0)} ms ` +
        `(≤ ${Math.max(...sent)} bytes sent each); normal client: ${latencies.length} requests, ` +
        `median ${latencies.sort((a, b) => a - b)[latencies.length >> 1]!.toFixed(1)} ms, max ${maxLatency.toFixed(1)} ms`,
    );
    // Stricter than "408 or closed": every one sent bytes, so every one is told why.
    expect(statuses.filter((s) => s === 408).length).toBe(N);
    // The header timer starts at the first byte and is not moved by the ones after it.
    expectTimeout(Math.min(...cutoff), 1000);
    expect(maxCut).toBeLessThan(3000); // headerTimeout 1000 + sweep period 1000 + slack
    expect(latencies.length).toBeGreaterThanOrEqual(10);
    expect(maxLatency).toBeLessThan(500);
    for (const p of peers) p.close();
  }, 20_000);

  test("a connection that sends nothing at all is closed after the header timeout, silently", async () => {
    const p = await RawClient.connect(child.port);
    const t0 = performance.now();
    await p.closedByServer(3500);
    const ms = p.endedAt - t0;
    expect(p.received).toBe(0);
    expect(ms).toBeGreaterThanOrEqual(900);
    expect(ms).toBeLessThan(3000);
    p.close();
  });
});

describe("slow and endless bodies", () => {
  test("a body that stalls gets 408 after the body timeout", async () => {
    const p = await RawClient.connect(child.port);
    await p.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nhalf a bod");
    await p.closedByServer(3500);
    const ms = p.lastReceivedAt - p.lastSentAt; // to the 408
    expect(statusOf(p)).toBe(408);
    expect(p.responses().list[0]!.header("connection")).toBe("close");
    expect(ms).toBeGreaterThanOrEqual(900);
    expect(ms).toBeLessThan(3000);
    p.close();
  });

  test("a body trickled one byte every 100 ms is cut off (408) within a few seconds", async () => {
    const p = await RawClient.connect(child.port);
    await p.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n");
    const t0 = performance.now();
    for (let i = 0; i < 40 && !p.ended; i++) {
      p.socket.write("x");
      await p.until(() => p.ended, 100);
    }
    expect(p.ended).toBe(true);
    expect(statusOf(p)).toBe(408);
    // Each byte re-arms bodyTimeout; the rate guard only judges a body that has taken longer than it.
    expect(p.lastReceivedAt - t0).toBeGreaterThanOrEqual(0.8 * 1000);
    expect(performance.now() - t0).toBeLessThan(4000);
    p.close();
  }, 10_000);

  /** Streams chunks as fast as the socket takes them until an answer or a close; returns data bytes sent. */
  async function streamChunks(p: RawClient, chunk: string, maxBytes: number, ms: number): Promise<number> {
    const size = chunk.length.toString(16);
    const piece = new TextEncoder().encode(`${size}\r\n${chunk}\r\n`.repeat(Math.max(1, Math.floor(16384 / (chunk.length + 8)))));
    const perPiece = chunk.length * Math.max(1, Math.floor(16384 / (chunk.length + 8)));
    let dataSent = 0;
    const deadline = performance.now() + ms;
    while (dataSent < maxBytes && !p.ended && p.received === 0 && performance.now() < deadline) {
      if (!(await p.send(piece, 1000))) break;
      dataSent += perPiece;
      await new Promise<void>((r) => setImmediate(r)); // let the answer in
    }
    return dataSent;
  }

  for (const [label, chunk] of [
    ["1 KiB chunks", "z".repeat(1024)],
    ["1-byte chunks", "z"],
  ] as const) {
    test(`an endless chunked body (${label}) hits maxBody: 413 and close, and the server's memory stays bounded`, async () => {
      const rssBefore = rssOf(child.pid);
      let peak = rssBefore;
      const sampler = setInterval(() => (peak = Math.max(peak, rssOf(child.pid))), 20);
      const p = await RawClient.connect(child.port);
      try {
        await p.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
        // Far more than maxBody, bounded in bytes and time.
        const sent = await streamChunks(p, chunk, 64 * MAX_BODY, 10_000);
        await p.closedByServer(5000);
        expect(statusOf(p)).toBe(413);
        expect(p.responses().list[0]!.header("connection")).toBe("close");
        // The refusal came once maxBody was reached, not after everything we could push.
        expect(sent).toBeGreaterThanOrEqual(MAX_BODY);
        expect(sent).toBeLessThan(32 * MAX_BODY);
        console.log(`endless chunked body (${label}): 413 after ${(sent / MiB).toFixed(2)} MiB of data sent`);
      } finally {
        clearInterval(sampler);
        p.close();
      }
      expect(peak - rssBefore).toBeLessThan(32 * MiB);
    }, 20_000);
  }

  test("a huge Content-Length is refused with 413 at once, before any body is sent", async () => {
    for (const cl of [MAX_BODY + 1, 10 * 1024 * MiB, 999_999_999_999_999]) {
      const p = await RawClient.connect(child.port);
      const t0 = performance.now();
      await p.send(`POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: ${cl}\r\n\r\n`);
      await p.closedByServer(2000);
      expect(performance.now() - t0).toBeLessThan(500); // not a timeout: at once
      expect(statusOf(p)).toBe(413);
      p.close();
    }
  });

  test("an endless head is refused with 431 at the head limit", async () => {
    const p = await RawClient.connect(child.port);
    await p.send("GET / HTTP/1.1\r\nHost: t\r\nX-Endless: ");
    const filler = "a".repeat(16 * 1024);
    for (let i = 0; i < 64 && !p.ended && p.received === 0; i++) await p.send(filler, 1000);
    await p.closedByServer(3000);
    expect(statusOf(p)).toBe(431);
    p.close();
  });

  const enormous: [string, string, () => string, number][] = [
    ["chunk extension", "5;", () => "e".repeat(1024), 400],
    ["chunk extension value", "5;name=", () => "v".repeat(1024), 400],
    ["trailer field", "0\r\nX-Trailer: ", () => "t".repeat(1024), 431],
    ["trailer section (many fields)", "0\r\n", () => "X-T: a\r\n".repeat(128), 431],
  ];
  for (const [what, prefix, more, status] of enormous) {
    test(`an enormous ${what} is refused with ${status}`, async () => {
      const p = await RawClient.connect(child.port);
      await p.send(`POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n${prefix}`);
      // Up to 1 MiB more, stopping at the answer.
      for (let i = 0; i < 1024 && !p.ended && p.received === 0; i++) await p.send(more(), 1000);
      await p.closedByServer(3000);
      expect(statusOf(p)).toBe(status);
      p.close();
    });
  }

  test("afterwards the server holds no connections and still answers", async () => {
    expect(await timedGet()).toBeLessThan(500);
    await child.idle(); // lingering closes end within LINGER_MS (2 s)
    expect(child.dead).toBe(false);
    expect(child.stderr()).toBe("");
  });
});
