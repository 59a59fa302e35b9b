// Helpers for the deployment tests: the real CLI as a child process, free ports, temporary directories.
import type { Subprocess } from "bun";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { constants, tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const REPO = resolve(import.meta.dir, "../..");

/** A port that was free a moment ago (bind port 0 on 127.0.0.1, read it, close). */
export function freePort(): number {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

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

const temps: string[] = [];
export function tempDir(prefix = "bunhttp-deploy-"): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  temps.push(d);
  return d;
}
export function removeTemps(): void {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
}

export interface Cli {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  pid: number;
  /** From the banner ("bunhttp: serving … at URL"), when it was printed. */
  url: URL;
  port: number;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (signal exits give 128+n as the shell does). */
  exited: Promise<number>;
  exitCode(): number | null;
  kill(signal?: NodeJS.Signals | number): void;
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

export function track(p: Subprocess): void {
  live.add(p);
  void p.exited.then(() => live.delete(p));
}

function collect(stream: ReadableStream<Uint8Array>, sink: { text: string }, onData: () => void): Promise<void> {
  const decoder = new TextDecoder();
  return (async () => {
    const reader = stream.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        sink.text += decoder.decode(value, { stream: true });
        onData();
      }
    } catch {}
  })();
}

/** Starts `bun src/index.ts …args` from the repo root (stdout and stderr captured). */
export function spawnCli(args: string[], env: Record<string, string> = {}) {
  const proc = Bun.spawn([process.execPath, "src/index.ts", ...args], {
    cwd: REPO,
    env: cleanEnv(env),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  track(proc);
  const out = { text: "" };
  const err = { text: "" };
  let waiters: (() => void)[] = [];
  const wake = () => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };
  const streamsDone = Promise.all([collect(proc.stdout, out, wake), collect(proc.stderr, err, wake)]);
  let code: number | null = null;
  const exited = proc.exited.then(() => {
    code = proc.exitCode ?? 128 + (proc.signalCode ? (signals[proc.signalCode] ?? 0) : 0);
    wake();
    return code;
  });
  /** Waits until `pred` holds, re-checking on every output and at exit. */
  const until = async (pred: () => boolean, ms: number, what: string) => {
    const deadline = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; stderr: ${err.text}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(100, Math.max(1, deadline - Date.now())));
        waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  };
  return { proc, out, err, exited, streamsDone, until, exitCode: () => code };
}

/** Starts the CLI and waits for its banner; throws with stderr if it exits first. */
export async function startCli(args: string[], env: Record<string, string> = {}, ms = 10_000): Promise<Cli> {
  const s = spawnCli(args, env);
  const banner = /serving .* at (\S+)/;
  await s.until(() => banner.test(s.err.text) || s.exitCode() !== null, ms, "the banner");
  const m = banner.exec(s.err.text);
  if (!m) throw new Error(`the server exited with ${s.exitCode()}: ${s.err.text}`);
  const url = new URL(m[1]!);
  return {
    proc: s.proc,
    pid: s.proc.pid,
    url,
    port: Number(url.port),
    stdout: () => s.out.text,
    stderr: () => s.err.text,
    exited: s.exited,
    exitCode: s.exitCode,
    kill: (signal = "SIGTERM") => s.proc.kill(signal),
  };
}

/** Runs the CLI to the end (it must exit within `ms`). */
export async function runCli(args: string[], env: Record<string, string> = {}, ms = 10_000) {
  const s = spawnCli(args, env);
  const timer = setTimeout(() => s.proc.kill("SIGKILL"), ms);
  const code = await s.exited;
  clearTimeout(timer);
  await s.streamsDone;
  return { code, stdout: s.out.text, stderr: s.err.text };
}

/** Resolves with the exit code, or null if the process is still running after `ms`. */
export async function exitWithin(exited: Promise<number>, ms: number): Promise<number | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const r = await Promise.race([exited, new Promise<null>((res) => (timer = setTimeout(() => res(null), ms)))]);
  clearTimeout(timer);
  return r;
}

/** Pids of the processes whose parent is `ppid` (Linux /proc/<pid>/stat, field 4). */
export function childrenOf(ppid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      // comm may contain spaces and parentheses: the fields after it start after the last ')'.
      const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const state = rest[0];
      if (Number(rest[1]) === ppid && state !== "Z") out.push(Number(name));
    } catch {}
  }
  return out.sort((a, b) => a - b);
}

export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** Listening TCP sockets on 127.0.0.1:port (/proc/net/tcp): with SO_REUSEPORT, one per process. */
export function listenersOn(port: number): number {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  return readFileSync("/proc/net/tcp", "utf8")
    .split("\n")
    .filter((line) => {
      const f = line.trim().split(/\s+/);
      return f[1] === local && f[3] === "0A"; // 0A = LISTEN
    }).length;
}
