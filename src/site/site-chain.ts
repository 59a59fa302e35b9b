// Where serve() meets the site's rules: serve.json read from the root at start (a bad one throws
// its RuleFileError), and watched; the handler to put in the static handler's place, which is the
// static handler itself while there is no serve.json and no --clean-urls (no wrapper, no cost).
// When the file comes, goes or changes, the cached answers are forgotten and the chain rebuilt.
import type { Handler } from "../server/handler.ts";
import type { StaticHandler } from "../static/serve-static.ts";
import { type RuleFile, watchRuleFile } from "./rule-file.ts";
import { parseServeJson, SERVE_JSON, type ServeJsonConfig } from "./serve-json.ts";
import { createSiteHandler, type SiteSettings, type SiteState, siteState } from "./site-handler.ts";

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
  const take = (config: ServeJsonConfig | null) => {
    state = siteState(config, settings);
    active = config !== null || settings.cleanUrls;
  };
  const file: RuleFile<ServeJsonConfig> | null =
    options.siteRules === false
      ? null
      : watchRuleFile(files.root, SERVE_JSON, parseServeJson, (config) => {
          take(config);
          files.forget();
          rebuild();
        });
  take(file?.current ?? null);
  const handler = createSiteHandler(files, () => state);
  return {
    handler: () => (active ? handler : null),
    close: () => file?.close(),
  };
}
