#!/usr/bin/env bun
// WebSocket comparison: our server against Bun.serve (uWebSockets, in C++), both running the same app
// (bench/servers/ws-echo.ts: the one options object given to our serve() or to Bun.serve).
//
//   bun run bench/ws.ts [echo] [binary] [broadcast] [--rounds N] [--duration S] [--warmup S] [--retries N]
//                       [--servers ours,bun] [--subscribers N] [--pub-batch N] [--pub-inflight N]
//
// Scenarios (default: all three):
// - echo: 32-byte text messages, 64 connections with 16 in flight on each;
// - binary: echo of 64 KiB binary messages, 16 connections with 4 in flight on each (4 MiB in flight
//   each way: enough to keep both sides busy, while a round's bytes stay in the kernel's socket
//   buffers rather than in the servers' backpressure queues);
// - broadcast: one publisher, 1,000 subscribers; the server publishes (`ws.publish("t", m)`) every
//   message the publisher sends; 32-byte text, the publisher writing 16 frames at a time and keeping
//   at most 64 messages undelivered. Its rate is deliveries/s (messages × subscribers received).
//
// Method:
// - every server runs pinned to core 1 (`taskset -c 1`), the load client (bench/ws-client.ts, raw
//   Bun.connect, pre-built masked frames, only frame headers parsed) pinned to core 0; all on 127.0.0.1;
// - each measurement is a fresh client process: it connects, does the handshakes, checks correctness
//   (echo: a distinct payload per connection comes back byte for byte; broadcast: every subscriber
//   receives the check message, equal), runs 0.3 s of traffic to warm up its own JIT, then says ready;
//   a failed check, an unexpected frame (close, ping, wrong opcode or length) or a closed connection
//   aborts the run. Connecting and closing are outside the timed window;
// - one warm-up run per server (--warmup s, not counted), then rounds alternate between servers
//   (A B A B …); the table gives medians;
// - server CPU per message: utime+stime of the server process (all its threads) from /proc/<pid>/stat
//   just before the client is told "go" and just after its count arrives, divided by the frames the
//   client received in its window (echo: messages echoed; broadcast: deliveries); each run line also
//   gives the two apart (user space, kernel). The pid is the server itself (taskset execs it), checked
//   through /proc/<pid>/comm, its CPU affinity, and that it has no child processes;
// - the client's CPU share is printed too: on loopback most of each side's time is the kernel's (a
//   write carries the receiver's TCP work too), so the client, though it does almost nothing in user
//   space, can use as much CPU as the server. Near 100% client CPU means the rate is the client's
//   limit, and then only the CPU per message compares the servers;
// - the machine may be shared: /proc/stat tells how much CPU other processes took on the two cores
//   during each run; above 5% the run is marked noisy (* in the tables) and repeated (--retries).
//
// Server logs and the results (ws-latest.md) go to bench/.out/ (gitignored).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { die, runMain, track } from "./lib/children.ts";
import { parseCommandLine } from "./lib/options.ts";
import { foreignLoad, NOISE_LIMIT, noisyRunsSection, printNoisyRuns, topOthers } from "./lib/noise.ts";
import { BUN_COMM, isDead, logTail, startPinned, type PinnedServer } from "./lib/pinned-server.ts";
import { checkClockTick, coreTimes, processTimes, userSystemSeconds } from "./lib/proc-stat.ts";
import { alternateRounds } from "./lib/rounds.ts";
import { fmtRate, median } from "./lib/stats.ts";
import type { Config } from "./ws-client.ts";

const OUT = join(import.meta.dir, ".out");
const CLIENT = join(import.meta.dir, "ws-client.ts");
const APP = join(import.meta.dir, "servers", "ws-echo.ts");
const SERVER_CORE = "1";
const CLIENT_CORE = "0";
const PRIME_SECONDS = 0.3;

// ---- command line ------------------------------------------------------------------------------

type ScenarioKey = "echo" | "binary" | "broadcast";
type Kind = "ours" | "bun";

const COMMAND_LINE = {
  script: "bench/ws.ts",
  words: ["echo", "binary", "broadcast"],
  options: {
    rounds: { kind: "whole", default: 3, min: 1, help: "timed rounds per server and scenario" },
    duration: { kind: "number", default: 5, min: 0.5, help: "seconds per timed run" },
    warmup: { kind: "number", default: 2, help: "seconds of untimed warm-up per server and scenario" },
    retries: { kind: "whole", default: 2, help: "re-runs of a run during which other processes took > 5% of a core" },
    servers: { kind: "list", default: ["ours", "bun"], choices: ["ours", "bun"], help: "the servers (bun,bun: Bun.serve against itself, the harness's own noise)" },
    subscribers: { kind: "whole", default: 1000, min: 1, help: "broadcast: subscribers" },
    pubBatch: { kind: "whole", default: 16, min: 1, help: "broadcast: frames the publisher writes at a time" },
    pubInflight: { kind: "whole", default: 64, min: 1, help: "broadcast: messages undelivered at most" },
  },
  notes: "default: all three scenarios",
} as const;

function parseOptions(argv: string[]) {
  const { values, words } = parseCommandLine(COMMAND_LINE, argv);
  if (values.pubInflight < values.pubBatch) die("--pub-inflight must be at least --pub-batch");
  return { ...values, servers: values.servers as Kind[], scenarios: (words.length ? words : COMMAND_LINE.words) as ScenarioKey[] };
}
type Options = ReturnType<typeof parseOptions>;

// ---- scenarios ---------------------------------------------------------------------------------

interface Scenario {
  title: string;
  /** What the rate counts: frames received by the client. */
  unit: "msgs" | "deliveries";
  client: Omit<Config, "port" | "prime">;
}

function scenarios(o: Options): Record<ScenarioKey, Scenario> {
  return {
    echo: {
      title: "echo: 32-byte text, 64 connections × 16 in flight",
      unit: "msgs",
      client: { mode: "echo", conns: 64, inflight: 16, batch: 16, size: 32, binary: false },
    },
    binary: {
      title: "echo: 64 KiB binary, 16 connections × 4 in flight",
      unit: "msgs",
      client: { mode: "echo", conns: 16, inflight: 4, batch: 4, size: 64 * 1024, binary: true },
    },
    broadcast: {
      title: `broadcast: 32-byte text, 1 publisher → ${o.subscribers} subscribers (${o.pubBatch} frames per write, ≤ ${o.pubInflight} undelivered)`,
      unit: "deliveries",
      client: { mode: "broadcast", conns: o.subscribers, inflight: o.pubInflight, batch: o.pubBatch, size: 32, binary: false },
    },
  };
}

// ---- the client process ------------------------------------------------------------------------

interface ClientResult {
  frames: number;
  messages: number;
  seconds: number;
  cpu: number;
  reads: number;
  writes: number;
}

/** Lines of a child's stdout, each awaited with a deadline; the child's exit ends the wait too. */
class LineReader {
  #buf = "";
  #waiting: (() => void) | null = null;
  #ended = false;
  constructor(stream: ReadableStream<Uint8Array>) {
    void (async () => {
      const dec = new TextDecoder();
      for await (const chunk of stream) {
        this.#buf += dec.decode(chunk, { stream: true });
        this.#waiting?.();
      }
      this.#ended = true;
      this.#waiting?.();
    })();
  }
  async next(ms: number, what: string): Promise<string> {
    const deadline = performance.now() + ms;
    for (;;) {
      const nl = this.#buf.indexOf("\n");
      if (nl >= 0) {
        const line = this.#buf.slice(0, nl);
        this.#buf = this.#buf.slice(nl + 1);
        return line;
      }
      if (this.#ended) throw new Error(`the client ended before ${what}`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiting = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.#waiting = null;
    }
  }
}

class Client {
  readonly proc: Subprocess<"pipe", "pipe", "inherit">;
  readonly lines: LineReader;
  constructor(cfg: Config) {
    this.proc = Bun.spawn(["taskset", "-c", CLIENT_CORE, process.execPath, CLIENT, JSON.stringify(cfg)], {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "inherit",
    });
    track(this.proc);
    this.lines = new LineReader(this.proc.stdout);
  }
  async say(line: string): Promise<void> {
    this.proc.stdin.write(`${line}\n`);
    await this.proc.stdin.flush();
  }
  async read<T>(ms: number, what: string): Promise<T> {
    try {
      return JSON.parse(await this.lines.next(ms, what)) as T;
    } catch (e) {
      const code = await Promise.race([this.proc.exited, Bun.sleep(500).then(() => null)]);
      throw new Error(`client: ${(e as Error).message}${code === null ? "" : ` (it exited with ${code}; its message is above)`}`);
    }
  }
  async quit(): Promise<void> {
    await this.say("quit");
    const code = await this.proc.exited;
    if (code !== 0) throw new Error(`the client exited with ${code}`);
  }
}

// ---- measurements ------------------------------------------------------------------------------

interface Sample {
  /** Frames received by the client per second (echo: messages; broadcast: deliveries). */
  rate: number;
  /** Broadcast: messages published per second. */
  published: number;
  frames: number;
  cpuUsPerFrame: number;
  /** Of cpuUsPerFrame, the kernel's part (stime); the rest is user space. */
  systemUsPerFrame: number;
  serverShare: number;
  clientShare: number;
  framesPerRead: number;
  noisy: boolean;
  foreign: number;
}

const notes = new Map<string, string>();
const noisyRuns: string[] = [];
const tables: string[] = [];

async function measure(s: Scenario, r: PinnedServer, seconds: number, label: string): Promise<Sample> {
  const client = new Client({ ...s.client, port: r.port, prime: PRIME_SECONDS });
  const ready = await client.read<{ ready: boolean; note: string }>(60_000, `${r.name}: the client's checks and handshakes`);
  if (!notes.has(s.title)) {
    notes.set(s.title, ready.note);
    console.error(`  client: ${ready.note}`);
  }
  const before = userSystemSeconds(r.pid);
  const coresBefore = coreTimes();
  const procsBefore = processTimes();
  const t0 = performance.now();
  await client.say(`go ${seconds}`);
  const res = await client.read<ClientResult>(seconds * 1000 + 30_000, `${r.name}: the client's count`);
  const after = userSystemSeconds(r.pid);
  const system = after.system - before.system;
  const cpu = after.user - before.user + system;
  const wall = (performance.now() - t0) / 1000;
  const coresAfter = coreTimes();
  await client.quit();
  if (isDead(r.proc)) throw new Error(`${r.name} DIED during the ${s.title} ${label} run (exit ${r.proc.exitCode ?? r.proc.signalCode}):\n${logTail(r.log)}`);
  if (res.frames === 0) throw new Error(`${r.name}, ${label}: ZERO frames received in ${res.seconds.toFixed(1)} s`);
  const foreign = foreignLoad(coresBefore, coresAfter, { core: SERVER_CORE, cpu }, { core: CLIENT_CORE, cpu: res.cpu }, wall);
  const noisy = foreign.server > NOISE_LIMIT || foreign.client > NOISE_LIMIT;
  let noise = `other load: core ${SERVER_CORE} ${(foreign.server * 100).toFixed(0)}%, core ${CLIENT_CORE} ${(foreign.client * 100).toFixed(0)}%`;
  if (noisy) noise += ` — busiest: ${topOthers(procsBefore, processTimes(), [r.pid, client.proc.pid])}`;
  if (noisy) noisyRuns.push(`[${s.title}] ${r.name}, ${label}: ${noise}`);
  const x: Sample = {
    rate: res.frames / res.seconds,
    published: res.messages / res.seconds,
    frames: res.frames,
    cpuUsPerFrame: (cpu * 1e6) / res.frames,
    systemUsPerFrame: (system * 1e6) / res.frames,
    serverShare: cpu / wall,
    clientShare: res.cpu / res.seconds,
    framesPerRead: res.frames / Math.max(1, res.reads),
    noisy,
    foreign: Math.max(foreign.server, foreign.client),
  };
  console.error(
    `    ${label.padEnd(16)} ${r.name.padEnd(14)} ${fmtRate(x.rate).padStart(8)} ${s.unit}/s  ${x.cpuUsPerFrame.toFixed(3).padStart(7)} µs CPU each ` +
      `(${(x.cpuUsPerFrame - x.systemUsPerFrame).toFixed(3)} user, ${x.systemUsPerFrame.toFixed(3)} kernel)  ` +
      `server CPU ${pct(x.serverShare)}, client ${pct(x.clientShare)}, ${x.framesPerRead.toFixed(1)} frames per client read` +
      (s.unit === "deliveries" ? `, ${fmtRate(x.published)} published/s` : "") +
      (noisy ? `  NOISY (${noise})` : ""),
  );
  return x;
}

const pct = (x: number) => `${(x * 100).toFixed(0)}%`;

async function runScenario(s: Scenario, servers: PinnedServer[], opts: Options): Promise<void> {
  console.error(`\n## ${s.title}`);
  const samples = await alternateRounds(servers, opts, (r, label, seconds) => measure(s, r, seconds, label));
  const med = samples.map((xs) => ({
    rate: median(xs.map((x) => x.rate)),
    cpu: median(xs.map((x) => x.cpuUsPerFrame)),
    server: median(xs.map((x) => x.serverShare)),
    client: median(xs.map((x) => x.clientShare)),
    perRead: median(xs.map((x) => x.framesPerRead)),
  }));
  const ref = Math.max(0, servers.findIndex((r) => r.name === "ours"));
  const ours = med[ref]!;
  const unit = s.unit === "msgs" ? "message" : "delivery";
  const rows = [
    `### ${s.title}`,
    "",
    `| server | ${s.unit}/s (median) | µs server CPU/${unit} | server CPU | client CPU | frames per client read | ${servers[ref]!.name} ÷ this, rate | ${servers[ref]!.name} ÷ this, CPU/${unit} | runs (${s.unit}/s) |`,
    `|---|---:|---:|---:|---:|---:|---:|---:|---|`,
    ...servers.map((r, i) => {
      const m = med[i]!;
      const runs = samples[i]!.map((x) => fmtRate(x.rate) + (x.noisy ? "*" : "")).join(" ");
      return (
        `| ${r.name} | ${Math.round(m.rate).toLocaleString("en-US")} | ${m.cpu.toFixed(3)} | ${pct(m.server)} | ${pct(m.client)} | ` +
        `${m.perRead.toFixed(1)} | ${(ours.rate / m.rate).toFixed(2)} | ${(ours.cpu / m.cpu).toFixed(2)} | ${runs} |`
      );
    }),
    "",
    `(${notes.get(s.title)})`,
    "",
  ];
  const table = rows.join("\n");
  tables.push(table);
  console.log(`\n${table}`);
}

// ---- main --------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  checkClockTick();
  if (Bun.which("taskset") === null) throw new Error("taskset is not installed (util-linux)");
  mkdirSync(OUT, { recursive: true });
  const intro =
    `${opts.scenarios.join(" + ")}; ${opts.rounds} round(s) of ${opts.duration} s, warm-up ${opts.warmup} s; ` +
    `servers on core ${SERVER_CORE}, bench/ws-client.ts on core ${CLIENT_CORE}; Bun ${Bun.version}`;
  console.error(`bench/ws.ts: ${intro}`);

  const servers: PinnedServer[] = [];
  for (const [i, kind] of opts.servers.entries()) {
    // Twice the same kind (bun,bun: the harness's own noise): numbered.
    const nth = opts.servers.slice(0, i + 1).filter((k) => k === kind).length;
    const twice = opts.servers.filter((k) => k === kind).length > 1;
    const name = (kind === "ours" ? "ours" : "Bun.serve") + (twice ? ` #${nth}` : "");
    const log = join(OUT, `ws-${kind}${twice ? `-${nth}` : ""}.log`);
    servers.push(await startPinned(name, SERVER_CORE, log, (port) => ({ cmd: [process.execPath, APP, kind, "--port", `${port}`], comm: BUN_COMM })));
  }
  const all = scenarios(opts);
  for (const key of opts.scenarios) await runScenario(all[key], servers, opts);

  const report = [
    `# bench/ws.ts — ${new Date().toISOString()}`,
    "",
    `${intro}; medians. "ours ÷ this, rate" > 1 means ours is faster; "ours ÷ this, CPU" < 1 means ours spends less server CPU per message.`,
    "",
    ...tables,
    ...noisyRunsSection(noisyRuns),
  ].join("\n");
  writeFileSync(join(OUT, "ws-latest.md"), report);
  printNoisyRuns(noisyRuns);
  console.error(`\n(report saved to ${join(OUT, "ws-latest.md")}; server logs in ${OUT}/)`);
}

await runMain("bench/ws.ts", main);
