// The path pattern of a _headers block, with the meaning Netlify's headers parser gives it (it
// compiles the pattern to a regular expression): case-insensitive; empty segments ignored; `:name`
// is one non-empty segment; a `*` inside a segment is anything, '/' too (`/*.css` takes `/x/y.css`);
// a trailing '/' is optional. A segment that is just `*` is nothing, or a '/' and anything after it:
// `/a/*` takes `/a` and `/a/b/c` but not `/ab`, which Netlify's expression (`/a/?(.*)`) would.
// Literal and `/prefix/*` patterns, nearly all of them, are a string comparison; the others run as
// an NFA over the path: O(path × pattern) steps at worst, never exponential.

import { canonicalPath } from "./rule-path.ts";

const EXACT = 0;
const PREFIX = 1;
const NFA = 2;

// NFA steps: a char code (>= 0) is that character
const SEG_ONE = -1; // one character but '/'
const SEG_MORE = -2; // any number of characters but '/'
const ANY = -3; // any number of any characters
const OPT_SLASH = -4; // an optional '/'
const STAR_SEGMENT = -5; // a whole-segment `*`: skip it and the ANY after it, or read a '/' into that ANY

export class HeadersPattern {
  readonly #kind: number;
  /** EXACT: the path without its trailing '/'; PREFIX: the part before `/*`. Lower case. */
  readonly #literal: string;
  readonly #steps: Int32Array;
  /** The literal first segment a path needs (lower case), or null when the pattern takes any. */
  readonly firstSegment: string | null;
  /** The two state lists of a run, and each state's mark (see #run). */
  readonly #now: Int32Array;
  readonly #next: Int32Array;
  readonly #mark: Uint32Array;
  #generation = 0;

  constructor(raw: string) {
    const parts = raw.split("/").filter((p) => p !== "");
    const simple = parts.every((p) => !p.includes("*") && !p.startsWith(":"));
    const lower = (p: string) => canonicalPath(p).toLowerCase();
    if (simple) {
      this.#kind = EXACT;
      this.#literal = "/" + parts.map(lower).join("/");
    } else if (parts.length > 0 && parts.at(-1) === "*" && parts.slice(0, -1).every((p) => !p.includes("*") && !p.startsWith(":"))) {
      this.#kind = PREFIX;
      this.#literal = parts.length === 1 ? "" : "/" + parts.slice(0, -1).map(lower).join("/");
    } else {
      this.#kind = NFA;
      this.#literal = "";
    }
    const head = parts[0];
    this.firstSegment = head !== undefined && !head.includes("*") && !head.startsWith(":") ? lower(head) : null;
    const steps: number[] = [];
    if (this.#kind === NFA) {
      for (const part of parts) {
        if (part === "*") {
          steps.push(STAR_SEGMENT, ANY);
          continue;
        }
        steps.push(47); // '/'
        if (part.startsWith(":")) steps.push(SEG_ONE, SEG_MORE);
        else {
          const pieces = part.split("*");
          for (let i = 0; i < pieces.length; i++) {
            if (i > 0) steps.push(ANY);
            const lit = lower(pieces[i]!);
            for (let k = 0; k < lit.length; k++) steps.push(lit.charCodeAt(k));
          }
        }
      }
      steps.push(OPT_SLASH);
    }
    this.#steps = Int32Array.from(steps);
    this.#now = new Int32Array(steps.length + 1);
    this.#next = new Int32Array(steps.length + 1);
    this.#mark = new Uint32Array(steps.length + 1);
  }

  /** Whether the pattern takes `path`: canonical (see rule-path.ts) and lower-cased. */
  matches(path: string): boolean {
    const lit = this.#literal;
    if (this.#kind === EXACT) {
      if (lit === "/") return path === "/";
      return path.length - lit.length <= 1 && path.startsWith(lit) && (path.length === lit.length || path.charCodeAt(lit.length) === 47);
    }
    if (this.#kind === PREFIX) return path.startsWith(lit) && (path.length === lit.length || path.charCodeAt(lit.length) === 47);
    return this.#run(path);
  }

  /**
   * Runs the NFA with sparse state lists: a step costs the live states (two or three for usual
   * patterns), not the whole pattern. A state is in a list when its mark is the list's generation.
   */
  #run(path: string): boolean {
    const m = this.#steps.length;
    let now = this.#now;
    let next = this.#next;
    let gen = this.#nextGeneration();
    let count = this.#add(now, 0, 0, gen);
    for (let i = 0; i < path.length && count > 0; i++) {
      const c = path.charCodeAt(i);
      const nextGen = this.#nextGeneration();
      let n = 0;
      for (let k = 0; k < count; k++) {
        const s = now[k]!;
        if (s === m) continue;
        const step = this.#steps[s]!;
        if (step >= 0) {
          if (step === c) n = this.#add(next, n, s + 1, nextGen);
        } else if (step === SEG_ONE) {
          if (c !== 47) n = this.#add(next, n, s + 1, nextGen);
        } else if (step === SEG_MORE) {
          if (c !== 47) n = this.#add(next, n, s, nextGen);
        } else if (step === ANY) n = this.#add(next, n, s, nextGen);
        else if (c === 47) n = this.#add(next, n, s + 1, nextGen); // OPT_SLASH, STAR_SEGMENT read a '/'
      }
      const t = now;
      now = next;
      next = t;
      count = n;
      gen = nextGen;
    }
    return this.#mark[m] === gen && count > 0;
  }

  /**
   * Adds state `s` to `list` (holding `n`), with the states it reaches without reading: each state
   * has at most one such successor (past an optional '/', or a star that takes nothing).
   */
  #add(list: Int32Array, n: number, s: number, gen: number): number {
    const steps = this.#steps;
    const mark = this.#mark;
    while (mark[s] !== gen) {
      mark[s] = gen;
      list[n++] = s;
      if (s === steps.length) break;
      const step = steps[s];
      if (step === OPT_SLASH || step === ANY || step === SEG_MORE) s++;
      else if (step === STAR_SEGMENT) s += 2;
      else break;
    }
    return n;
  }

  #nextGeneration(): number {
    if (this.#generation === 0xffffffff) {
      this.#mark.fill(0);
      this.#generation = 0;
    }
    return ++this.#generation;
  }
}
