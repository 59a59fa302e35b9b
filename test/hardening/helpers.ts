// Shared pieces of the hardening tests: a child server with options, a seeded
// PRNG, and a light socket that keeps received bytes as a list (no quadratic copying) and can be reset.
import type { Socket } from "bun";
import { join } from "node:path";
import { decodeLatin1 } from "../../src/http/chars.ts";
import { latin1 as bytes } from "../helpers/split.ts";
import { pollUntil } from "../helpers/poll.ts";
import { type RawResponse, tryParseResponse } from "../helpers/raw-client.ts";

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
  const r = await request(port, "GET /__stats HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  if (r === null || r.status !== 200) throw new Error(`no stats: ${r?.status}`);
  return JSON.parse(r.text()) as ChildStats;
}

// ---- a light client socket -----------------------------------------------------------------------

/** A client connection that collects what it receives and knows when the server closed or reset it. */
export class Peer {
  socket!: Socket<undefined>;
  private chunks: Uint8Array[] = [];
  received = 0;
  /** The server sent FIN (or the socket is gone). */
  ended = false;
  closed = false;
  errored = false;
  private waiters: (() => void)[] = [];
  /** Called on every chunk received (after it is recorded). */
  onData: ((chunk: Uint8Array) => void) | null = null;
  /** Keep received bytes (false: only count them). */
  keep = true;

  static async connect(port: number, keep = true): Promise<Peer> {
    const p = new Peer();
    p.keep = keep;
    p.socket = await Bun.connect<undefined>({
      hostname: "127.0.0.1",
      port,
      allowHalfOpen: true,
      socket: {
        data: (_s, chunk: Uint8Array) => {
          p.received += chunk.length;
          if (p.keep) p.chunks.push(chunk);
          p.onData?.(chunk);
          p.wake();
        },
        end: () => {
          p.ended = true;
          p.wake();
        },
        close: () => {
          p.ended = p.closed = true;
          p.wake();
        },
        error: () => {
          p.errored = p.ended = p.closed = true;
          p.wake();
        },
        connectError: () => {
          p.errored = p.ended = p.closed = true;
          p.wake();
        },
      },
    });
    return p;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves true once `predicate` holds (checked after every event), false after `ms`. */
  async until(predicate: () => boolean, ms: number): Promise<boolean> {
    const deadline = performance.now() + ms;
    while (!predicate()) {
      const left = deadline - performance.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return true;
  }

  /** Writes everything, waiting out backpressure; false if the socket closed first or `ms` passed. */
  async write(data: string | Uint8Array, ms = 5000): Promise<boolean> {
    const buf = typeof data === "string" ? bytes(data) : data;
    let off = 0;
    const deadline = performance.now() + ms;
    while (off < buf.length) {
      if (this.closed || performance.now() > deadline) return false;
      const n = this.socket.write(buf, off, buf.length - off);
      if (n < 0) return false;
      off += n;
      if (off < buf.length) await Bun.sleep(1);
    }
    return true;
  }

  /** All bytes received so far, as one array. */
  data(): Uint8Array {
    if (this.chunks.length !== 1) {
      const all = new Uint8Array(this.chunks.reduce((n, c) => n + c.length, 0));
      let o = 0;
      for (const c of this.chunks) {
        all.set(c, o);
        o += c.length;
      }
      this.chunks = [all];
    }
    return this.chunks[0] ?? new Uint8Array(0);
  }

  /** Received bytes as Latin-1 text (one char per byte). */
  text(): string {
    return text(this.data());
  }

  /** Every complete response received so far (throws on a malformed status line or framing). */
  responses(isHead = false): { list: RawResponse[]; rest: number } {
    const buf = this.data();
    const list: RawResponse[] = [];
    let off = 0;
    for (;;) {
      const r = tryParseResponse(buf.subarray(off), isHead, this.ended);
      if (r === null || r.used === 0) break;
      list.push(r.res);
      off += r.used;
      if (off >= buf.length) break;
    }
    return { list, rest: buf.length - off };
  }

  /** Sends RST (SO_LINGER 0, then close). */
  reset(): void {
    this.socket.terminate();
  }

  /** Sends FIN; we keep reading. */
  shutdown(): void {
    this.socket.shutdown();
  }

  close(): void {
    this.socket.end();
  }
}

/** One request on a fresh connection: the first complete response, or null if none came in `ms`. */
export async function request(port: number, raw: string | Uint8Array, ms = 5000): Promise<RawResponse | null> {
  const p = await Peer.connect(port);
  try {
    await p.write(raw);
    let res: RawResponse | null = null;
    await p.until(() => {
      const { list } = p.responses(typeof raw === "string" && raw.startsWith("HEAD "));
      res = list.find((r) => r.status >= 200) ?? null;
      return res !== null || p.ended;
    }, ms);
    return res;
  } finally {
    p.close();
  }
}
