// serve.json's globs, with the semantics of minimatch 3.1.5 and its defaults (what serve-handler 6.1.8
// uses): `*`, `?`, `[...]`, `**` as a whole segment, `{a,b}` and `{1..3}` braces, the extglobs
// `@( )`, `?( )`, `+( )`, `*( )`, and a leading `!` that negates. Wildcards never match a name that
// starts with '.', and matching is case-sensitive. Compiled once: one RegExp per brace alternative
// with at most one `**`; with more, a segment-by-segment match (a RegExp with two `**` backtracks
// polynomially, and "/**/x/**/y" against a path of a thousand segments would take seconds).

import { expandBraces } from "./glob-braces.ts";
import { GlobError } from "./glob-error.ts";

export { expandBraces } from "./glob-braces.ts";
export { GlobError } from "./glob-error.ts";

/** A compiled glob: does it match this path ("/a/b", no trailing slash)? */
export type Glob = (path: string) => boolean;

export function compileGlob(pattern: string): Glob {
  let negate = false;
  let start = 0;
  while (pattern.charCodeAt(start) === 33) {
    // '!'
    negate = !negate;
    start++;
  }
  const body = pattern.slice(start);
  // minimatch: a pattern that starts with '#' is a comment and matches nothing.
  if (body.startsWith("#")) return () => negate;
  const matchers = expandBraces(body).map(compileAlternative);
  if (matchers.length === 1) {
    const m = matchers[0]!;
    return negate ? (path) => !m(path) : m;
  }
  return (path) => {
    for (const m of matchers) if (m(path)) return !negate;
    return negate;
  };
}

/** One segment a `**` may take: any name that does not start with '.' (the empty one too). */
const SEGMENT = "(?!\\.)[^/]*";

function compileAlternative(pattern: string): Glob {
  // "**/**" means what "**" means (zero or more segments, twice).
  const parts = pattern.split("/").filter((p, i, all) => !(p === "**" && all[i - 1] === "**"));
  let globstars = 0;
  for (const p of parts) if (p === "**") globstars++;
  if (globstars <= 1) {
    const re = globToRegex(parts, pattern);
    return (path) => re.test(path);
  }
  return segmentMatcher(parts, pattern);
}

/** Matched a segment at a time; a `**` tries each number of segments once (memoised: O(parts × segments)). */
function segmentMatcher(parts: readonly string[], pattern: string): Glob {
  const segs: (RegExp | string | null)[] = parts.map((p) => {
    if (p === "**") return null;
    if (!translate(p, 0, p.length, false).magic) return unescape(p);
    try {
      return new RegExp(`^${segmentToRegex(p)}$`);
    } catch {
      throw new GlobError(`bad glob "${pattern}"`);
    }
  });
  const m = segs.length;
  return (path) => {
    const file = path.split("/");
    const n = file.length;
    // 0: not tried, 1: no, 2: yes
    const memo = new Uint8Array((m + 1) * (n + 1));
    const match = (pi: number, fi: number): boolean => {
      const key = pi * (n + 1) + fi;
      if (memo[key] !== 0) return memo[key] === 2;
      let ok = false;
      if (pi === m) ok = fi === n || (fi === n - 1 && file[fi] === "");
      else {
        const seg = segs[pi];
        if (seg === null) {
          if (pi === m - 1) {
            // A last `**` takes the rest, at least one segment, none a dot-name.
            ok = fi < n;
            for (let k = fi; ok && k < n; k++) if (file[k]!.charCodeAt(0) === 46) ok = false;
          } else {
            for (let k = fi; k < n; k++) {
              if (match(pi + 1, k)) {
                ok = true;
                break;
              }
              if (file[k]!.charCodeAt(0) === 46) break; // '.': a dot-name is never swallowed
            }
          }
        } else if (fi < n) {
          const f = file[fi]!;
          ok = (typeof seg === "string" ? f === seg : seg.test(f)) && match(pi + 1, fi + 1);
        }
      }
      memo[key] = ok ? 2 : 1;
      return ok;
    };
    return match(0, 0);
  };
}

/** A segment without magic, its backslash escapes taken out. */
function unescape(p: string): string {
  return p.replace(/\\(.)/g, "$1");
}

function globToRegex(parts: readonly string[], pattern: string): RegExp {
  let re = "^";
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const last = i === parts.length - 1;
    if (part === "**") {
      if (i === 0) re += last ? `${SEGMENT}(?:/${SEGMENT})*` : `(?:${SEGMENT}/)*`;
      // At the end it needs one more segment (which may be empty): "/a/**" takes "/a/" but not "/a".
      else re += last ? `/${SEGMENT}(?:/${SEGMENT})*` : `(?:/${SEGMENT})*`;
      continue;
    }
    if (i > 0 && !(i === 1 && parts[0] === "**")) re += "/";
    re += segmentToRegex(part);
  }
  try {
    // minimatch lets a path end with one more, empty, segment: "/*" takes "/a/".
    return new RegExp(`${re}/?$`);
  } catch {
    throw new GlobError(`bad glob "${pattern}"`);
  }
}

function escapeChar(c: string): string {
  return /[.+*?^${}()[\]|\\/]/.test(c) ? `\\${c}` : c;
}

/** One segment (no '/'): a literal, or a regex that cannot match an empty name or a dot-name it does not spell. */
function segmentToRegex(seg: string): string {
  const { re, magic } = translate(seg, 0, seg.length, false);
  if (!magic) return re;
  // A wildcard may not match the leading '.' of a name; and a magic segment matches no empty name.
  return (seg.startsWith(".") ? "" : "(?!\\.)") + "(?=.)" + re;
}

interface Translated {
  re: string;
  magic: boolean;
}

/** Translates seg[from, to); inside an extglob, `|` separates alternatives. */
function translate(seg: string, from: number, to: number, inGroup: boolean): Translated {
  let re = "";
  let magic = false;
  for (let i = from; i < to; i++) {
    const c = seg[i]!;
    const next = seg[i + 1];
    if (c === "\\" && i + 1 < to) {
      re += escapeChar(seg[++i]!);
      continue;
    }
    if (next === "(" && "@?+*!".includes(c)) {
      const close = findClose(seg, i + 1, to);
      if (close > 0) {
        if (c === "!") throw new GlobError(`the extglob "!(…)" in "${seg}" is not supported`);
        const alts = splitAlternatives(seg, i + 2, close).map(([a, b]) => translate(seg, a, b, true).re);
        const group = `(?:${alts.join("|")})`;
        re += c === "@" ? group : c === "?" ? `${group}?` : c === "+" ? `${group}+` : `${group}*`;
        magic = true;
        i = close;
        continue;
      }
    }
    if (c === "*") {
      while (seg[i + 1] === "*") i++;
      re += "[^/]*?";
      magic = true;
    } else if (c === "?") {
      re += "[^/]";
      magic = true;
    } else if (c === "[") {
      const end = classEnd(seg, i, to);
      if (end < 0) {
        re += "\\[";
        continue;
      }
      let body = seg.slice(i + 1, end);
      let neg = "";
      if (body.startsWith("!") || body.startsWith("^")) {
        neg = "^";
        body = body.slice(1);
      }
      re += `[${neg}${body.replace(/\\(?!.)|[\\\]]/g, (m) => `\\${m}`).replace(/\[/g, "\\[")}]`;
      magic = true;
      i = end;
    } else if (c === "|" && inGroup) {
      re += "|";
    } else {
      re += escapeChar(c);
    }
  }
  return { re, magic };
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
