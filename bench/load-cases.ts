// What bench/load.ts measures: its scenarios (hello, static, app, log, metrics), the cases each one
// makes (path, expected bytes, mode, extra header lines) and the servers of each case, with their
// start commands and their role in the summary (ours, nginx, h2o, Bun.serve, the ceiling).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { h2oConfig } from "./h2o.ts";
import { BUN_COMM } from "./lib/pinned-server.ts";
import { nginxConfig } from "./nginx.ts";

export const NGINX = "/usr/sbin/nginx";
export const H2O = "/usr/bin/h2o";
export const PIPELINE_DEPTH = 16;
export const SCENARIOS = ["hello", "static", "app", "log", "metrics"] as const;
export const DEFAULT_SCENARIOS = ["hello", "static", "app"];
export const ALL_MODES = ["keepalive", "close", "pipeline"] as const;
export type Mode = (typeof ALL_MODES)[number];
export const SIZES: Record<string, number> = { "1k": 1024, "64k": 64 * 1024, "1m": 1024 * 1024, "8m": 8 * 1024 * 1024 };
/** What runs without --sizes: 8m (over the memory cache's limit: streamed, by sendfile) only when asked. */
export const DEFAULT_SIZES = ["1k", "64k", "1m"];

/** Who a server is in the summary and the chart; "other" rows (our variants) are in the case's table only. */
export type Role = "ours" | "nginx" | "h2o" | "bun" | "ceiling" | "other";

export interface ServerSpec {
  /** Row label. */
  name: string;
  /** Identity of the process: specs with one key share a process. */
  key: string;
  role: Role;
  /** For our variants beside Bun.serve's (app doors): the name of the Bun.serve row it is compared with. */
  vs?: string;
  /** When its answer check fails, the case goes on without it (the reason is reported). */
  optional?: boolean;
  start(port: number): { cmd: string[]; comm: string };
  /** A further check before timing (that the server runs with what the case measures); throws if not. */
  verify?(port: number): Promise<void>;
}

export interface Case {
  title: string;
  /** The chart's label for it. */
  short: string;
  path: string;
  expected: Uint8Array;
  mode: Mode;
  servers: ServerSpec[];
  /** Header lines wrk sends besides Host (default: none). */
  headers?: string[];
}

export interface CaseContext {
  /** bench/servers. */
  servers: string;
  fixturesDir: string;
  fixtures: Record<string, Uint8Array>;
  /** Generated configs and error logs (bench/.out). */
  out: string;
  /** Pid files and temp paths. */
  tempDir: string;
}

function bunServer(c: CaseContext, script: string, ...args: string[]) {
  return (port: number) => ({ cmd: [process.execPath, join(c.servers, script), "--port", `${port}`, ...args], comm: BUN_COMM });
}

/** A config written to bench/.out (kept for reading) with a fresh error log; pid and temp paths in the temp dir. */
function configFiles(c: CaseContext, name: string): { dir: string; errorLog: string; conf: string } {
  const dir = join(c.tempDir, name);
  mkdirSync(dir, { recursive: true });
  const errorLog = join(c.out, `${name}.error.log`);
  writeFileSync(errorLog, "");
  return { dir, errorLog, conf: join(c.out, `${name}.conf`) };
}

function nginxServer(c: CaseContext, sendfile: boolean) {
  return (port: number) => {
    const { dir, errorLog, conf } = configFiles(c, `nginx-sendfile-${sendfile ? "on" : "off"}`);
    writeFileSync(conf, nginxConfig({ by: "bench/load.ts", port, root: c.fixturesDir, tempDir: dir, errorLog, sendfile }));
    return { cmd: [NGINX, "-p", dir, "-e", errorLog, "-c", conf], comm: "nginx" };
  };
}

function h2oServer(c: CaseContext) {
  return (port: number) => {
    const { dir, errorLog, conf } = configFiles(c, "h2o");
    writeFileSync(conf, h2oConfig({ by: "bench/load.ts", port, root: c.fixturesDir, tempDir: dir, errorLog }));
    return { cmd: [H2O, "-c", conf], comm: "h2o" };
  };
}

function helloCases(c: CaseContext): Case[] {
  return [
    {
      title: "hello: 13-byte text, keep-alive",
      short: "hello handler",
      path: "/",
      expected: new TextEncoder().encode("Hello, World!"),
      mode: "keepalive",
      servers: [
        { name: "ours", key: "ours-hello", role: "ours", start: bunServer(c, "ours-hello.ts") },
        { name: "Bun.serve", key: "bun-serve-hello", role: "bun", start: bunServer(c, "bun-serve-hello.ts") },
        { name: "ceiling (Bun.listen)", key: "ceiling-hello", role: "ceiling", start: bunServer(c, "ceiling.ts") },
      ],
    },
  ];
}

/** What a feature of ours costs: the 1 KiB file, keep-alive, with it off (the "ours" row) and on. */
function costCase(c: CaseContext, feature: string, servers: ServerSpec[]): Case {
  return { title: `${feature} cost: static 1 KiB file, keep-alive`, short: feature, path: "/1k.bin", expected: c.fixtures["1k"]!, mode: "keepalive", servers };
}

/** What the access log costs: the same 1 KiB file with the log off, and written to a real file. */
function logCases(c: CaseContext): Case[] {
  const logServer = (format: string): ServerSpec => ({
    name: `ours, log ${format}`,
    key: `ours-static-log-${format}`,
    role: format === "off" ? "ours" : "other",
    start: bunServer(c, "ours-static.ts", "--root", c.fixturesDir, "--log", format, "--log-file", join(c.tempDir, `access-${format}.log`)),
  });
  return [costCase(c, "access log", [logServer("off"), logServer("common"), logServer("combined"), logServer("json")])];
}

/** What counting costs, measured as the access log's: the same 1 KiB file, log off, metrics off and on. */
function metricsCases(c: CaseContext): Case[] {
  const metricsServer = (on: boolean): ServerSpec => ({
    name: `ours, metrics ${on ? "on" : "off"}`,
    key: `ours-static-metrics-${on ? "on" : "off"}`,
    role: on ? "other" : "ours",
    start: bunServer(c, "ours-static.ts", "--root", c.fixturesDir, "--log", "off", ...(on ? ["--metrics", "/metrics"] : [])),
    async verify(port: number) {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      const counting = (await res.text()).includes('http_requests_total{code="200"}');
      if (counting !== on) throw new Error(`CHECK FAILED: metrics ${on ? "not counting" : "answered"} on the metrics-${on ? "on" : "off"} server`);
    },
  });
  return [costCase(c, "metrics", [metricsServer(false), metricsServer(true)])];
}

async function appCases(c: CaseContext): Promise<Case[]> {
  const { HELLO, JSON_BODY } = await import("./servers/app-handlers.ts");
  const { BROWSER_GET } = await import("./corpus.ts");
  // Chrome's navigation request: its header lines but Host (wrk sends its own).
  const browserHeaders = new TextDecoder()
    .decode(BROWSER_GET)
    .split("\r\n")
    .slice(1)
    .filter((line) => line !== "" && !/^host:/i.test(line));
  const enc = new TextEncoder();
  const rows: [string, string, string, string, string[]?][] = [
    ["hello-world text", "app: hello", "/hello", HELLO],
    ["JSON", "app: JSON", "/json", JSON.stringify(JSON_BODY)],
    ["parameter route /users/:id", "app: /users/:id", "/users/42", JSON.stringify({ id: "42", name: "user 42" })],
    [`hello-world text, a browser's ${browserHeaders.length + 1} header fields`, "app: browser hello", "/hello", HELLO, browserHeaders],
  ];
  const app = (name: string, kind: string, role: Role, vs?: string): ServerSpec => ({ name, key: `app-${kind}`, role, vs, start: bunServer(c, "app.ts", "--kind", kind) });
  return rows.map(([title, short, path, body, headers]) => ({
    title: `app: ${title}, keep-alive`,
    short,
    path,
    expected: enc.encode(body),
    mode: "keepalive",
    headers,
    servers: [
      app("ours, routes (Response)", "ours-routes", "ours", "Bun.serve, routes"),
      app("ours, routes (light values)", "ours-light", "other", "Bun.serve, routes"),
      app("ours, fetch", "ours-fetch", "other", "Bun.serve, fetch"),
      app("Bun.serve, routes", "bun-routes", "bun"),
      app("Bun.serve, fetch", "bun-fetch", "other"),
      app("ours, Hono app (fetch)", "ours-hono", "other", "Bun.serve, Hono app"),
      app("Bun.serve, Hono app", "bun-hono", "other"),
    ],
  }));
}

const MODE_LABEL: Record<Mode, string> = { keepalive: "keep-alive", close: "Connection: close", pipeline: `pipelined ×${PIPELINE_DEPTH}` };
const MODE_SHORT: Record<Mode, string> = { keepalive: "keep-alive", close: "close", pipeline: `×${PIPELINE_DEPTH}` };

function staticCases(c: CaseContext, sizes: string[], modes: readonly Mode[]): Case[] {
  const out: Case[] = [];
  for (const size of sizes) {
    const human = size.replace(/^(\d+)k$/, "$1 KiB").replace(/^(\d+)m$/, "$1 MiB");
    for (const mode of modes) {
      const close = mode === "close";
      out.push({
        title: `static ${human} file, ${MODE_LABEL[mode]}`,
        short: `${human} ${MODE_SHORT[mode]}`,
        path: `/${size}.bin`,
        expected: c.fixtures[size]!,
        mode,
        servers: [
          { name: "ours", key: "ours-static", role: "ours", start: bunServer(c, "ours-static.ts", "--root", c.fixturesDir) },
          { name: "nginx sendfile off", key: "nginx-sendfile-off", role: "nginx", start: nginxServer(c, false) },
          { name: "nginx sendfile on", key: "nginx-sendfile-on", role: "nginx", start: nginxServer(c, true) },
          { name: "h2o", key: "h2o", role: "h2o", optional: true, start: h2oServer(c) },
          { name: "Bun.serve Bun.file", key: "bun-serve-static", role: "bun", start: bunServer(c, "bun-serve-static.ts", "--root", c.fixturesDir) },
          {
            name: "ceiling (from memory)",
            key: `ceiling-${size}${close ? "-close" : ""}`,
            role: "ceiling",
            start: bunServer(c, "ceiling.ts", "--file", join(c.fixturesDir, `${size}.bin`), ...(close ? ["--close"] : [])),
          },
        ],
      });
    }
  }
  return out;
}

/** The cases of the scenarios asked for, in the order hello, log, metrics, app, static. */
export async function buildCases(scenarios: string[], sizes: string[], modes: readonly Mode[], c: CaseContext): Promise<Case[]> {
  const out: Case[] = [];
  if (scenarios.includes("hello")) out.push(...helloCases(c));
  if (scenarios.includes("log")) out.push(...logCases(c));
  if (scenarios.includes("metrics")) out.push(...metricsCases(c));
  if (scenarios.includes("app")) out.push(...(await appCases(c)));
  if (scenarios.includes("static")) out.push(...staticCases(c, sizes, modes));
  return out;
}
