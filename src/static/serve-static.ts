// Static files under a root: the handler factory. It does the work once (the root's real path, the
// options, the fallback pages, a multipart boundary); per request, a cache hit is one Map lookup and
// a pre-encoded answer (file-cache.ts, file-reply.ts). A miss asks the path policy what the path
// names (path-policy.ts) and caches the file it finds.
import { realpathSync } from "node:fs";
import type { Handler } from "../server/handler.ts";
import type { HandlerResult, Reply } from "../server/reply.ts";
import type { ServerRequest } from "../server/request.ts";
import { METHOD } from "../http/parser.ts";
import { CompressedFiles } from "./compressed-files.ts";
import { type CacheCounts, FileCache, type HtmlTransform } from "./file-cache.ts";
import { replyWithFile } from "./file-reply.ts";
import { statInside } from "./file-system.ts";
import { listingReply } from "./listing.ts";
import type { BigIntStats } from "node:fs";
import { fallbacksFor, findTarget, type PathPolicy, planFallbacks, type Target } from "./path-policy.ts";
import { isGetOrHead, notAllowed, textReply } from "./replies.ts";

export { contentTypeFor, defaultCacheControl, makeEtag } from "./file-headers.ts";

export interface StaticOptions {
  root: string;
  /** Serve dotfiles ("allow") or answer 404 for them ("deny", default). /.well-known/ is always served. */
  dotfiles?: "allow" | "deny";
  /** Directory listings when there is no index file (default true). */
  listing?: boolean;
  /** Files at most this large are kept in memory (default DEFAULT_CACHE_FILE_LIMIT, 128 KiB)… */
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
  /** Every request stat()s its file, and every file but fingerprinted ones says no-cache (live reload); default: a cached file is trusted for a second. */
  revalidateAlways?: boolean;
}

export interface CompressOptions {
  /** Smaller files are never compressed (default 1024 bytes). */
  minSize?: number;
  /** Bytes of compressed files kept in memory (default 64 MiB). */
  cacheSize?: number;
}

/**
 * A site's own lookup (serve.json's, in src/site), in place of the path policy: what a path
 * (percent-encoded, no query) names, `clean` saying whether "/about" may be about.html; and names
 * its listings leave out.
 */
export interface SiteLookup {
  find(path: string, clean: boolean): Target<BigIntStats>;
  hide?: (name: string) => boolean;
}

/** What serveSite() answered with: the file sent (a 404 page too), or "" for a listing or redirect. */
export interface Served {
  file: string;
}

/** The handler, and its file cache's hit and miss counts (for the metrics). */
export type StaticHandler = Handler & {
  readonly cacheCounts: CacheCounts;
  /** The root's real path. */
  readonly root: string;
  /**
   * Answers `req` with what `lookup` says `path` names (not necessarily the request's path: a
   * rewrite's target), with `status` for a file found; `served.file` says which file went out.
   */
  serveSite(req: ServerRequest, path: string, clean: boolean, status: number, lookup: SiteLookup, served: Served): HandlerResult | Promise<HandlerResult>;
  /** Forgets the cached answers (what paths name has changed). */
  forget(): void;
  /** What paths name to the static handler itself (its index files, its redirect to a directory's '/'). */
  readonly lookup: SiteLookup;
};

const encoder = new TextEncoder();

/** The listing is the HTML page (not the JSON a client asked for instead). */
function listingIsHtml(reply: Reply): boolean {
  const type = (reply.headers as [string, string][])[0]![1];
  return type.startsWith("text/html");
}

/**
 * Files up to this size are kept in memory; larger ones go by sendfile(2) from the page cache (plain
 * TCP), which measured faster above it: at 1 MiB about 2,800 against 1,800 req/s and 200 against
 * 350 µs of server CPU per request, at 256 KiB 10,500 against 7,100 req/s, at 128 KiB level (pinned,
 * wrk -t1 -c64; `bench/load.ts static --sizes 1m` with BUNHTTP_CACHE_FILE_LIMIT set both ways).
 */
export const DEFAULT_CACHE_FILE_LIMIT = 128 * 1024;

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
    fileLimit: options.cacheFileLimit ?? DEFAULT_CACHE_FILE_LIMIT,
    totalLimit: options.cacheTotalLimit ?? 64 * 1024 * 1024,
    cacheControl: options.cacheControl,
    compressMinSize: compress === null ? null : (compress.minSize ?? DEFAULT_COMPRESS_MIN_SIZE),
    transformHtml: options.transformHtml,
    revalidateAlways: options.revalidateAlways,
  });
  const files = compress === null ? null : new CompressedFiles({ budget: compress.cacheSize ?? DEFAULT_COMPRESS_CACHE_SIZE });
  const boundary = `bunhttp-${crypto.randomUUID().replaceAll("-", "")}`;
  const stat = (path: string) => statInside(path, root);

  function notFound(req: ServerRequest, served?: Served): HandlerResult | Promise<HandlerResult> {
    if (options.fallthrough) return null;
    for (const page of fallbacksFor(req.head.method, req.head.header("accept"), fallbacks)) {
      const e = cache.lookupFile(page.key, page.path, page.name, Date.now());
      if (e === null) continue;
      if (served !== undefined) served.file = page.path;
      return replyWithFile(req, e, page.status, boundary, files);
    }
    return textReply(404, "Not Found");
  }

  /** Carries out what a path names, for `key` in the cache. */
  function answer(req: ServerRequest, key: string, target: Target<BigIntStats>, status: number, hide?: (name: string) => boolean, served?: Served): HandlerResult | Promise<HandlerResult> {
    switch (target.kind) {
      case "bad-path":
        return textReply(400, "Bad Request: invalid path");
      case "not-found":
        return notFound(req, served);
      case "redirect":
        return textReply(301, "Moved Permanently", [["Location", target.location]]);
      case "listing": {
        if (served !== undefined) served.file = "";
        const method = req.head.method;
        if (!isGetOrHead(method)) return notAllowed(method);
        const listing = listingReply(req, target.path, policy.allowDotfiles, root, hide);
        if (listing === null) return notFound(req, served);
        // A listing is an HTML page too (its JSON form aside): live reload's script goes into it.
        const transform = options.transformHtml;
        if (transform !== undefined && typeof listing.body === "string" && listingIsHtml(listing)) {
          listing.body = transform.apply(encoder.encode(listing.body));
        }
        return listing;
      }
      case "file": {
        if (served !== undefined) served.file = target.path;
        // The file exists, which is all OPTIONS asks: no reason to read it into the cache.
        if (req.head.method === METHOD.OPTIONS) return notAllowed(METHOD.OPTIONS);
        const entry = cache.add(key, target.path, target.name, target.stats, Date.now());
        return entry === null ? notFound(req, served) : replyWithFile(req, entry, status, boundary, files);
      }
    }
  }

  function serveStatic(req: ServerRequest): HandlerResult | Promise<HandlerResult> {
    const key = req.head.path;
    const now = Date.now();
    const cached = cache.get(key, now);
    if (cached !== undefined) return replyWithFile(req, cached, 200, boundary, files);

    const search = req.head.queryStart >= 0 ? `?${req.head.query}` : "";
    return answer(req, key, findTarget(key, search, policy, stat), 200);
  }

  function serveSite(req: ServerRequest, path: string, clean: boolean, status: number, lookup: SiteLookup, served: Served): HandlerResult | Promise<HandlerResult> {
    // "/x" without clean URLs (a rewrite's target) may name another file than "/x" with them.
    const key = clean ? path : `\u0001${path}`;
    const cached = cache.get(key, Date.now());
    if (cached !== undefined) {
      served.file = cached.identity.path;
      return replyWithFile(req, cached, status, boundary, files);
    }
    return answer(req, key, lookup.find(path, clean), status, lookup.hide, served);
  }

  const lookup: SiteLookup = { find: (path) => findTarget(path, "", policy, stat) };
  return Object.assign(serveStatic, { cacheCounts: cache as CacheCounts, root, serveSite, forget: () => cache.clear(), lookup });
}
