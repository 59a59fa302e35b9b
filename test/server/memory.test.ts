// Large downloads stream in bounded pieces: memory stays flat however many clients, however slow.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChunkedDecoder } from "../../src/http/chunked.ts";
import { FAILED } from "../../src/http/parser.ts";
import { type Child, openFdsOf, rssOf, startChildServer } from "../helpers/child.ts";
import { poll, pollUntil } from "../helpers/poll.ts";

const GiB = 1024 * 1024 * 1024;
let dir: string;
let child: Child;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "bunhttp-mem-"));
  // A sparse file: 1 GiB of zeros that costs no disk.
  writeFileSync(join(dir, "big.bin"), "");
  truncateSync(join(dir, "big.bin"), GiB);
  child = await startChildServer(dir);
});

afterAll(() => {
  child?.kill();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Downloads with a raw socket, counting body bytes without keeping them; resolves with the body size.
 * A chunked body is decoded with our own ChunkedDecoder (a counting sink), so framing is checked too.
 */
function download(port: number, onSocket?: (s: { pause(): void; resume(): void }) => void, path = "/big.bin"): Promise<number> {
  return new Promise((resolve, reject) => {
    let headerDone = false;
    let head = "";
    let bodyBytes = 0;
    let expected = -1;
    let decoder: ChunkedDecoder | null = null;
    const sink = { onBodyData: (_b: Uint8Array, s: number, e: number) => void (bodyBytes += e - s) };
    const feed = (buf: Uint8Array, from: number) => {
      if (decoder === null) bodyBytes += buf.length - from;
      else if (decoder.decode(buf, from, buf.length, sink) === FAILED) reject(new Error(`bad chunked framing: ${decoder.error}`));
    };
    Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        open(s) {
          s.write(`GET ${path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`);
          onSocket?.(s);
        },
        data(_s, chunk) {
          if (headerDone) return feed(chunk, 0);
          head += new TextDecoder("latin1").decode(chunk);
          const i = head.indexOf("\r\n\r\n");
          if (i < 0) return;
          headerDone = true;
          if (/transfer-encoding: chunked/i.test(head.slice(0, i))) {
            decoder = new ChunkedDecoder({ maxBody: 2 ** 40, maxChunkLine: 4096, maxTrailerSize: 4096 });
          } else expected = Number(/content-length: (\d+)/i.exec(head)?.[1]);
          const bodyStart = i + 4 - (head.length - chunk.length);
          feed(chunk, bodyStart);
        },
        close() {
          const complete = decoder !== null ? (decoder as ChunkedDecoder).done : bodyBytes === expected;
          if (complete) resolve(bodyBytes);
          else reject(new Error(`got ${bodyBytes} of ${expected} bytes`));
        },
        error: reject,
      },
    }).catch(reject);
  });
}

/** Samples the child's RSS every 20 ms until stopped; `peak` is the highest seen. */
function sampleRss(pid: number) {
  const s = { before: rssOf(pid), peak: 0, stop: () => clearInterval(timer) };
  s.peak = s.before;
  const timer = setInterval(() => {
    s.peak = Math.max(s.peak, rssOf(pid));
  }, 20);
  return s;
}

test("8 clients downloading 1 GiB at once: the server's RSS stays under 100 MiB", async () => {
  const rss = sampleRss(child.pid);
  try {
    const sizes = await Promise.all(Array.from({ length: 8 }, () => download(child.port)));
    expect(sizes).toEqual(Array(8).fill(GiB));
  } finally {
    rss.stop();
  }
  console.log(`server RSS: ${(rss.before / 2 ** 20).toFixed(1)} MiB before, ${(rss.peak / 2 ** 20).toFixed(1)} MiB peak`);
  expect(rss.peak).toBeLessThan(100 * 1024 * 1024);
}, 120_000);

test("a client that stops reading costs no more memory, and its descriptor is released", async () => {
  const fdsBefore = openFdsOf(child.pid);
  let sock: { pause(): void; resume(): void; end?: () => void } | undefined;
  const done = download(child.port, (s) => {
    sock = s;
    s.pause();
  });
  // Let the server fill the socket buffers and stall on the paused client: its RSS stops moving
  // (five samples in a row within 512 KiB), or 5 s pass.
  let last = -1;
  let stable = 0;
  await poll(
    () => {
      const r = rssOf(child.pid);
      stable = Math.abs(r - last) < 512 * 1024 ? stable + 1 : 0;
      last = r;
      return stable >= 5;
    },
    5000,
    { every: 50 },
  );
  const stalled = rssOf(child.pid);
  await Bun.sleep(500);
  // Nothing more accumulates while the client reads nothing.
  expect(rssOf(child.pid) - stalled).toBeLessThan(4 * 1024 * 1024);
  expect(stalled).toBeLessThan(100 * 1024 * 1024);
  sock!.resume();
  expect(await done).toBe(GiB);
  // The file descriptor opened for the download is closed again.
  await pollUntil(() => openFdsOf(child.pid) <= fdsBefore, 3000, `the child's descriptors to return to ${fdsBefore}`);
}, 60_000);

test("a handler streaming 1 GiB through a ReadableStream: memory stays flat, also while the client stalls", async () => {
  const rss = sampleRss(child.pid);
  try {
    // Two clients at full speed…
    const fast = Promise.all([download(child.port, undefined, "/stream/1024"), download(child.port, undefined, "/stream/1024")]);
    // …and one that stops reading for a while: the stream is pulled no faster than the socket takes it.
    let sock: { pause(): void; resume(): void } | undefined;
    const slow = download(child.port, (s) => (sock = s), "/stream/1024");
    await Bun.sleep(50);
    sock!.pause();
    await Bun.sleep(300);
    const stalled = rssOf(child.pid);
    await Bun.sleep(500);
    expect(rssOf(child.pid) - stalled).toBeLessThan(8 * 1024 * 1024);
    sock!.resume();
    expect(await fast).toEqual([GiB, GiB]);
    expect(await slow).toBe(GiB);
  } finally {
    rss.stop();
  }
  console.log(`streaming 3 × 1 GiB: server RSS ${(rss.before / 2 ** 20).toFixed(1)} MiB before, ${(rss.peak / 2 ** 20).toFixed(1)} MiB peak`);
  expect(rss.peak).toBeLessThan(100 * 1024 * 1024);
}, 120_000);
