#!/usr/bin/env bun
// The reverse proxy under load: a 1 KiB upstream response through ours (`--proxy /=http://…`)
// against nginx `proxy_pass` with an upstream keep-alive pool, both in front of one shared backend.
//
//   bun run bench/proxy.ts [--rounds N] [--duration S] [--warmup S] [--quick] [--retries N]
//                          [--backend-core 0|1|0-1] [--connections N] [--check N] [--variant DIR]… [--profile]
//   default: 5 rounds of 5 s (--quick: 1 round of 3 s), 2 s warm-up per contestant, backend on core 0
//
// Method:
// - the backend: nginx (one process, access_log off, keep-alive never cut short) answering every
//   request with `return 200 "<1 KiB>"` (random bytes in base64: ~7 µs of CPU per request, a static
//   file ~8). It is timed alone first (wrk straight at it, same pinning): its rate is what core 0
//   (wrk + backend) can feed any proxy;
// - ours: `bun run src/index.ts --proxy /=http://127.0.0.1:<backend> --log off`; nginx: one process
//   (master_process off), access_log off, `upstream backend { server 127.0.0.1:<backend>; keepalive
//   256; keepalive_requests 100000000; }`, `proxy_http_version 1.1; proxy_set_header Connection "";`,
//   with proxy_buffering on (its default) and off, both timed; the better one is compared with;
// - beside them, a floor: a TCP relay on Bun.listen and Bun.connect (this file run with --relay), one
//   upstream connection per client connection, bytes copied unread both ways. No proxy on Bun can
//   spend less per request; the distance from ours to it is what our HTTP code costs;
// - pinning (2 cores): each proxy on core 1 (`taskset -c 1`), `wrk -t1 -c64` on core 0, the backend
//   on core 0 beside wrk. Chosen by measurement (`--backend-core 1` and `0-1` run the others): on
//   core 0 each proxy has a whole core to itself, and ours (at 95-100% of core 1) is the limit of
//   its runs; core 0 is then 95% busy under nginx and the relay (wrk ~8 µs + backend ~7 µs a
//   request), so their req/s are a little below what they could do and CPU µs per request is the
//   exact comparison. With the backend on core 1 the proxy shares its core with the backend, so
//   the rates measure proxy + backend (nginx ~35k req/s, ours ~21k): the same order, the ratio
//   diluted; unpinned (0-1) the scheduler moves the backend between the cores and the runs scatter
//   (nginx 38k to 48k in one run);
// - before timing, every response of a checked pass is compared: for each proxy (and the backend
//   alone), --check requests on each of 64 keep-alive connections at once and 8 pipelined ones; each
//   response must have status line "HTTP/1.1 200" and exactly the backend's bytes as its body; the
//   same pass, shorter, runs again after the rounds (the answers did not change under load);
// - one warm-up wrk run per contestant (not counted), then rounds alternate ours / nginx buffering on
//   / nginx buffering off / the floor; the table gives medians of req/s and of CPU µs per request
//   of the proxy, user and kernel apart (and of the backend): utime and stime from /proc/<pid>/stat
//   before and after each wrk run, over the requests wrk reported. Each pid is the process itself
//   (taskset execs it: /proc/<pid>/comm, its affinity, no child processes are checked);
// - the machine may be shared: CPU on the two cores (interrupts and steal included) that neither the
//   proxy, the backend, wrk nor the core's ksoftirqd used is other processes'; above 5% of a core
//   the run is marked * and repeated (--retries), keeping the quietest;
// - wrk's non-2xx and socket error counts are listed at the end; a crash aborts;
// - --variant DIR (repeatable) adds a contestant: ours as DIR/src/index.ts runs it (a copy of the
//   repository with a change to try), timed in the same rounds, for a before/after under one load;
// - --profile: after the rounds, a fresh ours under `bun --cpu-prof` (the JS thread sampled every
//   250 µs) gets a warm-up and a timed run; the self samples of each function and of each file are
//   printed from its .cpuprofile (native `write` there is mostly the kernel's loopback TCP work),
//   which is kept as bench/.out/proxy-ours.cpuprofile.
// The report is saved to bench/.out/proxy-latest.md, logs and nginx configs beside it.
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join, relative, resolve } from "node:path";
import type { Socket } from "bun";
import { REPO, runMain, stopProcess, tempDirForRun } from "./lib/children.ts";
import { applyQuick, parseCommandLine, timingOptions } from "./lib/options.ts";
import { NOISE_LIMIT, noisyRunsSection, printNoisyRuns, quietest, topOthers } from "./lib/noise.ts";
import { BUN_COMM, isDead, logTail, startPinned, type PinnedServer } from "./lib/pinned-server.ts";
import { checkClockTick, coreTimes, cpuSeconds, processTimes, userSystemSeconds, type CoreTimes, type ProcessTimes } from "./lib/proc-stat.ts";
import { alternateRounds } from "./lib/rounds.ts";
import { describeDiff, rawExchange, rawSequence, type RawResponse } from "./lib/raw-http.ts";
import { fmtRate, median } from "./lib/stats.ts";
import { runWrk, wrkErrors } from "./lib/wrk.ts";
import { nginxConfig } from "./nginx.ts";

const BENCH_DIR = import.meta.dir;
const OUT = join(BENCH_DIR, ".out");
const NGINX = "/usr/sbin/nginx";
const PROXY_CORE = "1";
const WRK_CORE = "0";
const BODY_SIZE = 1024;
const PATH = "/1k";
/** Connections of the checked pass. */
const CHECK_CONNECTIONS = 64;

// ---- command line ------------------------------------------------------------------------------

const COMMAND_LINE = {
  script: "bench/proxy.ts",
  options: {
    ...timingOptions({ rounds: 5, duration: 5, warmup: 2 }),
    backendCore: { kind: "text", default: "0", choices: ["0", "1", "0-1"], help: "the backend's core (the proxies run on core 1)" },
    connections: { kind: "whole", default: 64, min: 1, help: "wrk's connections" },
    check: { kind: "whole", default: 200, min: 1, help: "requests per connection (of 64) in the checked pass before timing" },
    variant: { kind: "repeat", default: [], value: "DIR", help: "also time DIR/src/index.ts as a proxy (a changed copy of ours)" },
    profile: { kind: "flag", help: "then one more run of ours under `bun --cpu-prof`, and its hottest functions" },
  },
} as const;

function parseOptions(argv: string[]) {
  const p = parseCommandLine(COMMAND_LINE, argv);
  applyQuick(p);
  return { ...p.values, variants: p.values.variant.map((d) => resolve(d)) };
}
type Options = ReturnType<typeof parseOptions>;

let tempDir = "";

// ---- servers -----------------------------------------------------------------------------------

interface Contestant {
  key: string;
  name: string;
  /** The proxy under test; null for the backend alone. */
  proxy: PinnedServer | null;
}

/** nginx as the backend (answering `fixedBody`) or as a proxy to `proxy.port`. */
function nginxStart(key: string, o: { fixedBody?: string; proxy?: { port: number; buffering: boolean } }) {
  return (port: number) => {
    const dir = join(tempDir, key);
    mkdirSync(dir, { recursive: true });
    const errorLog = join(OUT, `proxy-${key}.error.log`);
    writeFileSync(errorLog, "");
    const conf = join(OUT, `proxy-${key}.conf`);
    writeFileSync(
      conf,
      nginxConfig({
        by: "bench/proxy.ts",
        port,
        root: dir, // nothing is served from it
        tempDir: dir,
        errorLog,
        fixedBody: o.fixedBody,
        proxy: o.proxy === undefined ? undefined : { port: o.proxy.port, keepalive: 256, buffering: o.proxy.buffering },
      }),
    );
    return { cmd: [NGINX, "-p", dir, "-e", errorLog, "-c", conf], comm: "nginx" };
  };
}

function oursStart(backendPort: number, repo = REPO) {
  return (port: number) => ({
    cmd: [process.execPath, "run", join(repo, "src/index.ts"), "--proxy", `/=http://127.0.0.1:${backendPort}`, "--log", "off", "--host", "127.0.0.1", "--port", `${port}`],
    comm: BUN_COMM,
  });
}

// ---- the checked pass --------------------------------------------------------------------------

const REQUEST = `GET ${PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: bench/proxy.ts\r\nAccept: */*\r\n\r\n`;

/** `perConnection` requests on each of CHECK_CONNECTIONS connections at once; every response checked. */
async function checkPass(name: string, port: number, expected: Buffer, perConnection: number): Promise<RawResponse> {
  const fail = (what: string): never => {
    throw new Error(`CORRECTNESS CHECK FAILED for ${name} (http://127.0.0.1:${port}${PATH}): ${what}`);
  };
  const t0 = performance.now();
  const all = await Promise.all(
    Array.from({ length: CHECK_CONNECTIONS }, (_, c) =>
      rawSequence(port, REQUEST, perConnection).catch((e: Error) => fail(`connection ${c + 1}: ${e.message}`)),
    ),
  );
  let n = 0;
  for (const [c, responses] of all.entries()) {
    for (const [i, x] of responses.entries()) {
      n++;
      if (!/^HTTP\/1\.1 200 /.test(x.statusLine)) fail(`connection ${c + 1}, response ${i + 1}: status line "${x.statusLine}"`);
      if (!x.body.equals(expected)) fail(`connection ${c + 1}, response ${i + 1}: body ${describeDiff(x.body, expected)}`);
    }
  }
  // And pipelined: 8 requests in one write.
  const piped = await rawExchange(port, REQUEST.repeat(8), 8, false).catch((e: Error) => fail(`8 pipelined requests: ${e.message}`));
  for (const [i, x] of piped.entries()) {
    n++;
    if (!/^HTTP\/1\.1 200 /.test(x.statusLine) || !x.body.equals(expected)) fail(`pipelined response ${i + 1}: "${x.statusLine}", body ${describeDiff(x.body, expected)}`);
  }
  const first = all[0]![0]!;
  console.error(
    `  ok ${name}: ${n} responses checked in ${((performance.now() - t0) / 1000).toFixed(1)} s (${CHECK_CONNECTIONS} × ${perConnection} keep-alive + 8 pipelined); ` +
      `${first.statusLine}, head ${first.headBytes} B, body ${first.body.length} B, Server: ${first.headers.get("server") ?? "(none)"}`,
  );
  return first;
}

// ---- timing ------------------------------------------------------------------------------------

interface Sample {
  rps: number;
  requests: number;
  /** The proxy's CPU µs per request (NaN for the backend alone). */
  proxyUs: number;
  /** The same, apart: in user space and in the kernel (system time: syscalls, loopback TCP). */
  proxyUserUs: number;
  proxySysUs: number;
  backendUs: number;
  proxyShare: number;
  backendShare: number;
  wrkShare: number;
  /** How busy each core was (all but idle and iowait in /proc/stat: user, system, interrupts, steal). */
  busy: Record<string, number>;
  noisy: boolean;
  foreign: number;
}

const problems: string[] = [];
const noisyRuns: string[] = [];

/** All the CPU time a core spent: user, nice, system, interrupts (softirq: loopback TCP) and steal. */
function usedOn(t: CoreTimes, core: string): number {
  const c = t.get(core)!;
  return c.busy + c.softirq + c.steal;
}

/** CPU time of the kernel's softirq thread of each core (the loopback's receive path, when deferred). */
function ksoftirqd(p: ProcessTimes): Record<string, number> {
  const out: Record<string, number> = {};
  for (const { comm, cpu } of p.values()) {
    const m = /^ksoftirqd\/(\d+)$/.exec(comm);
    if (m) out[m[1]!] = cpu;
  }
  return out;
}

/**
 * CPU of other processes on each core, as a share of `wall`: what the core spent less what the
 * processes we know of took there (their utime+stime holds the softirq ticks that interrupted them).
 * A process allowed on both cores (core "0-1") is taken off their sum, the rest split evenly.
 */
function foreignByCore(before: CoreTimes, after: CoreTimes, known: [string, number][], wall: number): Record<string, number> {
  const left: Record<string, number> = {};
  let spread = 0;
  for (const [core, cpu] of known) if (core.includes("-")) spread += cpu;
  let total = 0;
  for (const core of [WRK_CORE, PROXY_CORE]) {
    const ours = known.filter(([c]) => c === core).reduce((s, [, cpu]) => s + cpu, 0);
    left[core] = usedOn(after, core) - usedOn(before, core) - ours;
    total += left[core]!;
  }
  const out: Record<string, number> = {};
  for (const core of [WRK_CORE, PROXY_CORE]) out[core] = Math.max(0, spread > 0 ? (total - spread) / 2 : left[core]!) / wall;
  return out;
}

async function measure(c: Contestant, backend: PinnedServer, opts: Options, seconds: number, label: string): Promise<Sample> {
  const target = c.proxy ?? backend;
  const url = `http://127.0.0.1:${target.port}${PATH}`;
  const proxyBefore = c.proxy === null ? { user: 0, system: 0 } : userSystemSeconds(c.proxy.pid);
  const backendBefore = cpuSeconds(backend.pid);
  const coresBefore = coreTimes();
  const procsBefore = processTimes();
  const t0 = performance.now();
  const w = await runWrk({ url, duration: seconds, core: WRK_CORE, connections: opts.connections });
  const wall = (performance.now() - t0) / 1000;
  const coresAfter = coreTimes();
  const procsAfter = processTimes();
  const [kBefore, kAfter] = [ksoftirqd(procsBefore), ksoftirqd(procsAfter)];
  const kernel = (core: string): [string, number] => [core, (kAfter[core] ?? 0) - (kBefore[core] ?? 0)];
  for (const r of [backend, c.proxy]) {
    if (r !== null && isDead(r.proc)) throw new Error(`${r.name} DIED during the ${c.name} ${label} run (exit ${r.proc.exitCode ?? r.proc.signalCode}):\n${logTail(r.log)}`);
  }
  const proxyAfter = c.proxy === null ? { user: 0, system: 0 } : userSystemSeconds(c.proxy.pid);
  const proxyUser = proxyAfter.user - proxyBefore.user;
  const proxySys = proxyAfter.system - proxyBefore.system;
  const proxyCpu = proxyUser + proxySys;
  const backendCpu = cpuSeconds(backend.pid) - backendBefore;
  const foreign = foreignByCore(
    coresBefore,
    coresAfter,
    [
      [PROXY_CORE, proxyCpu],
      [WRK_CORE, w.cpu],
      [opts.backendCore, backendCpu],
      kernel(WRK_CORE),
      kernel(PROXY_CORE),
    ],
    wall,
  );
  const worst = Math.max(...Object.values(foreign));
  const noisy = worst > NOISE_LIMIT;
  let noise = `other load: core ${WRK_CORE} ${(foreign[WRK_CORE]! * 100).toFixed(0)}%, core ${PROXY_CORE} ${(foreign[PROXY_CORE]! * 100).toFixed(0)}%`;
  if (noisy) {
    noise += ` — busiest: ${topOthers(procsBefore, procsAfter, [backend.pid, ...(c.proxy ? [c.proxy.pid] : [])])}`;
    noisyRuns.push(`${c.name}, ${label}: ${noise}`);
  }
  const errs = wrkErrors(w);
  if (errs !== "") problems.push(`${c.name}, ${label}: ${errs} (of ${w.requests} requests)`);
  if (w.requests === 0) problems.push(`${c.name}, ${label}: ZERO requests completed`);
  const per = (cpu: number) => (w.requests > 0 ? (cpu * 1e6) / w.requests : NaN);
  const busy: Record<string, number> = {};
  for (const core of [WRK_CORE, PROXY_CORE]) busy[core] = (usedOn(coresAfter, core) - usedOn(coresBefore, core)) / wall;
  const s: Sample = {
    rps: w.rps,
    requests: w.requests,
    proxyUs: c.proxy === null ? NaN : per(proxyCpu),
    proxyUserUs: c.proxy === null ? NaN : per(proxyUser),
    proxySysUs: c.proxy === null ? NaN : per(proxySys),
    backendUs: per(backendCpu),
    proxyShare: proxyCpu / wall,
    backendShare: backendCpu / wall,
    wrkShare: w.cpu / wall,
    busy,
    noisy,
    foreign: worst,
  };
  console.error(
    `    ${label.padEnd(16)} ${c.name.padEnd(26)} ${fmtRate(s.rps).padStart(8)} req/s  proxy ${s.proxyUs.toFixed(2).padStart(6)} µs/req (user ${s.proxyUserUs.toFixed(1)}, sys ${s.proxySysUs.toFixed(1)}) CPU ${pct(s.proxyShare)}  ` +
      `backend ${s.backendUs.toFixed(2)} µs/req CPU ${pct(s.backendShare)}  wrk ${pct(s.wrkShare)}  cores ${pct(busy[WRK_CORE]!)} ${pct(busy[PROXY_CORE]!)}` +
      `${noisy ? `  NOISY (${noise})` : ""}${errs ? `  ERRORS: ${errs}` : ""}`,
  );
  return s;
}

const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
const int = (n: number) => Math.round(n).toLocaleString("en-US");

// ---- --profile -----------------------------------------------------------------------------------

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

/** Runs a fresh ours under `bun --cpu-prof` for a warm-up and a timed run; returns report lines. */
async function profileOurs(backend: PinnedServer, body: Buffer, opts: Options): Promise<string[]> {
  const dir = join(tempDir, "profile");
  mkdirSync(dir);
  console.error("\n## profile: ours under bun --cpu-prof");
  const r = await startPinned("ours (profiled)", PROXY_CORE, join(OUT, "proxy-ours-profiled.log"), (port) => {
    const cmd = oursStart(backend.port)(port).cmd;
    return { cmd: [cmd[0]!, "--cpu-prof", "--cpu-prof-interval=250", `--cpu-prof-dir=${dir}`, ...cmd.slice(1)], comm: BUN_COMM };
  });
  const c: Contestant = { key: "profiled", name: "ours (profiled)", proxy: r };
  const cpuAtStart = cpuSeconds(r.pid);
  const perConnection = Math.max(1, Math.ceil(opts.check / 4));
  await checkPass(c.name, r.port, body, perConnection);
  const warm = await measure(c, backend, opts, Math.max(1, opts.warmup), "warm-up");
  const s = await measure(c, backend, opts, opts.duration, "profiled run");
  const requests = CHECK_CONNECTIONS * perConnection + 8 + warm.requests + s.requests;
  const cpuUs = ((cpuSeconds(r.pid) - cpuAtStart) * 1e6) / requests;
  await stopProcess(r.proc); // the profile is written as it exits
  const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
  if (file === undefined) throw new Error(`bun --cpu-prof wrote no .cpuprofile in ${dir} (see ${r.log})`);
  const text = readFileSync(join(dir, file), "utf8");
  const kept = join(OUT, "proxy-ours.cpuprofile"); // for Chrome's DevTools (Performance: load profile)
  writeFileSync(kept, text);
  const prof = JSON.parse(text) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  // The sampling interval: the median gap (a gap is longer when the sampler itself waited for the core).
  const interval = median(prof.timeDeltas.filter((d) => d > 0));
  const frames = new Map(prof.nodes.map((n) => [n.id, n.callFrame]));
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  let busy = 0;
  for (const id of prof.samples) {
    const f = frames.get(id)!;
    // No JS on the stack: waiting in the event loop, or Bun's native work around the callbacks
    // (socket reads, the data event's buffer), which the profiler cannot tell apart.
    if (f.functionName === "(idle)") continue;
    busy++;
    const where = f.url === "" || f.url === "[native code]" ? "native" : relative(REPO, f.url.replace(/^file:\/\//, ""));
    const fn = `${f.functionName || "(anonymous)"} ${where === "native" ? "(native)" : `${where}:${f.lineNumber + 1}`}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + 1);
    byFile.set(where, (byFile.get(where) ?? 0) + 1);
  }
  const usPerReq = (n: number) => (n * interval) / requests;
  const top = (m: Map<string, number>, n: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => `| ${k} | ${((v / busy) * 100).toFixed(1)}% | ${usPerReq(v).toFixed(2)} |`);
  const js = usPerReq(busy);
  console.error(`  profile: ${busy} samples with JS on the stack (every ${interval.toFixed(0)} µs), kept in ${kept}`);
  return [
    `### where ours spends its time: bun --cpu-prof over ${int(requests)} requests (${fmtRate(s.rps)} req/s, ${s.proxyUs.toFixed(2)} µs CPU/request in the timed run)`,
    "",
    `Self samples with JS on the stack (${busy}, one per ${interval.toFixed(0)} µs): ${js.toFixed(2)} µs per request of the ${cpuUs.toFixed(2)} µs of CPU the`,
    `process spent per request while profiled. The other ${(cpuUs - js).toFixed(2)} µs ran with no JS on the stack (Bun's event loop, socket`,
    "reads and the data event's buffer, the kernel's work for them). Native `write` is socket.write: the send syscall, which on",
    "loopback runs the receiving side's TCP work too.",
    "",
    "| function | share of JS samples | µs/request |",
    "|---|---:|---:|",
    ...top(byFunction, 25),
    "",
    "| file | share of JS samples | µs/request |",
    "|---|---:|---:|",
    ...top(byFile, 12),
    "",
  ];
}

// ---- main --------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  checkClockTick();
  for (const tool of ["taskset", "wrk", NGINX]) if (Bun.which(tool) === null) throw new Error(`${tool} is not installed (apt-get install util-linux wrk nginx-light)`);
  mkdirSync(OUT, { recursive: true });
  tempDir = tempDirForRun("bench-proxy-");
  chmodSync(tempDir, 0o755);
  // Random bytes in base64: what nginx's `return 200 "…"` takes literally.
  const text = randomBytes((BODY_SIZE * 3) / 4).toString("base64");
  const body = Buffer.from(text, "latin1");

  const busy = Bun.spawnSync(["pgrep", "-fa", "bun test"]).stdout.toString().trim();
  const quiet = busy === "" ? "no `bun test` running" : `bun test RUNNING: ${busy.split("\n").length} process(es)`;
  const load = (await Bun.file("/proc/loadavg").text()).split(" ").slice(0, 3).join(" ");
  console.error(
    `bench/proxy.ts: ${BODY_SIZE} B upstream response; ${opts.rounds} round(s) of ${opts.duration} s, warm-up ${opts.warmup} s; proxies on core ${PROXY_CORE}, ` +
      `backend (nginx) on core ${opts.backendCore}, wrk -t1 -c${opts.connections} on core ${WRK_CORE}; Bun ${Bun.version}; ${quiet}; load average ${load}`,
  );

  const backend = await startPinned("backend (nginx, return 200)", opts.backendCore, join(OUT, "proxy-backend.log"), nginxStart("backend", { fixedBody: text }));
  const ours = await startPinned("ours", PROXY_CORE, join(OUT, "proxy-ours.log"), oursStart(backend.port));
  const nginxOn = await startPinned("nginx proxy_buffering on", PROXY_CORE, join(OUT, "proxy-nginx-buffering-on.log"), nginxStart("nginx-buffering-on", { proxy: { port: backend.port, buffering: true } }));
  const nginxOff = await startPinned("nginx proxy_buffering off", PROXY_CORE, join(OUT, "proxy-nginx-buffering-off.log"), nginxStart("nginx-buffering-off", { proxy: { port: backend.port, buffering: false } }));

  const relayProc = await startPinned("relay", PROXY_CORE, join(OUT, "proxy-relay.log"), (port) => ({
    cmd: [process.execPath, join(BENCH_DIR, "proxy.ts"), "--relay", `${port}`, `${backend.port}`],
    comm: BUN_COMM,
  }));

  const direct: Contestant = { key: "backend", name: "backend alone (no proxy)", proxy: null };
  const contestants: Contestant[] = [
    { key: "ours", name: "ours", proxy: ours },
    { key: "nginx-on", name: "nginx, proxy_buffering on", proxy: nginxOn },
    { key: "nginx-off", name: "nginx, proxy_buffering off", proxy: nginxOff },
    { key: "relay", name: "floor: Bun TCP relay, no HTTP", proxy: relayProc },
  ];
  for (const [i, dir] of opts.variants.entries()) {
    if (!existsSync(join(dir, "src/index.ts"))) throw new Error(`--variant ${dir}: no src/index.ts there`);
    const name = `ours @ ${dir}`;
    contestants.push({ key: `variant-${i + 1}`, name, proxy: await startPinned(name, PROXY_CORE, join(OUT, `proxy-variant-${i + 1}.log`), oursStart(backend.port, dir)) });
  }

  console.error("\n## checked pass");
  const heads = new Map<string, RawResponse>();
  heads.set(direct.key, await checkPass(direct.name, backend.port, body, opts.check));
  for (const c of contestants) heads.set(c.key, await checkPass(c.name, c.proxy!.port, body, opts.check));

  console.error("\n## the backend alone (wrk straight at it)");
  if (opts.warmup > 0) await measure(direct, backend, opts, opts.warmup, "warm-up");
  const directSamples: Sample[] = [];
  for (let round = 1; round <= Math.min(3, opts.rounds); round++) {
    directSamples.push(await quietest((retry) => measure(direct, backend, opts, opts.duration, `run ${round}${retry ? ` retry ${retry}` : ""}`), opts.retries, 2000));
  }

  console.error("\n## the proxies");
  const samples = await alternateRounds(contestants, opts, (c, label, seconds) => measure(c, backend, opts, seconds, label));

  console.error("\n## checked pass after the rounds");
  for (const c of contestants) await checkPass(c.name, c.proxy!.port, body, Math.max(1, Math.ceil(opts.check / 4)));

  const profile = opts.profile ? await profileOurs(backend, body, opts) : [];

  const summarize = (ss: Sample[]) => ({
    rps: median(ss.map((s) => s.rps)),
    proxyUs: median(ss.map((s) => s.proxyUs)),
    proxyUserUs: median(ss.map((s) => s.proxyUserUs)),
    proxySysUs: median(ss.map((s) => s.proxySysUs)),
    backendUs: median(ss.map((s) => s.backendUs)),
    proxyShare: median(ss.map((s) => s.proxyShare)),
    backendShare: median(ss.map((s) => s.backendShare)),
    wrkShare: median(ss.map((s) => s.wrkShare)),
    busy0: median(ss.map((s) => s.busy[WRK_CORE]!)),
    busy1: median(ss.map((s) => s.busy[PROXY_CORE]!)),
  });
  const d = summarize(directSamples);
  const med = samples.map(summarize);
  const oursM = med[0]!;
  const bestNginx = med[1]!.rps >= med[2]!.rps ? 1 : 2;
  const n = med[bestNginx]!;
  const nName = contestants[bestNginx]!.name;

  const runs = (ss: Sample[]) => ss.map((x) => fmtRate(x.rps) + (x.noisy ? "*" : "")).join(" ");
  const table = [
    `### ${BODY_SIZE} B upstream response, keep-alive, wrk -t1 -c${opts.connections}; proxy on core ${PROXY_CORE}, backend on core ${opts.backendCore}, wrk on core ${WRK_CORE}`,
    "",
    `| contestant | req/s (median) | proxy µs CPU/request | of it user / kernel | proxy CPU | backend µs CPU/request | backend CPU | wrk CPU | core ${WRK_CORE} busy | core ${PROXY_CORE} busy | ours ÷ this | runs (req/s) |`,
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    `| ${direct.name} | ${int(d.rps)} | — | — | — | ${d.backendUs.toFixed(2)} | ${pct(d.backendShare)} | ${pct(d.wrkShare)} | ${pct(d.busy0)} | ${pct(d.busy1)} | ${(oursM.rps / d.rps).toFixed(2)} | ${runs(directSamples)} |`,
    ...contestants.map((c, i) => {
      const m = med[i]!;
      const kept = i === bestNginx ? " (kept)" : "";
      return (
        `| ${c.name}${kept} | ${int(m.rps)} | ${m.proxyUs.toFixed(2)} | ${m.proxyUserUs.toFixed(2)} / ${m.proxySysUs.toFixed(2)} | ${pct(m.proxyShare)} | ${m.backendUs.toFixed(2)} | ${pct(m.backendShare)} | ${pct(m.wrkShare)} | ` +
        `${pct(m.busy0)} | ${pct(m.busy1)} | ${(oursM.rps / m.rps).toFixed(2)} | ${runs(samples[i]!)} |`
      );
    }),
    "",
  ];
  const goal = (ok: boolean) => (ok ? "goal met" : "goal NOT met");
  const floor = med[contestants.findIndex((c) => c.key === "relay")]!;
  const x = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
  const ratios = [
    `### ours against ${nName} (the better nginx), and the floor`,
    "",
    "| | ours | nginx | ours ÷ nginx | goal | floor (Bun TCP relay) | ours ÷ floor |",
    "|---|---:|---:|---:|---|---:|---:|",
    `| req/s (median) | ${int(oursM.rps)} | ${int(n.rps)} | **${x(oursM.rps, n.rps)}** | ≥ 1.00×: ${goal(oursM.rps >= n.rps)} | ${int(floor.rps)} | ${x(oursM.rps, floor.rps)} |`,
    `| proxy CPU µs/request | ${oursM.proxyUs.toFixed(2)} | ${n.proxyUs.toFixed(2)} | **${x(oursM.proxyUs, n.proxyUs)}** | ≤ 1.00×: ${goal(oursM.proxyUs <= n.proxyUs)} | ${floor.proxyUs.toFixed(2)} | ${x(oursM.proxyUs, floor.proxyUs)} |`,
    `| of it in user space | ${oursM.proxyUserUs.toFixed(2)} | ${n.proxyUserUs.toFixed(2)} | ${x(oursM.proxyUserUs, n.proxyUserUs)} | | ${floor.proxyUserUs.toFixed(2)} | ${x(oursM.proxyUserUs, floor.proxyUserUs)} |`,
    `| of it in the kernel | ${oursM.proxySysUs.toFixed(2)} | ${n.proxySysUs.toFixed(2)} | ${x(oursM.proxySysUs, n.proxySysUs)} | | ${floor.proxySysUs.toFixed(2)} | ${x(oursM.proxySysUs, floor.proxySysUs)} |`,
    "",
    `The backend alone answered ${int(d.rps)} req/s (${x(d.rps, Math.max(oursM.rps, n.rps))} the faster proxy) with wrk beside it on core ${WRK_CORE}. ` +
      `Our HTTP code costs ${(oursM.proxyUs - floor.proxyUs).toFixed(2)} µs per request above the floor; nginx spends ${(n.proxyUs - floor.proxyUs).toFixed(2)} µs ${n.proxyUs >= floor.proxyUs ? "above" : "below"} it.`,
    "",
    "Response heads as checked (one of each):",
    "",
    ...[direct, ...contestants].map((c) => {
      const x = heads.get(c.key)!;
      const names = [...x.headers.keys()].join(", ");
      return `- ${c.name}: ${x.headBytes} B head (${names}), ${x.body.length} B body`;
    }),
    "",
  ];
  const out = [...table, ...ratios, ...profile, "## wrk errors and warnings", "", ...(problems.length ? problems.map((p) => `- ${p}`) : ["none"]), ""];
  console.log(`\n${out.join("\n")}`);
  printNoisyRuns(noisyRuns);
  const report = [
    `# bench/proxy.ts — ${new Date().toISOString()}`,
    "",
    `Bun ${Bun.version}; ${opts.rounds} round(s) × ${opts.duration} s, medians (the backend alone: ${directSamples.length} runs); ${quiet}; load average at the start ${load}.`,
    "",
    ...out,
    ...noisyRunsSection(noisyRuns),
  ].join("\n");
  writeFileSync(join(OUT, "proxy-latest.md"), report);
  console.error(`\n(report saved to ${join(OUT, "proxy-latest.md")}; logs and nginx configs in ${OUT}/)`);
}

// ---- the relay: bun run bench/proxy.ts --relay PORT UPSTREAM_PORT -------------------------------

/** One side of a relayed pair: the socket at the other end, and bytes waiting to be written to this one. */
interface RelaySide {
  other: Socket<RelaySide> | null;
  pending: Uint8Array | null;
}

/** Writes `bytes` to `to`, keeping what the kernel did not take; while any waits, `from` is paused. */
function relayWrite(to: Socket<RelaySide>, bytes: Uint8Array, from: Socket<RelaySide> | null): void {
  const d = to.data;
  if (d.pending !== null) {
    const all = new Uint8Array(d.pending.length + bytes.length);
    all.set(d.pending);
    all.set(bytes, d.pending.length);
    d.pending = all;
    return;
  }
  const n = to.write(bytes);
  if (n < bytes.length) {
    d.pending = bytes.slice(Math.max(0, n));
    from?.pause();
  }
}

function relayDrain(s: Socket<RelaySide>): void {
  const d = s.data;
  if (d.pending === null) return;
  const n = s.write(d.pending);
  if (n < d.pending.length) {
    d.pending = d.pending.subarray(Math.max(0, n));
    return;
  }
  d.pending = null;
  d.other?.resume();
}

/**
 * The floor of a proxy on Bun: a TCP relay on Bun.listen and Bun.connect, one upstream connection per
 * client connection, bytes copied both ways unread (no parsing, no pool). What moving these bytes
 * through Bun's sockets costs, whatever proxy does it.
 */
function relay(port: number, upstreamPort: number): void {
  const upstreamHandlers = {
    open(up: Socket<RelaySide>) {
      const client = up.data.other!;
      const early = client.data.pending; // what the client sent before this side was open
      client.data.pending = null;
      client.data.other = up;
      if (early !== null) relayWrite(up, early, client);
    },
    data(up: Socket<RelaySide>, chunk: Uint8Array) {
      relayWrite(up.data.other!, chunk, up);
    },
    drain: relayDrain,
    close(up: Socket<RelaySide>) {
      up.data.other?.end();
    },
    connectError(up: Socket<RelaySide>) {
      up.data.other?.end();
    },
  };
  Bun.listen<RelaySide>({
    hostname: "127.0.0.1",
    port,
    socket: {
      binaryType: "uint8array",
      open(client) {
        client.data = { other: null, pending: null };
        // Until the upstream side is open, client.data.other stays null and its bytes wait in pending.
        void Bun.connect<RelaySide>({ hostname: "127.0.0.1", port: upstreamPort, data: { other: client, pending: null }, socket: upstreamHandlers }).catch(() => client.end());
      },
      data(client, chunk) {
        const up = client.data.other;
        if (up === null) {
          const p = client.data.pending;
          client.data.pending = p === null ? chunk.slice() : Buffer.concat([p, chunk]);
        } else {
          relayWrite(up, chunk, client);
        }
      },
      drain: relayDrain,
      close(client) {
        client.data.other?.end();
      },
    },
  });
  process.stderr.write(`relay listening on 127.0.0.1:${port} → 127.0.0.1:${upstreamPort} (pid ${process.pid})\n`);
}

if (process.argv[2] === "--relay") relay(Number(process.argv[3]), Number(process.argv[4]));
else await runMain("bench/proxy.ts", main);
