#!/usr/bin/env bun
// Load comparison: our server against Bun.serve, nginx and a minimal Bun.listen "ceiling", under wrk.
//
//   bun run bench/load.ts [hello] [static] [app] [log] [metrics] [--quick] [--rounds N] [--duration S] [--warmup S]
//                         [--sizes 1k,64k,1m] [--modes keepalive,close,pipeline] [--retries N]
//
// Method:
// - every server runs pinned to core 1 (`taskset -c 1`), wrk pinned to core 0 (`taskset -c 0 wrk -t1 -c64`);
//   everything listens on 127.0.0.1 only;
// - before timing, each server's answer is checked: a fetch() of the URL and a raw exchange in the
//   scenario's mode (one request; Connection: close and the close; 3 pipelined requests) must give
//   status line "HTTP/1.1 200" and exactly the expected body bytes, or the run aborts;
// - one warm-up run per server (not counted), then rounds alternate between servers (A B C A B C …);
//   the table gives medians of req/s;
// - server CPU time per request: utime+stime of the server process (all its threads) from
//   /proc/<pid>/stat before and after each wrk run, divided by the requests wrk reported. The pid is
//   the server itself (taskset execs it), checked through /proc/<pid>/comm, its CPU affinity, and
//   that it has no child processes;
// - wrk's non-2xx and socket error counts are kept per run and listed at the end; a crash aborts;
// - the machine may be shared: /proc/stat tells how much CPU other processes took on the two cores
//   during each run; above 5% the run is marked noisy (* in the tables) and repeated (--retries).
//
// Fixtures (random bytes: 1 KiB, 64 KiB, 1 MiB) are written to bench/.fixtures/ at every run; logs of
// the servers, the generated configs and the results go to bench/.out/ (both gitignored).
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { die, runMain, tempDirForRun } from "./lib/children.ts";
import { foreignLoad, NOISE_LIMIT, noisyRunsSection, printNoisyRuns, quietest, topOthers } from "./lib/noise.ts";
import { BUN_COMM, isDead, logTail, startPinned, type PinnedServer } from "./lib/pinned-server.ts";
import { checkClockTick, coreTimes, cpuSeconds, processTimes } from "./lib/proc-stat.ts";
import { describeDiff, rawExchange, type RawResponse } from "./lib/raw-http.ts";
import { fmtRate, median } from "./lib/stats.ts";
import { runWrk, wrkErrors, type WrkResult } from "./lib/wrk.ts";
import { nginxConfig } from "./nginx.ts";

const BENCH_DIR = import.meta.dir;
const FIXTURES = join(BENCH_DIR, ".fixtures");
const OUT = join(BENCH_DIR, ".out");
const SERVERS = join(BENCH_DIR, "servers");
const NGINX = "/usr/sbin/nginx";
const SERVER_CORE = "1";
const WRK_CORE = "0";
const CONNECTIONS = 64;
const PIPELINE_DEPTH = 16;

// ---- command line ------------------------------------------------------------------------------

type Mode = "keepalive" | "close" | "pipeline";
const ALL_MODES: Mode[] = ["keepalive", "close", "pipeline"];
const SIZES: Record<string, number> = { "1k": 1024, "64k": 64 * 1024, "1m": 1024 * 1024 };

interface Options {
  scenarios: string[];
  rounds: number;
  duration: number;
  warmup: number;
  /** Re-runs of a measurement that other processes disturbed (the machine may be shared). */
  retries: number;
  sizes: string[];
  modes: Mode[];
}

const USAGE = `usage: bun run bench/load.ts [hello] [static] [app] [log] [metrics] [--quick] [--rounds N] [--duration S] [--warmup S]
                              [--sizes 1k,64k,1m] [--modes keepalive,close,pipeline] [--retries N]
  default: all scenarios, 3 rounds of 5 s (--quick: 1 round of 3 s), 1 s warm-up per server and case;
  a run during which other processes took > 5% of either core is repeated up to --retries times (default 2)`;

function parseOptions(argv: string[]): Options {
  const o: Options = { scenarios: [], rounds: 3, duration: 5, warmup: 1, retries: 2, sizes: Object.keys(SIZES), modes: ALL_MODES };
  let rounds: number | undefined;
  let duration: number | undefined;
  let quick = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const num = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0) die(`${a} needs a whole number\n${USAGE}`);
      return v;
    };
    const list = (): string[] => (argv[++i] ?? "").split(",").filter((s) => s !== "");
    if (a === "hello" || a === "static" || a === "app" || a === "log" || a === "metrics") o.scenarios.push(a);
    else if (a === "--quick") quick = true;
    else if (a === "--rounds") rounds = num();
    else if (a === "--duration") duration = num();
    else if (a === "--warmup") o.warmup = num();
    else if (a === "--retries") o.retries = num();
    else if (a === "--sizes") o.sizes = list();
    else if (a === "--modes") o.modes = list() as Mode[];
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
  for (const s of o.sizes) if (!(s in SIZES)) die(`unknown size ${s} (1k, 64k, 1m)`);
  for (const m of o.modes) if (!ALL_MODES.includes(m)) die(`unknown mode ${m} (${ALL_MODES.join(", ")})`);
  if (o.scenarios.length === 0) o.scenarios = ["hello", "static", "app"];
  return o;
}

let tempDir = "";

// ---- servers -----------------------------------------------------------------------------------

type Running = PinnedServer;

interface ServerSpec {
  /** Row label. */
  name: string;
  /** Identity of the process: specs with one key share a process. */
  key: string;
  ours?: boolean;
  start(port: number): { cmd: string[]; comm: string };
  /** A further check before timing (that the server runs with what the case measures); throws if not. */
  verify?(port: number): Promise<void>;
}

const running = new Map<string, Running>();

async function ensureServer(spec: ServerSpec): Promise<Running> {
  const have = running.get(spec.key);
  if (have !== undefined) {
    if (isDead(have.proc)) throw new Error(`${spec.name} is dead (see ${have.log})`);
    return have;
  }
  const log = join(OUT, `${spec.key.replace(/[^\w.-]+/g, "_")}.log`);
  const r = await startPinned(spec.name, SERVER_CORE, log, spec.start);
  running.set(spec.key, r);
  return r;
}

function bunServer(script: string, ...args: string[]) {
  return (port: number) => ({ cmd: [process.execPath, join(SERVERS, script), "--port", `${port}`, ...args], comm: BUN_COMM });
}

function nginxServer(sendfile: boolean) {
  return (port: number) => {
    const name = `nginx-sendfile-${sendfile ? "on" : "off"}`;
    const dir = join(tempDir, name);
    mkdirSync(dir, { recursive: true });
    // The config and the error log are kept in bench/.out/; pid file and temp paths go in the temp dir.
    const errorLog = join(OUT, `${name}.error.log`);
    writeFileSync(errorLog, "");
    const conf = join(OUT, `${name}.conf`);
    writeFileSync(conf, nginxConfig({ by: "bench/load.ts", port, root: FIXTURES, tempDir: dir, errorLog, sendfile }));
    return { cmd: [NGINX, "-p", dir, "-e", errorLog, "-c", conf], comm: "nginx" };
  };
}

// ---- correctness check before timing -----------------------------------------------------------

function requestText(path: string, close: boolean): string {
  return `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: bench/load.ts\r\nAccept: */*\r\n${close ? "Connection: close\r\n" : ""}\r\n`;
}

async function checkServer(r: Running, path: string, expected: Uint8Array, mode: Mode): Promise<string> {
  const url = `http://127.0.0.1:${r.port}${path}`;
  const fail = (what: string): never => {
    throw new Error(`CORRECTNESS CHECK FAILED for ${r.name} (${url}, ${mode}): ${what}`);
  };
  const res = await fetch(url, { keepalive: false });
  const got = new Uint8Array(await res.arrayBuffer());
  if (res.status !== 200) fail(`fetch status ${res.status}`);
  if (!Buffer.from(got).equals(Buffer.from(expected))) fail(`fetch body: ${describeDiff(got, expected)}`);

  const n = mode === "pipeline" ? 3 : 1;
  const req = mode === "pipeline" ? requestText(path, false).repeat(n) : requestText(path, mode === "close");
  let responses: RawResponse[];
  try {
    responses = await rawExchange(r.port, req, n, mode === "close");
  } catch (e) {
    return fail(`raw ${mode} exchange: ${(e as Error).message}`);
  }
  for (const [i, x] of responses.entries()) {
    if (!/^HTTP\/1\.1 200 /.test(x.statusLine)) fail(`response ${i + 1}: status line "${x.statusLine}"`);
    if (!x.body.equals(Buffer.from(expected))) fail(`response ${i + 1}: body ${describeDiff(x.body, expected)}`);
  }
  const first = responses[0]!;
  let note = `${first.statusLine}, head ${first.headBytes} B, body ${first.body.length} B`;
  if (mode === "close" && !/close/i.test(first.headers.get("connection") ?? "")) {
    note += ` — WARNING: no "Connection: close" header (wrk will count a read error per connection)`;
  }
  return note;
}

// ---- wrk ---------------------------------------------------------------------------------------

function wrk(url: string, duration: number, mode: Mode, script: string, headers: string[] = []): Promise<WrkResult> {
  const all = mode === "close" ? [...headers, "Connection: close"] : headers;
  return runWrk({ url, duration, core: WRK_CORE, connections: CONNECTIONS, headers: all, script: mode === "pipeline" ? script : undefined });
}

// ---- scenarios ---------------------------------------------------------------------------------

interface Case {
  title: string;
  path: string;
  expected: Uint8Array;
  mode: Mode;
  servers: ServerSpec[];
  /** Header lines wrk sends besides Host (default: none). */
  headers?: string[];
}

interface Sample {
  rps: number;
  requests: number;
  cpuUsPerReq: number;
  cpuShare: number;
  wrkShare: number;
  /** Other processes took more than NOISE_LIMIT of a core during the run. */
  noisy: boolean;
  /** The larger foreign share of the two cores. */
  foreign: number;
}

const problems: string[] = [];
const noisyRuns: string[] = [];
const tables: string[] = [];

async function measure(c: Case, r: Running, opts: Options, script: string, label: string): Promise<Sample> {
  const url = `http://127.0.0.1:${r.port}${c.path}`;
  const before = cpuSeconds(r.pid);
  const coresBefore = coreTimes();
  const procsBefore = processTimes();
  const t0 = performance.now();
  const w = await wrk(url, label === "warm-up" ? opts.warmup : opts.duration, c.mode, script, c.headers);
  const wall = (performance.now() - t0) / 1000;
  if (isDead(r.proc)) {
    throw new Error(`${r.name} DIED during the ${c.title} ${label} run (exit ${r.proc.exitCode ?? r.proc.signalCode}):\n${logTail(r.log)}`);
  }
  const cpu = cpuSeconds(r.pid) - before;
  const foreign = foreignLoad(coresBefore, coreTimes(), { core: SERVER_CORE, cpu }, { core: WRK_CORE, cpu: w.cpu }, wall);
  const noisy = foreign.server > NOISE_LIMIT || foreign.client > NOISE_LIMIT;
  let noise = `other load: core ${SERVER_CORE} ${(foreign.server * 100).toFixed(0)}%, core ${WRK_CORE} ${(foreign.client * 100).toFixed(0)}%`;
  if (noisy) noise += ` — busiest: ${topOthers(procsBefore, processTimes(), [r.pid])}`;
  if (noisy) noisyRuns.push(`[${c.title}] ${r.name}, ${label}: ${noise}`);
  const errs = wrkErrors(w);
  if (errs !== "") problems.push(`[${c.title}] ${r.name}, ${label}: ${errs} (of ${w.requests} requests)`);
  if (w.requests === 0) problems.push(`[${c.title}] ${r.name}, ${label}: ZERO requests completed`);
  const s: Sample = {
    rps: w.rps,
    requests: w.requests,
    cpuUsPerReq: w.requests > 0 ? (cpu * 1e6) / w.requests : NaN,
    cpuShare: cpu / wall,
    wrkShare: w.cpu / wall,
    noisy,
    foreign: Math.max(foreign.server, foreign.client),
  };
  console.error(
    `    ${label.padEnd(16)} ${r.name.padEnd(22)} ${fmtRate(s.rps).padStart(8)} req/s  ${s.cpuUsPerReq.toFixed(2).padStart(7)} µs CPU/req  ` +
      `CPU ${(s.cpuShare * 100).toFixed(0)}% (wrk ${(s.wrkShare * 100).toFixed(0)}%)  ${w.transfer}/s${noisy ? `  NOISY (${noise})` : ""}${errs ? `  ERRORS: ${errs}` : ""}`,
  );
  return s;
}

async function runCase(c: Case, opts: Options, script: string): Promise<void> {
  console.error(`\n## ${c.title}`);
  const procs: Running[] = [];
  for (const spec of c.servers) {
    const r = await ensureServer(spec);
    const note = await checkServer(r, c.path, c.expected, c.mode);
    await spec.verify?.(r.port);
    console.error(`  ok ${spec.name}: ${note}`);
    if (note.includes("WARNING")) problems.push(`[${c.title}] ${spec.name}: ${note}`);
    procs.push(r);
  }
  if (opts.warmup > 0) for (const r of procs) await measure(c, r, opts, script, "warm-up");
  const samples: Sample[][] = procs.map(() => []);
  for (let round = 1; round <= opts.rounds; round++) {
    for (const [i, r] of procs.entries()) {
      // Another process took CPU from the server or wrk: try again after a pause, keep the quietest.
      const s = await quietest((retry) => measure(c, r, opts, script, `round ${round}${retry ? ` retry ${retry}` : ""}`), opts.retries, 2000);
      samples[i]!.push(s);
    }
  }
  const oursIndex = c.servers.findIndex((s) => s.ours);
  const med = samples.map((ss) => ({
    rps: median(ss.map((s) => s.rps)),
    cpu: median(ss.map((s) => s.cpuUsPerReq)),
    share: median(ss.map((s) => s.cpuShare)),
    wrk: median(ss.map((s) => s.wrkShare)),
  }));
  const ours = med[oursIndex]!.rps;
  const rows = [
    `### ${c.title}`,
    "",
    `| server | req/s (median) | µs CPU/request | server CPU | wrk CPU | ours ÷ this | runs (req/s) |`,
    `|---|---:|---:|---:|---:|---:|---|`,
    ...c.servers.map((s, i) => {
      const m = med[i]!;
      return `| ${s.name} | ${Math.round(m.rps).toLocaleString("en-US")} | ${m.cpu.toFixed(2)} | ${(m.share * 100).toFixed(0)}% | ${(m.wrk * 100).toFixed(0)}% | ${(ours / m.rps).toFixed(2)} | ${samples[i]!.map((x) => fmtRate(x.rps) + (x.noisy ? "*" : "")).join(" ")} |`;
    }),
    "",
  ];
  const table = rows.join("\n");
  tables.push(table);
  console.log(`\n${table}`);
}

// ---- main --------------------------------------------------------------------------------------

function writeFixtures(): Record<string, Uint8Array> {
  mkdirSync(FIXTURES, { recursive: true });
  const out: Record<string, Uint8Array> = {};
  for (const [name, size] of Object.entries(SIZES)) {
    const bytes = randomBytes(size);
    writeFileSync(join(FIXTURES, `${name}.bin`), bytes);
    out[name] = bytes;
  }
  return out;
}

function pipelineScript(): string {
  const path = join(tempDir, "pipeline.lua");
  writeFileSync(
    path,
    `-- ${PIPELINE_DEPTH} requests per write (after wrk's examples/pipeline.lua); generated by bench/load.ts
init = function(args)
  local r = {}
  for i = 1, ${PIPELINE_DEPTH} do
    r[i] = wrk.format(nil, nil)
  end
  req = table.concat(r)
end

request = function()
  return req
end
`,
  );
  return path;
}

/** Installs wrk (and nginx for the static scenario) from Debian's packages when missing and we may. */
function ensureTools(needNginx: boolean): void {
  const missing: string[] = [];
  if (Bun.which("wrk") === null) missing.push("wrk");
  if (needNginx && !existsSync(NGINX)) missing.push("nginx-light");
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0 || Bun.which("apt-get") === null) {
    throw new Error(`missing ${missing.join(", ")}: apt-get install ${missing.join(" ")}`);
  }
  console.error(`installing ${missing.join(", ")} with apt-get…`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  Bun.spawnSync(["apt-get", "update", "-qq"], { env, stdout: "ignore", stderr: "inherit" });
  const r = Bun.spawnSync(["apt-get", "install", "-y", "-qq", ...missing], { env, stdout: "ignore", stderr: "inherit" });
  if (r.exitCode !== 0) throw new Error(`apt-get install ${missing.join(" ")} failed`);
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  checkClockTick();
  ensureTools(opts.scenarios.includes("static"));
  for (const tool of ["taskset", "wrk"]) if (Bun.which(tool) === null) throw new Error(`${tool} is not installed`);
  mkdirSync(OUT, { recursive: true });
  tempDir = tempDirForRun("bench-load-");
  const script = pipelineScript();
  const fixtures = writeFixtures();

  console.error(
    `bench/load.ts: ${opts.scenarios.join(" + ")}; ${opts.rounds} round(s) of ${opts.duration} s, warm-up ${opts.warmup} s; ` +
      `servers on core ${SERVER_CORE}, wrk -t1 -c${CONNECTIONS} on core ${WRK_CORE}; Bun ${Bun.version}`,
  );

  const cases: Case[] = [];
  if (opts.scenarios.includes("hello")) {
    cases.push({
      title: "hello: 13-byte text, keep-alive",
      path: "/",
      expected: new TextEncoder().encode("Hello, World!"),
      mode: "keepalive",
      servers: [
        { name: "ours", key: "ours-hello", ours: true, start: bunServer("ours-hello.ts") },
        { name: "Bun.serve", key: "bun-serve-hello", start: bunServer("bun-serve-hello.ts") },
        { name: "ceiling (Bun.listen)", key: "ceiling-hello", start: bunServer("ceiling.ts") },
      ],
    });
  }
  if (opts.scenarios.includes("log")) {
    // What the access log costs: the same 1 KiB file with the log off, and written to a real file.
    const logServer = (format: string) => ({
      name: `ours, log ${format}`,
      key: `ours-static-log-${format}`,
      ours: format === "off",
      start: bunServer("ours-static.ts", "--root", FIXTURES, "--log", format, "--log-file", join(tempDir, `access-${format}.log`)),
    });
    cases.push({
      title: "access log cost: static 1 KiB file, keep-alive",
      path: "/1k.bin",
      expected: fixtures["1k"]!,
      mode: "keepalive",
      servers: [logServer("off"), logServer("common"), logServer("combined"), logServer("json")],
    });
  }
  if (opts.scenarios.includes("metrics")) {
    // What counting costs, measured as the access log's: the same 1 KiB file, log off, metrics off and on.
    const metricsServer = (on: boolean) => ({
      name: `ours, metrics ${on ? "on" : "off"}`,
      key: `ours-static-metrics-${on ? "on" : "off"}`,
      ours: !on,
      start: bunServer("ours-static.ts", "--root", FIXTURES, "--log", "off", ...(on ? ["--metrics", "/metrics"] : [])),
      async verify(port: number) {
        const res = await fetch(`http://127.0.0.1:${port}/metrics`);
        const counting = (await res.text()).includes('http_requests_total{code="200"}');
        if (counting !== on) throw new Error(`CHECK FAILED: metrics ${on ? "not counting" : "answered"} on the metrics-${on ? "on" : "off"} server`);
      },
    });
    cases.push({
      title: "metrics cost: static 1 KiB file, keep-alive",
      path: "/1k.bin",
      expected: fixtures["1k"]!,
      mode: "keepalive",
      servers: [metricsServer(false), metricsServer(true)],
    });
  }
  if (opts.scenarios.includes("app")) {
    const { HELLO, JSON_BODY } = await import("./servers/app-handlers.ts");
    const { BROWSER_GET } = await import("./corpus.ts");
    // Chrome's navigation request: its header lines but Host (wrk sends its own).
    const browserHeaders = new TextDecoder()
      .decode(BROWSER_GET)
      .split("\r\n")
      .slice(1)
      .filter((line) => line !== "" && !/^host:/i.test(line));
    const enc = new TextEncoder();
    const appCases: [string, string, string, string[]?][] = [
      ["hello-world text", "/hello", HELLO],
      ["JSON", "/json", JSON.stringify(JSON_BODY)],
      ["parameter route /users/:id", "/users/42", JSON.stringify({ id: "42", name: "user 42" })],
      [`hello-world text, a browser's ${browserHeaders.length + 1} header fields`, "/hello", HELLO, browserHeaders],
    ];
    for (const [title, path, body, headers] of appCases) {
      cases.push({
        title: `app: ${title}, keep-alive`,
        path,
        expected: enc.encode(body),
        mode: "keepalive",
        headers,
        servers: [
          { name: "ours, routes (Response)", key: "app-ours-routes", ours: true, start: bunServer("app.ts", "--kind", "ours-routes") },
          { name: "ours, routes (light values)", key: "app-ours-light", start: bunServer("app.ts", "--kind", "ours-light") },
          { name: "ours, fetch", key: "app-ours-fetch", start: bunServer("app.ts", "--kind", "ours-fetch") },
          { name: "Bun.serve, routes", key: "app-bun-routes", start: bunServer("app.ts", "--kind", "bun-routes") },
          { name: "Bun.serve, fetch", key: "app-bun-fetch", start: bunServer("app.ts", "--kind", "bun-fetch") },
          { name: "ours, Hono app (fetch)", key: "app-ours-hono", start: bunServer("app.ts", "--kind", "ours-hono") },
          { name: "Bun.serve, Hono app", key: "app-bun-hono", start: bunServer("app.ts", "--kind", "bun-hono") },
        ],
      });
    }
  }
  if (opts.scenarios.includes("static")) {
    if (!existsSync(NGINX)) throw new Error(`${NGINX} is not installed`);
    const label: Record<Mode, string> = { keepalive: "keep-alive", close: "Connection: close", pipeline: `pipelined ×${PIPELINE_DEPTH}` };
    for (const size of opts.sizes) {
      for (const mode of opts.modes) {
        const file = join(FIXTURES, `${size}.bin`);
        const close = mode === "close";
        cases.push({
          title: `static ${size.replace("k", " KiB").replace("1m", "1 MiB")} file, ${label[mode]}`,
          path: `/${size}.bin`,
          expected: fixtures[size]!,
          mode,
          servers: [
            { name: "ours", key: "ours-static", ours: true, start: bunServer("ours-static.ts", "--root", FIXTURES) },
            { name: "nginx sendfile off", key: "nginx-sendfile-off", start: nginxServer(false) },
            { name: "nginx sendfile on", key: "nginx-sendfile-on", start: nginxServer(true) },
            { name: "Bun.serve Bun.file", key: "bun-serve-static", start: bunServer("bun-serve-static.ts", "--root", FIXTURES) },
            {
              name: "ceiling (from memory)",
              key: `ceiling-${size}${close ? "-close" : ""}`,
              start: bunServer("ceiling.ts", "--file", file, ...(close ? ["--close"] : [])),
            },
          ],
        });
      }
    }
  }

  for (const c of cases) await runCase(c, opts, script);

  const report = [
    `# bench/load.ts — ${new Date().toISOString()}`,
    "",
    `Bun ${Bun.version}; ${opts.rounds} round(s) × ${opts.duration} s, medians; servers pinned to core ${SERVER_CORE}, ` +
      `\`wrk -t1 -c${CONNECTIONS}\` pinned to core ${WRK_CORE}; "ours ÷ this" > 1 means ours is faster.`,
    "",
    ...tables,
    "## wrk errors and warnings",
    "",
    ...(problems.length ? problems.map((p) => `- ${p}`) : ["none"]),
    "",
    ...noisyRunsSection(noisyRuns),
  ].join("\n");
  writeFileSync(join(OUT, "load-latest.md"), report);
  console.log(`\n## wrk errors and warnings\n\n${problems.length ? problems.map((p) => `- ${p}`).join("\n") : "none"}`);
  printNoisyRuns(noisyRuns);
  console.error(`\n(report saved to ${join(OUT, "load-latest.md")}; server logs in ${OUT}/)`);
}

await runMain("bench/load.ts", main);
