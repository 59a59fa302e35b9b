// The path pattern of a _headers block, with Netlify's meaning (its headers parser compiles the same
// pattern to a regular expression): case-insensitive; empty segments ignored; `:name` is one
// non-empty segment; a segment that is just `*` is anything, the '/' before it included (so `/a/*`
// takes `/a`); a `*` inside a segment is anything, '/' too (`/*.css` takes `/x/y.css`); a trailing
// '/' is optional. Literal and `/prefix/*` patterns, nearly all of them, are a string comparison;
// the others run as an NFA over the path: O(path × pattern) at worst, never exponential.

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
  #now: Uint8Array;
  #next: Uint8Array;

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
    this.#now = new Uint8Array(steps.length + 1);
    this.#next = new Uint8Array(steps.length + 1);
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

  #run(path: string): boolean {
    const steps = this.#steps;
    const m = steps.length;
    let now = this.#now;
    let next = this.#next;
    now.fill(0);
    now[0] = 1;
    this.#close(now);
    for (let i = 0; i < path.length; i++) {
      const c = path.charCodeAt(i);
      next.fill(0);
      let alive = false;
      for (let s = 0; s < m; s++) {
        if (now[s] === 0) continue;
        const step = steps[s]!;
        if (step >= 0) {
          if (step === c) (next[s + 1] = 1), (alive = true);
        } else if (step === SEG_ONE) {
          if (c !== 47) (next[s + 1] = 1), (alive = true);
        } else if (step === SEG_MORE) {
          if (c !== 47) (next[s] = 1), (alive = true);
        } else if (step === ANY) (next[s] = 1), (alive = true);
        else if (c === 47) (next[s + 1] = 1), (alive = true); // OPT_SLASH, STAR_SEGMENT
      }
      if (!alive) return false;
      this.#close(next);
      const t = now;
      now = next;
      next = t;
    }
    return now[m] === 1;
  }

  /** Adds the states reachable without reading: past an optional '/' or a star that takes nothing. */
  #close(set: Uint8Array): void {
    const steps = this.#steps;
    for (let s = 0; s < steps.length; s++) {
      if (set[s] === 0) continue;
      const step = steps[s];
      if (step === OPT_SLASH || step === ANY || step === SEG_MORE) set[s + 1] = 1;
      else if (step === STAR_SEGMENT) set[s + 2] = 1;
    }
  }
}
