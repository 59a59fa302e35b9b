// Static files under a root: safe resolution, validators, conditional and range requests,
// precompressed siblings, directory listings, and a hot-file cache.
//
// The factory does the work once (root's real path, options); a cache hit is one Map lookup and a
// pre-encoded head, revalidated against the file system at most once a second per file.
import { realpathSync, type BigIntStats } from "node:fs";
import { join } from "node:path";
import type { Handler, HandlerResult } from "../server/reply.ts";
import { METHOD } from "../http/parser.ts";
import type { ServerRequest } from "../server/request.ts";
import { FileCache } from "./file-cache.ts";
import { replyWithFile } from "./file-reply.ts";
import { statInside, throwIfOutOfDescriptors } from "./file-system.ts";
import { encodeSegment, readListing, renderListingHtml, renderListingJson, type SortKey, sortListing } from "./listing.ts";
import { isGetOrHead, notAllowed, textReply } from "./replies.ts";
import { isHiddenSegments, resolveRequestPath } from "./resolve.ts";

export { contentTypeFor, defaultCacheControl, makeEtag } from "./file-headers.ts";

export interface StaticOptions {
  root: string;
  /** Serve dotfiles ("allow") or answer 404 for them ("deny", default). /.well-known/ is always served. */
  dotfiles?: "allow" | "deny";
  /** Directory listings when there is no index file (default true). */
  listing?: boolean;
  /** Files at most this large are kept in memory (default 64 KiB)… */
  cacheFileLimit?: number;
  /** …up to this many bytes in all (default 64 MiB). */
  cacheTotalLimit?: number;
  /** Cache-Control for every file; default: immutable for fingerprinted names, no-cache for HTML. */
  cacheControl?: string;
  /** Index file names tried for a directory (default ["index.html"]). */
  index?: string[];
  /** Single-page app: unknown paths that accept HTML get /index.html. */
  spa?: boolean;
  /** Paths with no file fall through to the next handler (an app's fetch) instead of a 404 here. */
  fallthrough?: boolean;
}

export function createStaticHandler(options: StaticOptions): Handler {
  const root = realpathSync(options.root);
  const allowDotfiles = options.dotfiles === "allow";
  const listing = options.listing ?? true;
  const indexNames = options.index ?? ["index.html"];
  const boundary = `bunhttp-${crypto.randomUUID().replaceAll("-", "")}`;
  const cache = new FileCache({
    root,
    fileLimit: options.cacheFileLimit ?? 64 * 1024,
    totalLimit: options.cacheTotalLimit ?? 64 * 1024 * 1024,
    cacheControl: options.cacheControl,
  });

  function notFound(req: ServerRequest): HandlerResult {
    if (options.fallthrough) return null;
    const method = req.head.method;
    if (isGetOrHead(method)) {
      if (options.spa && acceptsHtml(req)) {
        const index = cache.lookupFile("/", join(root, indexNames[0] ?? "index.html"), indexNames[0] ?? "index.html", Date.now());
        if (index !== null) return replyWithFile(req, index, 200, boundary);
      }
      const page = cache.lookupFile("/404.html", join(root, "404.html"), "404.html", Date.now());
      if (page !== null) return replyWithFile(req, page, 404, boundary);
    }
    return textReply(404, "Not Found");
  }

  function acceptsHtml(req: ServerRequest): boolean {
    const accept = req.head.header("accept");
    return accept !== undefined && accept.includes("text/html");
  }

  function directory(req: ServerRequest, path: string, key: string): HandlerResult {
    const method = req.head.method;
    if (!isGetOrHead(method)) return notAllowed(method);
    const params = req.query;
    const sortParam = params.get("sort");
    const sort: SortKey = sortParam === "size" || sortParam === "date" ? sortParam : "name";
    const desc = params.get("order") === "desc";
    let entries;
    try {
      entries = sortListing(readListing(path, allowDotfiles, root), sort, desc);
    } catch (err) {
      throwIfOutOfDescriptors(err);
      return notFound(req);
    }
    const accept = req.head.header("accept") ?? "";
    const json = accept.includes("application/json") && !accept.includes("text/html");
    const body = json ? renderListingJson(key, entries) : renderListingHtml(key, entries, sort, desc);
    return {
      status: 200,
      headers: [
        ["Content-Type", json ? "application/json; charset=utf-8" : "text/html; charset=utf-8"],
        ["Cache-Control", "no-cache"],
        ["Vary", "Accept"],
        ["X-Content-Type-Options", "nosniff"],
      ],
      body,
    };
  }

  return function serveStatic(req: ServerRequest): HandlerResult {
    const key = req.head.path;
    const now = Date.now();
    const cached = cache.get(key, now);
    if (cached !== undefined) return replyWithFile(req, cached, 200, boundary);

    const resolved = resolveRequestPath(key);
    if (typeof resolved === "number") return textReply(400, "Bad Request: invalid path");
    const { segments } = resolved;
    if (!allowDotfiles && isHiddenSegments(segments)) return notFound(req);

    let path = segments.length === 0 ? root : join(root, ...segments);
    let st = statInside(path, root);
    if (st === null) return notFound(req);
    let name = segments.length === 0 ? "" : segments[segments.length - 1]!;

    const isDirectory = st.isDirectory();
    if (isDirectory) {
      if (!resolved.trailingSlash) {
        // /dir → /dir/ so that relative links inside resolve; the query is kept. Built from the
        // normalised segments: echoing "//dir" would send the browser to a host named "dir".
        const q = req.head.queryStart >= 0 ? `?${req.head.query}` : "";
        const dir = segments.length === 0 ? "/" : `/${segments.map(encodeSegment).join("/")}/`;
        return textReply(301, "Moved Permanently", [["Location", `${dir}${q}`]]);
      }
      let found: BigIntStats | null = null;
      for (const index of indexNames) {
        const candidate = join(path, index);
        const s = statInside(candidate, root);
        if (s !== null && s.isFile()) {
          path = candidate;
          found = s;
          name = index;
          break;
        }
      }
      if (found === null) return listing ? directory(req, path, key) : notFound(req);
      st = found;
    }
    // FIFOs, devices and sockets are never opened: open() on a FIFO would block the whole process.
    if (!st.isFile()) return notFound(req);
    // "/file.txt/" names a directory that does not exist (nginx, Apache: 404); serving the file there
    // would make its relative links resolve under "/file.txt/".
    if (resolved.trailingSlash && !isDirectory) return notFound(req);
    if (req.head.method === METHOD.OPTIONS) return notAllowed(METHOD.OPTIONS);

    const entry = cache.add(key, path, name, st, now);
    if (entry === null) return notFound(req);
    return replyWithFile(req, entry, 200, boundary);
  };
}
