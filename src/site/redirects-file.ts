// Parses a Netlify `_redirects` file into rules. One rule a line:
//   from [key=value …] [to] [status[!]]        # comment
// `from` is a path (splat and placeholders: splat-pattern.ts); key=value pairs match query
// parameters (a value `:name` takes any value); `to` is a path or an http(s) URL, with `:name` and
// `:splat` put back; the status is 301 (default), 302, 303, 307, 308 (redirects), 200 (a rewrite) or
// 404 (a rewrite served as Not Found); `!` forces the rule over an existing file. `/path/* 200`
// without `to` rewrites to `/path/:splat`. A bad line is a RuleFileError naming file and line.

import { RuleFileError } from "./rule-file-error.ts";
import { canonicalPath, IN_QUERY, IN_SEGMENT, IN_SPLAT, type ValueContext } from "./rule-path.ts";
import { ruleLines } from "./rule-lines.ts";
import { parseSourcePattern, type SourcePattern, NO_SPLAT } from "./splat-pattern.ts";

/** More rules than this is not a site, it is a mistake or an attack (Netlify advises splats well before it). */
export const MAX_REDIRECT_RULES = 10_000;

export type RedirectStatus = 301 | 302 | 303 | 307 | 308;
export type RuleStatus = RedirectStatus | 200 | 404;
const STATUSES: readonly number[] = [200, 301, 302, 303, 307, 308, 404];

/** A query parameter the rule needs: `value` literal (canonical), or null to take any value into `capture`. */
export interface QueryCondition {
  readonly key: string;
  readonly value: string | null;
  readonly capture: number;
}

/** The destination with its placeholders cut out: literal[0] ref[0] literal[1] … literal[n]. */
export interface Destination {
  readonly literals: readonly string[];
  /** Index into the captures (path placeholders, then the splat, then query placeholders). */
  readonly refs: readonly number[];
  readonly contexts: readonly ValueContext[];
  /** http(s)://… rather than a path on this site. */
  readonly absolute: boolean;
  /** It has its own query: the request's is then not passed on. */
  readonly hasQuery: boolean;
}

export interface RedirectRule {
  /** 1-based line in the file. */
  readonly line: number;
  readonly source: SourcePattern;
  readonly query: readonly QueryCondition[];
  readonly to: Destination;
  readonly status: RuleStatus;
  readonly force: boolean;
}

const STATUS = /^(\d{3})(!?)$/;
const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;
const ABSOLUTE = /^https?:\/\//i;

function isDestination(token: string): boolean {
  return token.charCodeAt(0) === 47 || ABSOLUTE.test(token); // '/'
}

/** Splits `to` into literals and placeholder references; a string is the problem. */
function compileDestination(to: string, captures: ReadonlyMap<string, number>): Destination | string {
  for (let i = 0; i < to.length; i++) {
    const c = to.charCodeAt(i);
    if (c <= 32 || c === 127) return `the destination has a control character`;
  }
  const absolute = ABSOLUTE.test(to);
  let start = 0;
  if (absolute) {
    // placeholders are looked for after the authority: "https://user:pw@host:8080" has none
    const afterScheme = to.indexOf("//") + 2;
    const rest = to.slice(afterScheme).search(/[/?#]/);
    if (afterScheme === to.length || rest === 0) return `the destination "${to}" has no host`;
    start = rest < 0 ? to.length : afterScheme + rest;
  }
  const literals: string[] = [];
  const refs: number[] = [];
  const contexts: ValueContext[] = [];
  let from = 0;
  let inQuery = false;
  for (let i = start; i < to.length; i++) {
    const ch = to[i]!;
    if (ch === "?" || ch === "#") inQuery = true;
    if (ch !== ":" || i + 1 >= to.length || !NAME_START.test(to[i + 1]!)) continue;
    let end = i + 2;
    while (end < to.length && NAME_CHAR.test(to[end]!)) end++;
    const name = to.slice(i + 1, end);
    const index = captures.get(name);
    if (index === undefined) {
      const why = name === "splat" ? "has no splat (*)" : `has no placeholder ":${name}"`;
      return `the destination uses ":${name}" but the source ${why} (write "%3A" for a literal ":")`;
    }
    literals.push(encodeNonAscii(to.slice(from, i)));
    refs.push(index);
    contexts.push(inQuery ? IN_QUERY : name === "splat" ? IN_SPLAT : IN_SEGMENT);
    from = end;
    i = end - 1;
  }
  literals.push(encodeNonAscii(to.slice(from)));
  return { literals, refs, contexts, absolute, hasQuery: to.indexOf("?", start) >= 0 };
}

function encodeNonAscii(s: string): string {
  return s.replace(/[^\x00-\x7f]+/gu, (m) => encodeURIComponent(m));
}

/** Parses one rule line (comments and blank lines already gone); a string is the problem. */
function parseRule(tokens: string[], line: number): RedirectRule | string {
  const from = tokens[0]!;
  if (ABSOLUTE.test(from)) return `host rules ("${from}") are not supported: the source must be a path`;
  const source = parseSourcePattern(from);
  if (typeof source === "string") return source;
  // the captures: the path's placeholders, then the splat, then the query's placeholders
  const captures = new Map<string, number>();
  for (const name of source.names) captures.set(name, captures.size);
  if (source.splat !== NO_SPLAT) captures.set("splat", captures.size);
  let i = 1;
  const query: QueryCondition[] = [];
  for (; i < tokens.length && !isDestination(tokens[i]!) && !STATUS.test(tokens[i]!); i++) {
    const t = tokens[i]!;
    const eq = t.indexOf("=");
    if (eq <= 0) return `"${t}" is neither a destination (it must start with "/", "http://" or "https://") nor a query condition (key=value)`;
    const key = canonicalPath(t.slice(0, eq));
    const v = t.slice(eq + 1);
    if (v.startsWith(":")) {
      const name = v.slice(1);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return `the query placeholder "${v}" must be ":" and a name of letters, digits and "_"`;
      if (name === "splat" || captures.has(name)) return `the placeholder ":${name}" is used twice`;
      query.push({ key, value: null, capture: captures.size });
      captures.set(name, captures.size);
    } else query.push({ key, value: canonicalPath(v), capture: -1 });
  }
  let to: string;
  if (i < tokens.length && isDestination(tokens[i]!)) to = tokens[i++]!;
  else if (i < tokens.length && source.splat !== NO_SPLAT && from.endsWith("/*") && /^2\d\d!?$/.test(tokens[i]!)) {
    to = from.slice(0, -1) + ":splat"; // Netlify's forward rule: `/path/* 200` serves /path/:splat
  } else return `the rule has no destination (a path starting with "/", or an http(s) URL)`;
  let status: RuleStatus = 301;
  let force = false;
  if (i < tokens.length) {
    const m = STATUS.exec(tokens[i]!);
    if (m === null) {
      const t = tokens[i]!;
      if (t.includes("=")) return `conditions such as "${t}" (Country, Language, Role, Cookie, Sign) are not supported`;
      return `"${t}" is not a status (one of ${STATUSES.join(", ")}, with an optional "!")`;
    }
    const n = Number(m[1]);
    if (!STATUSES.includes(n)) return `status ${n} is not supported: use one of ${STATUSES.join(", ")}`;
    status = n as RuleStatus;
    force = m[2] === "!";
    i++;
  }
  if (i < tokens.length) {
    const t = tokens[i]!;
    if (t.includes("=")) return `conditions such as "${t}" (Country, Language, Role, Cookie, Sign) are not supported`;
    return `unexpected "${t}" after the status`;
  }
  const dest = compileDestination(to, captures);
  if (typeof dest === "string") return dest;
  if (dest.absolute && (status === 200 || status === 404)) {
    return `proxying (status ${status} to "${to}") is not supported: only a path on this site can be rewritten to`;
  }
  return { line, source, query, to: dest, status, force };
}

/** Parses a `_redirects` text; `file` names it in errors. */
export function parseRedirectsFile(text: string, file: string): RedirectRule[] {
  const rules: RedirectRule[] = [];
  for (const [line, s] of ruleLines(text, file)) {
    if (/[\0\r]/.test(s)) throw new RuleFileError(file, line, `the line has a NUL or a lone CR`);
    let tokens = s.split(/[ \t]+/);
    const comment = tokens.findIndex((t) => t.startsWith("#"));
    if (comment >= 0) tokens = tokens.slice(0, comment);
    if (rules.length === MAX_REDIRECT_RULES) throw new RuleFileError(file, line, `more than ${MAX_REDIRECT_RULES} rules`);
    const rule = parseRule(tokens, line);
    if (typeof rule === "string") throw new RuleFileError(file, line, rule);
    rules.push(rule);
  }
  return rules;
}
