// The one way tests wait for a condition: re-check it on every event that can change it (bytes from a
// socket, output from a child) and, for conditions no event announces, every few milliseconds.

/** Wakes the pollers waiting on it (a socket read, a close, a child's output or exit). */
export class Wakeup {
  #waiters: (() => void)[] = [];

  fire(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  /** Resolves at the next fire(), or after `ms`. */
  next(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = Number.isFinite(ms) ? setTimeout(resolve, Math.max(1, ms)) : undefined;
      this.#waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}

export interface PollOptions {
  /** Re-check at least this often, in ms (default 20; with `wake` and no `every`, only on its events). */
  every?: number;
  /** Re-check at once whenever this fires. */
  wake?: Wakeup;
}

/**
 * Re-checks `fn` until it returns something truthy and resolves with that value; resolves null once
 * `ms` have passed without it. `fn` is always checked once more at the deadline.
 */
export async function poll<T>(fn: () => T | Promise<T>, ms: number, options: PollOptions = {}): Promise<NonNullable<T> | null> {
  const every = options.every ?? (options.wake ? Infinity : 20);
  const deadline = performance.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    const left = deadline - performance.now();
    if (left <= 0) return null;
    const wait = Math.min(every, left);
    if (options.wake) await options.wake.next(wait);
    else await Bun.sleep(wait);
  }
}

/** As poll, but throws "timed out after `ms` ms waiting for `what`" instead of resolving null. */
export async function pollUntil<T>(
  fn: () => T | Promise<T>,
  ms = 5000,
  what = "condition",
  options: PollOptions = {},
): Promise<NonNullable<T>> {
  const v = await poll(fn, ms, options);
  if (v === null) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
  return v;
}
