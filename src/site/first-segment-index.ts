// Rules bucketed by the literal first segment of their path, so a request is tried against the
// rules that can take it (its own first segment's, and those that take any) rather than all of
// them: with thousands of `/old-page /new-page` lines, a request looks at a handful.

const NONE = new Int32Array(0);

export class FirstSegmentIndex {
  /** The rules (in file order) whose pattern needs that first segment. */
  readonly #buckets = new Map<string, Int32Array>();
  /** The rules (in file order) that take a path whatever its first segment. */
  readonly any: Int32Array;

  /** `keys[i]`: rule i's first segment as the paths given to bucket() spell it, or null for any. */
  constructor(keys: readonly (string | null)[]) {
    const lists = new Map<string, number[]>();
    const any: number[] = [];
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      if (k === null || k === undefined) any.push(i);
      else {
        let l = lists.get(k);
        if (l === undefined) lists.set(k, (l = []));
        l.push(i);
      }
    }
    for (const [k, l] of lists) this.#buckets.set(k, Int32Array.from(l));
    this.any = Int32Array.from(any);
  }

  /** The rules keyed by the first segment of `path` ("/a/b" → "a"), in file order. */
  bucket(path: string): Int32Array {
    if (this.#buckets.size === 0) return NONE;
    const slash = path.indexOf("/", 1);
    return this.#buckets.get(path.slice(1, slash < 0 ? path.length : slash)) ?? NONE;
  }
}
