// Static files under a root: the handler factory. It does the work once (the root's real path, the
// options, the fallback pages, a multipart boundary); per request, a cache hit is one Map lookup and
// a pre-encoded answer (file-cache.ts, file-reply.ts). A miss asks the path policy what the path
// names (path-policy.ts) and caches the file it finds.
import { realpathSync } from "node:fs";
import type { Handler } from "../server/handler.ts";
import type { HandlerResult } from "../server/reply.ts";
import type { ServerRequest } from "../server/request.ts";
import { METHOD } from "../http/parser.ts";
import { CompressedFiles } from "./compressed-files.ts";
import { type CacheCounts, FileCache, type HtmlTransform } from "./file-cache.ts";
import { replyWithFile } from "./file-reply.ts";
import { statInside } from "./file-system.ts";
import { listingReply } from "./listing.ts";
import { fallbacksFor, findTarget, type PathPolicy, planFallbacks } from "./path-policy.ts";
import { isGetOrHead, notAllowed, textReply } from "./replies.ts";

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
  /** Compression in memory of files of a compressible type (default on); false: precompressed siblings only. */
  compress?: CompressOptions | false;
  /** Applied to HTML files as they are loaded (live reload's script); absent: sent as they are. */
  transformHtml?: HtmlTransform;
  /** Every request stat()s its file (live reload); default: a cached file is trusted for a second. */
  revalidateAlways?: boolean;
}

export interface CompressOptions {
  /** Smaller files are never compressed (default 1024 bytes). */
  minSize?: number;
  /** Bytes of compressed files kept in memory (default 64 MiB). */
  cacheSize?: number;
}

/** The handler, and its file cache's hit and miss counts (for the metrics). */
export type StaticHandler = Handler & { readonly cacheCounts: CacheCounts };

export const DEFAULT_COMPRESS_MIN_SIZE = 1024;
export const DEFAULT_COMPRESS_CACHE_SIZE = 64 * 1024 * 1024;

export function createStaticHandler(options: StaticOptions): StaticHandler {
  const root = realpathSync(options.root);
  const policy: PathPolicy = {
    root,
    allowDotfiles: options.dotfiles === "allow",
    listing: options.listing ?? true,
    indexNames: options.index ?? ["index.html"],
  };
  const fallbacks = planFallbacks(root, policy.indexNames, options.spa ?? false);
  const compress = options.compress === false ? null : (options.compress ?? {});
  const cache = new FileCache({
    root,
    fileLimit: options.cacheFileLimit ?? 64 * 1024,
    totalLimit: options.cacheTotalLimit ?? 64 * 1024 * 1024,
    cacheControl: options.cacheControl,
    compressMinSize: compress === null ? null : (compress.minSize ?? DEFAULT_COMPRESS_MIN_SIZE),
    transformHtml: options.transformHtml,
    revalidateAlways: options.revalidateAlways,
  });
  const files = compress === null ? null : new CompressedFiles({ budget: compress.cacheSize ?? DEFAULT_COMPRESS_CACHE_SIZE });
  const boundary = `bunhttp-${crypto.randomUUID().replaceAll("-", "")}`;
  const stat = (path: string) => statInside(path, root);

  function notFound(req: ServerRequest): HandlerResult | Promise<HandlerResult> {
    if (options.fallthrough) return null;
    for (const page of fallbacksFor(req.head.method, req.head.header("accept"), fallbacks)) {
      const e = cache.lookupFile(page.key, page.path, page.name, Date.now());
      if (e !== null) return replyWithFile(req, e, page.status, boundary, files);
    }
    return textReply(404, "Not Found");
  }

  function serveStatic(req: ServerRequest): HandlerResult | Promise<HandlerResult> {
    const key = req.head.path;
    const now = Date.now();
    const cached = cache.get(key, now);
    if (cached !== undefined) return replyWithFile(req, cached, 200, boundary, files);

    const search = req.head.queryStart >= 0 ? `?${req.head.query}` : "";
    const target = findTarget(key, search, policy, stat);
    switch (target.kind) {
      case "bad-path":
        return textReply(400, "Bad Request: invalid path");
      case "not-found":
        return notFound(req);
      case "redirect":
        return textReply(301, "Moved Permanently", [["Location", target.location]]);
      case "listing": {
        const method = req.head.method;
        if (!isGetOrHead(method)) return notAllowed(method);
        return listingReply(req, target.path, policy.allowDotfiles, root) ?? notFound(req);
      }
      case "file": {
        // The file exists, which is all OPTIONS asks: no reason to read it into the cache.
        if (req.head.method === METHOD.OPTIONS) return notAllowed(METHOD.OPTIONS);
        const entry = cache.add(key, target.path, target.name, target.stats, now);
        return entry === null ? notFound(req) : replyWithFile(req, entry, 200, boundary, files);
      }
    }
  }
  return Object.assign(serveStatic, { cacheCounts: cache as CacheCounts });
}
