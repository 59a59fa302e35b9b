// The hot-file cache: per request path, a file's pre-encoded header lines (and its bytes, when small),
// for the file and for each precompressed sibling; compressed variants made in memory hang off the
// entry too (compressed-files.ts). A hit is one Map lookup. An entry is trusted for a second, then the
// file and its siblings are stat()ed again, and the entry dropped if any changed. Request lookups are
// counted (hits and misses, plain numbers the metrics read). While watching (--watch), HTML files are
// read whole and transformed once as the entry is built, and no entry is trusted without a stat().
import type { BigIntStats } from "node:fs";
import { concatBytes } from "../http/chars.ts";
import { getDateLine } from "../http/date.ts";
import { SERVER_HEADER, statusLine } from "../http/response.ts";
import { type ArenaSlot, placeInArena } from "../server/send-arena.ts";
import { isCompressibleType } from "../compress/compressible.ts";
import { CODINGS, type CodingName } from "../compress/negotiate.ts";
import { contentTypeFor, defaultCacheControl, makeEtag } from "./file-headers.ts";
import { readWholeFile, statInside, statOrNull } from "./file-system.ts";

const encoder = new TextEncoder();
/** How long a cached answer is trusted before the file is stat()ed again. */
const REVALIDATE_MS = 1000;
const MAX_ENTRIES = 16_384;

/** One file we may send: the file itself or a precompressed sibling. */
export interface Variant {
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
  /** Where `full` also sits in the send arena, when it is large enough to be sent from there. */
  fullSlot: ArenaSlot | null;
}

/** A variant compressed in memory, once it exists (compressed-files.ts keeps them). */
export interface MadeSlot {
  readonly variant: Variant | null;
}

/** A path's variants and what every answer for it shares. */
export interface Entry {
  contentType: string;
  cacheControl: string | undefined;
  /** Header lines every variant's 200 has (type, Cache-Control, Vary…), before its own. */
  common: string;
  identity: Variant;
  /** The precompressed siblings on disk, by Coding (undefined: no such sibling). */
  sibling: (Variant | undefined)[];
  /** A mask of the siblings' codings (1 << Coding), what a request's coding is picked from. */
  siblings: number;
  /** Big enough and of a type worth compressing in memory (when compression is on). */
  compressible: boolean;
  /** Its answers depend on Accept-Encoding: it has siblings or is compressible. */
  varies: boolean;
  /** Variants compressed in memory, by Coding. */
  made: (MadeSlot | undefined)[];
  /** Its identity bytes are the file's, transformed (siblings on disk are not its bytes: ignored). */
  transformed: boolean;
  checkedAt: number;
}

/** What becomes of HTML files as they are loaded (live reload's script), and how their ETag says so. */
export interface HtmlTransform {
  /** Added inside the ETag (`"…-lr"`), so a transformed answer never matches the plain file's. */
  readonly etagSuffix: string;
  /** HTML files larger than this are served untouched (and streamed from disk as usual). */
  readonly maxSize: number;
  apply(html: Uint8Array): Uint8Array;
}

export interface FileCacheOptions {
  /** The root's real path: a sibling reached through a symlink must stay inside it too. */
  root: string;
  /** Files at most this large keep their bytes in memory… */
  fileLimit: number;
  /** …up to this many bytes in all. */
  totalLimit: number;
  /** Cache-Control for every file; undefined: defaultCacheControl's choice per file. */
  cacheControl: string | undefined;
  /** Files at least this large, of a compressible type, are compressed in memory; null: never. */
  compressMinSize: number | null;
  /** Applied to HTML files as they are loaded (absent: their bytes are sent as they are). */
  transformHtml?: HtmlTransform;
  /**
   * Every request stat()s its file, with no second of trust: while watching, a page reloads the
   * moment a file changes, and with --workers another process may have seen the change first.
   * Browsers are told to revalidate every file too (defaultCacheControl's `everyFile`).
   */
  revalidateAlways?: boolean;
}

/** How often request paths were found in the cache, and not (absent, or stale and dropped). */
export interface CacheCounts {
  readonly hits: number;
  readonly misses: number;
}

export class FileCache implements CacheCounts {
  readonly #entries = new Map<string, Entry>();
  #bytes = 0;
  readonly #options: FileCacheOptions;
  // Plain numbers, read only when metrics are scraped: counting costs an increment per request.
  #hits = 0;
  #misses = 0;

  constructor(options: FileCacheOptions) {
    this.#options = options;
  }

  get hits(): number {
    return this.#hits;
  }

  get misses(): number {
    return this.#misses;
  }

  /** The entry for a request path while it is still the file on disk; a stale one is dropped (undefined). */
  get(key: string, now: number): Entry | undefined {
    const e = this.#fresh(key, now);
    if (e === undefined) this.#misses++;
    else this.#hits++;
    return e;
  }

  /** The entry for `key` while it is still the file on disk (not counted: get() counts requests). */
  #fresh(key: string, now: number): Entry | undefined {
    const e = this.#entries.get(key);
    if (e === undefined) return undefined;
    if (now - e.checkedAt < REVALIDATE_MS) return e;
    if (isFresh(e)) {
      e.checkedAt = this.#trustedFrom(now);
      return e;
    }
    this.#evict(key);
    return undefined;
  }

  /** Builds the entry for a regular file already found inside the root; kept under `key` if it fits. */
  add(key: string, path: string, name: string, st: BigIntStats, now: number): Entry | null {
    const e = this.#build(path, name, st, now);
    if (e !== null) this.#remember(key, e);
    return e;
  }

  /** The entry for a known file path (404 page, SPA index), revalidated like any other; null if none. */
  lookupFile(key: string, path: string, name: string, now: number): Entry | null {
    // Apart from the request paths' keys: these entries were not reached through the path policy.
    const k = `\0${key}`;
    const cached = this.#fresh(k, now);
    if (cached !== undefined) return cached;
    const st = statInside(path, this.#options.root);
    if (st === null || !st.isFile()) return null;
    return this.add(k, path, name, st, now);
  }

  /** When an entry checked `now` was checked, as far as trusting it goes (never, with revalidateAlways). */
  #trustedFrom(now: number): number {
    return this.#options.revalidateAlways ? -Infinity : now;
  }

  /** Forgets every entry: what a path names has changed (a site's rules were read again). */
  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }

  #evict(key: string): void {
    const e = this.#entries.get(key);
    if (e === undefined) return;
    this.#entries.delete(key);
    this.#bytes -= entryBytes(e);
  }

  #remember(key: string, entry: Entry): void {
    this.#evict(key);
    const size = entryBytes(entry);
    const limit = this.#options.totalLimit;
    // Oldest out first (a Map iterates in insertion order).
    for (const k of this.#entries.keys()) {
      if (this.#bytes + size <= limit && this.#entries.size < MAX_ENTRIES) break;
      this.#evict(k);
    }
    if (this.#bytes + size > limit) return;
    this.#entries.set(key, entry);
    this.#bytes += size;
  }

  #build(path: string, name: string, st: BigIntStats, now: number): Entry | null {
    const contentType = contentTypeFor(name);
    const cacheControl = this.#options.cacheControl ?? defaultCacheControl(name, contentType, this.#options.revalidateAlways);
    const transform = this.#options.transformHtml;
    const transformed = transform !== undefined && Number(st.size) <= transform.maxSize && contentType.startsWith("text/html");
    // Each sibling's stat, by Coding (null: none). A transformed file has none: theirs are the plain bytes.
    const found = CODINGS.map((c) => {
      if (transformed) return null;
      const s = statInside(path + c.suffix, this.#options.root);
      return s !== null && s.isFile() ? s : null;
    });
    const minSize = this.#options.compressMinSize;
    const compressible = minSize !== null && Number(st.size) >= minSize && isCompressibleType(contentType);
    let common = `Content-Type: ${contentType}\r\nAccept-Ranges: bytes\r\nX-Content-Type-Options: nosniff\r\n`;
    if (cacheControl) common += `Cache-Control: ${cacheControl}\r\n`;
    // Every response for a path we may send compressed varies by Accept-Encoding, identity included.
    const varies = found.some((s) => s !== null) || compressible;
    if (varies) common += "Vary: Accept-Encoding\r\n";
    const identity = transformed ? transformedVariant(path, st, common, transform) : this.#readVariant(path, st, null, common);
    if (identity === null) return null;
    const sibling: (Variant | undefined)[] = [undefined, undefined, undefined];
    let mask = 0;
    for (let c = 0; c < CODINGS.length; c++) {
      const s = found[c]!;
      const v = s === null ? null : this.#readVariant(path + CODINGS[c]!.suffix, s, CODINGS[c]!.name, common);
      if (v === null) continue;
      sibling[c] = v;
      mask |= 1 << c;
    }
    const made = [undefined, undefined, undefined];
    return { contentType, cacheControl, common, identity, sibling, siblings: mask, compressible, varies, made, transformed, checkedAt: this.#trustedFrom(now) };
  }

  #readVariant(path: string, st: BigIntStats, coding: CodingName | null, common: string): Variant | null {
    const size = Number(st.size);
    let body: Uint8Array | null = null;
    if (size <= this.#options.fileLimit) {
      body = readWholeFile(path, size);
      if (body === null) return null;
    }
    return makeVariant(path, st, coding, common, makeEtag(st, coding), body, size);
  }
}

/** An HTML file's identity variant: its bytes read whole and transformed, its ETag marked so. */
function transformedVariant(path: string, st: BigIntStats, common: string, transform: HtmlTransform): Variant | null {
  const plain = readWholeFile(path, Number(st.size));
  if (plain === null) return null;
  const body = transform.apply(plain);
  const etag = `${makeEtag(st).slice(0, -1)}-${transform.etagSuffix}"`;
  return makeVariant(path, st, null, common, etag, body, body.length);
}

/**
 * A variant's header lines and validators. `body`: its bytes when kept in memory (then `size` is
 * their length). A variant compressed in memory has the file's path and stat, its own ETag and bytes.
 */
export function makeVariant(
  path: string,
  st: BigIntStats,
  coding: CodingName | null,
  common: string,
  etag: string,
  body: Uint8Array | null,
  size: number,
): Variant {
  const mtimeMs = Number(st.mtimeNs / 1_000_000n);
  const lastModified = new Date(mtimeMs).toUTCString();
  // A compressed variant is never served in ranges (a Range gets the identity bytes): it does not
  // advertise them, as nginx does not for gzip.
  const lines = coding === null ? common : common.replace("Accept-Ranges: bytes\r\n", "");
  let headLines = `${lines}Last-Modified: ${lastModified}\r\nETag: ${etag}\r\n`;
  if (coding !== null) headLines += `Content-Encoding: ${coding}\r\n`;
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
    fullSlot: null,
  };
}

/** Whole responses larger than this are placed in the send arena (reply-writer.ts copies smaller ones). */
const ARENA_MIN = 16 * 1024;

/** Bodies up to this size are also kept as a whole pre-encoded response (fullResponse). */
export const WHOLE_RESPONSE_LIMIT = 64 * 1024;

/** The complete 200 response of a cached variant; one buffer per file, remade once a second for Date. */
export function fullResponse(v: Variant): Uint8Array {
  const date = getDateLine();
  if (v.full !== null && v.fullDate === date) return v.full;
  const body = v.body!;
  const tail = encoder.encode(`Content-Length: ${body.length}\r\n\r\n`);
  const full = concatBytes([statusLine(200), v.head200, date, SERVER_HEADER, tail, body]);
  v.full = full;
  v.fullDate = date;
  // Small ones are copied into the cork buffer (several share a write); large ones are sent by
  // sendfile from the arena.
  v.fullSlot = full.length > ARENA_MIN ? placeInArena(full, date) : null;
  return full;
}

function entryBytes(e: Entry): number {
  let n = e.identity.body?.length ?? 0;
  for (const v of e.sibling) n += v?.body?.length ?? 0;
  return n;
}

/** `b` (a fresh stat, or null when gone) is still the file `a` described. */
export function sameFile(a: BigIntStats, b: BigIntStats | null): boolean {
  return b !== null && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.dev === b.dev;
}

/** Still the same files on disk (the file and every sibling we know, and no new sibling)? */
function isFresh(e: Entry): boolean {
  if (!sameFile(e.identity.stats, statOrNull(e.identity.path))) return false;
  if (e.transformed) return true;
  for (let c = 0; c < CODINGS.length; c++) {
    const s = statOrNull(e.identity.path + CODINGS[c]!.suffix);
    const v = e.sibling[c];
    if (v === undefined ? s !== null : !sameFile(v.stats, s)) return false;
  }
  return true;
}
