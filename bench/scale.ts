#!/usr/bin/env bun
// Scale: req/s at 10,000 keep-alive connections against 64, and resident memory per idle keep-alive
// connection; our static server against nginx, both serving one 1 KiB file.
//
//   bun run bench/scale.ts [--quick] [--rounds N] [--duration S] [--warmup S] [--connections N] [--idle N]
//                          [--servers ours,nginx,ceiling]
//
// Method:
// - ours (bench/servers/ours-static.ts), nginx (bench/nginx.ts: one process, sendfile off, with
//   worker_connections raised to the descriptor limit) and, if asked, the ceiling (a bare Bun.listen
//   responder, bench/servers/ceiling.ts) run pinned to core 1, each under
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
//   run the server must have closed the last run's connections. wrk's req/s includes opening the C
//   connections, which a burst into a 512-deep accept queue makes slow (SYNs dropped, retried after
//   1 s): so the time until they were established is shown, and req/s over the run's second half
//   too: the bytes the kernel sent on the server's connections (tcp_info bytes_sent, summed from
//   two `ss -tin` dumps pinned to wrk's core) ÷ the bytes of one response. Server CPU per request is utime+stime from /proc/<pid>/stat ÷ requests, over the
//   whole run and over the second half. wrk's connect/read/write/timeout errors and non-2xx answers
//   are counted per run; a run with any is flagged (!), as is one during which the kernel dropped
//   completed connections off a full accept queue (†, ListenOverflows), wrk used ≥ 90% of its core
//   (^: wrk -t1 was the limit, which it is near 50k req/s at 10,000 connections on a 2-core
//   machine; then compare server CPU per request) or other processes took > 5% of a core (*; the
//   machine may be shared).
//
// The fixture lives in a temp dir; server logs, the nginx config and the report
// (bench/.out/scale-latest.md) go to bench/.out/.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { DEFAULT_OPTIONS } from "../src/server/listen.ts";
import { atCleanup, die, runMain, tempDirForRun } from "./lib/children.ts";
import { BUN_COMM, startPinned } from "./lib/pinned-server.ts";
import { checkClockTick } from "./lib/proc-stat.ts";
import { describeDiff, rawExchange, type RawResponse } from "./lib/raw-http.ts";
import { fdCount, listenBacklog, nofileOf, raiseOwnNofile, sysctl, withNofile } from "./lib/scale-kernel.ts";
import { measureMemory, type Memory } from "./lib/scale-memory.ts";
import { measureRun, type Run, type Target } from "./lib/scale-run.ts";
import { fmtRate, median } from "./lib/stats.ts";
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

/** ceiling: bench/servers/ceiling.ts, a bare Bun.listen responder (not run unless asked). */
const SERVER_NAMES = ["ours", "nginx", "ceiling"];

const USAGE = `usage: bun run bench/scale.ts [--quick] [--rounds N] [--duration S] [--warmup S] [--connections N] [--idle N]
                               [--servers ours,nginx,ceiling]
  default: ours and nginx (ceiling: bench/servers/ceiling.ts, a bare Bun.listen responder: what Bun
  itself costs); 3 rounds of 5 s at 64 and 10000 connections (--quick: 1 round of 3 s), 1 s warm-up
  each; memory per idle connection over 10000 idle connections; about 90 s (--quick: under 30 s)`;

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
  for (const s of o.servers) if (!SERVER_NAMES.includes(s)) die(`unknown server ${s} (${SERVER_NAMES.join(", ")})`);
  if (o.servers.length === 0) die(`--servers needs one or more of ${SERVER_NAMES.join(", ")}`);
  return o;
}

// ---- servers -----------------------------------------------------------------------------------

interface Server extends Target {
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
  } else if (name === "ceiling") {
    // Bun.listen with no HTTP work and no timeouts: what Bun itself costs per connection.
    keepAliveMs = Infinity;
    start = (port) => ({ cmd: withNofile(limit, [process.execPath, join(SERVERS, "ceiling.ts"), "--port", `${port}`, "--file", join(root, "1k.bin")]), comm: BUN_COMM });
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
  let responseBytes: number;
  try {
    const [r] = await rawExchange(p.port, REQUEST, 1, false);
    checkResponse(body)(r!);
    responseBytes = r!.wireBytes;
  } catch (e) {
    throw new Error(`CORRECTNESS CHECK FAILED for ${name}: ${(e as Error).message}`);
  }
  // The check's connection is closed by now on our side; wait until the server has let it go too.
  await Bun.sleep(300);
  const base = fdCount(p.pid);
  console.error(
    `  ${name}: open-file limit ${nofile}, listen backlog ${backlog}, ${base} descriptors open, keep-alive timeout ${Number.isFinite(keepAliveMs) ? `${keepAliveMs / 1000} s` : "none"}, ${responseBytes} B per response`,
  );
  return { ...p, baseFds: base, responseBytes, nofile, backlog, keepAliveMs };
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** wrk's CPU share from which the run measured wrk rather than the server. */
const WRK_BOUND = 0.9;

function mark(r: Run): string {
  return fmtRate(r.rps) + (r.errors !== "" ? "!" : "") + (r.overflows > 0 ? "†" : "") + (r.wrkShare >= WRK_BOUND ? "^" : "") + (r.noisy ? "*" : "");
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
  // The servers get all the hard limit allows (ours' --max-connections default follows it).
  const limit = Number.isFinite(hard) ? hard : Math.max(need, 1 << 16);
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
  for (const s of servers) {
    const m = await measureMemory(s, o.idle, REQUEST, checkResponse(body), s.keepAliveMs);
    memory.set(s.name, m);
    console.error(
      `  ${s.name}: RSS ${mib(m.before)} → ${mib(m.held)} with ${o.idle} idle → ${mib(m.afterClose)} after close; ` +
        `${Math.round(m.perConn)} B per connection (anon ${Math.round(m.perConnAnon)} B); opened in ${m.openSeconds.toFixed(1)} s` +
        (m.problems.length ? `  PROBLEMS: ${m.problems.join("; ")}` : ""),
    );
  }

  console.error(`\n## throughput: wrk -t1 -c${FEW} and -c${o.connections}, ${o.rounds} round(s) of ${o.duration} s`);
  const problems: string[] = [];
  const counts = [FEW, o.connections];
  const cores = { server: SERVER_CORE, client: WRK_CORE };
  const runs = new Map<string, Run[]>();
  let wrkNofile = Infinity;
  const one = async (s: Server, c: number, duration: number, label: string) => {
    const r = await measureRun(s, servers, c, duration, cores);
    console.error(`    ${label.padEnd(9)} ${s.name.padEnd(6)} -c${`${c}`.padEnd(6)} ${r.line}`);
    wrkNofile = Math.min(wrkNofile, r.wrkNofile);
    if (label === "warm-up") return;
    if (r.errors !== "") problems.push(`${s.name}, -c${c}, ${label}: wrk errors: ${r.errors} (of ${r.requests} requests)`);
    if (r.overflows > 0) problems.push(`${s.name}, -c${c}, ${label}: ${r.overflows} connections dropped off a full accept queue (ListenOverflows, the whole machine's)`);
    if (r.ramp > o.duration / 2) problems.push(`${s.name}, -c${c}, ${label}: connections still opening at half time (${r.ramp.toFixed(2)} s): no second-half figure`);
    runs.set(`${s.name} ${c}`, [...(runs.get(`${s.name} ${c}`) ?? []), r]);
  };
  if (o.warmup > 0) for (const c of counts) for (const s of servers) await one(s, c, o.warmup, "warm-up");
  for (let round = 1; round <= o.rounds; round++) for (const c of counts) for (const s of servers) await one(s, c, o.duration, `round ${round}`);
  if (!(wrkNofile >= o.connections)) problems.push(`wrk's open-file limit (${wrkNofile}) is below ${o.connections}`);
  kernel.push(`wrk's open-file limit, read from /proc/<wrk>/limits: ${wrkNofile}`);
  if (servers.some((s) => s.name === "nginx")) {
    const errors = readFileSync(join(OUT, "scale-nginx.error.log"), "utf8").trim();
    if (errors !== "") problems.push(`nginx error log: ${errors.split("\n").slice(-3).join(" | ")}`);
  }
  for (const s of servers) for (const p of memory.get(s.name)!.problems) problems.push(`${s.name}, memory: ${p}`);

  const report = renderReport(o, servers, runs, memory, kernel, problems);
  writeFileSync(join(OUT, "scale-latest.md"), report);
  console.log(`\n${report}`);
  console.error(`(report saved to ${join(OUT, "scale-latest.md")}; server logs in ${OUT}/scale-*.log)`);
}

function renderReport(o: Options, servers: Server[], runs: Map<string, Run[]>, memory: Map<string, Memory>, kernel: string[], problems: string[]): string {
  const C = o.connections;
  const all = (name: string, c: number) => runs.get(`${name} ${c}`)!;
  const med = (name: string, c: number, f: (r: Run) => number) => median(all(name, c).map(f).filter((x) => !Number.isNaN(x)));
  const int = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "—");
  const fix = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : "—");
  return [
    `# bench/scale.ts — ${new Date().toISOString()}`,
    "",
    `Bun ${Bun.version}; servers pinned to core ${SERVER_CORE}, \`wrk -t1\` pinned to core ${WRK_CORE}; 1 KiB file, keep-alive; ` +
      `${o.rounds} round(s) × ${o.duration} s, medians. wrk's req/s includes opening the connections ("connected after": ` +
      `until 95% were established); "2nd half" counts the bytes the kernel sent on the server's connections over the run's second half ` +
      `(tcp_info bytes_sent, two \`ss\` dumps), ÷ the bytes of one response (wrk's bytes per response ÷ that ≈ 1 says the count holds). In the runs columns ! = wrk errors, † = the kernel ` +
      `dropped completed connections off a full accept queue (ListenOverflows, the whole machine's), ^ = wrk used ≥ ` +
      `${WRK_BOUND * 100}% of its core (the client was the limit, not the server: compare CPU per request), * = other ` +
      `processes took > 5% of a core.`,
    "",
    "## Throughput",
    "",
    `| server | req/s, ${FEW} | req/s, ${C} | ${C} ÷ ${FEW} | 2nd half, ${FEW} | 2nd half, ${C} | 2nd half ${C} ÷ ${FEW} | connected after, ${C} | runs, ${FEW} | runs, ${C} |`,
    "|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ...servers.map((s) => {
      const [few, many] = [med(s.name, FEW, (r) => r.rps), med(s.name, C, (r) => r.rps)];
      const [sFew, sMany] = [med(s.name, FEW, (r) => r.steadyRps), med(s.name, C, (r) => r.steadyRps)];
      return (
        `| ${s.name} | ${int(few)} | ${int(many)} | **${fix(many / few)}** | ${int(sFew)} | ${int(sMany)} | **${fix(sMany / sFew)}** | ` +
        `${fix(med(s.name, C, (r) => r.ramp))} s | ${all(s.name, FEW).map(mark).join(" ")} | ${all(s.name, C).map(mark).join(" ")} |`
      );
    }),
    "",
    "## Server CPU per request (µs) and wrk's CPU",
    "",
    `| server | whole run, ${FEW} | whole run, ${C} | 2nd half, ${FEW} | 2nd half, ${C} | 2nd half ${C} ÷ ${FEW} | wrk's bytes per response ÷ ours, ${FEW} / ${C} | wrk CPU, ${FEW} / ${C} |`,
    "|---|---:|---:|---:|---:|---:|---:|---:|",
    ...servers.map((s) => {
      const m = (c: number, f: (r: Run) => number) => fix(med(s.name, c, f));
      const pct = (c: number) => `${fix(med(s.name, c, (r) => r.wrkShare) * 100, 0)}%`;
      return (
        `| ${s.name} | ${m(FEW, (r) => r.cpuUsPerReq)} | ${m(C, (r) => r.cpuUsPerReq)} | ${m(FEW, (r) => r.steadyCpuUs)} | ${m(C, (r) => r.steadyCpuUs)} | ` +
        `${fix(med(s.name, C, (r) => r.steadyCpuUs) / med(s.name, FEW, (r) => r.steadyCpuUs))} | ` +
        `${m(FEW, (r) => r.bytesCheck)} / ${m(C, (r) => r.bytesCheck)} | ${pct(FEW)} / ${pct(C)} |`
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
        `| ${s.name} | ${mib(m.before)} | ${mib(m.held)} | **${int(m.perConn)} B** | ${int(m.perConnAnon)} B | ` +
        `${mib(m.afterClose)} | ${m.openSeconds.toFixed(1)} s | ${m.holdSeconds.toFixed(1)} s${Number.isFinite(s.keepAliveMs) ? ` of a ${s.keepAliveMs / 1000} s timeout` : " (no timeout)"} |`
      );
    }),
    "",
    "## Kernel and limits",
    "",
    ...kernel.map((k) => `- ${k}`),
    "",
    "## Problems (wrk errors, overflows, connections lost)",
    "",
    ...(problems.length ? problems.map((p) => `- ${p}`) : ["none"]),
    "",
  ].join("\n");
}

await runMain("bench/scale.ts", main);
