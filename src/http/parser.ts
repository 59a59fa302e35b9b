// Zero-copy HTTP/1.1 request-head parser (RFC 9112 §2-§6) over Uint8Array byte ranges.
//
// Contract (after picohttpparser): parseRequestHead(buf, start, end, head, limits) returns the number of
// bytes the head took (> 0), INCOMPLETE when [start, end) holds a valid prefix of a head, or FAILED with
// head.error and head.errorOffset set. It keeps no state between calls and never reads outside
// [start, end), and never past start + maxHeaderSize: a prefix of the input gives INCOMPLETE or exactly
// the result of the whole input, so however the bytes are split the outcome is the same.
import { CHAR_CLASS, COLON, CR, DIGIT, equalsLower, FIELD, HEX, HTAB, LF, LOWER, SP, TARGET, TOKEN } from "./chars.ts";
import { HTTP_ERROR, type HttpErrorCode } from "./errors.ts";
import { RequestHead } from "./head.ts";

export const INCOMPLETE = -1;
export const FAILED = -2;

export interface ParserLimits {
  /** Longest request line, CRLF excluded (→ 414). */
  maxRequestLine: number;
  /** Longest head: request line, fields and the blank line (→ 431). */
  maxHeaderSize: number;
  /** Most header fields (→ 431). */
  maxHeaders: number;
}

export const DEFAULT_PARSER_LIMITS: ParserLimits = {
  maxRequestLine: 8 * 1024,
  maxHeaderSize: 64 * 1024,
  maxHeaders: 100,
};

export const METHOD = {
  OTHER: 0,
  GET: 1,
  HEAD: 2,
  POST: 3,
  PUT: 4,
  DELETE: 5,
  OPTIONS: 6,
  PATCH: 7,
  CONNECT: 8,
  TRACE: 9,
} as const;

// Content-Length beyond 2^53 cannot be counted exactly; 15 digits is already 999 TB.
const MAX_CONTENT_LENGTH_DIGITS = 15;

function fail(head: RequestHead, code: HttpErrorCode, offset: number): number {
  head.error = code;
  head.errorOffset = offset;
  return FAILED;
}

/** Recognises the common methods by their bytes so GET never becomes a string unless asked. */
function methodCode(buf: Uint8Array, s: number, len: number): number {
  const c = buf[s];
  switch (len) {
    case 3:
      if (c === 71 && buf[s + 1] === 69 && buf[s + 2] === 84) return METHOD.GET; // "GET"
      if (c === 80 && buf[s + 1] === 85 && buf[s + 2] === 84) return METHOD.PUT; // "PUT"
      return METHOD.OTHER;
    case 4:
      if (c === 72 && buf[s + 1] === 69 && buf[s + 2] === 65 && buf[s + 3] === 68) return METHOD.HEAD; // "HEAD"
      if (c === 80 && buf[s + 1] === 79 && buf[s + 2] === 83 && buf[s + 3] === 84) return METHOD.POST; // "POST"
      return METHOD.OTHER;
    case 5:
      if (c === 80 && buf[s + 1] === 65 && buf[s + 2] === 84 && buf[s + 3] === 67 && buf[s + 4] === 72)
        return METHOD.PATCH; // "PATCH"
      if (c === 84 && buf[s + 1] === 82 && buf[s + 2] === 65 && buf[s + 3] === 67 && buf[s + 4] === 69)
        return METHOD.TRACE; // "TRACE"
      return METHOD.OTHER;
    case 6:
      return c === 68 && bytesAre(buf, s, "DELETE") ? METHOD.DELETE : METHOD.OTHER;
    case 7:
      if (c === 79 && bytesAre(buf, s, "OPTIONS")) return METHOD.OPTIONS;
      if (c === 67 && bytesAre(buf, s, "CONNECT")) return METHOD.CONNECT;
      return METHOD.OTHER;
  }
  return METHOD.OTHER;
}

function bytesAre(buf: Uint8Array, s: number, ascii: string): boolean {
  for (let i = 0; i < ascii.length; i++) if (buf[s + i] !== ascii.charCodeAt(i)) return false;
  return true;
}

/**
 * The request line ran to `lineStop` without ending: too long (414), or cut by the head limit (431) when
 * leading empty lines moved the line's own limit past it (else we would wait forever), or just incomplete.
 */
function lineEnded(head: RequestHead, p: number, lineStop: number, lineLimit: number, limitEnd: number): number {
  if (lineStop === lineLimit) return fail(head, HTTP_ERROR.URI_TOO_LONG, p);
  return lineStop === limitEnd ? fail(head, HTTP_ERROR.HEADERS_TOO_LARGE, p) : INCOMPLETE;
}

const VERSION_PREFIX = [72, 84, 84, 80, 47]; // "HTTP/"

export function parseRequestHead(
  buf: Uint8Array,
  start: number,
  end: number,
  head: RequestHead,
  limits: ParserLimits = DEFAULT_PARSER_LIMITS,
): number {
  // Never look past the header-size limit: what lies beyond cannot change the outcome.
  const limitEnd = start + limits.maxHeaderSize;
  const stop = end < limitEnd ? end : limitEnd;
  let p = start;

  // RFC 9112 §2.2: ignore empty lines (CRLF) received before the request-line.
  for (;;) {
    if (p >= stop) return p >= limitEnd ? fail(head, HTTP_ERROR.HEADERS_TOO_LARGE, p) : INCOMPLETE;
    const c = buf[p];
    if (c === CR) {
      if (p + 1 >= stop) return p + 1 >= limitEnd ? fail(head, HTTP_ERROR.HEADERS_TOO_LARGE, p) : INCOMPLETE;
      if (buf[p + 1] !== LF) return fail(head, HTTP_ERROR.BARE_CR, p);
      p += 2;
    } else if (c === LF) {
      return fail(head, HTTP_ERROR.BARE_LF, p);
    } else break;
  }

  // request-line = method SP request-target SP HTTP-version CRLF   (RFC 9112 §3)
  const lineStart = p;
  const lineLimit = lineStart + limits.maxRequestLine;
  const lineStop = stop < lineLimit ? stop : lineLimit;

  while (p < lineStop && CHAR_CLASS[buf[p]!]! & TOKEN) p++;
  if (p >= lineStop) return lineEnded(head, p, lineStop, lineLimit, limitEnd);
  if (buf[p] !== SP || p === lineStart) return fail(head, HTTP_ERROR.INVALID_METHOD, p);
  const methodEnd = p++;

  const targetStart = p;
  let queryAt = -1;
  while (p < lineStop) {
    const c = buf[p]!;
    if (!(CHAR_CLASS[c]! & TARGET)) break;
    if (c === 63 && queryAt < 0) queryAt = p; // '?'
    p++;
  }
  if (p >= lineStop) return lineEnded(head, p, lineStop, lineLimit, limitEnd);
  if (buf[p] !== SP || p === targetStart) {
    // RFC 9112 §3.2: no form of request-target has a fragment; a raw '#' (RFC 3986 §3.5) cannot be in one.
    return fail(head, buf[p] === 35 ? HTTP_ERROR.FRAGMENT_IN_TARGET : HTTP_ERROR.INVALID_TARGET, p); // '#'
  }
  const targetEnd = p++;

  // HTTP-version = "HTTP/" DIGIT "." DIGIT, then CRLF: checked byte by byte so a bad prefix fails at once.
  for (let i = 0; i < 10; i++, p++) {
    if (i < 8 && p >= lineLimit) return fail(head, HTTP_ERROR.URI_TOO_LONG, p); // the limit excludes CRLF
    if (p >= stop) return p >= limitEnd ? fail(head, HTTP_ERROR.HEADERS_TOO_LARGE, p) : INCOMPLETE;
    const c = buf[p]!;
    if (i < 5) {
      if (c !== VERSION_PREFIX[i]) return fail(head, HTTP_ERROR.INVALID_VERSION, p);
    } else if (i === 6) {
      if (c !== 46) return fail(head, HTTP_ERROR.INVALID_VERSION, p); // '.'
    } else if (i === 5 || i === 7) {
      if (!(CHAR_CLASS[c]! & DIGIT)) return fail(head, HTTP_ERROR.INVALID_VERSION, p);
    } else if (i === 8) {
      if (c !== CR) return fail(head, c === LF ? HTTP_ERROR.BARE_LF : HTTP_ERROR.INVALID_VERSION, p);
    } else if (c !== LF) {
      return fail(head, HTTP_ERROR.BARE_CR, p - 1);
    }
  }
  // A major version other than 1 (HTTP/0.9, HTTP/2.0 in an HTTP/1 request line) gets 505 (RFC 9110 §15.6.6).
  if (buf[p - 5] !== 49) return fail(head, HTTP_ERROR.UNSUPPORTED_VERSION, p - 5); // '1'
  // RFC 9110 §2.5: a higher minor version of HTTP/1 is treated as the highest we support, 1.1 (nginx: 200).
  const minor = buf[p - 3] === 48 ? 0 : 1;

  // Request-target forms (RFC 9112 §3.2).
  const method = methodCode(buf, lineStart, methodEnd - lineStart);
  let pathStart = targetStart;
  const t0 = buf[targetStart];
  if (t0 === 47) {
    // origin-form: '/'
  } else if (t0 === 42 && targetEnd === targetStart + 1) {
    // asterisk-form: '*', only for OPTIONS (§3.2.4)
    if (method !== METHOD.OPTIONS) return fail(head, HTTP_ERROR.INVALID_TARGET, targetStart);
  } else if (method === METHOD.CONNECT) {
    // authority-form (§3.2.3): host:port; no path
    pathStart = targetEnd;
  } else {
    // absolute-form (§3.2.2): scheme "://" authority path-abempty [ "?" query ]
    pathStart = absolutePathStart(buf, targetStart, queryAt >= 0 ? queryAt : targetEnd);
    if (pathStart < 0) return fail(head, HTTP_ERROR.INVALID_TARGET, targetStart);
  }

  // Fields (RFC 9112 §5): field-name ":" OWS field-value OWS CRLF
  const maxHeaders = limits.maxHeaders;
  let offsets = head.offsets;
  let count = 0;
  let contentLength = -1;
  let chunked = false;
  let hasTransferEncoding = false;
  let otherCodings = false;
  let hosts = 0;
  let connClose = false;
  let connKeepAlive = false;
  let expectContinue = false;

  for (;;) {
    if (p >= stop) return stop === limitEnd ? fail(head, HTTP_ERROR.HEADERS_TOO_LARGE, p) : INCOMPLETE;
    let c = buf[p]!;
    if (c === CR) {
      if (p + 1 >= stop) return stop === limitEnd ? fail(head, HTTP_ERROR.HEADERS_TOO_LARGE, p) : INCOMPLETE;
      if (buf[p + 1] !== LF) return fail(head, HTTP_ERROR.BARE_CR, p);
      p += 2;
      break;
    }
    if (c === LF) return fail(head, HTTP_ERROR.BARE_LF, p);
    // §5.2 obs-fold, and §2.2 whitespace between start-line and first field: both rejected.
    if (c === SP || c === HTAB) return fail(head, HTTP_ERROR.OBS_FOLD, p);

    const nameStart = p;
    while (p < stop && CHAR_CLASS[buf[p]!]! & TOKEN) p++;
    if (p >= stop) return stop === limitEnd ? fail(head, HTTP_ERROR.HEADERS_TOO_LARGE, p) : INCOMPLETE;
    c = buf[p]!;
    if (c !== COLON) {
      // §5.1: no whitespace is allowed between the field name and the colon.
      return fail(head, c === SP || c === HTAB ? HTTP_ERROR.WHITESPACE_BEFORE_COLON : HTTP_ERROR.INVALID_HEADER_NAME, p);
    }
    if (p === nameStart) return fail(head, HTTP_ERROR.INVALID_HEADER_NAME, p);
    const nameEnd = p++;

    while (p < stop && (buf[p] === SP || buf[p] === HTAB)) p++;
    const valueStart = p;
    while (p < stop && CHAR_CLASS[buf[p]!]! & FIELD) p++;
    if (p + 1 >= stop) {
      if (p < stop && buf[p] !== CR) {
        return fail(head, buf[p] === LF ? HTTP_ERROR.BARE_LF : HTTP_ERROR.INVALID_HEADER_VALUE, p);
      }
      return stop === limitEnd ? fail(head, HTTP_ERROR.HEADERS_TOO_LARGE, p) : INCOMPLETE;
    }
    c = buf[p]!;
    if (c !== CR) return fail(head, c === LF ? HTTP_ERROR.BARE_LF : HTTP_ERROR.INVALID_HEADER_VALUE, p);
    if (buf[p + 1] !== LF) return fail(head, HTTP_ERROR.BARE_CR, p);
    let valueEnd = p;
    while (valueEnd > valueStart && (buf[valueEnd - 1] === SP || buf[valueEnd - 1] === HTAB)) valueEnd--;
    p += 2;

    if (count === maxHeaders) return fail(head, HTTP_ERROR.TOO_MANY_HEADERS, nameStart);
    const o = count << 2;
    if (o + 4 > offsets.length) offsets = head.grow(maxHeaders);
    offsets[o] = nameStart;
    offsets[o + 1] = nameEnd;
    offsets[o + 2] = valueStart;
    offsets[o + 3] = valueEnd;
    count++;

    // Fields that decide framing and connection handling.
    switch (nameEnd - nameStart) {
      case 4:
        if (equalsLower(buf, nameStart, nameEnd, "host")) {
          // RFC 9112 §3.2: an invalid Host value MUST get 400.
          if (!isValidHost(buf, valueStart, valueEnd)) return fail(head, HTTP_ERROR.INVALID_HOST, valueStart);
          hosts++;
        }
        break;
      case 6:
        if (equalsLower(buf, nameStart, nameEnd, "expect")) {
          // RFC 9110 §10.1.1: 100-continue is the only expectation defined.
          // Other expectations are ignored, as nginx does (a 417 is allowed, not required).
          if (equalsLower(buf, valueStart, valueEnd, "100-continue")) expectContinue = true;
        }
        break;
      case 10:
        if (equalsLower(buf, nameStart, nameEnd, "connection")) {
          const flags = scanConnection(buf, valueStart, valueEnd);
          if (flags & 1) connClose = true;
          if (flags & 2) connKeepAlive = true;
        }
        break;
      case 14:
        if (equalsLower(buf, nameStart, nameEnd, "content-length")) {
          // RFC 9112 §6.3 item 5 / RFC 9110 §8.6: 1*DIGIT; repeated values must agree.
          const n = valueEnd - valueStart;
          if (n === 0 || n > MAX_CONTENT_LENGTH_DIGITS) return fail(head, HTTP_ERROR.INVALID_CONTENT_LENGTH, valueStart);
          let v = 0;
          for (let i = valueStart; i < valueEnd; i++) {
            const d = buf[i]! - 48;
            if (d < 0 || d > 9) return fail(head, HTTP_ERROR.INVALID_CONTENT_LENGTH, i);
            v = v * 10 + d;
          }
          if (contentLength >= 0 && contentLength !== v) {
            return fail(head, HTTP_ERROR.CONFLICTING_CONTENT_LENGTH, valueStart);
          }
          contentLength = v;
        }
        break;
      case 17:
        if (equalsLower(buf, nameStart, nameEnd, "transfer-encoding")) {
          // RFC 9112 §6.1/§6.3: the final coding must be chunked, and chunked may appear once.
          const r = scanTransferEncoding(buf, valueStart, valueEnd, chunked);
          if (r < 0) return fail(head, -r as HttpErrorCode, valueStart);
          hasTransferEncoding = true;
          chunked = (r & TE_FINAL_CHUNKED) !== 0;
          if (r & TE_OTHER) otherCodings = true;
        }
        break;
    }
  }

  if (hasTransferEncoding) {
    // §6.1: a server MAY reject TE on HTTP/1.0; it enables smuggling through 1.0 intermediaries, so we do.
    if (minor === 0) return fail(head, HTTP_ERROR.TRANSFER_ENCODING_ON_HTTP10, lineStart);
    // §6.3 item 3: TE with CL is a smuggling attempt; reject and close.
    if (contentLength >= 0) return fail(head, HTTP_ERROR.TRANSFER_ENCODING_WITH_CONTENT_LENGTH, lineStart);
    // The last Transfer-Encoding line must have ended in chunked.
    if (!chunked) return fail(head, HTTP_ERROR.INVALID_TRANSFER_ENCODING, lineStart);
    // chunked last, with other codings before it: well-formed, but we decode none of them (§6.1 → 501).
    if (otherCodings) return fail(head, HTTP_ERROR.UNSUPPORTED_TRANSFER_CODING, lineStart);
  }
  // RFC 9112 §3.2: exactly one Host in HTTP/1.1.
  if (minor === 1 && hosts !== 1) {
    return fail(head, hosts === 0 ? HTTP_ERROR.MISSING_HOST : HTTP_ERROR.DUPLICATE_HOST, lineStart);
  }
  if (hosts > 1) return fail(head, HTTP_ERROR.DUPLICATE_HOST, lineStart);

  head.buf = buf;
  head.parsed++;
  head.start = lineStart;
  head.end = p;
  head.method = method;
  head.methodEnd = methodEnd;
  head.targetStart = targetStart;
  head.targetEnd = targetEnd;
  head.pathStart = pathStart;
  head.queryStart = queryAt;
  head.minor = minor;
  head.headerCount = count;
  head.contentLength = contentLength;
  head.chunked = chunked;
  head.keepAlive = minor === 1 ? !connClose : connKeepAlive && !connClose;
  head.expectContinue = expectContinue;
  head.error = 0;
  head.errorOffset = -1;
  return p - start;
}

/** Where the path of an absolute-form target begins, or -1 if it is not `scheme://authority...`. */
function absolutePathStart(buf: Uint8Array, start: number, end: number): number {
  let p = start;
  // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
  const c0 = LOWER[buf[p]!]!;
  if (c0 < 97 || c0 > 122) return -1;
  while (p < end) {
    const c = LOWER[buf[p]!]!;
    if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46) p++;
    else break;
  }
  if (end - p < 3 || buf[p] !== COLON || buf[p + 1] !== 47 || buf[p + 2] !== 47) return -1;
  p += 3;
  const authority = p;
  while (p < end && buf[p] !== 47) p++;
  if (p === authority) return -1; // empty authority
  return p; // at '/' or at the end (empty path means "/")
}

/**
 * Host = uri-host [ ":" port ] (RFC 9110 §7.2, RFC 3986 §3.2.2): a reg-name (unreserved, pct-encoded,
 * sub-delims), an IPv4 address (a reg-name by its characters), or an IP-literal in brackets. Empty is
 * allowed (a target without authority).
 */
function isValidHost(buf: Uint8Array, start: number, end: number): boolean {
  let p = start;
  if (p < end && buf[p] === 91) {
    // IP-literal: "[" IPv6address / IPvFuture "]"
    p++;
    while (p < end && buf[p] !== 93) {
      const c = buf[p]!;
      if (!(CHAR_CLASS[c]! & HEX) && c !== COLON && c !== 46 && c !== 118 && c !== 86) return false; // ':' '.' 'v' 'V'
      p++;
    }
    if (p >= end || p === start + 1) return false;
    p++; // ']'
  } else {
    while (p < end && HOST_CHAR[buf[p]!] === 1) p++;
  }
  if (p === end) return true;
  if (buf[p] !== COLON) return false;
  p++;
  // port = *DIGIT (may be empty)
  while (p < end && CHAR_CLASS[buf[p]!]! & DIGIT) p++;
  return p === end;
}

/** reg-name bytes: unreserved / pct-encoded ('%' and hex) / sub-delims. */
const HOST_CHAR = new Uint8Array(256);
for (const ch of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~%!$&'()*+,;=") HOST_CHAR[ch.charCodeAt(0)] = 1;

/** Bit 1: "close" listed; bit 2: "keep-alive" listed. Tokens are comma separated, case-insensitive. */
export function scanConnection(buf: Uint8Array, start: number, end: number): number {
  let flags = 0;
  let p = start;
  while (p < end) {
    while (p < end && (buf[p] === SP || buf[p] === HTAB || buf[p] === 44)) p++;
    const s = p;
    while (p < end && buf[p] !== 44 && buf[p] !== SP && buf[p] !== HTAB) p++;
    if (equalsLower(buf, s, p, "close")) flags |= 1;
    else if (equalsLower(buf, s, p, "keep-alive")) flags |= 2;
  }
  return flags;
}

export const TE_FINAL_CHUNKED = 1;
export const TE_OTHER = 2;

/**
 * Scans one Transfer-Encoding field: returns TE_FINAL_CHUNKED | TE_OTHER bits, or minus an error code.
 * `seenChunked` says an earlier Transfer-Encoding line already ended in chunked.
 */
export function scanTransferEncoding(buf: Uint8Array, start: number, end: number, seenChunked: boolean): number {
  let p = start;
  let flags = 0;
  let chunkedLast = seenChunked;
  for (;;) {
    while (p < end && (buf[p] === SP || buf[p] === HTAB)) p++;
    const s = p;
    while (p < end && CHAR_CLASS[buf[p]!]! & TOKEN) p++;
    const tokenEnd = p;
    // An empty element, a parameter (;…) or junk: no coding we accept has parameters.
    if (tokenEnd === s) return -HTTP_ERROR.INVALID_TRANSFER_ENCODING;
    while (p < end && (buf[p] === SP || buf[p] === HTAB)) p++;
    if (p < end && buf[p] !== 44) return -HTTP_ERROR.INVALID_TRANSFER_ENCODING; // ','
    // chunked MUST NOT be applied more than once, and no coding may follow it (RFC 9112 §6.1).
    if (chunkedLast) return -HTTP_ERROR.INVALID_TRANSFER_ENCODING;
    if (equalsLower(buf, s, tokenEnd, "chunked")) chunkedLast = true;
    else flags |= TE_OTHER;
    if (p >= end) break;
    p++; // past ','
    if (p >= end) return -HTTP_ERROR.INVALID_TRANSFER_ENCODING; // trailing comma
  }
  return chunkedLast ? flags | TE_FINAL_CHUNKED : flags;
}
