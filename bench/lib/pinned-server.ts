// A server under test in its own process, pinned to one core with `taskset -c CORE`, listening on a
// free port of 127.0.0.1; the pid we read CPU time of is checked to be the server itself.
import { readFileSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import type { Subprocess } from "bun";
import { spawn } from "./children.ts";
import { childPids } from "./proc-stat.ts";

/** What /proc/<pid>/comm says for a bun process: the executable's name, cut to 15 bytes ("bun", or "bun.exe" from npm). */
export const BUN_COMM = basename(process.execPath).slice(0, 15);

export interface PinnedServer {
  name: string;
  port: number;
  pid: number;
  proc: Subprocess;
  /** Its stdout and stderr. */
  log: string;
}

/** A port nobody listens on now (the kernel's pick; there is a small race until the server binds it). */
export async function freePort(): Promise<number> {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

export async function canConnect(port: number): Promise<boolean> {
  try {
    const s = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
    s.end();
    return true;
  } catch {
    return false;
  }
}

export function logTail(path: string, lines = 30): string {
  try {
    return readFileSync(path, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

export function isDead(proc: Subprocess): boolean {
  return proc.exitCode !== null || proc.signalCode !== null;
}

/** Waits (15 s at most) until `port` accepts; fails sooner if `proc` exits. */
export async function waitListening(name: string, port: number, proc: Subprocess, log: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await canConnect(port))) {
    if (isDead(proc)) throw new Error(`${name} exited (${proc.exitCode ?? proc.signalCode}) before listening:\n${logTail(log)}`);
    if (Date.now() > deadline) throw new Error(`${name} did not listen on ${port} within 15 s:\n${logTail(log)}`);
    await Bun.sleep(50);
  }
}

/**
 * Starts the command `start(port)` gives under `taskset -c core`, its output to `log`, and waits
 * (15 s at most) until the port accepts. Then checks that the pid is the server itself (taskset
 * exec()s it, so /proc/<pid>/comm is `comm`), that it runs on `core` only and has no child
 * processes: otherwise its CPU time would not be the server's.
 */
export async function startPinned(
  name: string,
  core: string,
  log: string,
  start: (port: number) => { cmd: string[]; comm: string },
): Promise<PinnedServer> {
  const port = await freePort();
  const { cmd, comm } = start(port);
  writeFileSync(log, `$ taskset -c ${core} ${cmd.join(" ")}\n`);
  const proc = spawn(["taskset", "-c", core, ...cmd], log);
  await waitListening(name, port, proc, log);
  const pid = proc.pid;
  const actualComm = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  if (actualComm !== comm) throw new Error(`${name}: /proc/${pid}/comm is "${actualComm}", expected "${comm}"`);
  const kids = childPids(pid);
  if (kids.length > 0) throw new Error(`${name}: pid ${pid} has child processes (${kids.join(" ")}): CPU time would be wrong`);
  const affinity = /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  if (affinity !== core) throw new Error(`${name}: pid ${pid} runs on cores ${affinity}, expected ${core}`);
  console.error(`  started ${name}: pid ${pid} (${comm}), 127.0.0.1:${port}, core ${affinity}`);
  return { name, port, pid, proc, log };
}
