// A parsed request head: offsets into the received bytes; strings are made only when asked for.
import { decodeLatin1, equalsLower } from "./chars.ts";
import { errorName, errorReason, errorStatus, type HttpErrorCode } from "./errors.ts";

/**
 * Request field names common enough to keep as shared lower-case strings (what browsers, curl and
 * API clients send), indexed by length: a Headers object built from a request then makes no string
 * for most names (Bun lower-cases names anyway).
 */
const COMMON_NAMES: string[][] = [];
for (const name of [
  "host", "connection", "user-agent", "accept", "accept-encoding", "accept-language", "cookie", "referer",
  "origin", "cache-control", "pragma", "content-type", "content-length", "authorization", "if-none-match",
  "if-modified-since", "range", "upgrade-insecure-requests", "sec-fetch-site", "sec-fetch-mode",
  "sec-fetch-dest", "sec-fetch-user", "sec-ch-ua", "sec-ch-ua-mobile", "sec-ch-ua-platform", "priority",
  "dnt", "te", "x-requested-with", "x-forwarded-for", "x-forwarded-proto", "x-real-ip", "transfer-encoding",
]) {
  (COMMON_NAMES[name.length] ??= []).push(name);
}

/** Bytes [start, end) as a lower-case field name: a shared string for the common ones. */
function lowerName(buf: Uint8Array, start: number, end: number): string {
  const candidates = COMMON_NAMES[end - start];
  if (candidates !== undefined) {
    for (let k = 0; k < candidates.length; k++) if (equalsLower(buf, start, end, candidates[k]!)) return candidates[k]!;
  }
  return decodeLatin1(buf, start, end).toLowerCase();
}

/**
 * A string made from bytes, kept to be handed out again while the next bytes are the same: a site's
 * requests repeat few paths (a pipelined batch, a page's assets) and one Host, and comparing a few
 * bytes costs less than a native decode and a new string. The same host string also makes Bun's
 * `new Request(url)` cheaper: one for a URL built from the same host string took about 190 ns here,
 * against 520 ns with a new host string each time, its decode included (bench/request.bench.ts
 * measures our whole WebRequest.from).
 */
class SharedString {
  #last = "";

  of(buf: Uint8Array, start: number, end: number): string {
    const p = this.#last;
    if (p.length === end - start) {
      let k = 0;
      while (k < p.length && buf[start + k] === p.charCodeAt(k)) k++;
      if (k === p.length) return p;
    }
    return (this.#last = decodeLatin1(buf, start, end));
  }
}

const PATHS = new SharedString();
const HOSTS = new SharedString();

/** Header fields detached from a request head (RequestHead.detachFields): its own offsets into the bytes. */
export class FieldList {
  constructor(
    private readonly buf: Uint8Array,
    /** [nameStart, nameEnd, valueStart, valueEnd] per field, into `buf`. */
    private readonly offsets: Int32Array,
    readonly count: number,
  ) {}

  lowerNameAt(i: number): string {
    return lowerName(this.buf, this.offsets[i << 2]!, this.offsets[(i << 2) + 1]!);
  }

  valueAt(i: number): string {
    return decodeLatin1(this.buf, this.offsets[(i << 2) + 2]!, this.offsets[(i << 2) + 3]!);
  }
}

const METHOD_NAMES = ["", "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE"];

const EMPTY_BYTES = new Uint8Array(0);

/** The field table a head starts with: 24 fields, enough for a browser's request. */
const FIELD_TABLE_LENGTH = 24 * 4;
const NO_FIELDS = new Int32Array(0);
/**
 * Field tables of heads released between requests, for the next head to parse: an idle connection
 * then holds no table (384 bytes), and a busy one takes back the table it gave.
 */
const spareTables: Int32Array[] = [];
/** Tables kept spare at most (about 400 KB): past that, a released table is left to the GC. */
const MAX_SPARE_TABLES = 1024;

export class RequestHead {
  buf: Uint8Array = new Uint8Array(0);
  /** [start, end): the head from the request line through the blank line (leading empty lines excluded). */
  start = 0;
  end = 0;
  /** METHOD code; 0 (OTHER) for methods without one: read `methodName`. */
  method = 0;
  methodEnd = 0;
  targetStart = 0;
  targetEnd = 0;
  /** Where the path starts inside the target (after scheme://authority for absolute-form). */
  pathStart = 0;
  /** Offset of the first '?' in the target, or -1. */
  queryStart = -1;
  /** HTTP minor version: 0 or 1 (HTTP/1.2 to HTTP/1.9 are read as 1.1, RFC 9110 §2.5). */
  minor = 1;
  /**
   * Header field ranges: [nameStart, nameEnd, valueStart, valueEnd] per field. Empty until the first
   * field of a head (the parser then asks grow() for one); grows past 24 fields; given back at release().
   */
  offsets: Int32Array = NO_FIELDS;
  headerCount = 0;
  /** -1 when absent. */
  contentLength = -1;
  chunked = false;
  keepAlive = true;
  expectContinue = false;
  /** 0 when parsing succeeded; else an HTTP_ERROR code, with the byte offset where it was found. */
  error: HttpErrorCode | 0 = 0;
  errorOffset = -1;

  /** A field table when there is none (a spare one), else doubles it (up to maxHeaders), keeping what is recorded. */
  grow(maxHeaders: number): Int32Array {
    if (this.offsets.length === 0) return (this.offsets = spareTables.pop() ?? new Int32Array(FIELD_TABLE_LENGTH));
    const next = new Int32Array(Math.min(Math.max(this.offsets.length * 2, 16), maxHeaders * 4));
    next.set(this.offsets.subarray(0, Math.min(this.offsets.length, next.length)));
    this.offsets = next;
    return next;
  }

  get methodName(): string {
    return this.method !== 0 ? METHOD_NAMES[this.method]! : decodeLatin1(this.buf, this.start, this.methodEnd);
  }

  /** The request-target exactly as sent. */
  get target(): string {
    // origin-form without a query (most requests): the path itself, made once.
    if (this.queryStart < 0 && this.pathStart === this.targetStart && this.pathStart !== this.targetEnd) return this.path;
    return decodeLatin1(this.buf, this.targetStart, this.targetEnd);
  }

  /** Counts the heads parsed into this object (the parser bumps it): what the path string is cached for. */
  parsed = 0;
  // The path string of the head last parsed (a router and a Request's URL both ask for it).
  #pathOf = -1;
  #path = "";

  /**
   * The path part of the target, still percent-encoded: "*" for asterisk-form, and "/" when there is
   * none (absolute-form with an empty path, authority-form).
   */
  get path(): string {
    const end = this.pathEnd;
    if (this.pathStart === end) return "/";
    if (this.#pathOf === this.parsed) return this.#path;
    this.#pathOf = this.parsed;
    return (this.#path = PATHS.of(this.buf, this.pathStart, end));
  }

  /** Where the path part of the target ends: at the '?', or with the target. */
  get pathEnd(): number {
    return this.queryStart >= 0 ? this.queryStart : this.targetEnd;
  }

  /** Whether the path, as sent (still percent-encoded), begins with these bytes: no string is made. */
  pathStartsWith(prefix: Uint8Array): boolean {
    const start = this.pathStart;
    if (this.pathEnd - start < prefix.length) return false;
    const buf = this.buf;
    for (let k = 0; k < prefix.length; k++) if (buf[start + k] !== prefix[k]) return false;
    return true;
  }

  /** The query without '?', or "" when there is none. */
  get query(): string {
    return this.queryStart >= 0 ? decodeLatin1(this.buf, this.queryStart + 1, this.targetEnd) : "";
  }

  get version(): string {
    return this.minor === 1 ? "HTTP/1.1" : "HTTP/1.0";
  }

  get hasBody(): boolean {
    return this.chunked || this.contentLength > 0;
  }

  /**
   * Index of the first field named `name` (case-insensitive), or -1. Allocates nothing for a lower-case
   * `name`, as every caller of ours passes: toLowerCase() then returns the string itself.
   */
  indexOf(name: string, from = 0): number {
    const lower = name.toLowerCase();
    const o = this.offsets;
    for (let i = from; i < this.headerCount; i++) {
      if (equalsLower(this.buf, o[i << 2]!, o[(i << 2) + 1]!, lower)) return i;
    }
    return -1;
  }

  /** The Host field's value (the parser lets through one at most), as a shared string; undefined without one. */
  get host(): string | undefined {
    const i = this.indexOf("host");
    if (i < 0) return undefined;
    return HOSTS.of(this.buf, this.offsets[(i << 2) + 2]!, this.offsets[(i << 2) + 3]!);
  }

  /** The value of field `name`; repeated fields are joined with ", " (RFC 9110 §5.3). */
  header(name: string): string | undefined {
    let i = this.indexOf(name);
    if (i < 0) return undefined;
    let value = this.valueAt(i);
    while ((i = this.indexOf(name, i + 1)) >= 0) value += `, ${this.valueAt(i)}`;
    return value;
  }

  nameAt(i: number): string {
    return decodeLatin1(this.buf, this.offsets[i << 2]!, this.offsets[(i << 2) + 1]!);
  }

  /** The name of field i in lower case, as a shared string when it is a common one (no allocation). */
  lowerNameAt(i: number): string {
    return lowerName(this.buf, this.offsets[i << 2]!, this.offsets[(i << 2) + 1]!);
  }

  /**
   * Forgets the bytes this head was parsed from (after its response), so an idle or closing
   * connection does not keep a whole socket chunk alive; the parsed fields are no longer readable.
   */
  release(): void {
    this.buf = EMPTY_BYTES;
    this.headerCount = 0;
    this.#pathOf = -1;
    this.#path = "";
    const table = this.offsets;
    if (table.length === FIELD_TABLE_LENGTH && spareTables.length < MAX_SPARE_TABLES) spareTables.push(table);
    this.offsets = NO_FIELDS;
  }

  /**
   * The header fields as a list that stays valid after this head is reused for the next request. It
   * keeps its own offsets and refers to the same bytes: a connection never overwrites bytes it has
   * received (see Connection's `input`). It makes no view of the buffer, because the first view of a
   * fresh socket chunk costs Bun about a microsecond.
   */
  detachFields(): FieldList {
    const n = this.headerCount << 2;
    const offsets = new Int32Array(n);
    for (let k = 0; k < n; k++) offsets[k] = this.offsets[k]!;
    return new FieldList(this.buf, offsets, this.headerCount);
  }

  valueAt(i: number): string {
    return decodeLatin1(this.buf, this.offsets[(i << 2) + 2]!, this.offsets[(i << 2) + 3]!);
  }

  /** All fields as [name, value] pairs in arrival order, names as sent. */
  entries(): [string, string][] {
    const out: [string, string][] = [];
    for (let i = 0; i < this.headerCount; i++) out.push([this.nameAt(i), this.valueAt(i)]);
    return out;
  }

  get errorStatus(): number {
    return this.error ? errorStatus(this.error) : 0;
  }

  describeError(): string {
    return this.error ? `${errorName(this.error)} (${errorReason(this.error)}) at byte ${this.errorOffset}` : "";
  }
}
