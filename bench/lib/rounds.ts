// The order of a benchmark's runs: one warm-up run per contestant (not counted), then rounds that
// alternate between them (A B C A B C …), each run repeated while other processes disturbed it.
import { quietest } from "./noise.ts";

export interface RoundOptions {
  /** Seconds of warm-up (0: none). */
  warmup: number;
  rounds: number;
  retries: number;
}

/**
 * Runs `measure(item, label, seconds)` for every item: a warm-up of `o.warmup` s each, then
 * `o.rounds` rounds; returns the timed samples per item, in round order.
 */
export async function alternateRounds<T, S extends { foreign: number }>(
  items: readonly T[],
  o: RoundOptions & { duration: number },
  measure: (item: T, label: string, seconds: number) => Promise<S>,
): Promise<S[][]> {
  if (o.warmup > 0) for (const item of items) await measure(item, "warm-up", o.warmup);
  const samples: S[][] = items.map(() => []);
  for (let round = 1; round <= o.rounds; round++) {
    for (const [i, item] of items.entries()) {
      // Another process took CPU from the server or the client: try again after a pause, keep the quietest.
      samples[i]!.push(await quietest((retry) => measure(item, `round ${round}${retry ? ` retry ${retry}` : ""}`, o.duration), o.retries, 2000));
    }
  }
  return samples;
}
