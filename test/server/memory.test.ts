// Large downloads stream in bounded pieces: memory stays flat however many clients, however slow.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openFdsOf, rssOf, sampleRss, type ServerChild, startServerChild } from "../helpers/child.ts";
import { Download } from "../helpers/download.ts";
import { poll, pollUntil } from "../helpers/poll.ts";

const GiB = 1024 * 1024 * 1024;
let dir: string;
let child: ServerChild;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "bunhttp-mem-"));
  // A sparse file: 1 GiB of zeros that costs no disk.
  writeFileSync(join(dir, "big.bin"), "");
  truncateSync(join(dir, "big.bin"), GiB);
  child = await startServerChild(dir);
});

afterAll(() => {
  child?.kill();
  rmSync(dir, { recursive: true, force: true });
});

/** Downloads `path` (counting, not keeping, the body) and resolves with the body size once the server closes. */
async function download(path = "/big.bin"): Promise<number> {
  return (await Download.start(child.port, path)).finished(120_000);
}

test("8 clients downloading 1 GiB at once: the server's RSS stays under 100 MiB", async () => {
  const rss = sampleRss(child.pid);
  try {
    const sizes = await Promise.all(Array.from({ length: 8 }, () => download()));
    expect(sizes).toEqual(Array(8).fill(GiB));
  } finally {
    rss.stop();
  }
  console.log(`server RSS: ${(rss.before / 2 ** 20).toFixed(1)} MiB before, ${(rss.peak / 2 ** 20).toFixed(1)} MiB peak`);
  expect(rss.peak).toBeLessThan(100 * 1024 * 1024);
}, 120_000);

test("a client that stops reading costs no more memory, and its descriptor is released", async () => {
  const fdsBefore = openFdsOf(child.pid);
  const paused = await Download.start(child.port, "/big.bin", { paused: true });
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
  paused.resume();
  expect(await paused.finished(60_000)).toBe(GiB);
  // The file descriptor opened for the download is closed again.
  await pollUntil(() => openFdsOf(child.pid) <= fdsBefore, 3000, `the child's descriptors to return to ${fdsBefore}`);
}, 60_000);

test("a handler streaming 1 GiB through a ReadableStream: memory stays flat, also while the client stalls", async () => {
  const rss = sampleRss(child.pid);
  try {
    // Two clients at full speed…
    const fast = Promise.all([download("/stream/1024"), download("/stream/1024")]);
    // …and one that stops reading for a while: the stream is pulled no faster than the socket takes it.
    const slow = await Download.start(child.port, "/stream/1024");
    await Bun.sleep(50);
    slow.pause();
    await Bun.sleep(300);
    const stalled = rssOf(child.pid);
    await Bun.sleep(500);
    expect(rssOf(child.pid) - stalled).toBeLessThan(8 * 1024 * 1024);
    slow.resume();
    expect(await fast).toEqual([GiB, GiB]);
    expect(await slow.finished(120_000)).toBe(GiB);
  } finally {
    rss.stop();
  }
  console.log(`streaming 3 × 1 GiB: server RSS ${(rss.before / 2 ** 20).toFixed(1)} MiB before, ${(rss.peak / 2 ** 20).toFixed(1)} MiB peak`);
  expect(rss.peak).toBeLessThan(100 * 1024 * 1024);
}, 120_000);
