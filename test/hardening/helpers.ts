// Shared pieces of the hardening tests: a child server with options, a seeded PRNG, a bounded pool.
import { join } from "node:path";
import { decodeLatin1 } from "../../src/http/chars.ts";
import { latin1 as bytes } from "../helpers/split.ts";
import { pollUntil } from "../helpers/poll.ts";
import { exchange } from "../helpers/raw-client.ts";

export { openFdsOf, rssOf } from "../helpers/child.ts";

export const MiB = 1024 * 1024;

/** Bytes of a string whose every char code is one byte ("\xff" stays one byte, NUL stays NUL), and back. */
export { bytes };
export function text(b: Uint8Array): string {
  return decodeLatin1(b, 0, b.length);
}

/** Waits until the child holds no connection but the stats request asking. */
export async function childIdle(port: number, ms = 5000): Promise<void> {
  await pollUntil(async () => (await childStats(port)).connections === 1, ms, "the child to hold no connections", { every: 50 });
}

/** mulberry32: a small seeded PRNG, so a failing fuzz run can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs `task(i)` for i in [0, count) with at most `limit` at once. */
export async function pool(count: number, limit: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
}

// ---- a child server with options -----------------------------------------------------------------

export interface HardChild {
  pid: number;
  port: number;
  /** Everything the child wrote to stderr so far. */
  stderr(): string;
  /** Resolves with the exit code once the child is gone. */
  exited: Promise<number>;
  /** True once the child has exited (a crash, if we did not kill it). */
  readonly dead: boolean;
  kill(): void;
}

/**
 * Starts test/hardening/child-server.ts with serve() options as JSON. `ulimitN` runs it under
 * `sh -c 'ulimit -n N; exec bun …'`, so the limit applies to the server process itself (its pid is bun's).
 */
export async function startChild(root: string, options: Record<string, unknown>, ulimitN?: number): Promise<HardChild> {
  const script = join(import.meta.dir, "child-server.ts");
  const json = JSON.stringify(options);
  const argv =
    ulimitN === undefined
      ? [process.execPath, script, root, json]
      : ["sh", "-c", `ulimit -n ${ulimitN} && exec "$0" "$@"`, process.execPath, script, root, json];
  const proc = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe" });
  let err = "";
  let dead = false;
  const exited = proc.exited.then((code) => {
    dead = true;
    return code;
  });
  void (async () => {
    const dec = new TextDecoder();
    for await (const chunk of proc.stderr) err += dec.decode(chunk);
  })();
  const reader = proc.stdout.getReader();
  let out = "";
  while (!out.includes("\n")) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`child server exited before printing its port: ${err}`);
    out += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return {
    pid: proc.pid,
    port: Number(out.trim()),
    stderr: () => err,
    exited,
    get dead() {
      return dead;
    },
    kill: () => proc.kill(),
  };
}

/** What the child's /__stats route reports (after a full GC). */
export interface ChildStats {
  rss: number;
  heapUsed: number;
  connections: number;
  refused: number;
}

export async function childStats(port: number): Promise<ChildStats> {
  const r = await exchange(port, "GET /__stats HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  if (r.status !== 200) throw new Error(`no stats: ${r.status}`);
  return JSON.parse(r.text()) as ChildStats;
}
