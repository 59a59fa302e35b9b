// What a site's rule file says of one request, as the site handler asks it: where the request goes
// (a redirect, or a rewrite to another path, with its status) and which header fields its response
// gets. serve.json and the _redirects/_headers pair each give one RuleSet.

export type SiteRoute =
  /** Send the client elsewhere; `location` is sent as it is (already percent-encoded). */
  | { kind: "redirect"; status: 301 | 302 | 303 | 307 | 308; location: string }
  /** Serve `path` ("/…", percent-encoded, may carry "?query") instead, with this status. */
  | { kind: "rewrite"; path: string; status: 200 | 404 };

export type HeaderPairs = readonly (readonly [string, string])[];

export const NO_HEADERS: HeaderPairs = [];

export interface RuleSet {
  /**
   * The first rule that takes this request. `path` is the request's path as sent (percent-encoded,
   * no query), `search` its "?…" or "". `exists(p)` says whether a file answers the path `p` as
   * it is (for rules that a file shadows). null: no rule takes it.
   */
  route(path: string, search: string, exists: (path: string) => boolean): SiteRoute | null;
  /** The header fields a response to `path` (the path asked for, before any rewrite) gets: NO_HEADERS when none. */
  headers(path: string): HeaderPairs;
}
