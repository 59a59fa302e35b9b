#!/usr/bin/env bun
// Throughput with 1 and 2 worker processes: our CLI (--workers N, SO_REUSEPORT) against nginx
// (worker_processes N, reuseport; sendfile off and on, the better one compared with), all serving
// one 1 KiB static file, loaded by wrk -t2 -c128 from a separate process. Not part of CI.
//
//   bun run bench/workers.ts [--quick] [--rounds N] [--duration S] [--warmup S] [--retries N] [--connections N]
//
// Nothing is pinned: on a 2-core machine the servers' workers and wrk all share both cores, so the
// numbers say how a server does when it competes with its load generator, as on a small VM (issue
// 16: "with --workers 2 on both cores and the load generator sharing them, ours ≥ nginx with 2
// workers"). nginx: a master and its workers, access_log off, open_file_cache, keep-alive without a
// request limit. Ours: --log off.
// - every server is started once and checked before timing (bench/lib/answer-check.ts: a fetch and
//   a raw keep-alive exchange give 200 and the exact bytes), and every worker has bound the port;
// - one warm-up run per server (not counted), then rounds alternate between the servers; medians;
// - CPU per request: utime+stime of the server's whole process tree (master and workers) over the
//   requests wrk reported;
// - other processes' CPU on the machine during a run (all cores, less the server's and wrk's) above
//   5% marks it noisy (*) and repeats it (--retries), keeping the quietest.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { checkAnswer } from "./lib/answer-check.ts";
import { REPO, runMain, spawn, tempDirForRun } from "./lib/children.ts";
import { NOISE_LIMIT, noisyRunsSection, printNoisyRuns } from "./lib/noise.ts";
import { applyQuick, parseCommandLine, timingOptions } from "./lib/options.ts";
import { freePort, isDead, waitListening } from "./lib/pinned-server.ts";
import { checkClockTick, coreTimes, treeCpuSeconds } from "./lib/proc-stat.ts";
import { alternateRounds } from "./lib/rounds.ts";
import { fmtRate, median } from "./lib/stats.ts";
import { ensureTools } from "./lib/tools.ts";
import { runWrk, wrkErrors } from "./lib/wrk.ts";
import { nginxConfig } from "./nginx.ts";

const NGINX = "/usr/sbin/nginx";
const OUT = join(import.meta.dir, ".out");
const FILE = "/1k.bin";

const COMMAND_LINE = {
  script: "bench/workers.ts",
  options: {
    ...timingOptions({ rounds: 3, duration: 5, warmup: 1 }),
    connections: { kind: "whole", default: 128, min: 1, help: "wrk's connections (over 2 threads)" },
  },
} as const;

interface Server {
  name: string;
  kind: "ours" | "nginx";
  workers: number;
  proc: Subprocess;
  port: number;
}

interface Sample {
  rps: number;
  cpuUsPerReq: number;
  noisy: boolean;
  foreign: number;
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
async function waitListeners(name: string, port: number, n: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (listeners(port) < n) {
    if (Date.now() > deadline) throw new Error(`${name}: only ${listeners(port)} of ${n} workers listen on ${port}`);
    await Bun.sleep(20);
  }
}

async function start(name: string, kind: Server["kind"], workers: number, cmd: (port: number) => string[], expected: Uint8Array): Promise<Server> {
  const port = await freePort();
  const log = join(OUT, `workers-${name.replace(/[^\w.-]+/g, "_")}.log`);
  writeFileSync(log, `$ ${cmd(port).join(" ")}\n`);
  const proc = spawn(cmd(port), log);
  await waitListening(name, port, proc, log);
  await waitListeners(name, port, workers);
  console.error(`  ok ${name}: ${await checkAnswer(name, port, FILE, expected, "keepalive")}`);
  return { name, kind, workers, proc, port };
}

async function main(): Promise<void> {
  const p = parseCommandLine(COMMAND_LINE);
  applyQuick(p);
  const opts = p.values;
  checkClockTick();
  ensureTools([
    { path: "wrk", pkg: "wrk" },
    { path: NGINX, pkg: "nginx-light" },
  ]);
  mkdirSync(OUT, { recursive: true });
  const dir = tempDirForRun("bunhttp-bench-workers-");
  const root = join(dir, "root");
  mkdirSync(root);
  const body = randomBytes(1024);
  writeFileSync(join(root, FILE), body);
  // nginx's workers run as nobody: they must be able to read the fixture.
  chmodSync(dir, 0o755);
  chmodSync(root, 0o755);
  chmodSync(join(root, FILE), 0o644);

  const setup = `GET ${FILE} (1 KiB), wrk -t2 -c${opts.connections}, ${opts.rounds} round(s) of ${opts.duration} s (+${opts.warmup} s warm-up each), keep-alive, 127.0.0.1; ${availableParallelism()} cores, nothing pinned`;
  console.error(`bench/workers.ts: ${setup}; Bun ${Bun.version}`);
  const servers: Server[] = [];
  for (const n of [1, 2]) {
    servers.push(await start(`ours ×${n}`, "ours", n, (port) => [process.execPath, join(REPO, "src/index.ts"), "--workers", `${n}`, "--host", "127.0.0.1", "--port", `${port}`, "--root", root, "--log", "off"], body));
    for (const sendfile of [false, true]) {
      const name = `nginx ×${n} sendfile ${sendfile ? "on" : "off"}`;
      const prefix = join(dir, `nginx-${n}-${sendfile ? "on" : "off"}`);
      mkdirSync(prefix);
      const errorLog = join(prefix, "error.log");
      servers.push(
        await start(name, "nginx", n, (port) => {
          const conf = join(prefix, "nginx.conf");
          writeFileSync(conf, nginxConfig({ by: "bench/workers.ts", port, root, tempDir: prefix, errorLog, workers: n, master: true, reusePort: true, sendfile }));
          return [NGINX, "-p", prefix, "-e", errorLog, "-c", conf];
        }, body),
      );
    }
  }

  const problems: string[] = [];
  const noisyRuns: string[] = [];
  const cores = availableParallelism();
  const measure = async (s: Server, seconds: number, label: string): Promise<Sample> => {
    const cpu0 = treeCpuSeconds(s.proc.pid);
    const cores0 = coreTimes();
    const t0 = performance.now();
    const w = await runWrk({ url: `http://127.0.0.1:${s.port}${FILE}`, duration: seconds, connections: opts.connections, threads: 2 });
    const wall = (performance.now() - t0) / 1000;
    if (isDead(s.proc)) throw new Error(`${s.name} exited during the ${label} run`);
    const cpu = treeCpuSeconds(s.proc.pid) - cpu0;
    const cores1 = coreTimes();
    let busy = 0;
    for (const [core, a] of cores1) busy += a.busy - (cores0.get(core)?.busy ?? a.busy) + a.steal - (cores0.get(core)?.steal ?? a.steal);
    const foreign = Math.max(0, busy - cpu - w.cpu) / (wall * cores);
    const noisy = foreign > NOISE_LIMIT;
    if (noisy) noisyRuns.push(`${s.name}, ${label}: other processes took ${(foreign * 100).toFixed(0)}% of the machine`);
    const errs = wrkErrors(w);
    if (errs !== "") problems.push(`${s.name}, ${label}: ${errs} (of ${w.requests} requests)`);
    const sample = { rps: w.rps, cpuUsPerReq: (cpu * 1e6) / w.requests, noisy, foreign };
    console.error(`    ${label.padEnd(16)} ${s.name.padEnd(22)} ${fmtRate(w.rps).padStart(8)} req/s  ${sample.cpuUsPerReq.toFixed(2).padStart(6)} µs CPU/req${noisy ? `  NOISY (${(foreign * 100).toFixed(0)}%)` : ""}${errs ? `  ERRORS: ${errs}` : ""}`);
    return sample;
  };

  const samples = await alternateRounds(servers, opts, (s, label, seconds) => measure(s, seconds, label));
  const med = samples.map((ss) => ({ rps: median(ss.map((x) => x.rps)), cpu: median(ss.map((x) => x.cpuUsPerReq)) }));
  const int = (n: number) => Math.round(n).toLocaleString("en-US");
  const rows = [
    "| server | req/s (median) | µs CPU/request (all processes) | runs (req/s) |",
    "|---|---:|---:|---|",
    ...servers.map((s, i) => `| ${s.name} | ${int(med[i]!.rps)} | ${med[i]!.cpu.toFixed(2)} | ${samples[i]!.map((x) => fmtRate(x.rps) + (x.noisy ? "*" : "")).join(" ")} |`),
  ];
  const verdict = ["", "| workers | ours req/s | best nginx | ours ÷ best nginx | µs CPU ours / nginx | ×2 ÷ ×1, ours | ×2 ÷ ×1, nginx |", "|---:|---:|---|---:|---:|---:|---:|"];
  const best = (n: number) => {
    const idx = servers.flatMap((s, i) => (s.kind === "nginx" && s.workers === n ? [i] : []));
    return idx.reduce((b, i) => (med[i]!.rps > med[b]!.rps ? i : b), idx[0]!);
  };
  const ours = (n: number) => servers.findIndex((s) => s.kind === "ours" && s.workers === n);
  for (const n of [1, 2]) {
    const o = med[ours(n)]!;
    const b = med[best(n)]!;
    const scale = n === 2 ? [(o.rps / med[ours(1)]!.rps).toFixed(2), (b.rps / med[best(1)]!.rps).toFixed(2)] : ["", ""];
    verdict.push(`| ${n} | ${int(o.rps)} | ${servers[best(n)]!.name}: ${int(b.rps)} | **${(o.rps / b.rps).toFixed(2)}** | ${o.cpu.toFixed(2)} / ${b.cpu.toFixed(2)} | ${scale[0]} | ${scale[1]} |`);
  }
  const errors = problems.length ? problems.map((x) => `- ${x}`) : ["none"];
  const report = [`# bench/workers.ts — ${new Date().toISOString()}`, "", `${setup}; Bun ${Bun.version}; medians.`, "", ...rows, ...verdict, "", "## wrk errors", "", ...errors, "", ...noisyRunsSection(noisyRuns)].join("\n");
  writeFileSync(join(OUT, "workers-latest.md"), report);
  console.log(`\n${rows.join("\n")}\n${verdict.join("\n")}\n\n## wrk errors\n\n${errors.join("\n")}`);
  printNoisyRuns(noisyRuns);
  console.error(`\n(report saved to ${join(OUT, "workers-latest.md")})`);
}

await runMain("bench/workers.ts", main);
