// The static files of a site with rules: in the chain where the static handler would be, asking a
// list of RuleSets (serve.json's first) for a redirect or a rewrite, then the static handler for the
// file (serve.json's lookup: clean URLs, listings, symlinks), then laying the header rules over the
// answer. Only in the chain while a rule file exists or --clean-urls is on; the rules it reads are
// swapped whole when a file changes (`state()` is read afresh per request).
import type { Handler } from "../server/handler.ts";
import type { HandlerResult, Reply } from "../server/reply.ts";
import type { ServerRequest } from "../server/request.ts";
import type { Served, SiteLookup, StaticHandler } from "../static/serve-static.ts";
import { addFields } from "./extra-headers.ts";
import { type HeaderPairs, isSetCookie, NO_HEADERS, putField } from "./rule-set.ts";
import { globSource, resolvedPath, safeDecode, slash } from "./serve-json-match.ts";
import type { ServeJsonConfig } from "./serve-json-parse.ts";
import { applies, ServeJsonRules, type SiteRuleSet } from "./serve-json-rules.ts";
import { createServeLookup } from "./serve-lookup.ts";

/** What the site handler works from, made again whenever a rule file changes. */
export interface SiteState {
  readonly ruleSets: readonly SiteRuleSet[];
  readonly lookup: SiteLookup;
  /** Clean URLs for this request path (percent-encoded)? */
  isClean(path: string): boolean;
  /**
   * No serve.json and no clean URLs (only _redirects/_headers): paths name what they name to the
   * static handler alone, which answers whatever no rule takes.
   */
  readonly plain: boolean;
}

/** Our settings that stand where serve.json says nothing. */
export interface SiteSettings {
  /** The root's real path. */
  root: string;
  allowDotfiles: boolean;
  /** --listing: directories listed (serve.json's `directoryListing` wins). */
  listing: boolean;
  /** --clean-urls, for a site without serve.json (with one, its `cleanUrls`; absent: on, as serve-handler). */
  cleanUrls: boolean;
}

const NO_CONFIG: ServeJsonConfig = {
  cleanUrls: undefined,
  trailingSlash: undefined,
  redirects: [],
  rewrites: [],
  headers: [],
  directoryListing: undefined,
  unlisted: [],
  renderSingle: false,
  symlinks: true,
  etag: false,
};

/** serve-handler never lists these, whatever `unlisted` says. */
const ALWAYS_UNLISTED = [globSource(".DS_Store"), globSource(".git")];

/**
 * The state for serve.json's config (null: no file) under our settings; `more` are asked after
 * serve.json's rules, in order (the _redirects/_headers RuleSet).
 */
export function siteState(config: ServeJsonConfig | null, settings: SiteSettings, more: readonly SiteRuleSet[] = []): SiteState {
  const rules = new ServeJsonRules(config ?? NO_CONFIG, config === null ? settings.cleanUrls : true);
  const c = rules.config;
  const unlisted = [...ALWAYS_UNLISTED, ...c.unlisted];
  const lookup = createServeLookup({
    root: settings.root,
    allowDotfiles: settings.allowDotfiles,
    listing: (decoded) => applies(c.directoryListing, resolvedPath(decoded), settings.listing),
    renderSingle: c.renderSingle,
    // Without serve.json, symlinks are followed inside the root, as by the static handler.
    symlinks: c.symlinks,
    hide: (name) => {
      const path = slash(name);
      for (const g of unlisted) if (g(path)) return true;
      return false;
    },
  });
  return { ruleSets: [rules, ...more], lookup, isClean: (path) => rules.isClean(path), plain: config === null && !settings.cleanUrls };
}

/** The request's header rules: serve.json's matched on the file served, others on the path asked for. */
function headersFor(state: SiteState, path: string, servedPath: string | null): HeaderPairs {
  let out: HeaderPairs = NO_HEADERS;
  for (const rs of state.ruleSets) {
    const p = rs.headersByFile ? servedPath : path;
    if (p === null) continue;
    const pairs = rs.headers(p);
    if (pairs.length === 0) continue;
    if (out.length === 0) {
      out = pairs;
      continue;
    }
    // A later set's field replaces an earlier one of its name; Set-Cookie fields add up.
    const merged = out.map(([k, v]): [string, string] => [k, v]);
    for (const [k, v] of pairs) putField(merged, k, v, isSetCookie(k));
    out = merged;
  }
  return out;
}

function redirectReply(status: number, location: string): Reply {
  return {
    status,
    headers: [
      ["Location", location],
      ["Content-Type", "text/plain; charset=utf-8"],
    ],
    body: `${status} Redirecting to ${location}\n`,
  };
}

/** Not yet told which file went out (a plain 404, 400 or 405): the header rules match the path asked for. */
const UNSET = "\0";

export function createSiteHandler(files: StaticHandler, state: () => SiteState): Handler {
  const root = files.root;
  const served: Served = { file: UNSET };
  const fileUrlPath = (file: string) => (root.endsWith("/") ? file.slice(root.length - 1) : file.slice(root.length));
  let s = state();
  // Made once (no closure per request): whether a file or a listing answers `p` under the state in use.
  // Plain, a directory without its '/' (answered with a redirect to it) is something at the path too.
  const exists = (p: string) => {
    const kind = (s.plain ? files.lookup : s.lookup).find(p, !s.plain && s.isClean(p)).kind;
    return kind === "file" || kind === "listing" || (s.plain && kind === "redirect");
  };

  return function site(req: ServerRequest): HandlerResult | Promise<HandlerResult> {
    s = state();
    const path = req.head.path;
    const search = req.head.queryStart >= 0 ? `?${req.head.query}` : "";
    let target = path;
    let status = 200;
    let rewritten = false;
    for (const rs of s.ruleSets) {
      const r = rs.route(path, search, exists);
      if (r === null) continue;
      if (r.kind === "redirect") {
        // The path's header fields go on a rule's redirect too (an HSTS field, a Cache-Control).
        const pairs = headersFor(s, path, null);
        const reply = redirectReply(r.status, r.location);
        return pairs.length === 0 ? reply : addFields(reply, pairs);
      }
      const q = r.path.indexOf("?");
      target = q < 0 ? r.path : r.path.slice(0, q);
      status = r.status;
      rewritten = true;
      break;
    }
    served.file = UNSET;
    const result =
      s.plain && !rewritten
        ? files(req)
        : files.serveSite(req, target, !rewritten && s.isClean(path), status, s.plain ? files.lookup : s.lookup, served);
    const file = served.file;
    const decoded = file === UNSET ? safeDecode(path) : file === "" ? null : fileUrlPath(file);
    const pairs = headersFor(s, path, decoded);
    return pairs.length === 0 ? result : addFields(result, pairs);
  };
}
