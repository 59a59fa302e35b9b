// What the kernel says about a server under many connections (Linux /proc and ss): descriptor
// limits, the listen backlog it really got, listen-queue overflows, open descriptors and resident
// memory of a process; and the sysctls that bound a connection burst.
import { readdirSync, readFileSync } from "node:fs";

/** The soft and hard open-file limits of a process ("unlimited" as Infinity). */
export function nofileOf(pid: number | "self"): { soft: number; hard: number } {
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readFileSync(`/proc/${pid}/limits`, "utf8"));
  if (!m) throw new Error(`no "Max open files" line in /proc/${pid}/limits`);
  const n = (s: string) => (s === "unlimited" ? Infinity : Number(s));
  return { soft: n(m[1]!), hard: n(m[2]!) };
}

/**
 * Raises this process's soft open-file limit to `want` (at most its hard limit: raising the hard
 * one needs CAP_SYS_RESOURCE, which a container may lack). Children spawned later inherit it.
 * Returns the soft limit now in force.
 */
export function raiseOwnNofile(want: number): number {
  const { soft, hard } = nofileOf("self");
  const target = Math.min(want, hard);
  if (soft < target) {
    const arg = `--nofile=${target}:${limitText(hard)}`;
    const r = Bun.spawnSync(["prlimit", `--pid=${process.pid}`, arg]);
    if (r.exitCode !== 0) throw new Error(`prlimit --pid=${process.pid} ${arg} failed: ${r.stderr.toString().trim()}`);
  }
  return nofileOf("self").soft;
}

function limitText(n: number): string {
  return Number.isFinite(n) ? `${n}` : "unlimited";
}

/** `cmd` run under `prlimit --nofile=limit:hard` (prlimit exec()s it: the pid stays the command's). */
export function withNofile(limit: number, cmd: string[]): string[] {
  return ["prlimit", `--nofile=${limit}:${limitText(nofileOf("self").hard)}`, ...cmd];
}

/** Open descriptors of a process (sockets, files, the listener…). */
export function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Resident memory of a process, bytes: VmRSS and its anonymous part (RssAnon). */
export function rssOf(pid: number): { rss: number; anon: number } {
  const s = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(s)?.[1] ?? NaN) * 1024;
  return { rss: kb("VmRSS"), anon: kb("RssAnon") };
}

/** The accept-queue length a listener on 127.0.0.1:`port` got (the Send-Q column `ss -ltn` shows). */
export function listenBacklog(port: number): number {
  const r = Bun.spawnSync(["ss", "-Hltn", `sport = :${port}`]);
  const line = r.stdout.toString().trim().split("\n")[0] ?? "";
  const f = line.trim().split(/\s+/);
  // State Recv-Q Send-Q Local Peer
  const n = Number(f[2]);
  if (!Number.isFinite(n)) throw new Error(`cannot read the backlog of port ${port} from ss: "${line}"`);
  return n;
}

/**
 * TcpExt counters of this network namespace: ListenOverflows (a connection completed while the
 * accept queue was full, and was dropped) and TCPReqQFullDoCookies (SYN queue full, a cookie sent).
 * They count for every listener here, other processes' too.
 */
export function listenCounters(): { overflows: number; cookies: number } {
  const lines = readFileSync("/proc/net/netstat", "utf8").split("\n").filter((l) => l.startsWith("TcpExt:"));
  const names = lines[0]!.split(" ");
  const values = lines[1]!.split(" ");
  const get = (name: string) => Number(values[names.indexOf(name)] ?? NaN);
  return { overflows: get("ListenOverflows"), cookies: get("TCPReqQFullDoCookies") };
}

export function sysctl(name: string): string {
  try {
    return readFileSync(`/proc/sys/${name.replaceAll(".", "/")}`, "utf8").trim().replace(/\s+/g, " ");
  } catch {
    return "?";
  }
}

/**
 * Polls `read` every 50 ms until `ok` holds of its value, or `ms` pass; returns the last value read
 * and whether `ok` held.
 */
export async function pollUntil<T>(read: () => T, ok: (v: T) => boolean, ms: number): Promise<{ value: T; met: boolean }> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = read();
    if (ok(value)) return { value, met: true };
    if (Date.now() >= deadline) return { value, met: false };
    await Bun.sleep(50);
  }
}

/** A child of this process whose /proc comm is `comm` (the first found), or null. */
export function childByComm(comm: string): number | null {
  for (const t of readdirSync(`/proc/${process.pid}/task`)) {
    let kids: string;
    try {
      kids = readFileSync(`/proc/${process.pid}/task/${t}/children`, "utf8").trim();
    } catch {
      continue;
    }
    for (const k of kids.split(" ")) {
      if (k === "") continue;
      try {
        if (readFileSync(`/proc/${k}/comm`, "utf8").trim() === comm) return Number(k);
      } catch {
        // exited meanwhile
      }
    }
  }
  return null;
}

/**
 * TCP sockets in use in this network namespace (/proc/net/sockstat "TCP: inuse"; O(1) to read): a
 * loopback connection counts twice, its client end from connect() on, its server end once the
 * handshake completes. Other processes' sockets count too.
 */
export function tcpInUse(): number {
  const m = /^TCP: inuse (\d+)/m.exec(readFileSync("/proc/net/sockstat", "utf8"));
  return Number(m?.[1] ?? NaN);
}

/**
 * Bytes the kernel has sent on every established connection whose local port is `port` (the sum of
 * tcp_info's bytes_sent, through `ss -tin`, itself pinned to `core`); `t` is the middle of the dump.
 * A dump of 10,000 sockets takes about 0.1 s of CPU and 0.25 s of wall time.
 */
export function bytesSentFrom(port: number, core: string): { bytes: number; sockets: number; t: number } {
  const t0 = performance.now();
  const r = Bun.spawnSync(["taskset", "-c", core, "ss", "-Htin", "state", "established", `( sport = :${port} )`]);
  const t1 = performance.now();
  const out = r.stdout.toString();
  let bytes = 0;
  for (const m of out.matchAll(/bytes_sent:(\d+)/g)) bytes += Number(m[1]);
  // One line per socket starts at the margin; its tcp_info follows on an indented line.
  return { bytes, sockets: (out.match(/^\S/gm) ?? []).length, t: (t0 + t1) / 2 };
}
