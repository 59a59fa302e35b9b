// One wrk run of bench/scale.ts against a pinned server, at some number of keep-alive connections:
// req/s over the whole run and over its second half (after the connection ramp), server CPU per
// request, how long the connections took to open, accept-queue overflows, wrk's errors and limits.
import { foreignLoad, NOISE_LIMIT } from "./noise.ts";
import { isDead, logTail, type PinnedServer } from "./pinned-server.ts";
import { coreTimes, cpuSeconds } from "./proc-stat.ts";
import { bytesSentFrom, childByComm, fdCount, listenCounters, nofileOf, pollUntil, tcpInUse } from "./scale-kernel.ts";
import { runWrk, wrkErrors } from "./wrk.ts";

export interface Target extends PinnedServer {
  /** Descriptors open when it holds no connection. */
  baseFds: number;
  /** Bytes of one response on the wire (head and body), as the check before timing read it. */
  responseBytes: number;
}

export interface Run {
  /** wrk's figure: requests over the whole run, the connection ramp included. */
  rps: number;
  requests: number;
  cpuUsPerReq: number;
  /**
   * req/s and server CPU µs per request over the run's second half: the bytes the kernel sent on
   * the server's connections (tcp_info bytes_sent, two `ss` dumps) ÷ the bytes of one response;
   * NaN when the connections were seen to be still opening at half time.
   */
  steadyRps: number;
  steadyCpuUs: number;
  /** wrk's bytes read per request ÷ the response's size: near 1 if the count above is right. */
  bytesCheck: number;
  wrkShare: number;
  /** Seconds from wrk's start until 95% of its connections were established (NaN: never seen). */
  ramp: number;
  /** ListenOverflows during the run (the whole machine's). */
  overflows: number;
  /** wrk's error counts as text, "" when none. */
  errors: string;
  /** Other processes took more than NOISE_LIMIT of a core. */
  noisy: boolean;
  /** wrk's soft open-file limit, read from /proc/<wrk>/limits (NaN if wrk was not seen). */
  wrkNofile: number;
  /** A line for the progress log. */
  line: string;
}

/** Waits (20 s at most) until the server has closed the connections of the last run. */
export async function waitIdle(s: Target): Promise<void> {
  const { value, met } = await pollUntil(() => fdCount(s.pid), (n) => n <= s.baseFds + 2, 20_000);
  if (!met) throw new Error(`${s.name} still has ${value - s.baseFds} connections open 20 s after the last run`);
}

/** Reads the limits of the wrk child once it has exec()ed (taskset → wrk keeps the pid). */
async function watchWrkLimit(done: { v: boolean }): Promise<number> {
  while (!done.v) {
    const pid = childByComm("wrk");
    if (pid !== null) {
      try {
        return nofileOf(pid).soft;
      } catch {}
    }
    await Bun.sleep(20);
  }
  return NaN;
}

/**
 * Seconds from `t0` until 95% of `connections` more loopback connections than at the start are
 * established (both ends; some slack for other processes' sockets), polled every 20 ms until `done`.
 */
async function watchRamp(connections: number, t0: number, done: { v: boolean }): Promise<number> {
  const target = tcpInUse() + Math.floor(2 * connections * 0.95);
  while (!done.v) {
    if (tcpInUse() >= target) return (performance.now() - t0) / 1000;
    await Bun.sleep(20);
  }
  return NaN;
}

interface Sample {
  t: number;
  bytes: number;
  cpu: number;
}

async function sampleAt(s: Target, at: number, core: string): Promise<Sample> {
  await Bun.sleep(Math.max(0, at - performance.now()));
  const cpu0 = cpuSeconds(s.pid);
  const { bytes, t } = bytesSentFrom(s.port, core);
  return { t, bytes, cpu: (cpu0 + cpuSeconds(s.pid)) / 2 };
}

/** One wrk run against `s`; every server in `all` must first have closed the last run's connections. */
export async function measureRun(s: Target, all: Target[], connections: number, duration: number, cores: { server: string; client: string }): Promise<Run> {
  // Another server still closing its connections would spoil the ramp count (and steal CPU).
  for (const x of all) await waitIdle(x);
  const cpu0 = cpuSeconds(s.pid);
  const cores0 = coreTimes();
  const overflows0 = listenCounters().overflows;
  const t0 = performance.now();
  const done = { v: false };
  const wrkNofile = watchWrkLimit(done);
  const ramping = watchRamp(connections, t0, done);
  // The dumps run on wrk's core, not the server's; the second ends before wrk stops. Runs under 2 s
  // (warm-ups) have no second half worth the name.
  const windowed = duration >= 2;
  const half = windowed ? sampleAt(s, t0 + (duration * 1000) / 2, cores.client) : null;
  const nearEnd = windowed ? sampleAt(s, t0 + duration * 1000 - 500, cores.client) : null;
  const w = await runWrk({ url: `http://127.0.0.1:${s.port}/1k.bin`, duration, core: cores.client, connections }).finally(() => (done.v = true));
  const wall = (performance.now() - t0) / 1000;
  const [ramp, a, b] = [await ramping, await half, await nearEnd];
  if (isDead(s.proc)) throw new Error(`${s.name} DIED during a run at ${connections} connections (exit ${s.proc.exitCode ?? s.proc.signalCode}):\n${logTail(s.log)}`);
  const cpu = cpuSeconds(s.pid) - cpu0;
  const overflows = listenCounters().overflows - overflows0;
  const foreign = foreignLoad(cores0, coreTimes(), { core: cores.server, cpu }, { core: cores.client, cpu: w.cpu }, wall);
  // Unseen (NaN: other processes' sockets may hide it) counts as over; seen late, the half is not steady.
  const rampOver = a !== null && b !== null && !(ramp > duration / 2);
  const steadyRequests = a !== null && b !== null ? (b.bytes - a.bytes) / s.responseBytes : NaN;
  const run: Run = {
    rps: w.rps,
    requests: w.requests,
    cpuUsPerReq: w.requests > 0 ? (cpu * 1e6) / w.requests : NaN,
    steadyRps: rampOver ? steadyRequests / ((b!.t - a!.t) / 1000) : NaN,
    steadyCpuUs: rampOver ? ((b!.cpu - a!.cpu) * 1e6) / steadyRequests : NaN,
    bytesCheck: w.readBytes / w.requests / s.responseBytes,
    wrkShare: w.cpu / wall,
    ramp,
    overflows,
    errors: wrkErrors(w) + (w.requests === 0 ? " ZERO requests" : ""),
    noisy: foreign.server > NOISE_LIMIT || foreign.client > NOISE_LIMIT,
    wrkNofile: await wrkNofile,
    line: "",
  };
  const k = (x: number) => (Number.isFinite(x) ? `${(x / 1000).toFixed(1)}k` : "—");
  run.line =
    `${k(run.rps).padStart(6)} req/s (2nd half ${k(run.steadyRps)})  ${run.cpuUsPerReq.toFixed(2).padStart(6)} µs CPU/req (2nd half ${run.steadyCpuUs.toFixed(2)})  ` +
    `wrk CPU ${(run.wrkShare * 100).toFixed(0)}%  connected after ${ramp.toFixed(2)} s  wrk bytes/response ${run.bytesCheck.toFixed(2)}  overflows ${overflows}` +
    (run.errors ? `  ERRORS: ${run.errors}` : "") +
    (run.noisy ? `  NOISY (other load: core ${cores.server} ${(foreign.server * 100).toFixed(0)}%, core ${cores.client} ${(foreign.client * 100).toFixed(0)}%)` : "");
  return run;
}
