// serve.json, vercel/serve's config file, read as serve-handler 6.1.8 reads it: the keys checked (an
// unknown key, a wrong type or a bad pattern is a RuleFileError with its line), the patterns compiled
// once, and the rules asked in serve-handler's order: a clean-URL redirect ("/a.html" → "/a"), the
// trailing-slash redirect, `redirects` (first match), then `rewrites` (applied in turn, each once).
// `headers` are matched against the file served. The static-only keys become a serve-lookup.ts lookup.
import { posix } from "node:path";
import { GlobError, type Glob } from "./glob.ts";
import { JsonSyntaxError, parseJsonWithLines } from "./json-lines.ts";
import { RuleFileError } from "./rule-file-error.ts";
import { type HeaderPairs, NO_HEADERS, type RuleSet, type SiteRoute } from "./rule-set.ts";
import { globSource, resolvedPath, safeDecode, SourceRule } from "./serve-json-match.ts";

export const SERVE_JSON = "serve.json";

/** A RuleSet whose `headers(path)` is asked with the file served (serve.json), not the path asked for. */
export interface SiteRuleSet extends RuleSet {
  readonly headersByFile?: boolean;
}

type Matcher = boolean | readonly Glob[];

interface Redirect {
  rule: SourceRule;
  status: 301 | 302 | 303 | 307 | 308;
}

interface HeaderRule {
  glob: Glob;
  pairs: HeaderPairs;
}

/** What the file says, checked and compiled. */
export interface ServeJsonConfig {
  /** undefined: the key is absent (serve-handler's default is on; the site handler decides). */
  cleanUrls: Matcher | undefined;
  trailingSlash: boolean | undefined;
  redirects: readonly Redirect[];
  rewrites: readonly SourceRule[];
  headers: readonly HeaderRule[];
  directoryListing: Matcher | undefined;
  unlisted: readonly Glob[];
  renderSingle: boolean;
  symlinks: boolean;
  /** Read and checked; we send our ETag and Last-Modified either way. */
  etag: boolean;
}

const KEYS = new Set(["cleanUrls", "trailingSlash", "redirects", "rewrites", "headers", "directoryListing", "unlisted", "renderSingle", "symlinks", "etag"]);
const REDIRECT_TYPES = new Set([301, 302, 303, 307, 308]);
// Field names and values as RFC 9110 allows them (a value with CR or LF would split the response).
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Parses serve.json's text; `file` names it in errors. */
export function parseServeJson(text: string, file: string): ServeJsonConfig {
  let json;
  try {
    json = parseJsonWithLines(text);
  } catch (err) {
    if (err instanceof JsonSyntaxError) throw new RuleFileError(file, err.line, `not valid JSON: ${err.message}`);
    throw err;
  }
  // The line of the value at `path`, or of the nearest enclosing one (a key that is missing).
  const fail = (path: string, problem: string): never => {
    let p = path;
    let line = json.lineOf(p);
    while (line === 0 && p !== "") {
      p = p.includes("/") ? p.slice(0, p.lastIndexOf("/")) : "";
      line = json.lineOf(p);
    }
    throw new RuleFileError(file, line, problem);
  };
  const root = json.value;
  if (root === null || typeof root !== "object" || Array.isArray(root)) return fail("", "must be a JSON object");
  const o = root as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (key === "public") fail(key, `"public" is not supported: give the directory to serve instead`);
    if (!KEYS.has(key)) fail(key, `unknown key "${key}" (known: ${[...KEYS].join(", ")})`);
  }

  const str = (v: unknown, path: string, what: string): string =>
    typeof v === "string" && v !== "" ? v : fail(path, `${what} must be a non-empty string`);
  const bool = (key: string): boolean | undefined => {
    const v = o[key];
    if (v === undefined) return undefined;
    return typeof v === "boolean" ? v : fail(key, `"${key}" must be true or false`);
  };
  const list = (key: string): unknown[] => {
    const v = o[key];
    if (v === undefined) return [];
    return Array.isArray(v) ? v : fail(key, `"${key}" must be an array`);
  };
  const entry = (v: unknown, path: string, keys: readonly string[]): Record<string, unknown> => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return fail(path, `${path} must be an object`);
    for (const k of Object.keys(v)) if (!keys.includes(k)) fail(`${path}/${k}`, `unknown key "${k}" in ${path} (known: ${keys.join(", ")})`);
    return v as Record<string, unknown>;
  };
  const compile = <T>(path: string, make: () => T): T => {
    try {
      return make();
    } catch (err) {
      if (err instanceof GlobError || err instanceof SyntaxError) return fail(path, `bad pattern: ${err.message}`);
      throw err;
    }
  };
  const globs = (key: string): Glob[] =>
    list(key).map((g, i) => {
      const source = str(g, `${key}/${i}`, `${key}[${i}]`);
      return compile(`${key}/${i}`, () => globSource(source));
    });
  const matcher = (key: string): Matcher | undefined => {
    const v = o[key];
    if (v === undefined) return undefined;
    if (typeof v === "boolean") return v;
    if (!Array.isArray(v)) return fail(key, `"${key}" must be true, false or an array of globs`);
    return globs(key);
  };

  const rule = (v: unknown, path: string, keys: readonly string[]) => {
    const e = entry(v, path, keys);
    const source = str(e.source, `${path}/source`, `${path}.source`);
    const destination = str(e.destination, `${path}/destination`, `${path}.destination`);
    return { e, rule: compile(`${path}/source`, () => new SourceRule(source, destination)) };
  };
  const redirects = list("redirects").map((v, i): Redirect => {
    const { e, rule: r } = rule(v, `redirects/${i}`, ["source", "destination", "type"]);
    const type = e.type ?? 301;
    if (typeof type !== "number" || !REDIRECT_TYPES.has(type)) fail(`redirects/${i}/type`, `redirects[${i}].type must be 301, 302, 303, 307 or 308`);
    return { rule: r, status: type as Redirect["status"] };
  });
  const rewrites = list("rewrites").map((v, i) => rule(v, `rewrites/${i}`, ["source", "destination"]).rule);
  const headers = list("headers").map((v, i): HeaderRule => {
    const path = `headers/${i}`;
    const e = entry(v, path, ["source", "headers"]);
    const source = str(e.source, `${path}/source`, `${path}.source`);
    if (!Array.isArray(e.headers)) fail(`${path}/headers`, `${path}.headers must be an array of { key, value }`);
    const pairs = (e.headers as unknown[]).map((h, j): [string, string] => {
      const hp = `${path}/headers/${j}`;
      const he = entry(h, hp, ["key", "value"]);
      const key = str(he.key, `${hp}/key`, `${hp}.key`);
      if (!TOKEN.test(key)) fail(`${hp}/key`, `"${key}" is not a header field name`);
      const value = he.value;
      if (typeof value !== "string" || !FIELD_VALUE.test(value)) fail(`${hp}/value`, `${hp}.value must be a string without control characters`);
      return [key, value as string];
    });
    return { glob: compile(`${path}/source`, () => globSource(source)), pairs };
  });
  return {
    cleanUrls: matcher("cleanUrls"),
    trailingSlash: bool("trailingSlash"),
    redirects,
    rewrites,
    headers,
    directoryListing: matcher("directoryListing"),
    unlisted: globs("unlisted"),
    renderSingle: bool("renderSingle") ?? false,
    symlinks: bool("symlinks") ?? false,
    etag: bool("etag") ?? false,
  };
}

/**
 * serve-handler's `applicable`: a boolean as it is, else whether a glob matches the path (decoded,
 * then resolvedPath()'s); absent: `absent`.
 */
export function applies(m: Matcher | undefined, path: string, absent: boolean): boolean {
  if (m === undefined) return absent;
  if (typeof m === "boolean") return m;
  for (const g of m) if (g(path)) return true;
  return false;
}

const HTML_END = /(\.html|\/index)$/;

/** serve.json's routing rules, and its header rules, as a RuleSet. */
export class ServeJsonRules implements SiteRuleSet {
  readonly headersByFile = true;

  constructor(
    readonly config: ServeJsonConfig,
    /** Clean URLs where the file does not say (serve-handler: on; --clean-urls alone: the flag). */
    readonly cleanDefault: boolean,
  ) {}

  /** Clean URLs for this request path (percent-encoded)? */
  isClean(path: string): boolean {
    const m = this.config.cleanUrls;
    if (m === undefined || typeof m === "boolean") return m ?? this.cleanDefault;
    const d = safeDecode(path);
    return d !== null && applies(m, resolvedPath(d), this.cleanDefault);
  }

  route(path: string, search: string, exists: (path: string) => boolean): SiteRoute | null {
    const decoded = safeDecode(path);
    if (decoded === null) return null; // (a bad escape: the static lookup's 400)
    const c = this.config;
    // Resolved once: every source and glob is matched against this.
    const resolved = resolvedPath(decoded);
    if (applies(c.cleanUrls, resolved, this.cleanDefault) && HTML_END.test(decoded)) {
      // "/a.html" → "/a", "/a/index" → "/a": one redirect, before the slash is looked at. The query
      // is kept (serve-handler drops it).
      let target = decoded.replace(HTML_END, "");
      if (target.includes("//")) target = target.replace(/\/+/g, "/");
      return { kind: "redirect", status: 301, location: encodeURI(ensureSlashStart(target)) + search };
    }
    if (c.trailingSlash !== undefined) {
      const trailed = decoded.endsWith("/");
      const { ext, name } = posix.parse(decoded);
      let target: string | null = null;
      if (!c.trailingSlash && trailed) target = decoded.slice(0, -1);
      else if (c.trailingSlash && !trailed && ext === "" && !name.startsWith(".")) target = `${decoded}/`;
      if (decoded.includes("//")) target = decoded.replace(/\/+/g, "/");
      if (target) return { kind: "redirect", status: 301, location: encodeURI(ensureSlashStart(target)) + search };
    }
    for (const r of c.redirects) {
      const target = r.rule.target(resolved);
      if (target !== null) return { kind: "redirect", status: r.status, location: encodeURI(target) };
    }
    if (c.rewrites.length === 0) return null;
    // A name with an extension that exists is served as it is; rewrites are for the rest.
    if (posix.extname(decoded) !== "" && exists(path)) return null;
    const target = rewrite(resolved, c.rewrites);
    if (target === null) return null;
    const encoded = encodeURI(target);
    // serve-handler serves the request's own path when the rewrite's target is missing.
    return exists(encoded) ? { kind: "rewrite", path: encoded, status: 200 } : null;
  }

  headers(path: string): HeaderPairs {
    const rules = this.config.headers;
    if (rules.length === 0) return NO_HEADERS;
    const resolved = resolvedPath(path);
    let out: [string, string][] | null = null;
    // Every rule that matches adds its fields; a later one replaces an earlier one's of the same name.
    for (const r of rules) {
      if (!r.glob(resolved)) continue;
      out ??= [];
      for (const [k, v] of r.pairs) {
        const lower = k.toLowerCase();
        const at = out.findIndex(([n]) => n.toLowerCase() === lower);
        if (at >= 0) out[at] = [k, v];
        else out.push([k, v]);
      }
    }
    return out ?? NO_HEADERS;
  }
}

/**
 * serve-handler's applyRewrites: the first rule that matches, taken out, then again from the top
 * with the target made absolute and normalised (matched resolved, as every source is).
 */
function rewrite(resolved: string, rules: readonly SourceRule[]): string | null {
  let remaining = rules;
  let match = resolved;
  let path: string | null = null;
  for (;;) {
    let hit = -1;
    for (let i = 0; i < remaining.length; i++) {
      const t = remaining[i]!.target(match);
      if (t !== null) {
        hit = i;
        path = posix.normalize(posix.join("/", t));
        break;
      }
    }
    if (hit < 0) return path;
    match = resolvedPath(path!);
    remaining = remaining.filter((_, i) => i !== hit);
  }
}

function ensureSlashStart(p: string): string {
  return p.startsWith("/") ? p : `/${p}`;
}
