// Helpers for the deployment tests: free ports, temporary directories, and what /proc says about the
// supervisor's workers and listeners. The CLI itself is started with test/helpers/child.ts.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A port that was free a moment ago (bind port 0 on 127.0.0.1, read it, close). */
export function freePort(): number {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
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
