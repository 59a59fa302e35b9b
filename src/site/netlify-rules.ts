// The RuleSet of a site's `_redirects` and `_headers` files (the Netlify and Cloudflare Pages
// formats). Rules are tried in file order; an unforced rule gives way to a file at the path asked
// for (Netlify's shadowing), a forced one (`301!`) does not. Paths are compared in canonical form
// (rule-path.ts); captured values are re-encoded where they go, so a Location never carries a
// CR, LF or space and never starts with "//". Both files are read once, here: a request only looks.

import { FirstSegmentIndex } from "./first-segment-index.ts";
import { parseHeadersFile, type HeaderRule } from "./headers-file.ts";
import { parseRedirectsFile, type RedirectRule, type RedirectStatus } from "./redirects-file.ts";
import { canonicalPath, canonicalRequestPath, encodeValue } from "./rule-path.ts";
import { isSetCookie, NO_HEADERS, type HeaderPairs, putField, type RuleSet, type SiteRoute } from "./rule-set.ts";
import { matchSource } from "./splat-pattern.ts";

export interface NetlifyRuleFiles {
  /** The names the files go by in errors. */
  readonly redirects: string;
  readonly headers: string;
}

/** Parses both files (null: the file is absent); throws RuleFileError on a bad line. */
export function netlifyRules(redirects: string | null, headers: string | null, files: NetlifyRuleFiles): RuleSet {
  const r = redirects === null ? [] : parseRedirectsFile(redirects, files.redirects);
  const h = headers === null ? [] : parseHeadersFile(headers, files.headers);
  return new NetlifyRuleSet(r, h);
}

/** The RuleSet of the two files parsed already (each read and watched on its own: site-chain.ts). */
export function netlifyRuleSet(redirects: readonly RedirectRule[], headers: readonly HeaderRule[]): RuleSet {
  return new NetlifyRuleSet(redirects, headers);
}

/** "?a=1&b=2" → canonical key → canonical value; the first of a repeated key wins. */
function parseSearch(search: string): Map<string, string> {
  const params = new Map<string, string>();
  for (let at = 1; at < search.length; ) {
    let amp = search.indexOf("&", at);
    if (amp < 0) amp = search.length;
    const eq = search.indexOf("=", at);
    const key = canonicalPath(search.slice(at, eq < 0 || eq > amp ? amp : eq));
    const value = eq < 0 || eq > amp ? "" : canonicalPath(search.slice(eq + 1, amp));
    if (key !== "" && !params.has(key)) params.set(key, value);
    at = amp + 1;
  }
  return params;
}

class NetlifyRuleSet implements RuleSet {
  readonly #redirects: readonly RedirectRule[];
  readonly #redirectIndex: FirstSegmentIndex;
  readonly #headers: readonly HeaderRule[];
  readonly #headerIndex: FirstSegmentIndex;
  /** Reused by every match: route() never runs twice at once. */
  readonly #captures: string[] = [];

  constructor(redirects: readonly RedirectRule[], headers: readonly HeaderRule[]) {
    this.#redirects = redirects;
    this.#redirectIndex = new FirstSegmentIndex(redirects.map((r) => firstRedirectSegment(r)));
    this.#headers = headers;
    this.#headerIndex = new FirstSegmentIndex(headers.map((h) => h.pattern.firstSegment));
  }

  route(path: string, search: string, exists: (path: string) => boolean): SiteRoute | null {
    const rules = this.#redirects;
    if (rules.length === 0) return null;
    const canonical = canonicalRequestPath(path);
    const caps = this.#captures;
    let params: Map<string, string> | null = null;
    let shadowed: boolean | null = null;
    const a = this.#redirectIndex.bucket(canonical);
    const b = this.#redirectIndex.any;
    // the two lists merged back into file order
    for (let i = 0, j = 0; i < a.length || j < b.length; ) {
      const rule = rules[j >= b.length || (i < a.length && a[i]! < b[j]!) ? a[i++]! : b[j++]!]!;
      if (!matchSource(rule.source, canonical, caps)) continue;
      if (rule.query.length > 0) {
        params ??= parseSearch(search);
        let ok = true;
        for (const q of rule.query) {
          const v = params.get(q.key);
          if (v === undefined || (q.value !== null && v !== q.value)) {
            ok = false;
            break;
          }
          if (q.value === null) caps.push(v);
        }
        if (!ok) continue;
      }
      if (!rule.force && (shadowed ??= exists(path))) continue;
      return this.#target(rule, search);
    }
    return null;
  }

  #target(rule: RedirectRule, search: string): SiteRoute {
    const to = rule.to;
    const caps = this.#captures;
    let out = to.literals[0]!;
    for (let i = 0; i < to.refs.length; i++) out += encodeValue(caps[to.refs[i]!]!, to.contexts[i]!) + to.literals[i + 1]!;
    if (!to.absolute) {
      // an empty segment captured into the front must not make "//host" (a scheme-relative URL)
      let lead = 0;
      while (lead + 1 < out.length && (out.charCodeAt(lead + 1) === 47 || out.charCodeAt(lead + 1) === 92)) lead++;
      if (lead > 0) out = out.slice(lead);
    }
    // Netlify passes the query on unless the destination has its own
    if (!to.hasQuery && search.length > 1) {
      const hash = out.indexOf("#");
      out = hash < 0 ? out + search : out.slice(0, hash) + search + out.slice(hash);
    }
    const status = rule.status;
    if (status === 200 || status === 404) return { kind: "rewrite", path: out, status };
    return { kind: "redirect", status: status as RedirectStatus, location: out };
  }

  headers(path: string): HeaderPairs {
    const rules = this.#headers;
    if (rules.length === 0) return NO_HEADERS;
    const canonical = canonicalRequestPath(path).toLowerCase();
    let first: HeaderRule | null = null;
    let merged: [string, string][] | null = null;
    const a = this.#headerIndex.bucket(canonical);
    const b = this.#headerIndex.any;
    for (let i = 0, j = 0; i < a.length || j < b.length; ) {
      const rule = rules[j >= b.length || (i < a.length && a[i]! < b[j]!) ? a[i++]! : b[j++]!]!;
      if (!rule.pattern.matches(canonical)) continue;
      if (first === null && merged === null && rule.detach.length === 0) {
        first = rule; // one block alone: its fields as they are, no copy
        continue;
      }
      merged ??= first === null ? [] : first.fields.map(([n, v]) => [n, v]);
      mergeBlock(merged, rule);
    }
    if (merged !== null) return merged;
    return first === null ? NO_HEADERS : first.fields;
  }
}

/** A later block's field replaces an earlier one of that name (Netlify); Set-Cookie adds up. */
function mergeBlock(into: [string, string][], rule: HeaderRule): void {
  for (const name of rule.detach) {
    for (let i = into.length - 1; i >= 0; i--) if (into[i]![0].toLowerCase() === name) into.splice(i, 1);
  }
  for (const [name, value] of rule.fields) putField(into, name, value, isSetCookie(name));
}

/** The literal first segment a rule's source needs, or null when it takes any. */
function firstRedirectSegment(rule: RedirectRule): string | null {
  const first = rule.source.segments[0];
  return typeof first === "string" ? first : null;
}
