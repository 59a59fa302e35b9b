#!/usr/bin/env bun
// Scale: req/s at 10,000 keep-alive connections against 64, and resident memory per idle keep-alive
// connection; our static server against nginx, both serving one 1 KiB file.
//
//   bun run bench/scale.ts [--quick] [--rounds N] [--duration S] [--warmup S] [--connections N] [--idle N]
//                          [--servers ours,nginx]
//
// Method:
// - ours (bench/servers/ours-static.ts) and nginx (bench/nginx.ts: one process, sendfile off, with
//   worker_connections raised to the descriptor limit) run pinned to core 1, each under
//   `prlimit --nofile=L:L`, L the hard limit this process has (raising the hard limit needs
//   CAP_SYS_RESOURCE); this process raises its own soft limit too, and wrk inherits it. Each
//   limit is read back from /proc/<pid>/limits and must leave room for the connections;
// - the listen backlog each server really got is read off `ss -ltn` (Send-Q); net.core.somaxconn
//   is raised to 512 for the run only if it is lower (printed, restored at exit);
// - memory, first, on the fresh server: VmRSS before; N idle connections opened from this process
//   (256 at a time, each sends one GET and reads its whole response, then stays silent); VmRSS once
//   the server holds all N descriptors and its RSS is steady; (after − before) ÷ N is the cost of
//   one idle connection; then all are closed and RSS read again once the server has let them go.
//   The measurement must end well inside the server's keep-alive timeout (ours: 60 s, the default
//   ours-static.ts runs with; nginx: 65 s), and every connection must still be open at the end;
// - throughput: `wrk -t1 -cC` pinned to core 0 at C = 64 and C = --connections, same duration, one
//   warm-up each, then rounds alternate (ours 64, nginx 64, ours C, nginx C, …); medians. Before each
//   run the server must have closed the last run's connections. Server CPU per request is
//   utime+stime from /proc/<pid>/stat over the run ÷ wrk's requests. wrk's connect/read/write/
//   timeout errors and non-2xx answers are counted per run, and a run with any is flagged (!), as is
//   one during which the kernel dropped completed connections off a full accept queue
//   (ListenOverflows) or other processes took > 5% of a core (*; the machine may be shared).
//
// The fixture lives in a temp dir; server logs, the nginx config and the report
// (bench/.out/scale-latest.md) go to bench/.out/.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { DEFAULT_OPTIONS } from "../src/server/listen.ts";
import { atCleanup, die, runMain, tempDirForRun } from "./lib/children.ts";
import { foreignLoad, NOISE_LIMIT } from "./lib/noise.ts";
import { BUN_COMM, isDead, logTail, startPinned, type PinnedServer } from "./lib/pinned-server.ts";
import { checkClockTick, coreTimes, cpuSeconds } from "./lib/proc-stat.ts";
import { describeDiff, rawExchange, type RawResponse } from "./lib/raw-http.ts";
import { openIdlePool } from "./lib/scale-idle.ts";
import {
  childByComm,
  fdCount,
  listenBacklog,
  listenCounters,
  nofileOf,
  pollUntil,
  raiseOwnNofile,
  rssOf,
  sysctl,
  tcpInUse,
  withNofile,
} from "./lib/scale-kernel.ts";
import { fmtRate, median } from "./lib/stats.ts";
import { runWrk, wrkErrors } from "./lib/wrk.ts";
import { nginxConfig } from "./nginx.ts";

const OUT = join(import.meta.dir, ".out");
const SERVERS = join(import.meta.dir, "servers");
const NGINX = "/usr/sbin/nginx";
const SERVER_CORE = "1";
const WRK_CORE = "0";
const FEW = 64;
/** Descriptors a process needs beyond its connections (listener, logs, files, Bun's own). */
const HEADROOM = 256;
/** nginx's keepalive_timeout in bench/nginx.ts. */
const NGINX_KEEPALIVE_MS = 65_000;

const USAGE = `usage: bun run bench/scale.ts [--quick] [--rounds N] [--duration S] [--warmup S] [--connections N] [--idle N]
                               [--servers ours,nginx]
  default: 3 rounds of 5 s at 64 and 10000 connections (--quick: 1 round of 3 s), 1 s warm-up each,
  memory per idle connection over 10000 idle connections; about 2 minutes (--quick: under 1)`;

interface Options {
  rounds: number;
  duration: number;
  warmup: number;
  connections: number;
  idle: number;
  servers: string[];
}

function parseOptions(argv: string[]): Options {
  const o: Options = { rounds: 3, duration: 5, warmup: 1, connections: 10_000, idle: 10_000, servers: ["ours", "nginx"] };
  let quick = false;
  let rounds: number | undefined;
  let duration: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const num = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0) die(`${a} needs a whole number\n${USAGE}`);
      return v;
    };
    if (a === "--quick") quick = true;
    else if (a === "--rounds") rounds = num();
    else if (a === "--duration") duration = num();
    else if (a === "--warmup") o.warmup = num();
    else if (a === "--connections") o.connections = num();
    else if (a === "--idle") o.idle = num();
    else if (a === "--servers") o.servers = (argv[++i] ?? "").split(",").filter((s) => s !== "");
    else if (a === "--help" || a === "-h") {
      console.log(USAGE);
      process.exit(0);
    } else die(`unknown argument ${a}\n${USAGE}`);
  }
  if (quick) {
    o.rounds = 1;
    o.duration = 3;
  }
  if (rounds !== undefined) o.rounds = rounds;
  if (duration !== undefined) o.duration = duration;
  if (o.rounds < 1 || o.duration < 1) die("--rounds and --duration must be at least 1");
  if (o.connections <= FEW) die(`--connections must be more than ${FEW}`);
  if (o.idle < 1) die("--idle must be at least 1");
  for (const s of o.servers) if (s !== "ours" && s !== "nginx") die(`unknown server ${s} (ours, nginx)`);
  if (o.servers.length === 0) die("--servers needs ours, nginx or both");
  return o;
}

// ---- servers -----------------------------------------------------------------------------------

interface Server extends PinnedServer {
  /** Descriptors open when it holds no connection. */
  baseFds: number;
  nofile: number;
  backlog: number;
  keepAliveMs: number;
}

const REQUEST = "GET /1k.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: bench/scale.ts\r\nAccept: */*\r\n\r\n";

function checkResponse(body: Uint8Array): (r: RawResponse) => void {
  return (r) => {
    if (!/^HTTP\/1\.1 200 /.test(r.statusLine)) throw new Error(`status line "${r.statusLine}"`);
    if (!r.body.equals(body)) throw new Error(`body: ${describeDiff(r.body, body)}`);
  };
}

async function startServer(name: string, limit: number, need: number, root: string, tempDir: string, body: Uint8Array): Promise<Server> {
  const log = join(OUT, `scale-${name}.log`);
  let keepAliveMs: number;
  let start: (port: number) => { cmd: string[]; comm: string };
  if (name === "ours") {
    // ours-static.ts sets no timeout: the server's default keep-alive timeout applies.
    keepAliveMs = DEFAULT_OPTIONS.keepAliveTimeout;
    start = (port) => ({ cmd: withNofile(limit, [process.execPath, join(SERVERS, "ours-static.ts"), "--port", `${port}`, "--root", root]), comm: BUN_COMM });
  } else {
    keepAliveMs = NGINX_KEEPALIVE_MS;
    start = (port) => {
      const dir = join(tempDir, "nginx");
      mkdirSync(dir, { recursive: true });
      const errorLog = join(OUT, "scale-nginx.error.log");
      writeFileSync(errorLog, "");
      const base = nginxConfig({ by: "bench/scale.ts", port, root, tempDir: dir, errorLog, sendfile: false });
      // bench/nginx.ts allows 4096 connections per worker: too few here (nginx would log
      // "worker_connections are not enough" and close the rest).
      const conf = base.replace(/worker_connections \d+;/, `worker_connections ${limit};`);
      if (conf === base) throw new Error("bench/nginx.ts no longer sets worker_connections: cannot raise it");
      const path = join(OUT, "scale-nginx.conf");
      writeFileSync(path, conf);
      return { cmd: withNofile(limit, [NGINX, "-p", dir, "-e", errorLog, "-c", path]), comm: "nginx" };
    };
  }
  const p = await startPinned(name, SERVER_CORE, log, start);
  const nofile = nofileOf(p.pid).soft;
  if (nofile < need) throw new Error(`${name}: /proc/${p.pid}/limits gives ${nofile} open files, ${need} needed`);
  const backlog = listenBacklog(p.port);
  try {
    const [r] = await rawExchange(p.port, REQUEST, 1, false);
    checkResponse(body)(r!);
  } catch (e) {
    throw new Error(`CORRECTNESS CHECK FAILED for ${name}: ${(e as Error).message}`);
  }
  // The check's connection is closed by now on our side; wait until the server has let it go too.
  await Bun.sleep(300);
  const base = fdCount(p.pid);
  console.error(`  ${name}: open-file limit ${nofile}, listen backlog ${backlog}, ${base} descriptors open, keep-alive timeout ${keepAliveMs / 1000} s`);
  return { ...p, baseFds: base, nofile, backlog, keepAliveMs };
}

/** Waits (20 s at most) until the server has closed the connections of the last run. */
async function waitIdle(s: Server): Promise<void> {
  const { value, met } = await pollUntil(() => fdCount(s.pid), (n) => n <= s.baseFds + 2, 20_000);
  if (!met) throw new Error(`${s.name} still has ${value - s.baseFds} connections open 20 s after the last run`);
}

// ---- memory per idle connection ----------------------------------------------------------------

/** RSS once it stops moving: samples 250 ms apart until two are within 0.5% (3 s at most). */
async function steadyRss(pid: number): Promise<{ rss: number; anon: number }> {
  let last = rssOf(pid);
  for (let i = 0; i < 12; i++) {
    await Bun.sleep(250);
    const now = rssOf(pid);
    const steady = Math.abs(now.rss - last.rss) <= last.rss * 0.005;
    last = now;
    if (steady) break;
  }
  return last;
}

interface Memory {
  before: number;
  held: number;
  afterClose: number;
  perConn: number;
  perConnAnon: number;
  openSeconds: number;
  holdSeconds: number;
  problems: string[];
}

async function measureMemory(s: Server, n: number, body: Uint8Array): Promise<Memory> {
  await waitIdle(s);
  const problems: string[] = [];
  const before = await steadyRss(s.pid);
  const t0 = performance.now();
  const overflows0 = listenCounters().overflows;
  const pool = await openIdlePool(s.port, n, REQUEST, checkResponse(body));
  const openSeconds = (performance.now() - t0) / 1000;
  const all = await pollUntil(() => fdCount(s.pid) - s.baseFds, (k) => k >= n, 10_000);
  if (!all.met) problems.push(`the server holds ${all.value} descriptors more than at rest, not ${n}`);
  const held = await steadyRss(s.pid);
  const holdSeconds = (performance.now() - t0) / 1000;
  // Every connection must still be open now: none cut by a timeout or a limit while we measured.
  const stillHeld = fdCount(s.pid) - s.baseFds;
  if (pool.closedByServer > 0 || stillHeld < n) problems.push(`${pool.closedByServer} connections closed by the server during the measurement (${stillHeld} held)`);
  if (pool.strayBytes > 0) problems.push(`${pool.strayBytes} bytes sent to idle connections`);
  if (holdSeconds * 1000 > s.keepAliveMs * 0.75) problems.push(`the measurement took ${holdSeconds.toFixed(1)} s, near the ${s.keepAliveMs / 1000} s keep-alive timeout`);
  const overflows = listenCounters().overflows - overflows0;
  if (overflows > 0) problems.push(`${overflows} listen-queue overflows while opening`);
  pool.close();
  const gone = await pollUntil(() => fdCount(s.pid) - s.baseFds, (k) => k <= 2, 20_000);
  if (!gone.met) problems.push(`${gone.value} connections still open at the server 20 s after we closed them`);
  await Bun.sleep(1000);
  const afterClose = await steadyRss(s.pid);
  const m: Memory = {
    before: before.rss,
    held: held.rss,
    afterClose: afterClose.rss,
    perConn: (held.rss - before.rss) / n,
    perConnAnon: (held.anon - before.anon) / n,
    openSeconds,
    holdSeconds,
    problems,
  };
  console.error(
    `  ${s.name}: RSS ${mib(m.before)} → ${mib(m.held)} with ${n} idle → ${mib(m.afterClose)} after close; ` +
      `${Math.round(m.perConn)} B per connection (anon ${Math.round(m.perConnAnon)} B); opened in ${openSeconds.toFixed(1)} s` +
      (problems.length ? `  PROBLEMS: ${problems.join("; ")}` : ""),
  );
  return m;
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

// ---- throughput --------------------------------------------------------------------------------

interface Run {
  rps: number;
  requests: number;
  cpuUsPerReq: number;
  wrkShare: number;
  overflows: number;
  /** Seconds from wrk's start until 99% of its connections were established (NaN: never). */
  ramp: number;
  errors: string;
  noisy: boolean;
}

/** The lowest soft open-file limit seen on a wrk process. */
let wrkNofile = Infinity;

/** Reads the limits of the wrk child once it has exec()ed (taskset → wrk keeps the pid). */
async function watchWrkLimit(done: { v: boolean }): Promise<void> {
  while (!done.v) {
    const pid = childByComm("wrk");
    if (pid !== null) {
      try {
        wrkNofile = Math.min(wrkNofile, nofileOf(pid).soft);
      } catch {}
      return;
    }
    await Bun.sleep(20);
  }
}

/**
 * Seconds from `t0` until `connections` more loopback connections than at the start are established
 * (both ends, 99% of them), polled every 20 ms until `done`; NaN if they never all were.
 */
async function watchRamp(connections: number, t0: number, done: { v: boolean }): Promise<number> {
  const target = tcpInUse() + Math.floor(2 * connections * 0.99);
  while (!done.v) {
    if (tcpInUse() >= target) return (performance.now() - t0) / 1000;
    await Bun.sleep(20);
  }
  return NaN;
}

async function measureRun(s: Server, connections: number, duration: number, label: string, problems: string[]): Promise<Run> {
  await waitIdle(s);
  const cpu0 = cpuSeconds(s.pid);
  const cores0 = coreTimes();
  const overflows0 = listenCounters().overflows;
  const t0 = performance.now();
  const done = { v: false };
  const watching = watchWrkLimit(done);
  const ramping = watchRamp(connections, t0, done);
  const w = await runWrk({ url: `http://127.0.0.1:${s.port}/1k.bin`, duration, core: WRK_CORE, connections }).finally(() => (done.v = true));
  await watching;
  const ramp = await ramping;
  const wall = (performance.now() - t0) / 1000;
  if (isDead(s.proc)) throw new Error(`${s.name} DIED during a run at ${connections} connections (exit ${s.proc.exitCode ?? s.proc.signalCode}):\n${logTail(s.log)}`);
  const cpu = cpuSeconds(s.pid) - cpu0;
  const overflows = listenCounters().overflows - overflows0;
  const foreign = foreignLoad(cores0, coreTimes(), { core: SERVER_CORE, cpu }, { core: WRK_CORE, cpu: w.cpu }, wall);
  const run: Run = {
    rps: w.rps,
    requests: w.requests,
    cpuUsPerReq: w.requests > 0 ? (cpu * 1e6) / w.requests : NaN,
    wrkShare: w.cpu / wall,
    overflows,
    ramp,
    errors: wrkErrors(w) + (w.requests === 0 ? " ZERO requests" : ""),
    noisy: foreign.server > NOISE_LIMIT || foreign.client > NOISE_LIMIT,
  };
  if (label !== "warm-up") {
    if (run.errors !== "") problems.push(`${s.name}, -c${connections}, ${label}: wrk errors: ${run.errors} (of ${w.requests} requests)`);
    if (overflows > 0) problems.push(`${s.name}, -c${connections}, ${label}: ${overflows} connections dropped off a full accept queue (ListenOverflows)`);
  }
  console.error(
    `    ${label.padEnd(9)} ${s.name.padEnd(6)} -c${`${connections}`.padEnd(6)} ${fmtRate(run.rps).padStart(7)} req/s  ${run.cpuUsPerReq.toFixed(2).padStart(6)} µs CPU/req  ` +
      `wrk CPU ${(run.wrkShare * 100).toFixed(0)}%  all connected after ${ramp.toFixed(2)} s  overflows ${overflows}${run.errors ? `  ERRORS: ${run.errors}` : ""}` +
      (run.noisy ? `  NOISY (other load: core ${SERVER_CORE} ${(foreign.server * 100).toFixed(0)}%, core ${WRK_CORE} ${(foreign.client * 100).toFixed(0)}%)` : ""),
  );
  return run;
}

function mark(r: Run): string {
  return fmtRate(r.rps) + (r.errors !== "" ? "!" : "") + (r.overflows > 0 ? "†" : "") + (r.noisy ? "*" : "");
}

// ---- main --------------------------------------------------------------------------------------

/** net.core.somaxconn caps every listen backlog: below 512 it would cut Bun's, so raise it for the run. */
function ensureSomaxconn(): string {
  const path = "/proc/sys/net/core/somaxconn";
  const was = Number(sysctl("net.core.somaxconn"));
  if (!(was < 512)) return `net.core.somaxconn ${was} (unchanged)`;
  writeFileSync(path, "512");
  console.error(`sysctl: net.core.somaxconn ${was} → 512 for this run (restored at exit)`);
  atCleanup(() => {
    writeFileSync(path, `${was}`);
    console.error(`sysctl: net.core.somaxconn restored to ${was}`);
  });
  return `net.core.somaxconn ${was} → 512 during the run, restored at exit`;
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  checkClockTick();
  for (const tool of ["taskset", "wrk", "prlimit", "ss"]) if (Bun.which(tool) === null) throw new Error(`${tool} is not installed`);
  if (o.servers.includes("nginx") && !existsSync(NGINX)) throw new Error(`${NGINX} is not installed (apt-get install nginx-light)`);
  mkdirSync(OUT, { recursive: true });
  const tempDir = tempDirForRun("bench-scale-");
  const root = join(tempDir, "root");
  mkdirSync(root);
  const body = randomBytes(1024);
  writeFileSync(join(root, "1k.bin"), body);

  // Descriptors: the servers and wrk hold `connections`, this process the idle pool.
  const need = Math.max(o.connections, o.idle) + HEADROOM;
  const own = raiseOwnNofile(need);
  const hard = nofileOf("self").hard;
  if (own < need) throw new Error(`the open-file limit is ${own} (hard ${hard}), ${need} needed: lower --connections/--idle, or raise the hard limit`);
  const limit = Math.min(hard, Math.max(need, own));
  const somaxconn = ensureSomaxconn();
  const kernel = [
    `open-file limit: this process and wrk ${own} (hard ${hard}); servers run under \`prlimit --nofile=${limit}:${hard}\``,
    somaxconn,
    `net.ipv4.tcp_max_syn_backlog ${sysctl("net.ipv4.tcp_max_syn_backlog")}, tcp_syncookies ${sysctl("net.ipv4.tcp_syncookies")}, ` +
      `ip_local_port_range ${sysctl("net.ipv4.ip_local_port_range")}, tcp_tw_reuse ${sysctl("net.ipv4.tcp_tw_reuse")}`,
  ];
  console.error(`bench/scale.ts: Bun ${Bun.version}; ${kernel.join("; ")}`);

  const servers: Server[] = [];
  for (const name of o.servers) servers.push(await startServer(name, limit, need, root, tempDir, body));
  kernel.push(`listen backlog (ss Send-Q): ${servers.map((s) => `${s.name} ${s.backlog}`).join(", ")}`);

  console.error(`\n## memory per idle connection (${o.idle} connections)`);
  const memory = new Map<string, Memory>();
  for (const s of servers) memory.set(s.name, await measureMemory(s, o.idle, body));

  console.error(`\n## throughput: wrk -t1 -c${FEW} and -c${o.connections}, ${o.rounds} round(s) of ${o.duration} s`);
  const problems: string[] = [];
  const counts = [FEW, o.connections];
  if (o.warmup > 0) for (const c of counts) for (const s of servers) await measureRun(s, c, o.warmup, "warm-up", problems);
  const runs = new Map<string, Run[]>();
  for (let round = 1; round <= o.rounds; round++) {
    for (const c of counts) {
      for (const s of servers) {
        const r = await measureRun(s, c, o.duration, `round ${round}`, problems);
        const key = `${s.name} ${c}`;
        runs.set(key, [...(runs.get(key) ?? []), r]);
      }
    }
  }
  kernel.push(`wrk's open-file limit, read from /proc/<wrk>/limits: ${wrkNofile}`);
  for (const s of servers) {
    if (s.name !== "nginx") continue;
    const errors = readFileSync(join(OUT, "scale-nginx.error.log"), "utf8").trim();
    if (errors !== "") problems.push(`nginx error log: ${errors.split("\n").slice(-3).join(" | ")}`);
  }

  const med = (name: string, c: number, f: (r: Run) => number) => median(runs.get(`${name} ${c}`)!.map(f));
  const C = o.connections;
  const report = [
    `# bench/scale.ts — ${new Date().toISOString()}`,
    "",
    `Bun ${Bun.version}; servers pinned to core ${SERVER_CORE}, \`wrk -t1\` pinned to core ${WRK_CORE}; 1 KiB file, keep-alive; ` +
      `${o.rounds} round(s) × ${o.duration} s, medians. In the runs columns ! = wrk errors, † = the kernel dropped completed connections off a full accept queue ` +
      `(ListenOverflows, counted for the whole machine), * = other processes took > 5% of a core. wrk's req/s at ${o.connections} ` +
      `connections includes opening them: "connected after" is the median time until 99% were established.`,
    "",
    "## Throughput",
    "",
    `| server | req/s, ${FEW} conns | req/s, ${C} conns | ${C} ÷ ${FEW} | µs CPU/req, ${FEW} | µs CPU/req, ${C} | wrk CPU, ${FEW} / ${C} | connected after, ${C} | runs, ${FEW} | runs, ${C} |`,
    "|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ...servers.map((s) => {
      const few = med(s.name, FEW, (r) => r.rps);
      const many = med(s.name, C, (r) => r.rps);
      const pct = (c: number) => `${(med(s.name, c, (r) => r.wrkShare) * 100).toFixed(0)}%`;
      return (
        `| ${s.name} | ${Math.round(few).toLocaleString("en-US")} | ${Math.round(many).toLocaleString("en-US")} | **${(many / few).toFixed(2)}** | ` +
        `${med(s.name, FEW, (r) => r.cpuUsPerReq).toFixed(2)} | ${med(s.name, C, (r) => r.cpuUsPerReq).toFixed(2)} | ${pct(FEW)} / ${pct(C)} | ${med(s.name, C, (r) => r.ramp).toFixed(2)} s | ` +
        `${runs.get(`${s.name} ${FEW}`)!.map(mark).join(" ")} | ${runs.get(`${s.name} ${C}`)!.map(mark).join(" ")} |`
      );
    }),
    "",
    `## Memory per idle keep-alive connection (${o.idle} connections, resident set of the server process)`,
    "",
    "| server | RSS before | RSS holding them | per connection | of which anonymous | RSS after they close | opened in | measured within |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
    ...servers.map((s) => {
      const m = memory.get(s.name)!;
      return (
        `| ${s.name} | ${mib(m.before)} | ${mib(m.held)} | **${Math.round(m.perConn).toLocaleString("en-US")} B** | ${Math.round(m.perConnAnon).toLocaleString("en-US")} B | ` +
        `${mib(m.afterClose)} | ${m.openSeconds.toFixed(1)} s | ${m.holdSeconds.toFixed(1)} s of a ${s.keepAliveMs / 1000} s timeout |`
      );
    }),
    "",
    "## Kernel and limits",
    "",
    ...kernel.map((k) => `- ${k}`),
    "",
    "## Problems (wrk errors, overflows, connections lost)",
    "",
    ...(() => {
      const all = [...problems, ...servers.flatMap((s) => memory.get(s.name)!.problems.map((p) => `${s.name}, memory: ${p}`))];
      return all.length ? all.map((p) => `- ${p}`) : ["none"];
    })(),
    "",
  ].join("\n");
  writeFileSync(join(OUT, "scale-latest.md"), report);
  console.log(`\n${report}`);
  console.error(`(report saved to ${join(OUT, "scale-latest.md")}; server logs in ${OUT}/scale-*.log)`);
}

await runMain("bench/scale.ts", main);
