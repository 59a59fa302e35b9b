// The source path of a _redirects rule, as Netlify reads it: literal segments, `:name` placeholders
// that take one whole segment, and a splat `*` only at the end (`/news/*` takes `/news`, `/news/` and
// everything under it; `/news*` takes anything that starts with `/news`). Matching walks the
// segments once, left to right: no regular expression, no backtracking, linear in the path.

import { canonicalPath } from "./rule-path.ts";

export const NO_SPLAT = 0;
/** The last segment is `*`: the rest of the path, '/' and all (may be empty). */
export const SPLAT_REST = 1;
/** The last segment ends in `*` after a literal prefix: the rest of the path after that prefix. */
export const SPLAT_SUFFIX = 2;

export interface SourcePattern {
  /** Canonical literal segments; null where a placeholder stands. */
  readonly segments: readonly (string | null)[];
  /** The placeholder names, in the order of the null segments. */
  readonly names: readonly string[];
  readonly splat: typeof NO_SPLAT | typeof SPLAT_REST | typeof SPLAT_SUFFIX;
  /** For SPLAT_SUFFIX: the literal before the `*` in the last segment. */
  readonly splatPrefix: string;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Parses a source path; a string is the problem with it. */
export function parseSourcePattern(raw: string): SourcePattern | string {
  if (raw.charCodeAt(0) !== 47) return `the source "${raw}" must be a path starting with "/"`;
  if (raw.includes("?")) return `the source "${raw}" has a "?": match query parameters with key=value after it`;
  if (raw.includes("#")) return `the source "${raw}" has a "#": a fragment never reaches the server`;
  let body = raw.slice(1);
  let splat: SourcePattern["splat"] = NO_SPLAT;
  let splatPrefix = "";
  const star = body.indexOf("*");
  if (star >= 0) {
    if (star !== body.length - 1) return `the splat "*" may only end the source, as in /path/*`;
    const lastSlash = body.lastIndexOf("/");
    const last = body.slice(lastSlash + 1, -1);
    if (last === "") splat = SPLAT_REST;
    else {
      if (last.startsWith(":")) return `the placeholder in "${last}*" must be a whole segment`;
      splat = SPLAT_SUFFIX;
      splatPrefix = canonicalPath(last);
    }
    body = lastSlash < 0 ? "" : body.slice(0, lastSlash);
  } else if (body.endsWith("/")) body = body.slice(0, -1); // a trailing slash is not significant
  const segments: (string | null)[] = [];
  const names: string[] = [];
  if (body !== "") {
    for (const seg of body.split("/")) {
      if (seg === "") return `the source "${raw}" has an empty segment ("//")`;
      if (seg.charCodeAt(0) === 58) {
        // ':'
        const name = seg.slice(1);
        if (!NAME.test(name)) return `the placeholder "${seg}" must be ":" and a name of letters, digits and "_"`;
        if (name === "splat") return `":splat" is the splat's name: write "*" in the source`;
        if (names.includes(name)) return `the placeholder ":${name}" is used twice`;
        names.push(name);
        segments.push(null);
      } else segments.push(canonicalPath(seg));
    }
  }
  return { segments, names, splat, splatPrefix };
}

/**
 * Matches a canonical request path against `p`. On a match, `captures` receives the placeholder
 * values in order, then the splat (when there is one), all in canonical form; it is cleared first.
 */
export function matchSource(p: SourcePattern, path: string, captures: string[]): boolean {
  captures.length = 0;
  let end = path.length;
  // a trailing slash is not significant, except under a splat that keeps the rest as it is
  if (p.splat === NO_SPLAT && end > 1 && path.charCodeAt(end - 1) === 47) end--;
  const segs = p.segments;
  let pos = 1;
  for (let i = 0; i < segs.length; i++) {
    if (pos > end) return false;
    let stop = path.indexOf("/", pos);
    if (stop < 0 || stop > end) stop = end;
    const lit = segs[i];
    if (lit === null) {
      if (stop === pos) return false; // a placeholder takes a non-empty segment
      captures.push(path.slice(pos, stop));
    } else if (stop - pos !== lit.length || !path.startsWith(lit, pos)) return false;
    if (stop === end) {
      // the path ends here: a match only if the pattern does too, or a /* may take nothing
      if (i !== segs.length - 1) return false;
      if (p.splat === SPLAT_SUFFIX) return false;
      if (p.splat === SPLAT_REST) captures.push("");
      return true;
    }
    pos = stop + 1;
  }
  // every segment matched and the path goes on after a '/' (or the pattern had none: pos is 1)
  switch (p.splat) {
    case NO_SPLAT:
      return segs.length === 0 && end <= 1;
    case SPLAT_REST:
      captures.push(path.slice(pos));
      return true;
    default:
      if (!path.startsWith(p.splatPrefix, pos)) return false;
      captures.push(path.slice(pos + p.splatPrefix.length));
      return true;
  }
}
