// Resident memory a server spends per idle keep-alive connection: its VmRSS at rest, holding N idle
// connections this process opened (bench/lib/scale-idle.ts), and after they close; with the checks
// that the measurement is what it says (every connection still open, well inside the keep-alive timeout).
import { openIdlePool } from "./scale-idle.ts";
import type { RawResponse } from "./raw-http.ts";
import { waitIdle, type Target } from "./scale-run.ts";
import { fdCount, listenCounters, pollUntil, rssOf } from "./scale-kernel.ts";

export interface Memory {
  /** VmRSS, bytes. */
  before: number;
  held: number;
  afterClose: number;
  /** (held − before) ÷ N, of VmRSS and of its anonymous part. */
  perConn: number;
  perConnAnon: number;
  openSeconds: number;
  /** From the first connect to the last RSS reading while they were held. */
  holdSeconds: number;
  problems: string[];
}

/** RSS once it stops moving: samples 250 ms apart until two are within 0.5% (3 s at most). */
async function steadyRss(pid: number): Promise<{ rss: number; anon: number }> {
  let last = rssOf(pid);
  for (let i = 0; i < 12; i++) {
    await Bun.sleep(250);
    const now = rssOf(pid);
    const steady = Math.abs(now.rss - last.rss) <= last.rss * 0.005;
    last = now;
    if (steady) break;
  }
  return last;
}

export async function measureMemory(s: Target, n: number, request: string, check: (r: RawResponse) => void, keepAliveMs: number): Promise<Memory> {
  await waitIdle(s);
  const problems: string[] = [];
  const before = await steadyRss(s.pid);
  const t0 = performance.now();
  const overflows0 = listenCounters().overflows;
  const pool = await openIdlePool(s.port, n, request, check);
  const openSeconds = (performance.now() - t0) / 1000;
  const all = await pollUntil(() => fdCount(s.pid) - s.baseFds, (k) => k >= n, 10_000);
  if (!all.met) problems.push(`the server holds ${all.value} descriptors more than at rest, not ${n}`);
  const held = await steadyRss(s.pid);
  const holdSeconds = (performance.now() - t0) / 1000;
  // Every connection must still be open now: none cut by a timeout or a limit while we measured.
  const stillHeld = fdCount(s.pid) - s.baseFds;
  if (pool.closedByServer > 0 || stillHeld < n) problems.push(`${pool.closedByServer} connections closed by the server during the measurement (${stillHeld} held)`);
  if (pool.strayBytes > 0) problems.push(`${pool.strayBytes} bytes sent to idle connections`);
  if (holdSeconds * 1000 > keepAliveMs * 0.75) problems.push(`the measurement took ${holdSeconds.toFixed(1)} s, near the ${keepAliveMs / 1000} s keep-alive timeout`);
  const overflows = listenCounters().overflows - overflows0;
  if (overflows > 0) problems.push(`${overflows} listen-queue overflows while opening (the whole machine's count)`);
  pool.close();
  const gone = await pollUntil(() => fdCount(s.pid) - s.baseFds, (k) => k <= 2, 20_000);
  if (!gone.met) problems.push(`${gone.value} connections still open at the server 20 s after we closed them`);
  await Bun.sleep(1000);
  const afterClose = await steadyRss(s.pid);
  return {
    before: before.rss,
    held: held.rss,
    afterClose: afterClose.rss,
    perConn: (held.rss - before.rss) / n,
    perConnAnon: (held.anon - before.anon) / n,
    openSeconds,
    holdSeconds,
    problems,
  };
}
