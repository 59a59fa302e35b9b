// serve.json, vercel/serve's config file, read and checked as serve-handler 6.1.8 reads it: an unknown
// key, a wrong type or a bad pattern is a RuleFileError with its line; the patterns are compiled once,
// here. serve-json-rules.ts asks the result in serve-handler's order.
import { isToken } from "../http/chars.ts";
import { GlobError, type Glob } from "./glob.ts";
import { JsonSyntaxError, parseJsonWithLines } from "./json-lines.ts";
import { RuleFileError } from "./rule-file-error.ts";
import type { HeaderPairs } from "./rule-set.ts";
import { globSource, SourceRule } from "./serve-json-match.ts";

export const SERVE_JSON = "serve.json";

/** `true`, `false`, or globs of the paths a key applies to (`cleanUrls`, `directoryListing`). */
export type Matcher = boolean | readonly Glob[];

export interface Redirect {
  rule: SourceRule;
  status: 301 | 302 | 303 | 307 | 308;
}

export interface HeaderRule {
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
      if (!isToken(key)) fail(`${hp}/key`, `"${key}" is not a header field name`);
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
