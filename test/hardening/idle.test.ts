// Many idle keep-alive connections: what each costs the server in memory, and that the idle timeout
// closes every one of them and gives their descriptors back.
//
// Two child servers: one with a long keepAliveTimeout, to hold all connections open while memory is
// measured (after a full GC in the child, through its /__stats route), and one with keepAliveTimeout 1000,
// to watch them all be closed.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { killAll, openFdsOf, rssOf, startServerChild } from "../helpers/child.ts";
import { pollUntil } from "../helpers/poll.ts";
import { RawClient } from "../helpers/raw-client.ts";
import { pool } from "./helpers.ts";

const N = Number(process.env.IDLE_CONNECTIONS ?? 2000);
const KiB = 1024;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "bunhttp-idle-"));
  writeFileSync(join(dir, "small.txt"), "small file\n");
});

afterAll(async () => {
  await killAll();
  rmSync(dir, { recursive: true, force: true });
});

const GET = "GET /small.txt HTTP/1.1\r\nHost: t\r\n\r\n";

/** Opens `n` connections, each making one keep-alive request; resolves once every one has its answer. */
async function openIdle(port: number, n: number): Promise<RawClient[]> {
  const peers: RawClient[] = new Array(n);
  // At most 200 handshakes in flight: the listen backlog is 512.
  await pool(n, 200, async (i) => {
    const p = await RawClient.connect(port);
    peers[i] = p;
    await p.send(GET);
    const ok = await p.until(() => p.responses().list.length === 1 || p.ended, 5000);
    if (!ok || p.ended) throw new Error(`connection ${i}: no keep-alive answer`);
    const r = p.responses().list[0]!;
    if (r.status !== 200 || r.header("connection") !== undefined) throw new Error(`connection ${i}: ${r.status}`);
  });
  return peers;
}

test(`${N} idle keep-alive connections: memory per connection`, async () => {
  const child = await startServerChild(dir, { keepAliveTimeout: 60_000 });
  // Warm up (the JIT, the file cache) with a few connections, then measure the empty server.
  const warm = await openIdle(child.port, 20);
  for (const p of warm) p.close();
  await child.idle();
  const s0 = await child.stats();
  const fds0 = openFdsOf(child.pid);
  const raw0 = rssOf(child.pid);

  const peers = await openIdle(child.port, N);
  const s1 = await child.stats();
  const fds1 = openFdsOf(child.pid);
  const raw1 = rssOf(child.pid);
  const perConn = (s1.rss - s0.rss) / N;
  const heapPerConn = (s1.heapUsed - s0.heapUsed) / N;
  console.log(
    `idle: ${N} connections open: server RSS after GC ${(s0.rss / 2 ** 20).toFixed(1)} → ${(s1.rss / 2 ** 20).toFixed(1)} MiB ` +
      `= ${(perConn / KiB).toFixed(2)} KiB/connection (heap ${(heapPerConn / KiB).toFixed(2)} KiB/connection; ` +
      `RSS without GC ${(raw0 / 2 ** 20).toFixed(1)} → ${(raw1 / 2 ** 20).toFixed(1)} MiB); fds ${fds0} → ${fds1}`,
  );
  expect(s1.connections).toBe(N + 1);
  expect(fds1 - fds0).toBeGreaterThanOrEqual(N - 1); // fds0 may still count the closing stats socket
  expect(perConn).toBeLessThan(20 * KiB);

  for (const p of peers) p.close();
  await pollUntil(() => openFdsOf(child.pid) <= fds0, 5000, `the child's descriptors to return to ${fds0}`);
  await child.idle();
}, 60_000);

test(`${N} idle keep-alive connections are all closed by an keepAliveTimeout of 1000 ms, and their descriptors released`, async () => {
  const child = await startServerChild(dir, { keepAliveTimeout: 1000 });
  const fds0 = openFdsOf(child.pid);
  const peers = await openIdle(child.port, N);
  // Idle deadline 1000 ms after each answer, checked by a once-a-second sweep: closed 1–2 s after it.
  await pollUntil(() => peers.every((p) => p.ended), 4000, "every idle connection to be closed by the server", { every: 10 });
  const idleFor = peers.map((p) => p.endedAt - p.lastReceivedAt);
  const lastClose = Math.max(...peers.map((p) => p.endedAt)) - Math.max(...peers.map((p) => p.lastReceivedAt));
  console.log(
    `idle: ${N} connections closed by the server ${Math.min(...idleFor).toFixed(0)}–${Math.max(...idleFor).toFixed(0)} ms after their answer ` +
      `(last one ${lastClose.toFixed(0)} ms after the last answer)`,
  );
  for (const p of peers) expect(p.responses().rest).toBe(0); // closed silently: no stray bytes
  expect(Math.min(...idleFor)).toBeGreaterThanOrEqual(900);
  expect(Math.max(...idleFor)).toBeLessThan(3000);
  for (const p of peers) p.close();
  await pollUntil(() => openFdsOf(child.pid) <= fds0, 5000, `the child's descriptors to return to ${fds0}`);
  await child.idle();
  expect(child.stderr()).toBe("");
}, 60_000);
