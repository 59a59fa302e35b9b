// Is the machine quiet? The CPU other processes took on the server's and the client's cores during a
// run, who took it, and retries of a disturbed run (the machine may be shared).
import type { CoreTimes, ProcessTimes } from "./proc-stat.ts";

/** Foreign CPU share on either core above which a run is marked noisy (with * in the tables). */
export const NOISE_LIMIT = 0.05;

/**
 * CPU time on the two cores spent by neither the server nor the client (other processes, other
 * sessions, the VM's host through steal), as a share of the run.
 */
export function foreignLoad(
  before: CoreTimes,
  after: CoreTimes,
  server: { core: string; cpu: number },
  client: { core: string; cpu: number },
  wall: number,
): { server: number; client: number } {
  const d = (core: string) => {
    const a = after.get(core);
    const b = before.get(core);
    return a && b ? a.busy - b.busy + (a.steal - b.steal) : 0;
  };
  return {
    server: Math.max(0, d(server.core) - server.cpu) / wall,
    client: Math.max(0, d(client.core) - client.cpu) / wall,
  };
}

/** The processes (other than `exclude` and this one) that used the most CPU between two snapshots. */
export function topOthers(before: ProcessTimes, after: ProcessTimes, exclude: number[]): string {
  const rows: [string, number][] = [];
  for (const [pid, a] of after) {
    if (exclude.includes(pid) || pid === process.pid) continue;
    const d = a.cpu - (before.get(pid)?.cpu ?? 0);
    if (d >= 0.05) rows.push([`${a.comm}[${pid}]${before.has(pid) ? "" : " (new)"}`, d]);
  }
  rows.sort((x, y) => y[1] - x[1]);
  return rows.length ? rows.slice(0, 4).map(([n, d]) => `${n} ${d.toFixed(2)} s`).join(", ") : "short-lived processes or kernel work";
}

/**
 * Runs `measure` and, while another process disturbed it (`foreign` above NOISE_LIMIT), again after a
 * pause, up to `retries` times; keeps the quietest sample (the later one on a tie).
 */
export async function quietest<S extends { foreign: number }>(
  measure: (retry: number) => Promise<S>,
  retries: number,
  pauseMs: number,
): Promise<S> {
  let s = await measure(0);
  for (let retry = 1; s.foreign > NOISE_LIMIT && retry <= retries; retry++) {
    await Bun.sleep(pauseMs);
    const again = await measure(retry);
    if (again.foreign <= s.foreign) s = again;
  }
  return s;
}

/** The report's list of disturbed runs (Markdown lines). */
export function noisyRunsSection(runs: string[]): string[] {
  return [`## noisy runs (*: other processes used more than ${NOISE_LIMIT * 100}% of a core)`, "", ...(runs.length ? runs.map((p) => `- ${p}`) : ["none"]), ""];
}

/** The same on stdout after the tables, when there are any. */
export function printNoisyRuns(runs: string[]): void {
  if (runs.length) console.log(`\n## noisy runs (marked * above)\n\n${runs.map((p) => `- ${p}`).join("\n")}`);
}
