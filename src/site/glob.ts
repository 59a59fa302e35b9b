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

/**
 * Matched a segment at a time, as a table filled from the end: may parts[pi..] take file[fi..]?
 * O(parts × segments) cells, each O(1) but for one segment match; no recursion.
 */
function segmentMatcher(parts: readonly string[], pattern: string): Glob {
  const segs: (SegmentMatch | null)[] = parts.map((p) => (p === "**" ? null : parseSegment(p, pattern).matcher()));
  const m = segs.length;
  return (path) => {
    const file = path.split("/");
    const n = file.length;
    const w = n + 1;
    const ok = new Uint8Array((m + 1) * w);
    const dot = (k: number) => file[k]!.charCodeAt(0) === 46; // '.': a dot-name is never swallowed by `**`
    // The end of the pattern: the end of the path, or one more, empty, segment ("/*" takes "/a/").
    ok[m * w + n] = 1;
    if (file[n - 1] === "") ok[m * w + n - 1] = 1;
    for (let pi = m - 1; pi >= 0; pi--) {
      const seg = segs[pi];
      const row = pi * w;
      const below = row + w;
      if (seg === null && pi === m - 1) {
        // A last `**` takes the rest, at least one segment, none a dot-name.
        for (let fi = n - 1; fi >= 0 && !dot(fi); fi--) ok[row + fi] = 1;
      } else if (seg === null) {
        // Zero segments here, or one (not a dot-name) and `**` again; at the path's end, none.
        for (let fi = n - 1; fi >= 0; fi--) ok[row + fi] = ok[below + fi]! | (dot(fi) ? 0 : ok[row + fi + 1]!);
      } else {
        for (let fi = n - 1; fi >= 0; fi--) {
          if (ok[below + fi + 1] === 0) continue;
          const f = file[fi]!;
          if (typeof seg === "string" ? f === seg : seg(f)) ok[row + fi] = 1;
        }
      }
    }
    return ok[0] === 1;
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
