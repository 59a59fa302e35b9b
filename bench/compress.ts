#!/usr/bin/env bun
// Compression under load (issue 13): a 100 KiB JavaScript file asked for with `Accept-Encoding: gzip`
// from ours (compressed once, in memory), nginx `gzip on` (compressed anew at level 6 for every
// response) and nginx `gzip_static` (a `gzip -9` copy on disk); and ours with `br`.
//
//   bun run bench/compress.ts [--rounds N] [--duration S] [--quick] [--warmup S] [--retries N]
//   default: 3 rounds of 5 s (--quick: 1 round of 3 s), 2 s warm-up per contestant (the first second
//   of load is ours' JIT compiling on the same core), 2 retries of a noisy run
//
// Method:
// - app.js (~100 KiB) is built at every run from real JavaScript in node_modules (hono's dist files,
//   then typescript's astnav.js and scanner.js, each after a `// path` line, as a bundler writes them;
//   cut at the last line end before 100 KiB) into a temp dir: plain/app.js for ours and nginx gzip on, and static/app.js
//   with static/app.js.gz (`gzip -9 -n`) for gzip_static. Ours never sees the .gz: it would serve
//   that sibling instead of compressing;
// - every server runs pinned to core 1 (`taskset -c 1`), wrk pinned to core 0 (`taskset -c 0 wrk -t1
//   -c64`), on 127.0.0.1; nginx: one process (master off), access_log off, open_file_cache,
//   gzip_vary on, with sendfile off and on (both timed; the better one is compared with);
// - ours is bench/servers/ours-static.ts (serve({ root }), compression at its defaults). Before
//   anything is timed or counted it is warmed: br, zstd and gzip are asked for until each ETag is
//   strong (not W/), i.e. the best-level bytes have replaced the first, fast-level ones;
// - correctness before timing: for each server and coding, one raw exchange; the body is decoded
//   (node:zlib) and compared byte for byte with the file; Content-Encoding, Vary: Accept-Encoding
//   and Content-Length are checked (nginx gzip on streams its output chunked: noted, not an error);
// - rounds alternate between the contestants (A B C A B C …); medians of req/s and of the server's
//   CPU time per request (utime+stime of the server process, all threads, from /proc/<pid>/stat,
//   over the requests wrk reported). "B/response" is wrk's bytes read over its requests: it must
//   match the checked response, or the run is flagged (a server that sent identity, say);
// - other processes' CPU on the two cores is watched: above 5% a run is marked * and repeated; after
//   each run the server is left to finish the requests in flight (its CPU time stops growing).
//
// - beside them, the ceiling: bench/servers/ceiling.ts (Bun.listen, no HTTP parsing) sending ours'
//   gzip bytes from memory, so the distance from ours to it is what our code costs per response;
//
// Prints a throughput table, the ratios, and the bytes each response takes (head and body; ours in
// gzip, br and zstd). The report is saved to bench/.out/compress-latest.md, logs and nginx configs
// beside it; the temp dir and every child process are removed at the end.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import zlib from "node:zlib";
import { REPO, runMain, tempDirForRun } from "./lib/children.ts";
import { applyQuick, parseCommandLine, timingOptions } from "./lib/options.ts";
import { noisyRunsSection, printNoisyRuns } from "./lib/noise.ts";
import { pinnedRun, printRun, type RunLog, type RunSample } from "./lib/pinned-run.ts";
import { BUN_COMM, isDead, logTail, startPinned, type PinnedServer } from "./lib/pinned-server.ts";
import { checkClockTick, cpuSeconds } from "./lib/proc-stat.ts";
import { alternateRounds } from "./lib/rounds.ts";
import { describeDiff, rawExchange, type RawResponse } from "./lib/raw-http.ts";
import { fmtRate, median } from "./lib/stats.ts";
import { nginxConfig } from "./nginx.ts";

const BENCH_DIR = import.meta.dir;
const OUT = join(BENCH_DIR, ".out");
const NGINX = "/usr/sbin/nginx";
const SERVER_CORE = "1";
const WRK_CORE = "0";
const CONNECTIONS = 64;
const FILE_SIZE = 100 * 1024;
const PATH = "/app.js";
/** Whole files, in this order, until FILE_SIZE is reached (paths under node_modules/). */
const SOURCES = [
  "hono/dist/hono-base.js",
  "hono/dist/context.js",
  "hono/dist/request.js",
  "hono/dist/compose.js",
  "hono/dist/router/reg-exp-router/router.js",
  "hono/dist/router/reg-exp-router/node.js",
  "hono/dist/router/reg-exp-router/trie.js",
  "hono/dist/router/trie-router/node.js",
  "hono/dist/utils/url.js",
  "hono/dist/utils/cookie.js",
  "hono/dist/utils/body.js",
  "hono/dist/jsx/base.js",
  "hono/dist/jsx/dom/render.js",
  "hono/dist/jsx/hooks/index.js",
  "typescript/dist/ast/astnav.js",
  "typescript/dist/ast/scanner.js",
];
const JS_TYPES = ["application/javascript", "text/javascript"];

// ---- command line ------------------------------------------------------------------------------

const COMMAND_LINE = {
  script: "bench/compress.ts",
  options: timingOptions({ rounds: 3, duration: 5, warmup: 2 }),
} as const;

function parseOptions(argv: string[]) {
  const p = parseCommandLine(COMMAND_LINE, argv);
  applyQuick(p);
  return p.values;
}

let tempDir = "";

// ---- the file ----------------------------------------------------------------------------------

/** app.js: real JavaScript, files each after a `// path` line, cut at the last line end before FILE_SIZE. */
function buildScript(): Buffer {
  const parts: Buffer[] = [];
  let total = 0;
  for (const rel of SOURCES) {
    let text: Buffer;
    try {
      text = readFileSync(join(REPO, "node_modules", rel));
    } catch {
      continue; // another version of the package: the others fill up
    }
    const part = Buffer.concat([Buffer.from(`// node_modules/${rel}\n`), text, Buffer.from("\n")]);
    parts.push(part);
    total += part.length;
    if (total >= FILE_SIZE) break;
  }
  if (total < FILE_SIZE) throw new Error(`only ${total} bytes of JavaScript in node_modules (${SOURCES.join(", ")}): run bun install`);
  const all = Buffer.concat(parts);
  return all.subarray(0, all.lastIndexOf(0x0a, FILE_SIZE - 1) + 1);
}

function gzip9(path: string): Buffer {
  const r = Bun.spawnSync(["gzip", "-9", "-n", "-c", path]);
  if (r.exitCode !== 0) throw new Error(`gzip -9 ${path} failed: ${r.stderr.toString()}`);
  return r.stdout;
}

// ---- servers -----------------------------------------------------------------------------------

type Coding = "gzip" | "br" | "zstd" | "identity";

interface ServerSpec {
  key: string;
  name: string;
  /** Codings checked (and counted) on this server. */
  codings: Coding[];
  /** Answers with Content-Length (nginx gzip on streams chunked). */
  hasLength: boolean;
  start(port: number): { cmd: string[]; comm: string };
}

function oursServer(root: string): ServerSpec["start"] {
  return (port) => ({
    cmd: [process.execPath, join(BENCH_DIR, "servers", "ours-static.ts"), "--port", `${port}`, "--root", root],
    comm: BUN_COMM,
  });
}

function nginxServer(key: string, root: string, sendfile: boolean, gzip: "on" | "static"): ServerSpec["start"] {
  return (port) => {
    const dir = join(tempDir, key);
    mkdirSync(dir, { recursive: true });
    const errorLog = join(OUT, `compress-${key}.error.log`);
    writeFileSync(errorLog, "");
    const conf = join(OUT, `compress-${key}.conf`);
    writeFileSync(
      conf,
      nginxConfig({
        by: "bench/compress.ts",
        port,
        root,
        tempDir: dir,
        errorLog,
        sendfile,
        types: [["application/javascript", "js"]],
        gzip: gzip === "on" ? { mode: "on", level: 6, types: JS_TYPES } : { mode: "static" },
      }),
    );
    return { cmd: [NGINX, "-p", dir, "-e", errorLog, "-c", conf], comm: "nginx" };
  };
}

// ---- checks ------------------------------------------------------------------------------------

function request(coding: Coding): string {
  return `GET ${PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: bench/compress.ts\r\nAccept: */*\r\nAccept-Encoding: ${coding}\r\n\r\n`;
}

async function get(port: number, coding: Coding): Promise<RawResponse> {
  const [r] = await rawExchange(port, request(coding), 1, false);
  return r!;
}

function decode(coding: Coding, body: Buffer): Buffer {
  if (coding === "gzip") return zlib.gunzipSync(body);
  if (coding === "br") return zlib.brotliDecompressSync(body);
  if (coding === "zstd") return zlib.zstdDecompressSync(body);
  return body;
}

/** The response to `coding`, checked: 200, the coding asked for, Vary, Content-Length, and the decoded bytes. */
async function checkResponse(r: PinnedServer, spec: ServerSpec, coding: Coding, file: Buffer, notes: string[]): Promise<RawResponse> {
  const fail = (what: string): never => {
    throw new Error(`CORRECTNESS CHECK FAILED for ${spec.name}, Accept-Encoding: ${coding}: ${what}`);
  };
  let x: RawResponse;
  try {
    x = await get(r.port, coding);
  } catch (e) {
    return fail((e as Error).message);
  }
  if (!/^HTTP\/1\.1 200 /.test(x.statusLine)) fail(`status line "${x.statusLine}"`);
  const ce = x.headers.get("content-encoding");
  if (coding === "identity" ? ce !== undefined : ce !== coding) fail(`Content-Encoding ${ce ?? "(none)"}`);
  const vary = (x.headers.get("vary") ?? "").split(",").map((s) => s.trim().toLowerCase());
  if (!vary.includes("accept-encoding")) fail(`Vary is "${x.headers.get("vary") ?? "(none)"}", not Accept-Encoding`);
  const cl = x.headers.get("content-length");
  if (spec.hasLength && cl === undefined) fail(`no Content-Length (Transfer-Encoding: ${x.headers.get("transfer-encoding") ?? "none"})`);
  if (!spec.hasLength && cl === undefined) notes.push(`${spec.name}, ${coding}: no Content-Length, Transfer-Encoding: ${x.headers.get("transfer-encoding") ?? "(none)"}`);
  let plain: Buffer;
  try {
    plain = decode(coding, x.body);
  } catch (e) {
    return fail(`body does not decode as ${coding}: ${(e as Error).message}`);
  }
  if (!plain.equals(file)) fail(`decoded body: ${describeDiff(plain, file)}`);
  return x;
}

/**
 * Asks ours for `coding` until its ETag is strong: the best-level bytes have replaced the fast ones.
 * Returns the first response (the fast level's, unless the variant was ready already).
 */
async function warmOurs(r: PinnedServer, coding: Coding): Promise<{ first: RawResponse; ms: number }> {
  const t0 = performance.now();
  const first = await get(r.port, coding);
  for (let x = first; ; x = await get(r.port, coding)) {
    const etag = x.headers.get("etag") ?? "";
    if (x.headers.get("content-encoding") === coding && etag !== "" && !etag.startsWith("W/")) return { first, ms: performance.now() - t0 };
    if (isDead(r.proc)) throw new Error(`ours died while warming ${coding}:\n${logTail(r.log)}`);
    if (performance.now() - t0 > 60_000) {
      throw new Error(`ours: ${coding} still not at its best level after 60 s (ETag ${etag || "(none)"}, Content-Encoding ${x.headers.get("content-encoding") ?? "(none)"})`);
    }
    await Bun.sleep(50); // the build runs in the server: nothing here to await
  }
}

// ---- timing ------------------------------------------------------------------------------------

interface Contestant {
  label: string;
  spec: ServerSpec;
  coding: Coding;
  /** Wire bytes of the checked response: what every response of the run should take. */
  wireBytes: number;
}

interface Sample extends RunSample {
  bytesPerResponse: number;
}

const log: RunLog = { problems: [], noisyRuns: [] };
const { problems, noisyRuns } = log;

async function measure(c: Contestant, r: PinnedServer, seconds: number, label: string): Promise<Sample> {
  const wrk = { url: `http://127.0.0.1:${r.port}${PATH}`, duration: seconds, core: WRK_CORE, connections: CONNECTIONS, headers: [`Accept-Encoding: ${c.coding}`] };
  const { s, w, note } = await pinnedRun(r, SERVER_CORE, wrk, `${c.label}, ${label}`, log);
  const bytesPerResponse = w.requests > 0 ? w.readBytes / w.requests : NaN;
  // wrk prints what it read to 3-4 digits: 3% apart means other responses than the checked one.
  if (Math.abs(bytesPerResponse / c.wireBytes - 1) > 0.03) {
    problems.push(`${c.label}, ${label}: ${bytesPerResponse.toFixed(0)} B read per response, the checked response took ${c.wireBytes} B`);
  }
  await settle(r);
  printRun(label, c.label, 44, s, `${bytesPerResponse.toFixed(0)} B/resp`, note);
  return { ...s, bytesPerResponse };
}

/**
 * Waits until the server's CPU time stops growing: requests in flight when wrk stopped are still
 * being answered (64 of nginx gzip on's take a quarter of a second), and would count as the next
 * run's foreign load.
 */
async function settle(r: PinnedServer): Promise<void> {
  const deadline = performance.now() + 10_000;
  for (let last = cpuSeconds(r.pid); performance.now() < deadline; ) {
    await Bun.sleep(100);
    const now = cpuSeconds(r.pid);
    if (now === last) return;
    last = now;
  }
}

// ---- main --------------------------------------------------------------------------------------

const int = (n: number) => Math.round(n).toLocaleString("en-US");

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  checkClockTick();
  for (const tool of ["taskset", "wrk", "gzip", NGINX]) if (Bun.which(tool) === null) throw new Error(`${tool} is not installed (apt-get install util-linux wrk gzip nginx-light)`);
  mkdirSync(OUT, { recursive: true });
  tempDir = tempDirForRun("bench-compress-");
  const plainDir = join(tempDir, "plain");
  const staticDir = join(tempDir, "static");
  mkdirSync(plainDir);
  mkdirSync(staticDir);
  const file = buildScript();
  writeFileSync(join(plainDir, "app.js"), file);
  writeFileSync(join(staticDir, "app.js"), file);
  const gz = gzip9(join(staticDir, "app.js"));
  writeFileSync(join(staticDir, "app.js.gz"), gz);
  for (const d of [tempDir, plainDir, staticDir]) chmodSync(d, 0o755);

  console.error(
    `bench/compress.ts: app.js ${file.length} B of JavaScript (gzip -9: ${gz.length} B); ${opts.rounds} round(s) of ${opts.duration} s, ` +
      `warm-up ${opts.warmup} s; servers on core ${SERVER_CORE}, wrk -t1 -c${CONNECTIONS} on core ${WRK_CORE}; Bun ${Bun.version}`,
  );

  const ours: ServerSpec = { key: "ours", name: "ours", codings: ["gzip", "br", "zstd", "identity"], hasLength: true, start: oursServer(plainDir) };
  const nginx = (gzip: "on" | "static", sendfile: boolean): ServerSpec => {
    const key = `nginx-gzip-${gzip}-sendfile-${sendfile ? "on" : "off"}`;
    const name = `nginx ${gzip === "on" ? "gzip on (level 6)" : "gzip_static (-9)"}, sendfile ${sendfile ? "on" : "off"}`;
    return { key, name, codings: ["gzip"], hasLength: gzip === "static", start: nginxServer(key, gzip === "on" ? plainDir : staticDir, sendfile, gzip) };
  };
  const specs = [ours, nginx("static", false), nginx("static", true), nginx("on", false), nginx("on", true)];

  const running = new Map<string, PinnedServer>();
  for (const spec of specs) running.set(spec.key, await startPinned(spec.name, SERVER_CORE, join(OUT, `compress-${spec.key}.log`), spec.start));

  // Ours at its best level before anything is counted.
  const oursRun = running.get("ours")!;
  const firstAnswers: string[] = [];
  for (const coding of ["br", "zstd", "gzip"] as const) {
    const { first, ms } = await warmOurs(oursRun, coding);
    firstAnswers.push(`${coding} ${first.body.length} B (ETag ${first.headers.get("etag")})`);
    console.error(`  warmed ours, ${coding}: strong ETag after ${ms.toFixed(0)} ms; first answer ${first.body.length} B, ETag ${first.headers.get("etag")}`);
  }

  // Correctness, and the bytes of each response.
  const notes: string[] = [];
  const checked = new Map<string, RawResponse>();
  for (const spec of specs) {
    for (const coding of spec.codings) {
      const x = await checkResponse(running.get(spec.key)!, spec, coding, file, notes);
      checked.set(`${spec.key} ${coding}`, x);
      console.error(
        `  ok ${spec.name}, ${coding}: ${x.statusLine}, head ${x.headBytes} B, body ${x.body.length} B, wire ${x.wireBytes} B, ` +
          `ETag ${x.headers.get("etag") ?? "(none)"}, Vary ${x.headers.get("vary")}`,
      );
    }
  }
  for (const n of notes) console.error(`  note: ${n}`);

  // The ceiling: a Bun.listen responder with no parsing, sending ours' gzip bytes from memory (as
  // application/octet-stream): what writing this response costs here, whatever server computes it.
  const gzBytes = join(tempDir, "ours-app.js.gz");
  writeFileSync(gzBytes, checked.get("ours gzip")!.body);
  const ceiling: ServerSpec = {
    key: "ceiling",
    name: "ceiling (Bun.listen, no parsing)",
    codings: [],
    hasLength: true,
    start: (port) => ({ cmd: [process.execPath, join(BENCH_DIR, "servers", "ceiling.ts"), "--port", `${port}`, "--file", gzBytes], comm: BUN_COMM }),
  };
  running.set(ceiling.key, await startPinned(ceiling.name, SERVER_CORE, join(OUT, "compress-ceiling.log"), ceiling.start));

  const contestants: Contestant[] = [
    ...specs.map((spec) => ({ label: `${spec.name}, gzip`, spec, coding: "gzip" as Coding })),
    { label: "ours, br", spec: ours, coding: "br" as Coding },
    { label: "ceiling (Bun.listen, no parsing), ours' gzip bytes", spec: ceiling, coding: "gzip" as Coding },
  ].map((c) => ({ ...c, wireBytes: (checked.get(`${c.spec.key} ${c.coding}`) ?? checked.get("ours gzip")!).wireBytes }));

  console.error("\n## timing");
  const samples = await alternateRounds(contestants, opts, (c, label, seconds) => measure(c, running.get(c.spec.key)!, seconds, label));
  const med = samples.map((ss) => ({
    rps: median(ss.map((s) => s.rps)),
    cpu: median(ss.map((s) => s.cpuUsPerReq)),
    share: median(ss.map((s) => s.cpuShare)),
    wrk: median(ss.map((s) => s.wrkShare)),
    bytes: median(ss.map((s) => s.bytesPerResponse)),
  }));
  const at = (label: string) => med[contestants.findIndex((c) => c.label === label)]!;
  const better = (gzip: "on" | "static") => {
    const [off, on] = [false, true].map((sf) => `${nginx(gzip, sf).name}, gzip`);
    return at(off!).rps >= at(on!).rps ? { label: off!, m: at(off!) } : { label: on!, m: at(on!) };
  };
  const oursGzip = at("ours, gzip");
  const oursBr = at("ours, br");
  const ceilingGzip = at("ceiling (Bun.listen, no parsing), ours' gzip bytes");
  const gzStatic = better("static");
  const gzOn = better("on");

  const throughput = [
    `### ${file.length.toLocaleString("en-US")} B of JavaScript (app.js), keep-alive, wrk -t1 -c${CONNECTIONS}`,
    "",
    "| server, Accept-Encoding | req/s (median) | µs CPU/request | server CPU | wrk CPU | B/response (wrk) | runs (req/s) |",
    "|---|---:|---:|---:|---:|---:|---|",
    ...contestants.map((c, i) => {
      const m = med[i]!;
      const kept = c.label === gzStatic.label || c.label === gzOn.label ? " (kept)" : "";
      return (
        `| ${c.label}${kept} | ${int(m.rps)} | ${m.cpu.toFixed(1)} | ${(m.share * 100).toFixed(0)}% | ${(m.wrk * 100).toFixed(0)}% | ` +
        `${int(m.bytes)} | ${samples[i]!.map((x) => fmtRate(x.rps) + (x.noisy ? "*" : "")).join(" ")} |`
      );
    }),
    "",
  ];
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
  const ratios = [
    "### ratios (req/s; CPU: theirs ÷ ours, > 1 means ours spends less per request)",
    "",
    "| | req/s | CPU/request |",
    "|---|---:|---:|",
    `| ours gzip ÷ nginx gzip_static (${gzStatic.label.includes("sendfile on") ? "sendfile on" : "sendfile off"}) | **${ratio(oursGzip.rps, gzStatic.m.rps)}** | ${ratio(gzStatic.m.cpu, oursGzip.cpu)} |`,
    `| ours gzip ÷ nginx gzip on (${gzOn.label.includes("sendfile on") ? "sendfile on" : "sendfile off"}) | **${ratio(oursGzip.rps, gzOn.m.rps)}** | ${ratio(gzOn.m.cpu, oursGzip.cpu)} |`,
    `| ours br ÷ nginx gzip_static (${gzStatic.label.includes("sendfile on") ? "sendfile on" : "sendfile off"}) | **${ratio(oursBr.rps, gzStatic.m.rps)}** | ${ratio(gzStatic.m.cpu, oursBr.cpu)} |`,
    `| ours gzip ÷ the ceiling (the same bytes, no parsing) | **${ratio(oursGzip.rps, ceilingGzip.rps)}** | ${ratio(ceilingGzip.cpu, oursGzip.cpu)} |`,
    "",
    `nginx gzip on spends ${int(at(`${nginx("on", false).name}, gzip`).cpu)} µs (sendfile off) / ${int(at(`${nginx("on", true).name}, gzip`).cpu)} µs (sendfile on) of CPU per request.`,
    "",
  ];

  const byteRows: [string, string][] = [
    ["nginx gzip on (level 6)", `${nginx("on", false).key} gzip`],
    ["nginx gzip_static (gzip -9)", `${nginx("static", false).key} gzip`],
    ["ours gzip", "ours gzip"],
    ["ours br", "ours br"],
    ["ours zstd", "ours zstd"],
    ["ours identity (for reference)", "ours identity"],
  ];
  const nginxGzipBody = checked.get(`${nginx("on", false).key} gzip`)!.body.length;
  const bytes = [
    `### bytes per response (app.js: ${file.length.toLocaleString("en-US")} B)`,
    "",
    "| response | Content-Encoding | head B | body B | chunk framing B | on the wire B | body ÷ file | body ÷ nginx gzip on |",
    "|---|---|---:|---:|---:|---:|---:|---:|",
    ...byteRows.map(([label, key]) => {
      const x = checked.get(key)!;
      const framing = x.wireBytes - x.headBytes - x.body.length;
      return (
        `| ${label} | ${x.headers.get("content-encoding") ?? "—"} | ${int(x.headBytes)} | ${int(x.body.length)} | ${framing ? int(framing) : "—"} | ` +
        `${int(x.wireBytes)} | ${((x.body.length / file.length) * 100).toFixed(1)}% | ${(x.body.length / nginxGzipBody).toFixed(3)} |`
      );
    }),
    "",
    `ours' first answers, at the fast level before the best bytes replaced them: ${firstAnswers.join("; ")}.`,
    "",
  ];
  // nginx with sendfile on must send the same bytes as with it off.
  for (const g of ["on", "static"] as const) {
    const a = checked.get(`${nginx(g, false).key} gzip`)!;
    const b = checked.get(`${nginx(g, true).key} gzip`)!;
    if (!a.body.equals(b.body) || a.headBytes !== b.headBytes) {
      notes.push(`nginx gzip ${g}: sendfile on sent ${b.headBytes} + ${b.body.length} B, off ${a.headBytes} + ${a.body.length} B`);
    }
  }

  const body = [
    ...throughput,
    ...ratios,
    ...bytes,
    "## notes, wrk errors and warnings",
    "",
    ...([...notes, ...problems].length ? [...notes, ...problems].map((p) => `- ${p}`) : ["none"]),
    "",
  ];
  console.log(`\n${body.join("\n")}`);
  printNoisyRuns(noisyRuns);
  const report = [
    `# bench/compress.ts — ${new Date().toISOString()}`,
    "",
    `Bun ${Bun.version}; ${opts.rounds} round(s) × ${opts.duration} s, medians; servers pinned to core ${SERVER_CORE}, ` +
      `\`wrk -t1 -c${CONNECTIONS}\` pinned to core ${WRK_CORE}.`,
    "",
    ...body,
    ...noisyRunsSection(noisyRuns),
  ].join("\n");
  writeFileSync(join(OUT, "compress-latest.md"), report);
  console.error(`\n(report saved to ${join(OUT, "compress-latest.md")}; server logs in ${OUT}/)`);
}

await runMain("bench/compress.ts", main);
