#!/usr/bin/env bun
// Upload throughput: one large request body (1 GiB by default) into our server and into Bun.serve,
// both running the same handler (`for await (const chunk of req.body) n += chunk.length`).
//
//   bun run bench/upload.ts [--rounds N] [--size MiB] [--block KiB] [--client bun|curl]
//                           [--cases cl,chunked,routes] [--body-buffer BYTES,…] [--warmup MiB] [--retries N]
//   bun run bench/upload.ts --inproc [--rounds N] [--size MiB] [--body-buffer BYTES,…] [--fresh]
//
// Method:
// - each server is its own child process (bench/servers/upload.ts), pinned to core 1; each upload is
//   a fresh client process pinned to core 0: our raw Bun.connect client (blocks of --block KiB, each
//   write waiting for `drain` when the kernel took less; chunked: one chunk per block), or
//   `curl -T` of a temp file (--client curl). Measured on a 2-core VM: curl used all of its core
//   (and all servers, the sink too, stopped at ~2000 MiB/s); the Bun.connect client reached ~3500 MiB/s
//   at 256 KiB writes, near its core's limit too (see the client CPU column), and more with --block 4096;
// - the client checks the answer: status 200 and the body length as the body;
// - one warm-up upload per server (--warmup MiB, not counted), then rounds alternate between the
//   servers of a case (A B C A B C …); the table gives medians;
// - server CPU per GiB: utime+stime from /proc/<pid>/stat before and after each upload;
// - peak RSS growth: the kernel's peak RSS (VmHWM) is reset before each upload (clear_refs 5); the
//   table gives VmHWM after it minus VmRSS before it, the largest of the rounds;
// - who is the limit: the client's CPU share (its rusage over the upload) and how busy each core was
//   (/proc/stat, kernel work included: the loopback's receive path runs on the sender's core). The
//   `sink` row, a bare Bun.listen counting bytes, is what client and kernel manage without HTTP;
// - --body-buffer adds rows of ours with that bodyBufferSize beside our default;
// - the machine may be shared: an upload during which other processes (or the VM's host: steal)
//   took more than 5% of a core is marked * and repeated up to --retries times, keeping the quietest.
// The report is also written to bench/.out/upload-latest.md.
//
// --inproc: our user-space body path alone, steadier than the above on a shared machine (the tool for
// before/after comparisons of a change). Our socket handlers are driven with a fake socket that
// honours pause()/resume(), the body arriving as 512 KiB reads (Bun's largest), the same few buffers
// again unless --fresh (a new one per read, as Bun gives: adds the allocation and copy that every
// Bun.listen server pays). Prints CPU ms per GiB (median and best of the rounds), pieces the handler
// read and socket pauses per MiB. The harness itself costs ~2.5 ms/GiB (a setImmediate per read).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Socket } from "bun";
import { runMain, tempDirForRun, track } from "./lib/children.ts";
import { parseCommandLine } from "./lib/options.ts";
import { NOISE_LIMIT, quietest } from "./lib/noise.ts";
import { BUN_COMM, isDead, startPinned, type PinnedServer } from "./lib/pinned-server.ts";
import { checkClockTick, CLK_TCK, cpuSeconds, processTimes } from "./lib/proc-stat.ts";
import { ResponseReader } from "./lib/raw-http.ts";
import { median } from "./lib/stats.ts";

const OUT = join(import.meta.dir, ".out");
const SERVER_CORE = "1";
const CLIENT_CORE = "0";
const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

// ---- the client: bun bench/upload.ts --client PORT PATH SIZE BLOCK chunked|cl ---------------------

if (process.argv[2] === "--client") {
  const [port, path, size, block, framing] = process.argv.slice(3);
  console.log(JSON.stringify(await upload(Number(port), path!, Number(size), Number(block), framing === "chunked")));
  process.exit(0);
}

interface Answer {
  ms: number;
  status: string;
  body: string;
}

/** One upload over one connection; resolves with the wall time once the whole answer is in. */
function upload(port: number, path: string, size: number, blockSize: number, chunked: boolean): Promise<Answer> {
  const block = new Uint8Array(blockSize);
  for (let i = 0; i < blockSize; i++) block[i] = (i * 2654435761) >>> 24;
  const frameOf = (data: Uint8Array) => Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from("\r\n")]);
  // A chunked body goes as one chunk per block ("40000\r\n" data "\r\n"), one write each.
  const full = chunked ? frameOf(block) : block;
  const framing = chunked ? "Transfer-Encoding: chunked" : `Content-Length: ${size}`;
  const head = Buffer.from(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/octet-stream\r\n${framing}\r\n\r\n`);
  let left = size; // body bytes not yet queued
  let last = false;
  const next = (): Uint8Array | null => {
    if (left >= blockSize) {
      left -= blockSize;
      return full;
    }
    if (left > 0) {
      const tail = block.subarray(0, left);
      left = 0;
      return chunked ? frameOf(tail) : tail;
    }
    if (chunked && !last) {
      last = true;
      return Buffer.from("0\r\n\r\n");
    }
    return null;
  };
  return new Promise((done, fail) => {
    const t0 = performance.now();
    let current: Uint8Array = head; // being written, from `offset`
    let offset = 0;
    const reader = new ResponseReader();
    // write() takes what the kernel accepts and drops the rest: keep the tail, go on at `drain`.
    const pump = (s: Socket) => {
      for (;;) {
        if (offset === current.length) {
          const n = next();
          if (n === null) return;
          current = n;
          offset = 0;
        }
        const wrote = s.write(current, offset, current.length - offset);
        if (wrote < 0) return fail(new Error("socket closed while writing"));
        offset += wrote;
        if (offset < current.length) return;
      }
    };
    Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        binaryType: "buffer",
        open: pump,
        drain: pump,
        data(s, chunk) {
          // An interim 100 Continue is skipped; the answer is the first final response.
          const res = reader.feed(chunk).find((r) => !r.statusLine.startsWith("HTTP/1.1 1"));
          if (res === undefined) return;
          done({ ms: performance.now() - t0, status: res.statusLine, body: res.body.toString("latin1") });
          s.end();
        },
        close() {
          fail(new Error(`connection closed before the answer (${size - left} body bytes queued)`));
        },
        error(_s, e) {
          fail(e);
        },
      },
    }).catch(fail);
  });
}

// ---- command line ------------------------------------------------------------------------------

function commandLine() {
  return {
    script: "bench/upload.ts",
    options: {
      rounds: { kind: "whole", default: 5, min: 1, help: "uploads per server and case (9 with --inproc)" },
      size: { kind: "whole", default: 1024, min: 1, value: "MiB", help: "MiB per upload" },
      block: { kind: "whole", default: 256, min: 1, value: "KiB", help: "KiB per client write" },
      warmup: { kind: "whole", default: 256, min: 1, value: "MiB", help: "MiB of the untimed warm-up upload per server" },
      client: { kind: "text", default: "bun", choices: ["bun", "curl"], help: "our Bun.connect client, or curl -T of a temp file" },
      cases: { kind: "list", default: CASES.map((k) => k.key), choices: CASES.map((k) => k.key), help: "which cases" },
      bodyBuffer: { kind: "wholes", default: [], min: 1, value: "BYTES,…", help: "rows of ours with these bodyBufferSize values beside the default" },
      retries: { kind: "whole", default: 2, help: "re-runs of an upload disturbed by other processes" },
      inproc: { kind: "flag", help: "our handlers in this process, fed 512 KiB reads by a fake socket" },
      fresh: { kind: "flag", help: "--inproc: a new buffer per read, as Bun gives" },
    },
  } as const;
}

function parseOptions(argv: string[]) {
  const { values: o, given } = parseCommandLine(commandLine(), argv);
  return {
    ...o,
    rounds: given.has("rounds") ? o.rounds : o.inproc ? 9 : 5,
    size: o.size * MiB,
    block: o.block * KiB,
    warmup: o.warmup * MiB,
    client: o.client as "bun" | "curl",
    bodyBuffers: o.bodyBuffer,
  };
}
type Options = ReturnType<typeof parseOptions>;

let tempDir = "";

// ---- servers -----------------------------------------------------------------------------------

interface ServerSpec {
  name: string;
  kind: string;
  args: string[];
}

type Server = ServerSpec & PinnedServer;

async function startServer(spec: ServerSpec): Promise<Server> {
  const script = join(import.meta.dir, "servers", "upload.ts");
  const log = join(OUT, `upload-${[spec.kind, ...spec.args].join("-")}.log`);
  const cmd = (port: number) => ({ cmd: [process.execPath, script, "--kind", spec.kind, "--port", `${port}`, ...spec.args], comm: BUN_COMM });
  return { ...spec, ...(await startPinned(spec.name, SERVER_CORE, log, cmd)) };
}

// ---- /proc -------------------------------------------------------------------------------------

function statusKiB(pid: number, field: "VmRSS" | "VmHWM"): number {
  return Number(new RegExp(`${field}:\\s*(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]);
}

/** Per core (client's, server's): busy (all but idle and iowait: softirq work counts) and total jiffies; and the machine's steal. */
function coreTimes(): { cores: { busy: number; total: number }[]; steal: number } {
  const lines = readFileSync("/proc/stat", "utf8").split("\n");
  const fields = (prefix: string) => lines.find((l) => l.startsWith(prefix))!.trim().split(/\s+/).slice(1).map(Number);
  const cores = [CLIENT_CORE, SERVER_CORE].map((c) => {
    const f = fields(`cpu${c} `);
    const total = f.reduce((a, b) => a + b, 0);
    return { busy: total - f[3]! - f[4]!, total };
  });
  return { cores, steal: fields("cpu ")[7]! / CLK_TCK };
}

/**
 * CPU that processes other than the server and the client took during an upload, plus steal, as a
 * share of one core, and who took most. Processes that started and ended within it are not seen.
 */
function foreignLoad(before: Map<number, { comm: string; cpu: number }>, after: Map<number, { comm: string; cpu: number }>, steal: number, exclude: number[], wall: number) {
  let cpu = steal;
  const who: [string, number][] = steal >= 0.02 ? [["steal", steal]] : [];
  for (const [pid, a] of after) {
    if (exclude.includes(pid)) continue;
    const d = a.cpu - (before.get(pid)?.cpu ?? 0);
    cpu += d;
    if (d >= 0.02) who.push([`${a.comm}[${pid}]`, d]);
  }
  who.sort((x, y) => y[1] - x[1]);
  return { share: cpu / wall, who: who.slice(0, 3).map(([n, d]) => `${n} ${d.toFixed(2)} s`).join(", ") };
}

// ---- one upload --------------------------------------------------------------------------------

interface Sample {
  mibs: number;
  cpuPerGiB: number;
  rssGrowthMiB: number;
  clientShare: number;
  serverShare: number;
  /** How busy each core was, kernel work included: [client's, server's]. */
  cores: [number, number];
  foreign: number;
}

async function runClient(server: Server, size: number, chunked: boolean, opts: Options): Promise<{ ms: number; clientCpu: number; clientPid: number }> {
  const path = "/upload";
  let cmd: string[];
  if (opts.client === "curl") {
    cmd = ["curl", "-sS", "-X", "POST", "-T", join(tempDir, `body-${size}`), "-H", "Expect:", "-H", "Content-Type: application/octet-stream"];
    if (chunked) cmd.push("-H", "Transfer-Encoding: chunked");
    cmd.push("-w", "\\n%{http_code}", `http://127.0.0.1:${server.port}${path}`);
  } else {
    cmd = [process.execPath, import.meta.path, "--client", `${server.port}`, path, `${size}`, `${opts.block}`, chunked ? "chunked" : "cl"];
  }
  const t0 = performance.now();
  const proc = Bun.spawn(["taskset", "-c", CLIENT_CORE, ...cmd], { stdout: "pipe", stderr: "pipe" });
  track(proc);
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  const wall = performance.now() - t0;
  if (code !== 0) throw new Error(`${server.name}: client failed (${code}): ${err}${out}`);
  const usage = proc.resourceUsage()!;
  const clientCpu = (Number(usage.cpuTime.user) + Number(usage.cpuTime.system)) / 1e6;
  let answer: Answer;
  if (opts.client === "curl") {
    const [body = "", status = ""] = out.split("\n");
    answer = { ms: wall, status, body }; // wall includes curl's start-up: a few ms
  } else {
    answer = JSON.parse(out) as Answer;
  }
  if (!(answer.status === "200" || answer.status.startsWith("HTTP/1.1 200")) || answer.body !== String(size)) {
    throw new Error(`${server.name}: wrong answer: ${answer.status} ${JSON.stringify(answer.body.slice(0, 200))} (want ${size})`);
  }
  return { ms: answer.ms, clientCpu, clientPid: proc.pid };
}

const pct = (x: number) => `${(x * 100).toFixed(0)}%`;

async function measure(server: Server, size: number, chunked: boolean, opts: Options, label: string): Promise<Sample> {
  writeFileSync(`/proc/${server.pid}/clear_refs`, "5"); // VmHWM := VmRSS
  const rssBefore = statusKiB(server.pid, "VmRSS");
  const cpuBefore = cpuSeconds(server.pid);
  const procsBefore = processTimes(true);
  const coresBefore = coreTimes();
  const { ms, clientCpu, clientPid } = await runClient(server, size, chunked, opts);
  const coresAfter = coreTimes();
  const cpu = cpuSeconds(server.pid) - cpuBefore;
  const hwm = statusKiB(server.pid, "VmHWM");
  if (isDead(server.proc)) throw new Error(`${server.name} died during the upload`);
  const foreign = foreignLoad(procsBefore, processTimes(true), coresAfter.steal - coresBefore.steal, [server.pid, clientPid, process.pid], ms / 1000);
  const busy = (i: number) => (coresAfter.cores[i]!.busy - coresBefore.cores[i]!.busy) / Math.max(1, coresAfter.cores[i]!.total - coresBefore.cores[i]!.total);
  const s: Sample = {
    mibs: size / MiB / (ms / 1000),
    cpuPerGiB: (cpu * GiB) / size,
    rssGrowthMiB: (hwm - rssBefore) / 1024,
    clientShare: clientCpu / (ms / 1000),
    serverShare: cpu / (ms / 1000),
    cores: [busy(0), busy(1)],
    foreign: foreign.share,
  };
  console.error(
    `    ${label.padEnd(16)} ${server.name.padEnd(34)} ${s.mibs.toFixed(0).padStart(6)} MiB/s  ${s.cpuPerGiB.toFixed(2)} s CPU/GiB  ` +
      `RSS +${s.rssGrowthMiB.toFixed(1)} MiB  server ${pct(s.serverShare)}  client ${pct(s.clientShare)}  cores ${pct(s.cores[0])} ${pct(s.cores[1])}` +
      (s.foreign > NOISE_LIMIT ? `  NOISY (other load ${pct(s.foreign)}: ${foreign.who || "short-lived processes"})` : ""),
  );
  return s;
}

// ---- cases -------------------------------------------------------------------------------------

interface Case {
  key: string;
  title: string;
  chunked: boolean;
  /** The first is ours: the ratio column divides by the others. */
  servers: [name: string, kind: string][];
}

const CASES: Case[] = [
  {
    key: "cl",
    title: "Content-Length, fetch handler",
    chunked: false,
    servers: [
      ["ours, fetch", "ours-fetch"],
      ["Bun.serve, fetch", "bun-fetch"],
      ["sink (bare Bun.listen)", "sink"],
    ],
  },
  {
    key: "chunked",
    title: "chunked (one chunk per client block), fetch handler",
    chunked: true,
    servers: [
      ["ours, fetch", "ours-fetch"],
      ["Bun.serve, fetch", "bun-fetch"],
    ],
  },
  {
    key: "routes",
    title: "Content-Length, routes handler (ours: the light request's req.body)",
    chunked: false,
    servers: [
      ["ours, routes", "ours-routes"],
      ["Bun.serve, routes", "bun-routes"],
    ],
  },
];

function specsOf(c: Case, opts: Options): ServerSpec[] {
  const out: ServerSpec[] = [];
  for (const [name, kind] of c.servers) {
    out.push({ name, kind, args: [] });
    if (kind.startsWith("ours")) {
      for (const b of opts.bodyBuffers) out.push({ name: `${name}, bodyBufferSize ${b >= KiB ? `${b / KiB} KiB` : b}`, kind, args: ["--body-buffer", `${b}`] });
    }
  }
  return out;
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  if (opts.inproc) return inproc(opts);
  checkClockTick();
  for (const tool of ["taskset", ...(opts.client === "curl" ? ["curl"] : [])]) if (Bun.which(tool) === null) throw new Error(`${tool} is not installed`);
  mkdirSync(OUT, { recursive: true });
  tempDir = tempDirForRun("bench-upload-");
  if (opts.client === "curl") {
    const block = new Uint8Array(opts.block).map((_, i) => i);
    for (const size of new Set([opts.size, opts.warmup])) {
      const file = Bun.file(join(tempDir, `body-${size}`)).writer();
      for (let n = 0; n < size; n += block.length) file.write(block.subarray(0, Math.min(block.length, size - n)));
      await file.end();
    }
  }
  const client = opts.client === "curl" ? "curl -T (a temp file)" : `Bun.connect client, ${opts.block / KiB} KiB writes`;
  const intro =
    `${opts.size / MiB} MiB per upload, ${opts.rounds} round(s), medians; ${client} on core ${CLIENT_CORE}, ` +
    `each server on core ${SERVER_CORE}; Bun ${Bun.version}; "ours ÷ this" > 1 means ours is faster.`;
  console.error(`bench/upload.ts: ${intro}`);
  const servers = new Map<string, Server>();
  const tables: string[] = [];
  for (const c of CASES.filter((k) => opts.cases.includes(k.key))) {
    console.error(`\n## ${c.title}`);
    const list: Server[] = [];
    for (const spec of specsOf(c, opts)) {
      const key = [spec.kind, ...spec.args].join(" ");
      let s = servers.get(key);
      if (s === undefined) servers.set(key, (s = await startServer(spec)));
      list.push({ ...s, name: spec.name });
    }
    for (const s of list) await measure(s, opts.warmup, c.chunked, opts, "warm-up");
    const samples: Sample[][] = list.map(() => []);
    for (let round = 1; round <= opts.rounds; round++) {
      for (const [i, s] of list.entries()) {
        // Another process took CPU from the server or the client: try again after a pause, keep the quietest.
        const sample = await quietest((retry) => measure(s, opts.size, c.chunked, opts, `round ${round}${retry ? ` retry ${retry}` : ""}`), opts.retries, 1000);
        samples[i]!.push(sample);
      }
    }
    const ours = median(samples[0]!.map((x) => x.mibs));
    const med = (xs: Sample[], f: (x: Sample) => number) => median(xs.map(f));
    const table = [
      `### ${c.title}`,
      "",
      "| server | MiB/s (median) | ours ÷ this | server CPU s/GiB | peak RSS growth (max) | server CPU | client CPU | cores busy (client, server) | runs (MiB/s) |",
      "|---|---:|---:|---:|---:|---:|---:|---:|---|",
      ...list.map((s, i) => {
        const xs = samples[i]!;
        const mibs = med(xs, (x) => x.mibs);
        return (
          `| ${s.name} | ${mibs.toFixed(0)} | ${(ours / mibs).toFixed(2)} | ${med(xs, (x) => x.cpuPerGiB).toFixed(2)} | ` +
          `${Math.max(...xs.map((x) => x.rssGrowthMiB)).toFixed(1)} MiB | ${pct(med(xs, (x) => x.serverShare))} | ${pct(med(xs, (x) => x.clientShare))} | ` +
          `${pct(med(xs, (x) => x.cores[0]))}, ${pct(med(xs, (x) => x.cores[1]))} | ${xs.map((x) => x.mibs.toFixed(0) + (x.foreign > NOISE_LIMIT ? "*" : "")).join(" ")} |`
        );
      }),
      "",
    ].join("\n");
    tables.push(table);
    console.log(`\n${table}`);
  }
  const report = [`# bench/upload.ts — ${new Date().toISOString()}`, "", intro, "(*: an upload during which other processes took > 5% of a core)", "", ...tables].join("\n");
  writeFileSync(join(OUT, "upload-latest.md"), report);
  console.error(`\n(report saved to ${join(OUT, "upload-latest.md")})`);
}

// ---- --inproc ----------------------------------------------------------------------------------

type Handlers = { open(s: unknown): void; data(s: unknown, chunk: Uint8Array): void; close(s: unknown): void };

async function inproc(opts: Options): Promise<void> {
  const { serve } = await import("../src/index.ts");
  const READ = 512 * KiB;
  const count = async (body: ReadableStream<Uint8Array> | null, tally: { pieces: number }) => {
    let n = 0;
    if (body !== null) {
      for await (const chunk of body) {
        n += chunk.length;
        tally.pieces++;
      }
    }
    return String(n);
  };
  // The wire bytes of one upload, as reads: Content-Length or chunked (256 KiB chunks).
  const wire = (chunked: boolean): Uint8Array[] => {
    const head = new TextEncoder().encode(
      `POST /upload HTTP/1.1\r\nHost: x\r\n${chunked ? "Transfer-Encoding: chunked" : `Content-Length: ${opts.size}`}\r\n\r\n`,
    );
    const reads: Uint8Array[] = [head];
    if (!chunked) {
      const buffers = [0, 1, 2, 3].map(() => new Uint8Array(READ));
      for (let at = 0, i = 0; at < opts.size; at += READ, i++) reads.push(buffers[i & 3]!.subarray(0, Math.min(READ, opts.size - at)));
      return reads;
    }
    const data = 256 * KiB;
    const frame = Buffer.concat([Buffer.from(`${data.toString(16)}\r\n`), new Uint8Array(data), Buffer.from("\r\n")]);
    const all = new Uint8Array(Math.ceil(opts.size / data) * frame.length + 5);
    for (let at = 0; at + frame.length <= all.length - 5; at += frame.length) all.set(frame, at);
    all.set(Buffer.from("0\r\n\r\n"), all.length - 5);
    for (let at = 0; at < all.length; at += READ) reads.push(all.subarray(at, Math.min(all.length, at + READ)));
    return reads;
  };
  const rows: string[] = [];
  const variants: [string, number | undefined][] = [["default", undefined], ...opts.bodyBuffers.map((b): [string, number] => [`${b / KiB} KiB`, b])];
  for (const c of CASES.filter((k) => opts.cases.includes(k.key))) {
    const reads = wire(c.chunked);
    for (const [label, bodyBufferSize] of variants) {
      const tally = { pieces: 0 };
      const listen = Bun.listen;
      let handlers: Handlers | undefined;
      (Bun as { listen: unknown }).listen = (o: { socket: Handlers }) => {
        handlers = o.socket;
        return listen(o as Parameters<typeof listen>[0]);
      };
      const server = (() => {
        try {
          return serve({
            port: 0,
            hostname: "127.0.0.1",
            log: "off",
            maxBody: 2 ** 40,
            ...(bodyBufferSize !== undefined ? { bodyBufferSize } : {}),
            ...(c.key === "routes"
              ? { routes: { "/upload": { POST: (req) => count(req.body, tally) } } }
              : { fetch: async (req: Request) => new Response(await count(req.body, tally)) }),
          });
        } finally {
          (Bun as { listen: unknown }).listen = listen;
        }
      })();
      let pauses = 0;
      const once = async (): Promise<number> => {
        let paused = false;
        let wake: (() => void) | null = null;
        let answered = false;
        const reader = new ResponseReader();
        const socket = {
          data: undefined as unknown,
          remoteAddress: "127.0.0.1",
          remotePort: 40000,
          write(buf: Uint8Array, off = 0, len = buf.length - off) {
            const res = reader.feed(buf.subarray(off, off + len))[0];
            if (res !== undefined && res.body.toString("latin1") === `${opts.size}`) answered = true;
            return len;
          },
          pause() {
            paused = true;
            pauses++;
          },
          resume() {
            paused = false;
            wake?.();
          },
          end() {},
          shutdown() {},
          flush() {},
          timeout() {},
          terminate() {},
        };
        const c0 = process.cpuUsage();
        handlers!.open(socket);
        for (const read of reads) {
          while (paused) await new Promise<void>((r) => (wake = r));
          handlers!.data(socket, opts.fresh ? read.slice() : read);
          await new Promise((r) => setImmediate(r)); // the handler's microtasks all run, as after each Bun callback
        }
        while (!answered) await Bun.sleep(0);
        const u = process.cpuUsage(c0);
        handlers!.close(socket);
        return ((u.user + u.system) / 1000) * (GiB / opts.size);
      };
      await once(); // warm-up
      const ms: number[] = [];
      tally.pieces = 0;
      pauses = 0;
      for (let r = 0; r < opts.rounds; r++) ms.push(await once());
      await server.stop(true);
      const mib = (opts.size / MiB) * opts.rounds;
      rows.push(
        `| ${c.title} | ${label} | ${median(ms).toFixed(1)} | ${Math.min(...ms).toFixed(1)} | ${(tally.pieces / mib).toFixed(1)} | ${(pauses / mib).toFixed(2)} |`,
      );
      console.error(`  ${rows.at(-1)}`);
    }
  }
  console.log(
    `\n${opts.size / MiB} MiB per upload, ${opts.rounds} rounds, 512 KiB reads${opts.fresh ? ", a fresh buffer each" : " (the same buffers again)"}; Bun ${Bun.version}\n\n` +
      `| case | bodyBufferSize | CPU ms/GiB (median) | best | pieces read per MiB | pauses per MiB |\n|---|---|---:|---:|---:|---:|\n${rows.join("\n")}`,
  );
}

await runMain("bench/upload.ts", main);
