#!/usr/bin/env bun
// Load comparison: our server against Bun.serve, nginx, h2o and a minimal Bun.listen "ceiling", under wrk.
//
//   bun run bench/load.ts [hello] [static] [app] [log] [metrics] [--quick] [--rounds N] [--duration S] [--warmup S]
//                         [--sizes 1k,64k,1m,8m] [--modes keepalive,close,pipeline] [--retries N] [--svg PATH]
//
// What runs is the case table in bench/load-cases.ts; this file runs it. Method:
// - every server runs pinned to core 1 (`taskset -c 1`), wrk pinned to core 0 (`taskset -c 0 wrk -t1 -c64`);
//   everything listens on 127.0.0.1 only;
// - before timing, each server's answer is checked (bench/lib/answer-check.ts): a fetch() of the URL
//   and a raw exchange in the scenario's mode (one request; Connection: close and the close; 3
//   pipelined requests) must give status line "HTTP/1.1 200" and exactly the expected body bytes, or
//   the run aborts (h2o, marked optional, is left out of that case instead, and the reason reported);
// - one warm-up run per server (not counted), then rounds alternate between servers (A B C A B C …);
//   the tables give medians of req/s;
// - server CPU time per request: utime+stime of the server process (all its threads) from
//   /proc/<pid>/stat before and after each wrk run, divided by the requests wrk reported. The pid is
//   the server itself (taskset execs it), checked through /proc/<pid>/comm, its CPU affinity, and
//   that it has no child processes;
// - wrk's non-2xx and socket error counts are kept per run and listed at the end; a crash aborts;
// - the machine may be shared: /proc/stat tells how much CPU other processes took on the two cores
//   during each run; above 5% the run is marked noisy (* in the tables) and repeated (--retries);
// - after all cases: a summary (ours against the best of nginx's two sendfile settings and h2o, the
//   ceiling and Bun.serve; bench/load-summary.ts) and a bar chart, bench/.out/results.svg (and --svg PATH).
//
// Fixtures (random bytes: 1 KiB, 64 KiB, 1 MiB) are written to bench/.fixtures/ at every run; logs of
// the servers, the generated configs and the results go to bench/.out/ (both gitignored).
import { mkdirSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join, resolve } from "node:path";
import { checkAnswer } from "./lib/answer-check.ts";
import { barChart } from "./lib/bar-chart.ts";
import { runMain, tempDirForRun } from "./lib/children.ts";
import { noisyRunsSection, printNoisyRuns } from "./lib/noise.ts";
import { applyQuick, parseCommandLine, timingOptions } from "./lib/options.ts";
import { pinnedRun, printRun, type RunLog, type RunSample } from "./lib/pinned-run.ts";
import { isDead, startPinned, type PinnedServer } from "./lib/pinned-server.ts";
import { checkClockTick } from "./lib/proc-stat.ts";
import { alternateRounds } from "./lib/rounds.ts";
import { fmtRate, median } from "./lib/stats.ts";
import { ensureTools } from "./lib/tools.ts";
import { ALL_MODES, buildCases, DEFAULT_SCENARIOS, H2O, NGINX, PIPELINE_DEPTH, SCENARIOS, DEFAULT_SIZES, SIZES, type Case, type Mode, type ServerSpec } from "./load-cases.ts";
import { chartData, doorsTable, summaryTable, type CaseResult } from "./load-summary.ts";

const BENCH_DIR = import.meta.dir;
const FIXTURES = join(BENCH_DIR, ".fixtures");
const OUT = join(BENCH_DIR, ".out");
const SERVER_CORE = "1";
const WRK_CORE = "0";
const CONNECTIONS = 64;

// ---- command line ------------------------------------------------------------------------------

const COMMAND_LINE = {
  script: "bench/load.ts",
  words: SCENARIOS,
  options: {
    ...timingOptions({ rounds: 3, duration: 5, warmup: 1 }),
    sizes: { kind: "list", default: DEFAULT_SIZES, choices: Object.keys(SIZES), help: "static file sizes (8m: only when asked)" },
    modes: { kind: "list", default: ALL_MODES, choices: ALL_MODES, help: "static modes" },
    svg: { kind: "text", default: "", value: "PATH", help: "also write the chart there (it always goes to bench/.out/results.svg)" },
  },
  notes: `scenarios: default ${DEFAULT_SCENARIOS.join(", ")}`,
} as const;

function parseOptions(argv: string[]) {
  const p = parseCommandLine(COMMAND_LINE, argv);
  applyQuick(p);
  return { ...p.values, modes: p.values.modes as Mode[], scenarios: p.words.length ? p.words : DEFAULT_SCENARIOS };
}
type Options = ReturnType<typeof parseOptions>;

let tempDir = "";

// ---- servers -----------------------------------------------------------------------------------

const running = new Map<string, PinnedServer>();

async function ensureServer(spec: ServerSpec): Promise<PinnedServer> {
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

// ---- measuring ---------------------------------------------------------------------------------

const log: RunLog = { problems: [], noisyRuns: [] };
const { problems, noisyRuns } = log;
const tables: string[] = [];
const results: CaseResult[] = [];

async function measure(c: Case, r: PinnedServer, duration: number, script: string, label: string): Promise<RunSample> {
  const headers = c.mode === "close" ? [...(c.headers ?? []), "Connection: close"] : c.headers;
  const wrk = { url: `http://127.0.0.1:${r.port}${c.path}`, duration, core: WRK_CORE, connections: CONNECTIONS, headers, script: c.mode === "pipeline" ? script : undefined };
  const { s, w, note } = await pinnedRun(r, SERVER_CORE, wrk, `[${c.title}] ${r.name}, ${label}`, log);
  printRun(label, r.name, 22, s, `${w.transfer}/s`, note);
  return s;
}

/** Starts (or reuses) and checks each server of the case; an optional one that fails is left out. */
async function checkedServers(c: Case): Promise<{ spec: ServerSpec; r: PinnedServer }[]> {
  const out: { spec: ServerSpec; r: PinnedServer }[] = [];
  for (const spec of c.servers) {
    const r = await ensureServer(spec);
    let note: string;
    try {
      note = await checkAnswer(r.name, r.port, c.path, c.expected, c.mode);
      await spec.verify?.(r.port);
    } catch (e) {
      if (!spec.optional) throw e;
      const why = `${spec.name} LEFT OUT of this case: ${(e as Error).message}`;
      console.error(`  ${why}`);
      problems.push(`[${c.title}] ${why}`);
      continue;
    }
    console.error(`  ok ${spec.name}: ${note}`);
    if (note.includes("WARNING")) problems.push(`[${c.title}] ${spec.name}: ${note}`);
    out.push({ spec, r });
  }
  return out;
}

async function runCase(c: Case, opts: Options, script: string): Promise<void> {
  console.error(`\n## ${c.title}`);
  const servers = await checkedServers(c);
  const samples = await alternateRounds(servers, opts, ({ r }, label, seconds) => measure(c, r, seconds, script, label));
  const med = samples.map((ss) => ({
    rps: median(ss.map((s) => s.rps)),
    cpu: median(ss.map((s) => s.cpuUsPerReq)),
    share: median(ss.map((s) => s.cpuShare)),
    wrk: median(ss.map((s) => s.wrkShare)),
  }));
  results.push({ case: c, servers: servers.map((x) => x.spec), med });
  const ours = med[servers.findIndex((x) => x.spec.role === "ours")]?.rps ?? NaN;
  const rows = [
    `### ${c.title}`,
    "",
    `| server | req/s (median) | µs CPU/request | server CPU | wrk CPU | ours ÷ this | runs (req/s) |`,
    `|---|---:|---:|---:|---:|---:|---|`,
    ...servers.map(({ spec }, i) => {
      const m = med[i]!;
      return `| ${spec.name} | ${Math.round(m.rps).toLocaleString("en-US")} | ${m.cpu.toFixed(2)} | ${(m.share * 100).toFixed(0)}% | ${(m.wrk * 100).toFixed(0)}% | ${(ours / m.rps).toFixed(2)} | ${samples[i]!.map((x) => fmtRate(x.rps) + (x.noisy ? "*" : "")).join(" ")} |`;
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

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  checkClockTick();
  const needStatic = opts.scenarios.includes("static");
  ensureTools([
    { path: "wrk", pkg: "wrk" },
    ...(needStatic ? [{ path: NGINX, pkg: "nginx-light" }, { path: H2O, pkg: "h2o" }] : []),
  ]);
  for (const tool of ["taskset", "wrk"]) if (Bun.which(tool) === null) throw new Error(`${tool} is not installed`);
  mkdirSync(OUT, { recursive: true });
  tempDir = tempDirForRun("bench-load-");
  const script = pipelineScript();
  const fixtures = writeFixtures();
  const setup = `${opts.rounds} round(s) of ${opts.duration} s, warm-up ${opts.warmup} s; servers on core ${SERVER_CORE}, wrk -t1 -c${CONNECTIONS} on core ${WRK_CORE}; Bun ${Bun.version}`;
  console.error(`bench/load.ts: ${opts.scenarios.join(" + ")}; ${setup}`);

  const cases = await buildCases(opts.scenarios, opts.sizes, opts.modes, { servers: join(BENCH_DIR, "servers"), fixturesDir: FIXTURES, fixtures, out: OUT, tempDir });
  for (const c of cases) await runCase(c, opts, script);

  const summary = summaryTable(results);
  const doors = doorsTable(results);
  const svg = barChart(chartData(results, `${new Date().toISOString().slice(0, 10)}, ${setup}; medians`));
  const svgPaths = [join(OUT, "results.svg"), ...(opts.svg ? [resolve(opts.svg)] : [])];
  for (const p of svgPaths) writeFileSync(p, svg);
  const errors = problems.length ? problems.map((p) => `- ${p}`) : ["none"];
  const summarySection = [
    "## summary",
    "",
    '"best" is the faster of nginx (sendfile off or on) and h2o in that case; ratios above 1 are ours ahead (CPU: theirs ÷ ours).',
    "",
    summary,
    "",
    ...(doors ? ["Our app doors against Bun.serve's:", "", doors, ""] : []),
  ];
  const report = [
    `# bench/load.ts — ${new Date().toISOString()}`,
    "",
    `Bun ${Bun.version}; ${opts.rounds} round(s) × ${opts.duration} s, medians; servers pinned to core ${SERVER_CORE}, ` +
      `\`wrk -t1 -c${CONNECTIONS}\` pinned to core ${WRK_CORE}; "ours ÷ this" > 1 means ours is faster.`,
    "",
    ...summarySection,
    ...tables,
    "## wrk errors and warnings",
    "",
    ...errors,
    "",
    ...noisyRunsSection(noisyRuns),
  ].join("\n");
  writeFileSync(join(OUT, "load-latest.md"), report);
  console.log(`\n${summarySection.join("\n")}`);
  console.log(`\n## wrk errors and warnings\n\n${errors.join("\n")}`);
  printNoisyRuns(noisyRuns);
  console.error(`\n(report saved to ${join(OUT, "load-latest.md")}, chart to ${svgPaths.join(" and ")}; server logs in ${OUT}/)`);
}

await runMain("bench/load.ts", main);
