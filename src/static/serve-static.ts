// Static files under a root: safe resolution, validators, conditional and range requests,
// precompressed siblings, directory listings, and a hot-file cache.
//
// The factory does the work once (root's real path, options); a cache hit is one Map lookup and a
// pre-encoded head, revalidated against the file system at most once a second per file.
import { realpathSync, type BigIntStats } from "node:fs";
import { join } from "node:path";
import { FileSource } from "../server/body.ts";
import type { Handler, HandlerResult, Reply } from "../server/reply.ts";
import { METHOD } from "../http/parser.ts";
import type { ServerRequest } from "../server/request.ts";
import { evaluatePreconditions, ifRangeHolds } from "./conditional.ts";
import { chooseCoding } from "./encoding.ts";
import { type Entry, FileCache, fullResponse, type Variant } from "./file-cache.ts";
import { openFile, statInside, throwIfOutOfDescriptors } from "./file-system.ts";
import { encodeSegment, readListing, renderListingHtml, renderListingJson, type SortKey, sortListing } from "./listing.ts";
import { MultipartSource, multipartLength } from "./multipart.ts";
import { type ByteRange, contentRange, parseRange, RANGE_IGNORE, RANGE_UNSATISFIABLE } from "./range.ts";
import { FIELD, fieldValue, scanFields } from "./request-fields.ts";
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

const ALLOW = "GET, HEAD, OPTIONS";
const TEXT = "text/plain; charset=utf-8";
const encoder = new TextEncoder();

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

  function textReply(status: number, text: string, extra: [string, string][] = []): Reply {
    return { status, headers: [["Content-Type", TEXT], ...extra], body: `${status} ${text}\n` };
  }

  function notFound(req: ServerRequest): HandlerResult {
    if (options.fallthrough) return null;
    const method = req.head.method;
    if (method === METHOD.GET || method === METHOD.HEAD) {
      if (options.spa && acceptsHtml(req)) {
        const index = cache.lookupFile("/", join(root, indexNames[0] ?? "index.html"), indexNames[0] ?? "index.html", Date.now());
        if (index !== null) return sendEntry(req, index, 200);
      }
      const page = cache.lookupFile("/404.html", join(root, "404.html"), "404.html", Date.now());
      if (page !== null) return sendEntry(req, page, 404);
    }
    return textReply(404, "Not Found");
  }

  function acceptsHtml(req: ServerRequest): boolean {
    const accept = req.head.header("accept");
    return accept !== undefined && accept.includes("text/html");
  }

  function validatorReply(status: number, v: Variant, e: Entry): Reply {
    if (status === 304) {
      const headers: [string, string][] = [
        ["ETag", v.etag],
        ["Last-Modified", v.lastModified],
      ];
      if (e.cacheControl) headers.push(["Cache-Control", e.cacheControl]);
      if (e.encoded.length > 0) headers.push(["Vary", "Accept-Encoding"]);
      return { status: 304, headers };
    }
    return textReply(412, "Precondition Failed");
  }

  /** The file's answer for this request: 200, 206, 304, 412, 416 (or `status` for the 404 page). */
  function sendEntry(req: ServerRequest, e: Entry, status: number): HandlerResult {
    const head = req.head;
    const method = head.method;
    if (method !== METHOD.GET && method !== METHOD.HEAD) return notAllowed(method);
    scanFields(head);

    let v = e.identity;
    if (e.encoded.length > 0) {
      const coding = chooseCoding(fieldValue(head, FIELD.ACCEPT_ENCODING), e.codings);
      if (coding !== null) v = e.encoded.find((x) => x.coding === coding)!;
    }
    if (status === 200) {
      const pre = evaluatePreconditions(
        {
          ifMatch: fieldValue(head, FIELD.IF_MATCH),
          ifNoneMatch: fieldValue(head, FIELD.IF_NONE_MATCH),
          ifModifiedSince: fieldValue(head, FIELD.IF_MODIFIED_SINCE),
          ifUnmodifiedSince: fieldValue(head, FIELD.IF_UNMODIFIED_SINCE),
        },
        v,
        true, // only GET and HEAD get this far
      );
      if (pre !== 0) return validatorReply(pre, v, e);
      const range = fieldValue(head, FIELD.RANGE);
      if (range !== undefined && method === METHOD.GET) {
        const ifRange = fieldValue(head, FIELD.IF_RANGE);
        if (ifRange === undefined || ifRangeHolds(ifRange, v.etag, v.mtimeMs, Date.now())) {
          const r = parseRange(range, v.size);
          if (r === RANGE_UNSATISFIABLE) {
            return textReply(416, "Range Not Satisfiable", [["Content-Range", `bytes */${v.size}`]]);
          }
          if (r !== RANGE_IGNORE) return partial(e, v, r);
        }
      }
    }
    if (v.body !== null) {
      if (status !== 200) return { status, headers: v.head200, body: v.body };
      return { status, headers: v.head200, body: v.body, raw: fullResponse(v) };
    }
    if (method === METHOD.HEAD) return { status, headers: v.head200, body: emptySource, length: v.size };
    const fd = openFile(v.path);
    if (fd < 0) return textReply(404, "Not Found");
    return { status, headers: v.head200, body: new FileSource(fd, 0, v.size), length: v.size };
  }

  function partial(e: Entry, v: Variant, ranges: ByteRange[]): HandlerResult {
    if (ranges.length === 1) {
      const r = ranges[0]!;
      const headers = encoder.encode(`${v.headLines}Content-Range: ${contentRange(r, v.size)}\r\n`);
      const length = r.end - r.start + 1;
      if (v.body !== null) return { status: 206, headers, body: v.body.subarray(r.start, r.end + 1) };
      const fd = openFile(v.path);
      if (fd < 0) return textReply(404, "Not Found");
      return { status: 206, headers, body: new FileSource(fd, r.start, r.end + 1), length };
    }
    // Several ranges: multipart/byteranges (§14.6). Per-part headers carry the real type.
    const lines = v.headLines.replace(/^Content-Type: [^\r]*\r\n/, "");
    const headers = encoder.encode(`${lines}Content-Type: multipart/byteranges; boundary=${boundary}\r\n`);
    const length = multipartLength(ranges, v.size, e.contentType, boundary);
    if (v.body !== null) {
      return { status: 206, headers, body: new MultipartSource(v.body, -1, ranges, v.size, e.contentType, boundary), length };
    }
    const fd = openFile(v.path);
    if (fd < 0) return textReply(404, "Not Found");
    return { status: 206, headers, body: new MultipartSource(null, fd, ranges, v.size, e.contentType, boundary), length };
  }

  function directory(req: ServerRequest, path: string, key: string): HandlerResult {
    const method = req.head.method;
    if (method !== METHOD.GET && method !== METHOD.HEAD) return notAllowed(method);
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
    if (cached !== undefined) return sendEntry(req, cached, 200);

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
    if (req.head.method === METHOD.OPTIONS) return { status: 204, headers: [["Allow", ALLOW]] };

    const entry = cache.add(key, path, name, st, now);
    if (entry === null) return notFound(req);
    return sendEntry(req, entry, 200);
  };
}

const emptySource = {
  read: () => null,
  close: () => {},
};

function notAllowed(method: number): Reply {
  if (method === METHOD.OPTIONS) return { status: 204, headers: [["Allow", ALLOW]] };
  return {
    status: 405,
    headers: [
      ["Allow", ALLOW],
      ["Content-Type", TEXT],
    ],
    body: "405 Method Not Allowed\n",
  };
}
