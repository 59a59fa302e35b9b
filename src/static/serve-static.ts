// Static files under a root: safe resolution, validators, conditional and range requests,
// precompressed siblings, directory listings, and a hot-file cache.
//
// The factory does the work once (root's real path, options); a cache hit is one Map lookup and a
// pre-encoded head, revalidated against the file system at most once a second per file.
import { realpathSync, type BigIntStats } from "node:fs";
import { join } from "node:path";
import { FileSource } from "../server/body.ts";
import type { Handler, HandlerResult, Reply } from "../server/reply.ts";
import { concatBytes } from "../http/chars.ts";
import { SERVER_HEADER, statusLine } from "../http/response.ts";
import { getDateLine } from "../http/date.ts";
import { METHOD } from "../http/parser.ts";
import type { ServerRequest } from "../server/request.ts";
import { evaluatePreconditions, ifRangeHolds } from "./conditional.ts";
import { chooseCoding, CODINGS, type CodingName } from "./encoding.ts";
import { contentTypeFor, defaultCacheControl, makeEtag } from "./file-headers.ts";
import { openFile, readWholeFile, statInside, statOrNull, throwIfOutOfDescriptors } from "./file-system.ts";
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
/** How long a cached answer is trusted before the file is stat()ed again. */
const REVALIDATE_MS = 1000;
const MAX_ENTRIES = 16_384;

/** One file we may send: the file itself or a precompressed sibling. */
interface Variant {
  path: string;
  coding: CodingName | null;
  stats: BigIntStats;
  size: number;
  etag: string;
  /** Last-Modified in whole seconds (HTTP dates have no finer resolution). */
  mtimeSeconds: number;
  /** The exact mtime in ms, to tell whether the file changed within the last second. */
  mtimeMs: number;
  lastModified: string;
  /** Header lines shared by every 200/206 of this variant, pre-encoded (each ends CRLF). */
  headLines: string;
  head200: Uint8Array;
  /** The bytes, when small enough to keep. */
  body: Uint8Array | null;
  /** The whole 200 response (head with Date, then body), rebuilt when the Date line changes. */
  full: Uint8Array | null;
  fullDate: Uint8Array | null;
}

interface Entry {
  contentType: string;
  cacheControl: string | undefined;
  identity: Variant;
  encoded: Variant[];
  checkedAt: number;
}

export function createStaticHandler(options: StaticOptions): Handler {
  const root = realpathSync(options.root);
  const allowDotfiles = options.dotfiles === "allow";
  const listing = options.listing ?? true;
  const fileLimit = options.cacheFileLimit ?? 64 * 1024;
  const totalLimit = options.cacheTotalLimit ?? 64 * 1024 * 1024;
  const indexNames = options.index ?? ["index.html"];
  const boundary = `bunhttp-${crypto.randomUUID().replaceAll("-", "")}`;
  const cache = new Map<string, Entry>();
  let cacheBytes = 0;

  function entryBytes(e: Entry): number {
    let n = e.identity.body?.length ?? 0;
    for (const v of e.encoded) n += v.body?.length ?? 0;
    return n;
  }

  function evict(key: string): void {
    const e = cache.get(key);
    if (e === undefined) return;
    cache.delete(key);
    cacheBytes -= entryBytes(e);
  }

  function remember(key: string, entry: Entry): void {
    evict(key);
    const size = entryBytes(entry);
    // Oldest out first (a Map iterates in insertion order).
    for (const k of cache.keys()) {
      if (cacheBytes + size <= totalLimit && cache.size < MAX_ENTRIES) break;
      evict(k);
    }
    if (cacheBytes + size > totalLimit) return;
    cache.set(key, entry);
    cacheBytes += size;
  }

  function makeVariant(path: string, st: BigIntStats, coding: CodingName | null, common: string): Variant | null {
    const size = Number(st.size);
    const mtimeMs = Number(st.mtimeNs / 1_000_000n);
    const etag = makeEtag(st, coding);
    const lastModified = new Date(mtimeMs).toUTCString();
    let headLines = `${common}Last-Modified: ${lastModified}\r\nETag: ${etag}\r\n`;
    if (coding !== null) headLines += `Content-Encoding: ${coding}\r\n`;
    let body: Uint8Array | null = null;
    if (size <= fileLimit) {
      body = readWholeFile(path, size);
      if (body === null) return null;
    }
    return {
      path,
      coding,
      stats: st,
      size: body?.length ?? size,
      etag,
      mtimeSeconds: Math.floor(mtimeMs / 1000),
      mtimeMs,
      lastModified,
      headLines,
      head200: encoder.encode(headLines),
      body,
      full: null,
      fullDate: null,
    };
  }

  function buildEntry(path: string, name: string, st: BigIntStats, now: number): Entry | null {
    const contentType = contentTypeFor(name);
    const cacheControl = options.cacheControl ?? defaultCacheControl(name, contentType);
    const encoded: Variant[] = [];
    const siblings: [CodingName, string, BigIntStats][] = [];
    for (const c of CODINGS) {
      const p = path + c.suffix;
      const s = statInside(p, root);
      if (s !== null && s.isFile()) siblings.push([c.name, p, s]);
    }
    let common = `Content-Type: ${contentType}\r\nAccept-Ranges: bytes\r\nX-Content-Type-Options: nosniff\r\n`;
    if (cacheControl) common += `Cache-Control: ${cacheControl}\r\n`;
    // Every response for a path with siblings varies by Accept-Encoding, identity included.
    if (siblings.length > 0) common += "Vary: Accept-Encoding\r\n";
    const identity = makeVariant(path, st, null, common);
    if (identity === null) return null;
    for (const [coding, p, s] of siblings) {
      const v = makeVariant(p, s, coding, common);
      if (v !== null) encoded.push(v);
    }
    return { contentType, cacheControl, identity, encoded, checkedAt: now };
  }

  function sameFile(a: BigIntStats, b: BigIntStats | null): boolean {
    return b !== null && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.dev === b.dev;
  }

  /** Still the same files on disk (the file and every sibling we know, and no new sibling)? */
  function isFresh(e: Entry): boolean {
    if (!sameFile(e.identity.stats, statOrNull(e.identity.path))) return false;
    let known = 0;
    for (const c of CODINGS) {
      const s = statOrNull(e.identity.path + c.suffix);
      const v = e.encoded.find((x) => x.coding === c.name);
      if (v === undefined ? s !== null : !sameFile(v.stats, s)) return false;
      if (v !== undefined) known++;
    }
    return known === e.encoded.length;
  }

  function textReply(status: number, text: string, extra: [string, string][] = []): Reply {
    return { status, headers: [["Content-Type", TEXT], ...extra], body: `${status} ${text}\n` };
  }

  function notFound(req: ServerRequest): HandlerResult {
    if (options.fallthrough) return null;
    const method = req.head.method;
    if (method === METHOD.GET || method === METHOD.HEAD) {
      if (options.spa && acceptsHtml(req)) {
        const index = lookupFile("/", join(root, indexNames[0] ?? "index.html"), indexNames[0] ?? "index.html");
        if (index !== null) return sendEntry(req, index, 200);
      }
      const page = lookupFile("/404.html", join(root, "404.html"), "404.html");
      if (page !== null) return sendEntry(req, page, 404);
    }
    return textReply(404, "Not Found");
  }

  function acceptsHtml(req: ServerRequest): boolean {
    const accept = req.head.header("accept");
    return accept !== undefined && accept.includes("text/html");
  }

  /** A cached entry for a known file path (404 page, SPA index), revalidated like any other. */
  function lookupFile(key: string, path: string, name: string): Entry | null {
    const k = `\0${key}`;
    const now = Date.now();
    const cached = cache.get(k);
    if (cached !== undefined && (now - cached.checkedAt < REVALIDATE_MS || isFresh(cached))) {
      cached.checkedAt = now;
      return cached;
    }
    evict(k);
    const st = statInside(path, root);
    if (st === null || !st.isFile()) return null;
    const e = buildEntry(path, name, st, now);
    if (e !== null) remember(k, e);
    return e;
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
      const coding = chooseCoding(fieldValue(head, FIELD.ACCEPT_ENCODING), e.encoded.map((x) => x.coding!));
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
    const cached = cache.get(key);
    if (cached !== undefined) {
      if (now - cached.checkedAt < REVALIDATE_MS) return sendEntry(req, cached, 200);
      if (isFresh(cached)) {
        cached.checkedAt = now;
        return sendEntry(req, cached, 200);
      }
      evict(key);
    }

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

    const entry = buildEntry(path, name, st, now);
    if (entry === null) return notFound(req);
    remember(key, entry);
    return sendEntry(req, entry, 200);
  };
}

/** The complete 200 response of a cached variant; one buffer per file, remade once a second for Date. */
function fullResponse(v: Variant): Uint8Array {
  const date = getDateLine();
  if (v.full !== null && v.fullDate === date) return v.full;
  const body = v.body!;
  const tail = encoder.encode(`Content-Length: ${body.length}\r\n\r\n`);
  const full = concatBytes([statusLine(200), v.head200, date, SERVER_HEADER, tail, body]);
  v.full = full;
  v.fullDate = date;
  return full;
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
