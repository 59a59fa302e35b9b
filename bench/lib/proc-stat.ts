// CPU time from /proc: of one process (utime + stime, all threads), of each core (/proc/stat), and of
// every process (to name who disturbed a run). Times are in seconds; Linux only.
import { readdirSync, readFileSync } from "node:fs";

/** Clock ticks per second of the /proc times; checkClockTick() makes sure. */
export const CLK_TCK = 100;

export function checkClockTick(): void {
  const tck = Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim();
  if (tck !== `${CLK_TCK}`) throw new Error(`CLK_TCK is ${tck}, this script assumes ${CLK_TCK}`);
}

/** The fields of /proc/<pid>/stat after the command name: f[0] is field 3 (state). */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** utime + stime of the whole process (all its threads). */
export function cpuSeconds(pid: number): number {
  const { user, system } = userSystemSeconds(pid);
  return user + system;
}

/** utime and stime of the whole process (all its threads), apart: user space and the kernel. */
export function userSystemSeconds(pid: number): { user: number; system: number } {
  const f = statFields(readFileSync(`/proc/${pid}/stat`, "utf8"));
  // utime is field 14, stime field 15.
  return { user: Number(f[11]) / CLK_TCK, system: Number(f[12]) / CLK_TCK };
}

/** The child processes of `pid` (of all its threads), from /proc/<pid>/task/<tid>/children. */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      for (const c of readFileSync(`/proc/${pid}/task/${t}/children`, "utf8").trim().split(" ")) if (c !== "") out.push(Number(c));
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/** utime + stime of `pid` and of all its descendants alive now (a master and its workers). */
export function treeCpuSeconds(pid: number): number {
  let total = 0;
  try {
    total = cpuSeconds(pid);
    for (const c of childPids(pid)) total += treeCpuSeconds(c);
  } catch {
    // exited meanwhile: its time is gone with it
  }
  return total;
}

export type CoreTimes = Map<string, { busy: number; steal: number; softirq: number }>;

/**
 * Per core: busy time in user, nice and system modes, steal time, and interrupt time (irq +
 * softirq: loopback TCP's receive path, mostly). Without CONFIG_IRQ_TIME_ACCOUNTING a tick in a
 * softirq counts here and in the stime of the process it interrupted, not in `busy`.
 */
export function coreTimes(): CoreTimes {
  const out: CoreTimes = new Map();
  for (const line of readFileSync("/proc/stat", "utf8").split("\n")) {
    const m = /^cpu(\d+) (.*)/.exec(line);
    if (!m) continue;
    const f = m[2]!.split(" ").map(Number);
    // user nice system idle iowait irq softirq steal
    out.set(m[1]!, { busy: (f[0]! + f[1]! + f[2]!) / CLK_TCK, steal: f[7]! / CLK_TCK, softirq: (f[5]! + f[6]!) / CLK_TCK });
  }
  return out;
}

export type ProcessTimes = Map<number, { comm: string; cpu: number }>;

/**
 * CPU seconds of every process now (pid → name and utime+stime). `userOnly` leaves out kernel
 * threads (kthreadd's children: ksoftirqd carries loopback work).
 */
export function processTimes(userOnly = false): ProcessTimes {
  const out: ProcessTimes = new Map();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const f = statFields(stat);
      if (userOnly && (name === "2" || f[1] === "2")) continue;
      out.set(Number(name), { comm: stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")), cpu: (Number(f[11]) + Number(f[12])) / CLK_TCK });
    } catch {
      // exited meanwhile
    }
  }
  return out;
}
