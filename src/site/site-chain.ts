// Where serve() meets the site's rules: serve.json, _redirects and _headers read from the root at
// start (a bad one throws its RuleFileError), and watched; the handler to put in the static
// handler's place, which is the static handler itself while there is none of them and no
// --clean-urls (no wrapper, no cost). When a file comes, goes or changes, the cached answers are
// forgotten and the chain rebuilt. serve.json's rules are asked first, then the _redirects pair's.
import type { Handler } from "../server/handler.ts";
import type { StaticHandler } from "../static/serve-static.ts";
import { type HeaderRule, parseHeadersFile } from "./headers-file.ts";
import { netlifyRuleSet } from "./netlify-rules.ts";
import { parseRedirectsFile, type RedirectRule } from "./redirects-file.ts";
import { type RuleFile, RuleFiles } from "./rule-file.ts";
import { parseServeJson, SERVE_JSON, type ServeJsonConfig } from "./serve-json-parse.ts";
import { createSiteHandler, type SiteSettings, type SiteState, siteState } from "./site-handler.ts";

/** The Netlify and Cloudflare Pages rule files, beside serve.json in the root. */
const REDIRECTS = "_redirects";
const HEADERS = "_headers";

export interface SiteChainOptions {
  cleanUrls?: boolean;
  siteRules?: boolean;
  static?: { dotfiles?: "allow" | "deny"; listing?: boolean };
}

export interface SiteChain {
  /** The site handler while it is needed, else null (the static handler serves alone). */
  handler(): Handler | null;
  close(): void;
}

export function siteChain(files: StaticHandler, options: SiteChainOptions, rebuild: () => void): SiteChain | null {
  const settings: SiteSettings = {
    root: files.root,
    allowDotfiles: options.static?.dotfiles === "allow",
    listing: options.static?.listing ?? true,
    cleanUrls: options.cleanUrls ?? false,
  };
  if (options.siteRules === false && !settings.cleanUrls) return null;
  let state: SiteState;
  let active = false;
  let serveJson: RuleFile<ServeJsonConfig> | null = null;
  let redirects: RuleFile<RedirectRule[]> | null = null;
  let headers: RuleFile<HeaderRule[]> | null = null;
  const take = () => {
    const config = serveJson?.current ?? null;
    const r = redirects?.current ?? null;
    const h = headers?.current ?? null;
    const netlify = r === null && h === null ? [] : [netlifyRuleSet(r ?? [], h ?? [])];
    state = siteState(config, settings, netlify);
    active = config !== null || netlify.length > 0 || settings.cleanUrls;
  };
  const changed = () => {
    take();
    files.forget();
    rebuild();
  };
  // One watcher for the three files (made only when they are looked for at all).
  const watch = options.siteRules !== false ? new RuleFiles(files.root) : null;
  if (watch !== null) {
    try {
      serveJson = watch.add(SERVE_JSON, parseServeJson, changed);
      redirects = watch.add(REDIRECTS, parseRedirectsFile, changed);
      headers = watch.add(HEADERS, parseHeadersFile, changed);
    } catch (err) {
      watch.close(); // (a bad file at start)
      throw err;
    }
  }
  take();
  const handler = createSiteHandler(files, () => state);
  return {
    handler: () => (active ? handler : null),
    close: () => watch?.close(),
  };
}
