// The child processes of a benchmark run: every one is registered, and all are stopped at the end
// whatever happens (normal end, an error, or SIGINT/SIGTERM/SIGHUP).
import { closeSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";

export const REPO = resolve(import.meta.dir, "../..");

const children = new Set<Subprocess>();
const finalizers: (() => void)[] = [];

/** Starts `cmd` in the repository; its stdout and stderr go to `logPath` (appended), or to pipes when null. */
export function spawn(cmd: string[], logPath: string | null): Subprocess {
  const fd = logPath === null ? null : openSync(logPath, "a");
  try {
    const proc = Bun.spawn(cmd, {
      cwd: REPO,
      stdin: "ignore",
      stdout: fd ?? "pipe",
      stderr: fd ?? "pipe",
      env: { ...process.env },
    });
    track(proc);
    return proc;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/** Registers a process spawned elsewhere, so that cleanup() stops it too. */
export function track(proc: Subprocess): void {
  children.add(proc);
  void proc.exited.then(() => children.delete(proc));
}

/** SIGTERM, then SIGKILL if it is still there 2 s later. */
export async function stopProcess(proc: Subprocess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill("SIGTERM");
  const gone = await Promise.race([proc.exited.then(() => true), Bun.sleep(2000).then(() => false)]);
  if (!gone) {
    proc.kill("SIGKILL");
    await proc.exited;
  }
}

/** A usage error: the message on stderr, exit code 2. */
export function die(msg: string): never {
  console.error(msg);
  process.exit(2);
}

/** A fresh temporary directory (`prefix` + random), removed with all it holds at cleanup. */
export function tempDirForRun(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  atCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs at cleanup, after every child is gone (a temp dir to remove, say). */
export function atCleanup(fn: () => void): void {
  finalizers.push(fn);
}

let cleaning: Promise<void> | null = null;
/** Stops every child still running and runs the atCleanup() functions; only once however often called. */
export function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await Promise.all([...children].map(stopProcess));
    for (const fn of finalizers) fn();
  })();
  return cleaning;
}

let interrupted = false;
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(sig, () => {
    interrupted = true;
    console.error(`\n${sig}: stopping every child process`);
    void cleanup().finally(() => process.exit(130));
  });
}

/** True once a signal asked us to stop: the error that follows is ours, not worth printing. */
export function wasInterrupted(): boolean {
  return interrupted;
}

/**
 * The end of every bench script: runs `main`, prints its error (unless a signal stopped us), stops
 * every child and exits 0, 1, or 130 after a signal.
 */
export async function runMain(name: string, main: () => Promise<void>): Promise<never> {
  let exitCode = 0;
  try {
    await main();
  } catch (err) {
    if (!interrupted) console.error(`\n${name}: ${err instanceof Error ? err.message : String(err)}`);
    exitCode = interrupted ? 130 : 1;
  } finally {
    await cleanup();
  }
  process.exit(exitCode);
}
