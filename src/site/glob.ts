// serve.json's globs, with the semantics of minimatch 3.1.5 and its defaults (what serve-handler 6.1.8
// uses): `*`, `?`, `[...]`, `**` as a whole segment, `{a,b}` and `{1..3}` braces, the extglobs
// `@( )`, `?( )`, `+( )`, `*( )`, and a leading `!` that negates. Wildcards never match a name that
// starts with '.', and matching is case-sensitive. Compiled once: one RegExp per brace alternative
// with at most one `**` and no segment of two unbounded quantifiers; else a segment-by-segment match
// (O(parts × segments)), each segment by glob-segment.ts's automaton. A RegExp with two `**`, or
// "*-*-*.js", backtracks polynomially: seconds on a path of a few thousand characters.

import { expandBraces } from "./glob-braces.ts";
import { GlobError } from "./glob-error.ts";
import { parseSegment, type SegmentMatch } from "./glob-segment.ts";

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
  // One RegExp for the whole path while that cannot backtrack badly: one `**` at most, and no
  // segment with two unbounded quantifiers (each other one is held inside its segment by the '/').
  if (globstars <= 1 && parts.every((p) => p === "**" || parseSegment(p, pattern).regexSafe)) {
    const re = globToRegex(parts, pattern);
    return (path) => re.test(path);
  }
  return segmentMatcher(parts, pattern);
}

/** Matched a segment at a time; a `**` tries each number of segments once (memoised: O(parts × segments)). */
function segmentMatcher(parts: readonly string[], pattern: string): Glob {
  const segs: (SegmentMatch | null)[] = parts.map((p) => (p === "**" ? null : parseSegment(p, pattern).matcher()));
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
          ok = (typeof seg === "string" ? f === seg : seg(f)) && match(pi + 1, fi + 1);
        }
      }
      memo[key] = ok ? 2 : 1;
      return ok;
    };
    return match(0, 0);
  };
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
    re += parseSegment(part, pattern).regex();
  }
  try {
    // minimatch lets a path end with one more, empty, segment: "/*" takes "/a/".
    return new RegExp(`${re}/?$`);
  } catch {
    throw new GlobError(`bad glob "${pattern}"`);
  }
}
