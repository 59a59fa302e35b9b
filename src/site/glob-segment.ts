// One segment of a glob (no '/'), read as minimatch 3.1.5 reads it: literals, `*`, `?`, `[...]` and
// the extglobs `@( )`, `?( )`, `+( )`, `*( )`. A segment with at most one `*` and no repeated group
// becomes a RegExp (it cannot backtrack more than linearly); any other is matched by a set-of-states
// automaton, O(name × pattern) whatever the name: "*-*-*.js" or "*(a)*(a)b" as a RegExp take seconds
// on a 4,000-character name.
import { GlobError } from "./glob-error.ts";

/** Extglob groups nested deeper are refused (a parse that recursed on would overflow the stack). */
export const MAX_GROUP_DEPTH = 16;

type Node =
  | { k: "lit"; c: string }
  | { k: "any" }
  | { k: "class"; re: RegExp; src: string }
  | { k: "star" }
  | { k: "group"; q: "@" | "?" | "+" | "*"; alts: Node[][] };

/** A compiled segment: a literal to compare, or a test of a name (no '/' in it). */
export type SegmentMatch = string | ((name: string) => boolean);

export interface Segment {
  /** Anything other than literals (a wildcard may then not take a leading '.', nor an empty name). */
  readonly magic: boolean;
  /** May it be written into a RegExp with the rest of the path (at most one unbounded quantifier)? */
  readonly regexSafe: boolean;
  /** The RegExp source of the segment, the dot and empty-name rules included. */
  regex(): string;
  matcher(): SegmentMatch;
}

export function parseSegment(seg: string, pattern: string): Segment {
  const nodes = parse(seg, 0, seg.length, false, 0, pattern);
  let stars = 0;
  let repeated = false;
  let magic = false;
  const walk = (list: readonly Node[], depth: number): void => {
    for (const n of list) {
      if (n.k === "lit") continue;
      magic = true;
      if (n.k === "star") stars++;
      else if (n.k === "group") {
        if (n.q === "+" || n.q === "*" || depth > 0) repeated = true;
        for (const a of n.alts) walk(a, depth + 1);
      }
    }
  };
  walk(nodes, 0);
  const guard = seg.startsWith(".") ? "" : "(?!\\.)";
  return {
    magic,
    regexSafe: !repeated && stars <= 1,
    regex: () => (magic ? `${guard}(?=.)${regexOf(nodes)}` : regexOf(nodes)),
    matcher: () => (magic ? automaton(nodes, seg.startsWith(".")) : literalOf(nodes)),
  };
}

function parse(seg: string, from: number, to: number, inGroup: boolean, depth: number, pattern: string): Node[] {
  const out: Node[] = [];
  for (let i = from; i < to; i++) {
    const c = seg[i]!;
    const next = seg[i + 1];
    if (c === "\\" && i + 1 < to) {
      out.push({ k: "lit", c: seg[++i]! });
      continue;
    }
    if (next === "(" && "@?+*!".includes(c)) {
      const close = findClose(seg, i + 1, to);
      if (close > 0) {
        if (c === "!") throw new GlobError(`the extglob "!(…)" in "${seg}" is not supported`);
        if (depth >= MAX_GROUP_DEPTH) throw new GlobError(`extglobs nest deeper than ${MAX_GROUP_DEPTH}`);
        const alts = splitAlternatives(seg, i + 2, close).map(([a, b]) => parse(seg, a, b, true, depth + 1, pattern));
        out.push({ k: "group", q: c as "@" | "?" | "+" | "*", alts });
        i = close;
        continue;
      }
    }
    if (c === "*") {
      while (seg[i + 1] === "*") i++;
      out.push({ k: "star" });
    } else if (c === "?") {
      out.push({ k: "any" });
    } else if (c === "[") {
      const end = classEnd(seg, i, to);
      if (end < 0) {
        out.push({ k: "lit", c: "[" });
        continue;
      }
      let body = seg.slice(i + 1, end);
      let neg = "";
      if (body.startsWith("!") || body.startsWith("^")) {
        neg = "^";
        body = body.slice(1);
      }
      const src = `[${neg}${body.replace(/\\(?!.)|[\\\]]/g, (m) => `\\${m}`).replace(/\[/g, "\\[")}]`;
      let re: RegExp;
      try {
        re = new RegExp(`^${src}$`);
      } catch {
        throw new GlobError(`bad glob "${pattern}"`);
      }
      out.push({ k: "class", re, src });
      i = end;
    } else if (c === "|" && inGroup) {
      // (an alternative's bounds are found by splitAlternatives; a stray one is literal)
      out.push({ k: "lit", c: "|" });
    } else {
      out.push({ k: "lit", c });
    }
  }
  return out;
}

function escapeChar(c: string): string {
  return /[.+*?^${}()[\]|\\/]/.test(c) ? `\\${c}` : c;
}

function regexOf(nodes: readonly Node[]): string {
  let re = "";
  for (const n of nodes) {
    if (n.k === "lit") re += escapeChar(n.c);
    else if (n.k === "any") re += "[^/]";
    else if (n.k === "class") re += n.src;
    else if (n.k === "star") re += "[^/]*?";
    else {
      const group = `(?:${n.alts.map(regexOf).join("|")})`;
      re += n.q === "@" ? group : `${group}${n.q}`;
    }
  }
  return re;
}

function literalOf(nodes: readonly Node[]): string {
  let s = "";
  for (const n of nodes) if (n.k === "lit") s += n.c;
  return s;
}

/** A state of the automaton: it takes one character (`test`) to `next`, or none to each of `eps`. */
interface State {
  id: number;
  test: ((c: string) => boolean) | null;
  next: State | null;
  eps: State[];
}

const ANY = () => true;

/** A Thompson automaton of the segment, run over the name with a set of states (no backtracking). */
function automaton(nodes: readonly Node[], dotOk: boolean): (name: string) => boolean {
  const states: State[] = [];
  const state = (test: State["test"] = null, next: State | null = null): State => {
    const s: State = { id: states.length, test, next, eps: [] };
    states.push(s);
    return s;
  };
  const accept = state();
  const seq = (list: readonly Node[], end: State): State => {
    let at = end;
    for (let i = list.length - 1; i >= 0; i--) at = one(list[i]!, at);
    return at;
  };
  const one = (n: Node, next: State): State => {
    if (n.k === "lit") {
      const c = n.c;
      return state((x) => x === c, next);
    }
    if (n.k === "any") return state(ANY, next);
    if (n.k === "class") {
      const re = n.re;
      return state((x) => re.test(x), next);
    }
    if (n.k === "star") {
      const loop = state();
      loop.eps.push(state(ANY, loop), next);
      return loop;
    }
    const entry = state();
    if (n.q === "@" || n.q === "?") {
      for (const a of n.alts) entry.eps.push(seq(a, next));
      if (n.q === "?") entry.eps.push(next);
      return entry;
    }
    // `+( )`: one alternative, then again or on; `*( )` may also take none.
    const again = state();
    again.eps.push(entry, next);
    for (const a of n.alts) entry.eps.push(seq(a, again));
    if (n.q === "*") entry.eps.push(next);
    return entry;
  };
  const start = seq(nodes, accept);
  const count = states.length;
  return (name) => {
    if (name === "" || (!dotOk && name.charCodeAt(0) === 46)) return false;
    const seen = new Uint32Array(count);
    let mark = 1;
    let current: State[] = [];
    const stack: State[] = [];
    const close = (from: State, into: State[]) => {
      stack.push(from);
      while (stack.length > 0) {
        const s = stack.pop()!;
        if (seen[s.id] === mark) continue;
        seen[s.id] = mark;
        if (s.test !== null || s === accept) into.push(s);
        for (let i = s.eps.length - 1; i >= 0; i--) stack.push(s.eps[i]!);
      }
    };
    close(start, current);
    for (let i = 0; i < name.length && current.length > 0; i++) {
      const c = name[i]!;
      mark++;
      const next: State[] = [];
      for (const s of current) if (s.test !== null && s.test(c)) close(s.next!, next);
      current = next;
    }
    return current.includes(accept);
  };
}

/** The index of the ']' that closes the class opened at `open` (a ']' first in it is literal), or -1. */
function classEnd(seg: string, open: number, to: number): number {
  let i = open + 1;
  if (seg[i] === "!" || seg[i] === "^") i++;
  if (seg[i] === "]") i++;
  for (; i < to; i++) {
    if (seg[i] === "\\") i++;
    else if (seg[i] === "]") return i;
  }
  return -1;
}

/** The ')' matching the '(' at `open`, or -1. */
function findClose(seg: string, open: number, to: number): number {
  let depth = 0;
  for (let i = open; i < to; i++) {
    const c = seg[i];
    if (c === "\\") i++;
    else if (c === "(") depth++;
    else if (c === ")" && --depth === 0) return i;
  }
  return -1;
}

/** The [start, end) of each `|`-separated alternative in seg[from, to), at depth 0. */
function splitAlternatives(seg: string, from: number, to: number): [number, number][] {
  const out: [number, number][] = [];
  let depth = 0;
  let start = from;
  for (let i = from; i < to; i++) {
    const c = seg[i];
    if (c === "\\") i++;
    else if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "|" && depth === 0) {
      out.push([start, i]);
      start = i + 1;
    }
  }
  out.push([start, to]);
  return out;
}
