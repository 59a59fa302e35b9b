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

/**
 * Lays one field over `into`: it replaces the field of its name there (in any case), or, when
 * `addsUp` (Set-Cookie, where a rule file says so), goes beside it; a new name is appended.
 */
export function putField(into: [string, string][], name: string, value: string, addsUp = false): void {
  const lower = name.toLowerCase();
  const at = addsUp ? -1 : into.findIndex(([n]) => n.toLowerCase() === lower);
  if (at >= 0) into[at] = [name, value];
  else into.push([name, value]);
}

/** Whether a field name is Set-Cookie, the one field a response may carry several of. */
export function isSetCookie(name: string): boolean {
  return name.length === 10 && name.toLowerCase() === "set-cookie";
}
