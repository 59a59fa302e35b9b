// Server-wide memory budgets: request-body bytes waiting for handlers and response bytes waiting for
// the kernel, each summed over every connection. Each connection has its own small cap too; these
// stop a thousand connections at their caps from adding up. Past a budget the heaviest connections
// (those above a fair share) stop reading or producing until the total falls to half.

export interface BudgetWaiter {
  /** The budget has room again: read or produce on. */
  onBudget(): void;
}

export class Budget {
  /** Request-body bytes held in RequestBody queues. */
  bodyHeld = 0;
  /** Response bytes queued beyond what the kernel took. */
  outputQueued = 0;
  /** Connections receiving a body right now (for the fair share). */
  receiving = 0;
  /** Connections with queued output right now. */
  sending = 0;
  #waiting = new Set<BudgetWaiter>();
  #scheduled = false;

  constructor(
    readonly bodyLimit: number,
    readonly outputLimit: number,
  ) {}

  /** Whether either total is past half its budget: time to make paused connections read less at a time. */
  get underPressure(): boolean {
    return this.bodyHeld * 2 >= this.bodyLimit || this.outputQueued * 2 >= this.outputLimit;
  }

  /**
   * How many more body bytes a connection holding `held` may take now: unlimited while the total is
   * under half the budget, then its fair share (budget ÷ connections receiving) less what it holds.
   */
  bodyRoom(held: number): number {
    if (this.bodyHeld * 2 < this.bodyLimit) return Number.POSITIVE_INFINITY;
    return Math.max(0, Math.floor(this.bodyLimit / Math.max(1, this.receiving)) - held);
  }

  /** Whether a connection with `queued` output bytes must stop producing for now. */
  outputOver(queued: number): boolean {
    return this.outputQueued >= this.outputLimit && queued * Math.max(1, this.sending) >= this.outputLimit;
  }

  wait(w: BudgetWaiter): void {
    this.#waiting.add(w);
  }

  forget(w: BudgetWaiter): void {
    this.#waiting.delete(w);
  }

  addBody(n: number): void {
    this.bodyHeld += n;
  }

  takeBody(n: number): void {
    this.bodyHeld -= n;
    if (this.bodyHeld * 2 < this.bodyLimit) this.#wake();
  }

  addOutput(n: number): void {
    this.outputQueued += n;
  }

  takeOutput(n: number): void {
    this.outputQueued -= n;
    if (this.outputQueued * 2 < this.outputLimit) this.#wake();
  }

  /** Waiters resume on a later turn of the loop, never inside another connection's callback. */
  #wake(): void {
    if (this.#waiting.size === 0 || this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      const waiting = [...this.#waiting];
      this.#waiting.clear();
      for (const w of waiting) w.onBudget();
    });
  }
}
