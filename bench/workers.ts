#!/usr/bin/env bun
// Throughput with 1 vs 2 worker processes: our CLI (--workers N, SO_REUSEPORT) against nginx
// (worker_processes N), both serving one 1 KiB static file, loaded by wrk -t2 -c128 from a separate
// process. Not part of CI.
//
//   bun run bench/workers.ts [--duration S] [--warmup S]
//
// Nothing is pinned: on a 2-core machine the servers' workers and wrk all share both cores, so the
// numbers say how the server does when it competes with its load generator, as on a small VM.
// nginx: access_log off, open_file_cache, sendfile off (we do not use sendfile either), keep-alive
// without a request limit. Ours: --log off. Each server is checked (status 200 and the exact bytes)
// before it is timed; one warm-up run per server is not counted; then one timed run each.
import type { Subprocess } from "bun";
import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { nginxConfig } from "./nginx.ts";

const REPO = resolve(import.meta.dir, "..");
const NGINX = "/usr/sbin/nginx";
const WRK = "wrk";

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} needs a positive number`);
  return v;
}
const DURATION = option("--duration", 5);
const WARMUP = option("--warmup", 1);

for (const tool of [NGINX]) if (!existsSync(tool)) throw new Error(`${tool} is not installed`);
if (Bun.which(WRK) === null) throw new Error("wrk is not installed");

const dir = mkdtempSync(join(tmpdir(), "bunhttp-bench-workers-"));
const root = join(dir, "root");
mkdirSync(root);
const FILE = "1k.bin";
const BODY = randomBytes(1024);
writeFileSync(join(root, FILE), BODY);
// nginx's workers run as nobody: they must be able to read the fixture.
chmodSync(dir, 0o755);
chmodSync(root, 0o755);
chmodSync(join(root, FILE), 0o644);

function freePort(): number {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

interface Running {
  proc: Subprocess;
  port: number;
  stop(): Promise<void>;
}

async function waitReady(port: number, proc: Subprocess, name: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`${name} exited during start-up`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/${FILE}`);
      const body = new Uint8Array(await res.arrayBuffer());
      if (res.status !== 200 || !Buffer.from(body).equals(BODY)) throw new Error(`${name}: wrong answer (status ${res.status}, ${body.length} bytes)`);
      return;
    } catch (err) {
      if ((err as Error).message.includes("wrong answer")) throw err;
      if (Date.now() > deadline) throw new Error(`${name} did not answer within 10 s`);
      await Bun.sleep(50);
    }
  }
}

/** Children of a process (Linux /proc), to count and clean up workers. */
function childrenOf(ppid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === ppid) out.push(Number(name));
    } catch {}
  }
  return out;
}

/** Listening sockets on 127.0.0.1:port (/proc/net/tcp): with SO_REUSEPORT, one per worker. */
function listeners(port: number): number {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  return readFileSync("/proc/net/tcp", "utf8")
    .split("\n")
    .filter((line) => {
      const f = line.trim().split(/\s+/);
      return f[1] === local && f[3] === "0A"; // state 0A = LISTEN
    }).length;
}

/** Waits until every worker has bound the port (the first one answering is not enough). */
async function waitListeners(port: number, n: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (listeners(port) < n) {
    if (Date.now() > deadline) throw new Error(`only ${listeners(port)} of ${n} workers listen on ${port}`);
    await Bun.sleep(20);
  }
}

async function stopProcess(proc: Subprocess, signal: NodeJS.Signals): Promise<void> {
  const kids = childrenOf(proc.pid);
  proc.kill(signal);
  const t = setTimeout(() => {
    for (const k of kids) {
      try {
        process.kill(k, "SIGKILL");
      } catch {}
    }
    proc.kill("SIGKILL");
  }, 5000);
  await proc.exited;
  clearTimeout(t);
}

async function startOurs(workers: number): Promise<Running> {
  const port = freePort();
  const proc = Bun.spawn(
    [process.execPath, "src/index.ts", "--workers", String(workers), "--port", String(port), "--root", root, "--log", "off"],
    { cwd: REPO, stdout: "ignore", stderr: "inherit", stdin: "ignore", env: { ...process.env, NO_COLOR: "1" } },
  );
  await waitReady(port, proc, `ours ×${workers}`);
  await waitListeners(port, workers);
  return { proc, port, stop: () => stopProcess(proc, "SIGTERM") };
}

async function startNginx(workers: number): Promise<Running> {
  const port = freePort();
  const prefix = join(dir, `nginx-${workers}`);
  mkdirSync(prefix, { recursive: true });
  const conf = join(prefix, "nginx.conf");
  writeFileSync(conf, nginxConfig({ by: "bench/workers.ts", port, root, tempDir: prefix, errorLog: join(prefix, "error.log"), workers, master: true, reusePort: true }));
  const proc = Bun.spawn([NGINX, "-p", prefix, "-e", join(prefix, "error.log"), "-c", conf], {
    stdout: "ignore",
    stderr: "inherit",
    stdin: "ignore",
  });
  await waitReady(port, proc, `nginx ×${workers}`);
  await waitListeners(port, workers);
  return { proc, port, stop: () => stopProcess(proc, "SIGTERM") };
}

interface WrkResult {
  rps: number;
  non2xx: number;
  errors: number;
}

async function wrk(port: number, seconds: number): Promise<WrkResult> {
  const p = Bun.spawn([WRK, "-t2", "-c128", `-d${seconds}s`, `http://127.0.0.1:${port}/${FILE}`], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`wrk failed (${code}): ${err}`);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (!rps) throw new Error(`cannot read wrk's output:\n${out}`);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  return { rps: Number(rps[1]), non2xx, errors };
}

interface Row {
  name: string;
  workers: number;
  result: WrkResult;
}

const cases: { name: string; workers: number; start: (n: number) => Promise<Running> }[] = [
  { name: "bunhttp", workers: 1, start: startOurs },
  { name: "bunhttp", workers: 2, start: startOurs },
  { name: "nginx", workers: 1, start: startNginx },
  { name: "nginx", workers: 2, start: startNginx },
];

const rows: Row[] = [];
try {
  console.log(
    `bench/workers.ts: GET /${FILE} (1 KiB), wrk -t2 -c128 -d${DURATION}s (+${WARMUP}s warm-up), keep-alive, 127.0.0.1\n` +
      `${availableParallelism()} cores; nothing pinned: servers and wrk share all cores. One round each.\n`,
  );
  for (const c of cases) {
    const server = await c.start(c.workers);
    try {
      await wrk(server.port, WARMUP);
      const result = await wrk(server.port, DURATION);
      if (server.proc.exitCode !== null) throw new Error(`${c.name} ×${c.workers} exited during the run`);
      rows.push({ name: c.name, workers: c.workers, result });
      console.log(`  ${c.name} ×${c.workers}: ${Math.round(result.rps)} req/s`);
    } finally {
      await server.stop();
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const rps = (name: string, w: number) => rows.find((r) => r.name === name && r.workers === w)!.result.rps;
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
console.log("\n| server  | workers |   req/s | ×2 workers vs ×1 | bunhttp / nginx |");
console.log("|---------|---------|---------|------------------|-----------------|");
for (const r of rows) {
  const scaling = r.workers === 2 ? ratio(r.result.rps, rps(r.name, 1)) : "";
  const vs = r.name === "bunhttp" ? ratio(r.result.rps, rps("nginx", r.workers)) : "";
  console.log(
    `| ${r.name.padEnd(7)} | ${String(r.workers).padStart(7)} | ${fmt(r.result.rps).padStart(7)} | ${scaling.padStart(16)} | ${vs.padStart(15)} |`,
  );
}
const problems = rows.filter((r) => r.result.non2xx > 0 || r.result.errors > 0);
for (const r of problems) console.log(`  ${r.name} ×${r.workers}: ${r.result.non2xx} non-2xx, ${r.result.errors} socket errors`);
if (problems.length === 0) console.log("\nNo non-2xx responses or socket errors.");
