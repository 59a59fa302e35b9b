// What a request path names under the root, as a decision the handler carries out: a file (dotfiles
// hidden, index files tried), a redirect to the directory's slash, a listing, or nothing; and which
// pages a miss falls back on (the SPA's index, 404.html). The file system is asked through `stat`.
import { join } from "node:path";
import { encodeSegment } from "./listing.ts";
import { isGetOrHead } from "./replies.ts";
import { isHiddenSegments, isNeverServed, resolveRequestPath } from "./resolve.ts";

/** What the policy needs of a stat() result (node's Stats, bigint or not, fit). */
export interface FileKind {
  isFile(): boolean;
  isDirectory(): boolean;
}

export interface PathPolicy {
  /** The root's real path. */
  root: string;
  allowDotfiles: boolean;
  /** List a directory that has no index file (else 404). */
  listing: boolean;
  /** Tried in order for a directory. */
  indexNames: readonly string[];
}

export type Target<S extends FileKind> =
  | { kind: "file"; path: string; name: string; stats: S }
  | { kind: "redirect"; location: string }
  | { kind: "listing"; path: string }
  | { kind: "not-found" }
  | { kind: "bad-path" };

const NOT_FOUND = { kind: "not-found" } as const;
const BAD_PATH = { kind: "bad-path" } as const;

/**
 * What `requestPath` (still percent-encoded, without the query) names. `search` is the "?…" part or
 * "", kept by a redirect. `stat` answers null for what is missing or outside the root.
 */
export function findTarget<S extends FileKind>(
  requestPath: string,
  search: string,
  policy: PathPolicy,
  stat: (path: string) => S | null,
): Target<S> {
  const resolved = resolveRequestPath(requestPath);
  if (typeof resolved === "number") return BAD_PATH;
  const { segments, trailingSlash } = resolved;
  if (!policy.allowDotfiles && isHiddenSegments(segments)) return NOT_FOUND;
  if (isNeverServed(segments)) return NOT_FOUND;
  const path = segments.length === 0 ? policy.root : join(policy.root, ...segments);
  const st = stat(path);
  if (st === null) return NOT_FOUND;
  if (st.isDirectory()) {
    // /dir → /dir/ so that relative links inside resolve; the query is kept.
    if (!trailingSlash) return { kind: "redirect", location: directoryLocation(segments) + search };
    for (const name of policy.indexNames) {
      const index = join(path, name);
      const s = stat(index);
      if (s !== null && s.isFile()) return { kind: "file", path: index, name, stats: s };
    }
    return policy.listing ? { kind: "listing", path } : NOT_FOUND;
  }
  // FIFOs, devices and sockets are never opened: open() on a FIFO would block the whole process.
  if (!st.isFile()) return NOT_FOUND;
  // "/file.txt/" names a directory that does not exist (nginx, Apache: 404); serving the file there
  // would make its relative links resolve under "/file.txt/".
  if (trailingSlash) return NOT_FOUND;
  return { kind: "file", path, name: segments.length === 0 ? "" : segments[segments.length - 1]!, stats: st };
}

/**
 * A directory's URL with its slash, built from the normalised segments: echoing "//dir" as it came
 * would send the browser to a host named "dir".
 */
export function directoryLocation(segments: readonly string[]): string {
  return segments.length === 0 ? "/" : `/${segments.map(encodeSegment).join("/")}/`;
}

/** A page sent for a path that names nothing, under its own cache key. */
export interface FallbackPage {
  key: string;
  path: string;
  name: string;
  status: 200 | 404;
}

/** The fallback pages, worked out once: for a request that accepts HTML, and for any other. */
export interface Fallbacks {
  html: readonly FallbackPage[];
  other: readonly FallbackPage[];
}

/** A single-page app answers HTML navigations with its index (200); anything else may get 404.html. */
export function planFallbacks(root: string, indexNames: readonly string[], spa: boolean): Fallbacks {
  const notFoundPage: FallbackPage = { key: "/404.html", path: join(root, "404.html"), name: "404.html", status: 404 };
  if (!spa) return { html: [notFoundPage], other: [notFoundPage] };
  const index = indexNames[0] ?? "index.html";
  const spaIndex: FallbackPage = { key: "/", path: join(root, index), name: index, status: 200 };
  return { html: [spaIndex, notFoundPage], other: [notFoundPage] };
}

/** The pages to try, in order, for a miss; none (a plain-text 404) for methods other than GET and HEAD. */
export function fallbacksFor(method: number, accept: string | undefined, plan: Fallbacks): readonly FallbackPage[] {
  if (!isGetOrHead(method)) return [];
  return accept !== undefined && accept.includes("text/html") ? plan.html : plan.other;
}
