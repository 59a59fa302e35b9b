#!/usr/bin/env bun
// Soak run (not CI): a long keep-alive mix, then a burst of connections, against a server in a child
// process (bench/servers/soak.ts); prints the server's RSS and open descriptors before and after.
//
//   bun run bench/soak.ts [--requests N] [--connections C] [--burst B]
//
// 1. N keep-alive requests (default 1,000,000) over C connections (default 64), one request in flight
//    per connection, in a fixed rotation: a 1 KiB cached file (200), a missing path (404), a range of a
//    200 KiB file read from disk (206), a conditional GET of a 10 KiB file with its ETag (304), and the
//    whole 200 KiB file (200, by sendfile over plain TCP). Every status and every body length is checked.
// 2. A burst of B connections (default 5000) held open at once, one request each; all must be answered.
//    The client needs B descriptors: if its own limit is lower, it says so and runs as many as fit
//    (raise it with `ulimit -n` in the shell that starts the run).
// Server figures are read from /proc (RSS, descriptors) and, after a full GC, from the child itself.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Socket } from "bun";
import { cleanup, tempDirForRun, track } from "./lib/children.ts";
import { parseCommandLine } from "./lib/options.ts";
import { rawExchange, ResponseReader } from "./lib/raw-http.ts";

// ---- options -----------------------------------------------------------------------------------

const COMMAND_LINE = {
  script: "bench/soak.ts",
  options: {
    requests: { kind: "whole", default: 1_000_000, min: 1, help: "keep-alive requests of phase 1" },
    connections: { kind: "whole", default: 64, min: 1, help: "connections they go over" },
    burst: { kind: "whole", default: 5000, min: 1, help: "connections held open at once in phase 2" },
  },
} as const;
const opts = parseCommandLine(COMMAND_LINE).values;

// ---- helpers -----------------------------------------------------------------------------------

const MiB = 1024 * 1024;
const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]) * 1024;
const fdsOf = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;
const softFdLimit = (pid: number | "self") => Number(/^Max open files\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/limits`, "utf8"))?.[1]);
const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`;

async function poll(predicate: () => boolean, ms: number, every = 20): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (!predicate()) {
    if (performance.now() > deadline) return false;
    await Bun.sleep(every);
  }
  return true;
}

// ---- fixtures and the child --------------------------------------------------------------------

const dir = tempDirForRun("bunhttp-soak-");
writeFileSync(join(dir, "small-1k.bin"), new Uint8Array(1024).fill(1));
writeFileSync(join(dir, "file-10k.bin"), new Uint8Array(10 * 1024).fill(2));
writeFileSync(join(dir, "file-200k.bin"), new Uint8Array(200 * 1024).fill(3)); // over the 128 KiB cache limit
const proc = Bun.spawn([process.execPath, join(import.meta.dir, "servers", "soak.ts"), dir], { stdout: "pipe", stderr: "inherit" });
track(proc); // stopped, and the temp dir removed, at cleanup() or on a signal

let portText = "";
const reader = proc.stdout.getReader();
while (!portText.includes("\n")) {
  const { done, value } = await reader.read();
  if (done) throw new Error("server exited before printing its port");
  portText += new TextDecoder().decode(value);
}
reader.releaseLock();
const port = Number(portText.trim());
const pid = proc.pid;

/** One request on a fresh connection, answered whole (Connection: close); for setup and stats. */
async function fetchOnce(raw: string): Promise<{ status: number; headers: Map<string, string>; body: string }> {
  const [res] = await rawExchange(port, raw, 1, true);
  return { status: Number(res!.statusLine.slice(9, 12)), headers: res!.headers, body: res!.body.toString("latin1") };
}

async function serverStats(): Promise<{ rss: number; heapUsed: number; connections: number }> {
  return JSON.parse((await fetchOnce("GET /__stats HTTP/1.1\r\nHost: s\r\nConnection: close\r\n\r\n")).body);
}

// ---- phase 1: the keep-alive mix ---------------------------------------------------------------

const etag = (await fetchOnce("GET /file-10k.bin HTTP/1.1\r\nHost: s\r\nConnection: close\r\n\r\n")).headers.get("etag");
if (!etag) throw new Error("no ETag on /file-10k.bin");

interface Kind {
  name: string;
  raw: Uint8Array;
  status: number;
  length: number;
}
const enc = new TextEncoder();
const KINDS: Kind[] = [
  { name: "1 KiB file (cached)", raw: enc.encode("GET /small-1k.bin HTTP/1.1\r\nHost: s\r\n\r\n"), status: 200, length: 1024 },
  { name: "404", raw: enc.encode("GET /missing.txt HTTP/1.1\r\nHost: s\r\n\r\n"), status: 404, length: -1 },
  { name: "range of a 200 KiB file", raw: enc.encode("GET /file-200k.bin HTTP/1.1\r\nHost: s\r\nRange: bytes=1000-1999\r\n\r\n"), status: 206, length: 1000 },
  { name: "304 (If-None-Match)", raw: enc.encode(`GET /file-10k.bin HTTP/1.1\r\nHost: s\r\nIf-None-Match: ${etag}\r\n\r\n`), status: 304, length: 0 },
  { name: "200 KiB file (from disk)", raw: enc.encode("GET /file-200k.bin HTTP/1.1\r\nHost: s\r\n\r\n"), status: 200, length: 200 * 1024 },
];
const counts = KINDS.map(() => 0);
const errors: string[] = [];

/** One keep-alive connection doing `n` requests in turn; resolves when all are answered. */
function keepAliveWorker(first: number, n: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let done = 0;
    let k = first % KINDS.length;
    const reader = new ResponseReader();
    const next = (s: Socket<undefined>) => {
      if (done === n) {
        s.end();
        resolve();
        return;
      }
      k = (first + done) % KINDS.length;
      s.write(KINDS[k]!.raw);
    };
    Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        open: next,
        data(s, d: Uint8Array) {
          const got = reader.feed(d);
          if (got.length > 1 || (got.length === 1 && reader.pending > 0)) errors.push(`${KINDS[k]!.name}: more than one response to one request`);
          if (got.length === 0) return;
          const kind = KINDS[k]!;
          const res = got[0]!;
          const status = Number(res.statusLine.slice(9, 12));
          const cl = Number(res.headers.get("content-length") ?? -1);
          if (status !== kind.status || (kind.length >= 0 && status !== 304 && (cl !== kind.length || res.body.length !== kind.length))) {
            errors.push(`${kind.name}: got ${status} with Content-Length ${cl} and ${res.body.length} body bytes`);
          }
          counts[k]!++;
          done++;
          next(s);
        },
        close() {
          if (done < n) reject(new Error(`connection closed after ${done} of ${n} requests`));
        },
        error: (_s, e) => reject(e),
      },
    }).catch(reject);
  });
}

const rows: [string, string, string][] = [];
const before = await serverStats();
const fds0 = fdsOf(pid);
const rss0 = rssOf(pid);
let peak = rss0;
const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 100);

console.log(`soak: ${opts.requests.toLocaleString("en")} keep-alive requests over ${opts.connections} connections…`);
const t0 = performance.now();
const per = Math.floor(opts.requests / opts.connections);
await Promise.all(
  Array.from({ length: opts.connections }, (_, c) => keepAliveWorker(c, per + (c < opts.requests % opts.connections ? 1 : 0))),
);
const secs = (performance.now() - t0) / 1000;
clearInterval(sampler);
await poll(() => fdsOf(pid) <= fds0, 5000);
const after = await serverStats();
const total = counts.reduce((a, b) => a + b, 0);

rows.push(["keep-alive requests", `${total.toLocaleString("en")} in ${secs.toFixed(1)} s`, `${Math.round(total / secs).toLocaleString("en")} req/s`]);
for (const [i, kind] of KINDS.entries()) rows.push([`  ${kind.name}`, counts[i]!.toLocaleString("en"), `status ${kind.status}`]);
rows.push(["  wrong status or length", String(errors.length), errors[0] ?? ""]);
rows.push(["server RSS (no GC)", `${mib(rss0)} → ${mib(rssOf(pid))}`, `peak ${mib(peak)}`]);
rows.push(["server RSS after GC", `${mib(before.rss)} → ${mib(after.rss)}`, `heap ${mib(before.heapUsed)} → ${mib(after.heapUsed)}`]);
rows.push(["server open fds", `${fds0} → ${fdsOf(pid)}`, ""]);

// ---- phase 2: the burst ------------------------------------------------------------------------

const clientLimit = softFdLimit("self");
const burst = Math.min(opts.burst, clientLimit - 64);
if (burst < opts.burst) {
  console.log(`soak: the client's open-file limit is ${clientLimit}; the burst is cut to ${burst} connections (raise it with ulimit -n)`);
}
console.log(`soak: burst of ${burst} connections (server's open-file limit ${softFdLimit(pid)})…`);
const sockets: Socket<undefined>[] = [];
const answered: boolean[] = new Array(burst).fill(false);
let answeredCount = 0;
let closedEarly = 0;
const rssBeforeBurst = rssOf(pid);
const b0 = performance.now();
// Connect with at most 256 handshakes in flight (Bun's listen backlog is 512).
let nextIndex = 0;
await Promise.all(
  Array.from({ length: 256 }, async () => {
    while (nextIndex < burst) {
      const i = nextIndex++;
      const reader = new ResponseReader();
      sockets[i] = await Bun.connect({
        hostname: "127.0.0.1",
        port,
        socket: {
          data(_s, d) {
            const res = reader.feed(d)[0];
            if (!answered[i] && res !== undefined) {
              answered[i] = true;
              answeredCount++;
              if (!res.statusLine.startsWith("HTTP/1.1 200 ")) errors.push(`burst ${i}: ${res.statusLine}`);
            }
          },
          close() {
            if (!answered[i]) closedEarly++;
          },
        },
      });
    }
  }),
);
const connectMs = performance.now() - b0;
const fdsOpen = fdsOf(pid);
const rssOpen = rssOf(pid);
const r0 = performance.now();
const req = enc.encode("GET /small-1k.bin HTTP/1.1\r\nHost: s\r\n\r\n");
for (const s of sockets) s.write(req);
const allAnswered = await poll(() => answeredCount + closedEarly >= burst, 30_000);
const answerMs = performance.now() - r0;
const rssBurst = rssOf(pid);
for (const s of sockets) s.end();
await poll(() => fdsOf(pid) <= fds0, 10_000);
const end = await serverStats();

rows.push([`burst: connections opened`, `${burst.toLocaleString("en")} in ${connectMs.toFixed(0)} ms`, `server fds ${fdsOpen}`]);
rows.push([`burst: answered`, `${answeredCount.toLocaleString("en")} in ${answerMs.toFixed(0)} ms`, `${closedEarly} closed unanswered${allAnswered ? "" : ", TIMED OUT"}`]);
rows.push(["burst: server RSS", `${mib(rssOpen)} open, ${mib(rssBurst)} answered`, `${((rssOpen - rssBeforeBurst) / burst / 1024).toFixed(1)} KiB/connection (no GC)`]);
rows.push(["end: server RSS after GC", mib(end.rss), `heap ${mib(end.heapUsed)}`]);
rows.push(["end: server open fds", String(fdsOf(pid)), `connections ${end.connections - 1}`]);

// ---- the table ---------------------------------------------------------------------------------

const w0 = Math.max(...rows.map((r) => r[0].length));
const w1 = Math.max(...rows.map((r) => r[1].length));
console.log(`\n| ${"measure".padEnd(w0)} | ${"value".padEnd(w1)} | note |\n|${"-".repeat(w0 + 2)}|${"-".repeat(w1 + 2)}|------|`);
for (const [a, b, c] of rows) console.log(`| ${a.padEnd(w0)} | ${b.padEnd(w1)} | ${c} |`);
for (const e of errors.slice(0, 5)) console.log(`error: ${e}`);

await cleanup();
process.exit(errors.length === 0 && allAnswered && closedEarly === 0 && total === opts.requests ? 0 : 1);
