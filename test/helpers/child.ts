// Child processes for tests: a server in its own process (its own RSS, descriptors and event loop; a
// crash is seen, not shared), the real CLI, and any command run to its end. Output is collected and
// wakes whoever waits on it; every child is tracked, so that killAll() in afterAll leaves none behind.
import type { Subprocess } from "bun";
import { readdirSync, readFileSync } from "node:fs";
import { constants } from "node:os";
import { join, resolve } from "node:path";
import { poll, pollUntil, Wakeup } from "./poll.ts";
import { exchange } from "./raw-client.ts";

export const REPO = resolve(import.meta.dir, "../..");

export interface SpawnOptions {
  cwd?: string;
  env?: Record<string, string>;
  /**
   * Runs the command under `sh -c 'ulimit -n N && exec …'`: the limit applies to the command itself,
   * and its pid is the command's.
   */
  ulimitN?: number;
}

export interface Child {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  pid: number;
  /** Everything written so far (UTF-8). */
  stdout(): string;
  stdoutBytes(): Uint8Array;
  stderr(): string;
  /** Resolves with the exit code (a signal exit gives 128+n, as the shell does). */
  exited: Promise<number>;
  /** The exit code, or null while it runs. */
  exitCode(): number | null;
  /** True once the child has exited (a crash, if we did not kill it). */
  readonly dead: boolean;
  /** Both output streams read to their end. */
  streamsDone: Promise<void>;
  kill(signal?: NodeJS.Signals | number): void;
  /** Waits until `predicate` holds, re-checking on every output and at exit; throws (with stderr) after `ms`. */
  until(predicate: () => boolean, ms: number, what: string): Promise<void>;
}

const signals = constants.signals as Record<string, number>;
const live = new Set<Subprocess>();

/** Kills every child started here that is still running (afterAll / finally). */
export async function killAll(): Promise<void> {
  const procs = [...live];
  live.clear();
  for (const p of procs) {
    try {
      p.kill("SIGKILL");
    } catch {}
  }
  await Promise.all(procs.map((p) => p.exited.catch(() => {})));
}

function collect(stream: ReadableStream<Uint8Array>, sink: Uint8Array[], wake: Wakeup): Promise<void> {
  return (async () => {
    const reader = stream.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        sink.push(value);
        wake.fire();
      }
    } catch {}
  })();
}

function joined(parts: Uint8Array[]): Uint8Array {
  if (parts.length > 1) parts.splice(0, parts.length, Buffer.concat(parts));
  return parts[0] ?? new Uint8Array(0);
}

/** Starts `argv` with stdout and stderr collected, stdin closed. */
export function spawnChild(argv: string[], options: SpawnOptions = {}): Child {
  const cmd = options.ulimitN === undefined ? argv : ["sh", "-c", `ulimit -n ${options.ulimitN} && exec "$0" "$@"`, ...argv];
  const proc = Bun.spawn(cmd, { cwd: options.cwd, env: options.env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  live.add(proc);
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  const wake = new Wakeup();
  const decoder = new TextDecoder();
  const streamsDone = Promise.all([collect(proc.stdout, out, wake), collect(proc.stderr, err, wake)]).then(() => {});
  let code: number | null = null;
  const exited = proc.exited.then(() => {
    live.delete(proc);
    code = proc.exitCode ?? 128 + (proc.signalCode ? (signals[proc.signalCode] ?? 0) : 0);
    wake.fire();
    return code;
  });
  const stderr = () => decoder.decode(joined(err));
  return {
    proc,
    pid: proc.pid,
    stdout: () => decoder.decode(joined(out)),
    stdoutBytes: () => joined(out),
    stderr,
    exited,
    exitCode: () => code,
    get dead() {
      return code !== null;
    },
    streamsDone,
    kill: (signal = "SIGTERM") => proc.kill(signal),
    async until(predicate, ms, what) {
      if ((await poll(predicate, ms, { wake })) === null) throw new Error(`timed out after ${ms} ms waiting for ${what}; stderr: ${stderr()}`);
    },
  };
}

/** Runs `argv` to its end (killed after `ms`): exit code and all output. */
export async function run(argv: string[], options: SpawnOptions & { ms?: number } = {}) {
  const child = spawnChild(argv, options);
  const timer = setTimeout(() => child.proc.kill("SIGKILL"), options.ms ?? 10_000);
  const code = await child.exited;
  clearTimeout(timer);
  await child.streamsDone;
  return { code, stdout: child.stdout(), stdoutBytes: child.stdoutBytes(), stderr: child.stderr() };
}

// ---- a server in its own process ----------------------------------------------------------------

export interface ServerChild extends Child {
  port: number;
  /** What its /__stats route reports (after a full GC in the child). */
  stats(): Promise<ChildStats>;
  /** Waits until it holds no connection but the stats request asking; throws after `ms`. */
  idle(ms?: number): Promise<void>;
}

export interface ChildStats {
  rss: number;
  heapUsed: number;
  connections: number;
  refused: number;
}

/** Starts test/helpers/child-server.ts: serve() with `options` (as JSON) over `root`; resolves once it listens. */
export async function startServerChild(root: string, options: Record<string, unknown> = {}, spawn: SpawnOptions = {}): Promise<ServerChild> {
  const child = spawnChild([process.execPath, join(import.meta.dir, "child-server.ts"), root, JSON.stringify(options)], spawn);
  await child.until(() => child.stdout().includes("\n") || child.dead, 10_000, "the child server's port");
  if (!child.stdout().includes("\n")) throw new Error(`child server exited with ${child.exitCode()} before printing its port: ${child.stderr()}`);
  const port = Number(child.stdout().trim());
  const stats = async (): Promise<ChildStats> => {
    const r = await exchange(port, "GET /__stats HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    if (r.status !== 200) throw new Error(`no stats: ${r.status}`);
    return JSON.parse(r.text()) as ChildStats;
  };
  return Object.assign(child, {
    port,
    stats,
    idle: (ms = 5000) => pollUntil(async () => (await stats()).connections === 1, ms, "the child to hold no connections", { every: 50 }).then(() => {}),
  });
}

// ---- the real CLI ---------------------------------------------------------------------------------

/** The environment without BUNHTTP_* and PORT, so the caller's shell cannot change the tests. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || k.startsWith("BUNHTTP_") || k === "PORT") continue;
    env[k] = v;
  }
  env.NO_COLOR = "1";
  return { ...env, ...extra };
}

export interface Cli extends Child {
  /** From the banner ("bunhttp: serving … at URL"). */
  url: URL;
  port: number;
}

const cliArgv = (args: string[]) => [process.execPath, "src/index.ts", ...args];

/** Starts `bun src/index.ts …args` from the repo root and waits for its banner; throws with stderr if it exits first. */
export async function startCli(args: string[], env: Record<string, string> = {}, ms = 10_000): Promise<Cli> {
  const child = spawnChild(cliArgv(args), { cwd: REPO, env: cleanEnv(env) });
  const banner = /serving .* at (\S+)/;
  await child.until(() => banner.test(child.stderr()) || child.dead, ms, "the banner");
  const m = banner.exec(child.stderr());
  if (!m) throw new Error(`the server exited with ${child.exitCode()}: ${child.stderr()}`);
  const url = new URL(m[1]!);
  return Object.assign(child, { url, port: Number(url.port) });
}

/** Runs the CLI to the end (it must exit within `ms`). */
export async function runCli(args: string[], env: Record<string, string> = {}, ms = 10_000) {
  const { code, stdout, stderr } = await run(cliArgv(args), { cwd: REPO, env: cleanEnv(env), ms });
  return { code, stdout, stderr };
}

/** Resolves with the exit code, or null if the process is still running after `ms`. */
export async function exitWithin(exited: Promise<number>, ms: number): Promise<number | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const r = await Promise.race([exited, new Promise<null>((res) => (timer = setTimeout(() => res(null), ms)))]);
  clearTimeout(timer);
  return r;
}

// ---- looking at a process (Linux /proc) ---------------------------------------------------------

/** Resident set size of a process, in bytes. */
export function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : NaN;
}

/** Samples a process's RSS every 20 ms until stopped; `peak` is the highest seen. */
export function sampleRss(pid: number): { before: number; peak: number; stop: () => void } {
  const s = { before: rssOf(pid), peak: 0, stop: () => clearInterval(timer) };
  s.peak = s.before;
  const timer = setInterval(() => {
    s.peak = Math.max(s.peak, rssOf(pid));
  }, 20);
  return s;
}

export function openFdsOf(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}
