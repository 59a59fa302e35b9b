// One timed wrk run against a pinned server: wrk on its own core, the server's CPU time over the
// run (per request and as a share of the run), who else used the two cores, and wrk's errors.
// What bench/load.ts and bench/compress.ts measure each round with.
import { foreignLoad, NOISE_LIMIT, topOthers } from "./noise.ts";
import { isDead, logTail, type PinnedServer } from "./pinned-server.ts";
import { coreTimes, cpuSeconds, processTimes } from "./proc-stat.ts";
import { fmtRate } from "./stats.ts";
import { runWrk, wrkErrors, type WrkOptions, type WrkResult } from "./wrk.ts";

export interface RunSample {
  rps: number;
  requests: number;
  cpuUsPerReq: number;
  /** Server CPU time over the run's wall time. */
  cpuShare: number;
  wrkShare: number;
  /** Other processes took more than NOISE_LIMIT of a core during the run. */
  noisy: boolean;
  /** The larger foreign share of the two cores. */
  foreign: number;
}

/** Where a run's troubles are written down: wrk errors and disturbed runs, one line each. */
export interface RunLog {
  problems: string[];
  noisyRuns: string[];
}

/**
 * Runs wrk (`o`, pinned to `o.core`) against `r` (pinned to `serverCore`). `what` names the run in
 * messages ("[case] server, round 2"). Throws if the server died during it.
 */
export async function pinnedRun(r: PinnedServer, serverCore: string, o: WrkOptions & { core: string }, what: string, log: RunLog): Promise<{ s: RunSample; w: WrkResult; note: string }> {
  const before = cpuSeconds(r.pid);
  const coresBefore = coreTimes();
  const procsBefore = processTimes();
  const t0 = performance.now();
  const w = await runWrk(o);
  const wall = (performance.now() - t0) / 1000;
  if (isDead(r.proc)) throw new Error(`${r.name} DIED during ${what} (exit ${r.proc.exitCode ?? r.proc.signalCode}):\n${logTail(r.log)}`);
  const cpu = cpuSeconds(r.pid) - before;
  const foreign = foreignLoad(coresBefore, coreTimes(), { core: serverCore, cpu }, { core: o.core, cpu: w.cpu }, wall);
  const noisy = foreign.server > NOISE_LIMIT || foreign.client > NOISE_LIMIT;
  let noise = `other load: core ${serverCore} ${(foreign.server * 100).toFixed(0)}%, core ${o.core} ${(foreign.client * 100).toFixed(0)}%`;
  if (noisy) noise += ` — busiest: ${topOthers(procsBefore, processTimes(), [r.pid])}`;
  if (noisy) log.noisyRuns.push(`${what}: ${noise}`);
  const errs = wrkErrors(w);
  if (errs !== "") log.problems.push(`${what}: ${errs} (of ${w.requests} requests)`);
  if (w.requests === 0) log.problems.push(`${what}: ZERO requests completed`);
  const s: RunSample = {
    rps: w.rps,
    requests: w.requests,
    cpuUsPerReq: w.requests > 0 ? (cpu * 1e6) / w.requests : NaN,
    cpuShare: cpu / wall,
    wrkShare: w.cpu / wall,
    noisy,
    foreign: Math.max(foreign.server, foreign.client),
  };
  const note = `${noisy ? `  NOISY (${noise})` : ""}${errs ? `  ERRORS: ${errs}` : ""}`;
  return { s, w, note };
}

/** The progress line of a run on stderr: rate, CPU per request, CPU shares, `extra`, then noise and errors. */
export function printRun(label: string, name: string, width: number, s: RunSample, extra: string, note: string): void {
  console.error(
    `    ${label.padEnd(16)} ${name.padEnd(width)} ${fmtRate(s.rps).padStart(8)} req/s  ${s.cpuUsPerReq.toFixed(2).padStart(7)} µs CPU/req  ` +
      `CPU ${(s.cpuShare * 100).toFixed(0)}% (wrk ${(s.wrkShare * 100).toFixed(0)}%)  ${extra}${note}`,
  );
}
