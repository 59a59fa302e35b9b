// Compression work waiting for a thread: at most a few builds run at once (each holds a compressor
// and its input), urgent ones (a client is waiting) before the rest, and the queue itself is bounded,
// so a client asking for ten thousand files at once cannot make the server hold ten thousand inputs.
// Background builds (which may take seconds) never hold the last slot: an urgent one always gets it.

/** A unit of work: it reads its input only once it runs. */
export type Build = () => Promise<void>;

export class BuildQueue {
  readonly #urgent: Build[] = [];
  readonly #later: Build[] = [];
  #running = 0;
  #runningLater = 0;

  constructor(
    /** Builds at once (Bun's thread pool has a thread per core). */
    private readonly concurrency: number,
    /** Urgent builds waiting at most; past it, add() refuses them. */
    private readonly limit: number,
    /**
     * Background builds waiting at most, apart: a backlog of them (every fast build queues a best
     * one) must never make an urgent build be refused.
     */
    private readonly laterLimit: number = limit,
  ) {}

  /** Builds waiting and running. */
  get size(): number {
    return this.#urgent.length + this.#later.length + this.#running;
  }

  /** Urgent builds waiting (a client waits for each). */
  get urgentWaiting(): number {
    return this.#urgent.length;
  }

  /** Queues `build` (first among the later ones if `urgent`); false when the queue is full. */
  add(build: Build, urgent: boolean): boolean {
    if (urgent ? this.#urgent.length >= this.limit : this.#later.length >= this.laterLimit) return false;
    (urgent ? this.#urgent : this.#later).push(build);
    this.#next();
    return true;
  }

  #next(): void {
    while (this.#running < this.concurrency) {
      let later = false;
      let build = this.#urgent.shift();
      if (build === undefined && this.#runningLater < Math.max(1, this.concurrency - 1)) {
        build = this.#later.shift();
        later = true;
      }
      if (build === undefined) return;
      this.#running++;
      if (later) this.#runningLater++;
      let run: Promise<void>;
      try {
        run = build();
      } catch (err) {
        run = Promise.reject(err);
      }
      run
        .catch((err) => console.error("compression failed:", err))
        .finally(() => {
          this.#running--;
          if (later) this.#runningLater--;
          this.#next();
        });
    }
  }
}
