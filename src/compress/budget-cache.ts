// Compressed bodies kept in memory under a byte budget, least recently used out first (CLOCK: a hit
// sets a bit, eviction gives a used entry a second chance), so a hit costs no reordering. Bytes an
// entry is still being built into are counted as they grow, so a build cannot overrun the budget.

export interface CacheEntry {
  /** Bytes this entry holds (counted against the budget). */
  size: number;
  /** Set on every hit; cleared when eviction passes it over once. */
  used: boolean;
  /** Still being built: never evicted (its build stops itself when it cannot grow). */
  building: boolean;
  /** Called once when the entry leaves the cache: drop the bytes. */
  evicted(): void;
}

export class BudgetCache<E extends CacheEntry> {
  readonly #entries = new Map<string, E>();
  #bytes = 0;

  constructor(
    /** Bytes held at most. */
    readonly budget: number,
    /** Entries at most (bodies, and records of files that could not be compressed). */
    private readonly maxEntries: number,
    /** Bytes one entry may hold at most. */
    private readonly maxEntry: number = budget,
  ) {}

  get bytes(): number {
    return this.#bytes;
  }

  /** Bytes one entry may hold at most. */
  get entryLimit(): number {
    return this.maxEntry;
  }

  get count(): number {
    return this.#entries.size;
  }

  get(key: string): E | undefined {
    return this.#entries.get(key);
  }

  /** Adds an entry of size 0 (it grows with grow()), making room in the count if needed. */
  add(key: string, entry: E): void {
    this.delete(key);
    entry.size = 0;
    if (this.#entries.size >= this.maxEntries) this.#evict(0, entry);
    this.#entries.set(key, entry);
  }

  /**
   * Counts `n` more bytes for `entry`, evicting others to make room; false (and nothing counted)
   * when the budget cannot hold them even so, or when the entry is no longer in the cache.
   */
  grow(key: string, entry: E, n: number): boolean {
    if (this.#entries.get(key) !== entry || entry.size + n > this.maxEntry) return false;
    if (this.#bytes + n > this.budget && !this.#evict(n, entry)) return false;
    entry.size += n;
    this.#bytes += n;
    return true;
  }

  /** Gives back `n` of an entry's bytes (its final body came out smaller than what was counted). */
  shrink(key: string, entry: E, n: number): void {
    if (this.#entries.get(key) !== entry) return;
    const m = Math.min(n, entry.size);
    entry.size -= m;
    this.#bytes -= m;
  }

  delete(key: string): void {
    const e = this.#entries.get(key);
    if (e === undefined) return;
    this.#entries.delete(key);
    this.#bytes -= e.size;
    e.size = 0;
    e.evicted();
  }

  /** Evicts until `n` more bytes fit and there is room for one more entry; false if it cannot. */
  #evict(n: number, keep: E): boolean {
    // grow() asks for bytes (n > 0), add() for a place in the count (n = 0).
    const fits = () => (n > 0 ? this.#bytes + n <= this.budget : this.#entries.size < this.maxEntries);
    // Two passes at most: the first may only clear the `used` bits.
    for (let pass = 0; pass < 2 && !fits(); pass++) {
      for (const [key, e] of this.#entries) {
        if (fits()) break;
        if (e === keep || e.building) continue;
        if (n > 0 && e.size === 0) continue; // frees no bytes: a record of a file not to compress, kept
        if (e.used && pass === 0) {
          e.used = false;
          this.#entries.delete(key); // to the back of the line
          this.#entries.set(key, e);
          continue;
        }
        this.delete(key);
      }
    }
    return fits();
  }
}
