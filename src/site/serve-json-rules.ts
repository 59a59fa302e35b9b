// serve.json's rules asked in serve-handler 6.1.8's order, as a RuleSet: a clean-URL redirect
// ("/a.html" → "/a"), the trailing-slash redirect, `redirects` (first match), then `rewrites` (applied
// in turn, each once). `headers` are matched against the file served. The static-only keys become a
// serve-lookup.ts lookup (site-handler.ts).
import { posix } from "node:path";
import { type HeaderPairs, NO_HEADERS, putField, type RuleSet, type SiteRoute } from "./rule-set.ts";
import { resolvedPath, safeDecode, type SourceRule } from "./serve-json-match.ts";
import type { Matcher, ServeJsonConfig } from "./serve-json-parse.ts";

/** A RuleSet whose `headers(path)` is asked with the file served (serve.json), not the path asked for. */
export interface SiteRuleSet extends RuleSet {
  readonly headersByFile?: boolean;
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
      for (const [k, v] of r.pairs) putField(out, k, v);
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
