// Static files under a root: safe resolution, validators, conditional requests, a hot-file cache.
//
// The factory does the work once (root's real path, options); a cache hit is one Map lookup and a
// pre-encoded head, revalidated against the file system at most once a second per file.
import { closeSync, fstatSync, openSync, readSync, realpathSync, statSync, type BigIntStats } from "node:fs";
import { join, sep } from "node:path";
import mime from "mime";
import type { Handler, HandlerResult, Reply } from "../server/connection.ts";
import { FileSource } from "../server/body.ts";
import { METHOD } from "../http/parser.ts";
import type { ServerRequest } from "../server/request.ts";
import { isHiddenSegments, resolveRequestPath } from "./resolve.ts";
import { evaluatePreconditions } from "./conditional.ts";

export interface StaticOptions {
  root: string;
  /** Serve dotfiles ("allow") or answer 404 for them ("deny", default). /.well-known/ is always served. */
  dotfiles?: "allow" | "deny";
  /** Files at most this large are kept in memory (default 64 KiB)… */
  cacheFileLimit?: number;
  /** …up to this many bytes in all (default 64 MiB). */
  cacheTotalLimit?: number;
  /** Cache-Control for every file; default: immutable for fingerprinted names, no-cache for HTML. */
  cacheControl?: string;
  /** Index file names tried for a directory (default ["index.html"]). */
  index?: string[];
}

const ALLOW = "GET, HEAD, OPTIONS";
const TEXT = "text/plain; charset=utf-8";
const encoder = new TextEncoder();

interface FileInfo {
  path: string;
  stats: BigIntStats;
  etag: string;
  lastModified: string;
  /** Last-Modified in whole seconds (HTTP dates have no finer resolution). */
  mtimeSeconds: number;
  contentType: string;
  cacheControl: string | undefined;
}

interface CacheEntry {
  info: FileInfo;
  /** Header lines for a 200, pre-encoded (Content-Type … Cache-Control), each ending CRLF. */
  head200: Uint8Array;
  body: Uint8Array;
  checkedAt: number;
}

/** `app.3f9a1c2b.js`, `main-5TQXR2.css`: a hash-like part of ≥ 6 chars before the extension. */
const FINGERPRINT = /[.-](?=[0-9A-Za-z]*\d)[0-9A-Za-z]{6,}\.[a-z0-9]+$/;

export function defaultCacheControl(name: string, contentType: string): string | undefined {
  if (FINGERPRINT.test(name) && !contentType.startsWith("text/html")) return "public, max-age=31536000, immutable";
  if (contentType.startsWith("text/html")) return "no-cache";
  return undefined;
}

export function contentTypeFor(name: string): string {
  const type = mime.getType(name) ?? "application/octet-stream";
  if (type.startsWith("text/") || type === "application/javascript" || type === "application/json" || type.endsWith("+xml") || type.endsWith("+json")) {
    return `${type}; charset=utf-8`;
  }
  return type;
}

/** A strong validator that costs nothing to compute: inode, size and mtime in nanoseconds. */
export function makeEtag(st: BigIntStats): string {
  return `"${st.ino.toString(36)}-${st.size.toString(36)}-${st.mtimeNs.toString(36)}"`;
}

export function createStaticHandler(options: StaticOptions): Handler {
  const root = realpathSync(options.root);
  const rootPrefix = root.endsWith(sep) ? root : root + sep;
  const allowDotfiles = options.dotfiles === "allow";
  const fileLimit = options.cacheFileLimit ?? 64 * 1024;
  const totalLimit = options.cacheTotalLimit ?? 64 * 1024 * 1024;
  const indexNames = options.index ?? ["index.html"];
  const cache = new Map<string, CacheEntry>();
  let cacheBytes = 0;

  function evict(key: string): void {
    const e = cache.get(key);
    if (e === undefined) return;
    cache.delete(key);
    cacheBytes -= e.body.length;
  }

  function remember(key: string, entry: CacheEntry): void {
    evict(key);
    const size = entry.body.length;
    if (size > totalLimit) return;
    // Oldest first out (Map keeps insertion order).
    for (const k of cache.keys()) {
      if (cacheBytes + size <= totalLimit) break;
      evict(k);
    }
    cache.set(key, entry);
    cacheBytes += size;
  }

  /** Stats a path inside the root; follows symlinks only while the real path stays inside. */
  function statInside(path: string): BigIntStats | null {
    const st = statSync(path, { bigint: true, throwIfNoEntry: false });
    if (st === undefined) return null;
    let real: string;
    try {
      real = realpathSync(path);
    } catch {
      return null;
    }
    if (real !== root && !real.startsWith(rootPrefix)) return null;
    return st;
  }

  function describe(path: string, name: string, st: BigIntStats): FileInfo {
    const contentType = contentTypeFor(name);
    const mtimeMs = Number(st.mtimeNs / 1_000_000n);
    return {
      path,
      stats: st,
      etag: makeEtag(st),
      lastModified: new Date(mtimeMs).toUTCString(),
      mtimeSeconds: Math.floor(mtimeMs / 1000),
      contentType,
      cacheControl: options.cacheControl ?? defaultCacheControl(name, contentType),
    };
  }

  function headerLines(info: FileInfo): string {
    let h =
      `Content-Type: ${info.contentType}\r\nLast-Modified: ${info.lastModified}\r\nETag: ${info.etag}\r\n` +
      "Accept-Ranges: bytes\r\nX-Content-Type-Options: nosniff\r\n";
    if (info.cacheControl) h += `Cache-Control: ${info.cacheControl}\r\n`;
    return h;
  }

  function notFound(): Reply {
    return { status: 404, headers: [["Content-Type", TEXT]], body: "404 Not Found\n" };
  }

  function sameFile(a: BigIntStats, b: BigIntStats): boolean {
    return a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.dev === b.dev;
  }

  function serveEntry(req: ServerRequest, entry: CacheEntry): HandlerResult {
    const method = req.head.method;
    if (method !== METHOD.GET && method !== METHOD.HEAD) return notAllowed(method);
    const pre = evaluatePreconditions(req, entry.info.etag, entry.info.mtimeSeconds);
    if (pre !== 0) return validatorReply(pre, entry.info);
    return { status: 200, headers: entry.head200, body: entry.body };
  }

  function validatorReply(status: number, info: FileInfo): Reply {
    if (status === 304) {
      const headers: [string, string][] = [
        ["ETag", info.etag],
        ["Last-Modified", info.lastModified],
      ];
      if (info.cacheControl) headers.push(["Cache-Control", info.cacheControl]);
      return { status: 304, headers };
    }
    return { status, headers: [["Content-Type", TEXT]], body: `${status} Precondition Failed\n` };
  }

  return function serveStatic(req: ServerRequest): HandlerResult {
    const key = req.head.path;
    const cached = cache.get(key);
    const now = Date.now();
    if (cached !== undefined) {
      if (now - cached.checkedAt < 1000) return serveEntry(req, cached);
      const st = statSync(cached.info.path, { bigint: true, throwIfNoEntry: false });
      if (st !== undefined && sameFile(st, cached.info.stats)) {
        cached.checkedAt = now;
        return serveEntry(req, cached);
      }
      evict(key);
    }

    const resolved = resolveRequestPath(key);
    if (typeof resolved === "number") {
      return { status: 400, headers: [["Content-Type", TEXT]], body: "400 Bad Request: invalid path\n" };
    }
    const { segments } = resolved;
    if (!allowDotfiles && isHiddenSegments(segments)) return notFound();

    let path = segments.length === 0 ? root : join(root, ...segments);
    let st = statInside(path);
    if (st === null) return notFound();
    let name = segments.length === 0 ? "" : segments[segments.length - 1]!;

    if (st.isDirectory()) {
      if (!resolved.trailingSlash) {
        // /dir → /dir/ so relative links inside resolve; the query is kept.
        const q = req.head.queryStart >= 0 ? `?${req.head.query}` : "";
        const location = `${key}/${q}`;
        return { status: 301, headers: [["Location", location], ["Content-Type", TEXT]], body: "301 Moved Permanently\n" };
      }
      let found: BigIntStats | null = null;
      for (const index of indexNames) {
        const candidate = join(path, index);
        const s = statInside(candidate);
        if (s !== null && s.isFile()) {
          path = candidate;
          found = s;
          name = index;
          break;
        }
      }
      if (found === null) return notFound();
      st = found;
    }
    // FIFOs, devices and sockets are never opened: an open() on a FIFO would block the process.
    if (!st.isFile()) return notFound();

    const method = req.head.method;
    if (method === METHOD.OPTIONS) return { status: 204, headers: [["Allow", ALLOW]] };
    if (method !== METHOD.GET && method !== METHOD.HEAD) return notAllowed(method);

    const info = describe(path, name, st);
    const size = Number(st.size);
    if (size <= fileLimit) {
      const body = readSmallFile(path, size);
      if (body === null) return notFound();
      const entry: CacheEntry = { info, head200: encoder.encode(headerLines(info)), body, checkedAt: now };
      remember(key, entry);
      return serveEntry(req, entry);
    }

    const pre = evaluatePreconditions(req, info.etag, info.mtimeSeconds);
    if (pre !== 0) return validatorReply(pre, info);
    let fd: number;
    try {
      fd = openSync(path, "r");
    } catch {
      return notFound();
    }
    const fst = fstatSync(fd, { bigint: true });
    if (!fst.isFile()) {
      closeSync(fd);
      return notFound();
    }
    const length = Number(fst.size);
    return {
      status: 200,
      headers: encoder.encode(headerLines(info)),
      body: new FileSource(fd, 0, length),
      length,
    };
  };
}

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

function readSmallFile(path: string, size: number): Uint8Array | null {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return null;
  }
  try {
    const buf = new Uint8Array(size);
    let off = 0;
    while (off < size) {
      const n = readSync(fd, buf, off, size - off, off);
      if (n <= 0) break;
      off += n;
    }
    return off === size ? buf : buf.subarray(0, off);
  } finally {
    closeSync(fd);
  }
}
