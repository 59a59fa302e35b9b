// Zero-copy HTTP/1.1 response-head parser (RFC 9112 §4-§6) over Uint8Array byte ranges, for what an
// upstream sends a proxy. The same contract as the request parser (parser.ts): it returns the bytes
// the head took, INCOMPLETE for a valid prefix, or FAILED with head.error set; it keeps no state
// between calls, so however the bytes are split the outcome is the same. The same strict field
// rules apply (no obs-fold, no whitespace before the colon, no bare CR or LF, no CTL in values), and
// what an upstream could use to desynchronise a proxy is refused: Content-Length with
// Transfer-Encoding, differing Content-Lengths, Transfer-Encoding in HTTP/1.0, a status line that is
// not HTTP/1.x (nginx passes garbage through as HTTP/0.9), a transfer coding other than chunked
// (hop by hop: a proxy must decode it to frame the body anew). Framing follows §6.3. The field loop
// is parser.ts's written out again, on purpose: there it is inlined in the server's hottest loop,
// where a call per field would cost (the framing fields differ, the line rules are the same).
import { CHAR_CLASS, COLON, CR, DIGIT, decodeLatin1, equalsLower, FIELD, HTAB, LF, SP, TOKEN } from "./chars.ts";
import { HTTP_ERROR, type HttpErrorCode } from "./errors.ts";
import { FAILED, INCOMPLETE, scanConnection, scanTransferEncoding, TE_FINAL_CHUNKED, TE_OTHER } from "./parser.ts";

export { FAILED, INCOMPLETE };

/** How the body after a response head is delimited (RFC 9112 §6.3). */
export const BODY = {
  /** No body: a response to HEAD, 1xx, 204, 304 (and a 2xx to CONNECT, which tunnels). */
  NONE: 0,
  /** Content-Length bytes. */
  LENGTH: 1,
  CHUNKED: 2,
  /** Everything until the upstream closes: the connection cannot be reused. */
  UNTIL_CLOSE: 3,
} as const;
export type BodyFraming = (typeof BODY)[keyof typeof BODY];

export interface ResponseLimits {
  /** Longest head: status line, fields and the blank line. */
  maxHeaderSize: number;
  /** Most header fields. */
  maxHeaders: number;
}

export const DEFAULT_RESPONSE_LIMITS: ResponseLimits = { maxHeaderSize: 64 * 1024, maxHeaders: 100 };

const MAX_CONTENT_LENGTH_DIGITS = 15;

export class ResponseHead {
  buf: Uint8Array = new Uint8Array(0);
  /** [start, end): status line through the blank line. */
  start = 0;
  end = 0;
  status = 0;
  /** 0 or 1 (HTTP/1.2 to 1.9 read as 1.1). */
  minor = 1;
  reasonStart = 0;
  reasonEnd = 0;
  /** [nameStart, nameEnd, valueStart, valueEnd] per field. */
  offsets: Int32Array = new Int32Array(24 * 4);
  headerCount = 0;
  framing: BodyFraming = BODY.NONE;
  /** With BODY.LENGTH; else -1. */
  contentLength = -1;
  /** The upstream connection may carry another request after this response. */
  keepAlive = true;
  error: HttpErrorCode | 0 = 0;
  errorOffset = -1;

  get reason(): string {
    return decodeLatin1(this.buf, this.reasonStart, this.reasonEnd);
  }

  nameAt(i: number): string {
    return decodeLatin1(this.buf, this.offsets[i << 2]!, this.offsets[(i << 2) + 1]!);
  }

  valueAt(i: number): string {
    return decodeLatin1(this.buf, this.offsets[(i << 2) + 2]!, this.offsets[(i << 2) + 3]!);
  }

  /** The first field named `lower` (lower-case), or undefined. */
  header(lower: string): string | undefined {
    for (let i = 0; i < this.headerCount; i++) {
      const o = i << 2;
      if (equalsLower(this.buf, this.offsets[o]!, this.offsets[o + 1]!, lower)) return this.valueAt(i);
    }
    return undefined;
  }
}

function fail(head: ResponseHead, code: HttpErrorCode, offset: number): number {
  head.error = code;
  head.errorOffset = offset;
  return FAILED;
}

const STATUS_PREFIX = [72, 84, 84, 80, 47]; // "HTTP/"

/**
 * Parses a response head in [start, end). `requestMethodIsHead`: the request was HEAD (no body
 * follows whatever the fields say); `requestIsConnect`: it was CONNECT (a 2xx starts a tunnel).
 */
export function parseResponseHead(
  buf: Uint8Array,
  start: number,
  end: number,
  head: ResponseHead,
  requestMethodIsHead = false,
  requestIsConnect = false,
  limits: ResponseLimits = DEFAULT_RESPONSE_LIMITS,
): number {
  const limitEnd = start + limits.maxHeaderSize;
  const stop = end < limitEnd ? end : limitEnd;
  const more = (at: number) => (stop === limitEnd ? fail(head, HTTP_ERROR.HEADERS_TOO_LARGE, at) : INCOMPLETE);
  let p = start;

  // status-line = HTTP-version SP status-code SP [ reason-phrase ] CRLF   (RFC 9112 §4)
  for (let i = 0; i < 8; i++, p++) {
    if (p >= stop) return more(p);
    const c = buf[p]!;
    if (i < 5 ? c !== STATUS_PREFIX[i] : i === 6 ? c !== 46 : !(CHAR_CLASS[c]! & DIGIT)) {
      return fail(head, HTTP_ERROR.INVALID_STATUS_LINE, p);
    }
  }
  if (buf[start + 5] !== 49) return fail(head, HTTP_ERROR.INVALID_STATUS_LINE, start + 5); // HTTP/1 only
  const minor = buf[start + 7] === 48 ? 0 : 1;
  if (p >= stop) return more(p);
  if (buf[p] !== SP) return fail(head, HTTP_ERROR.INVALID_STATUS_LINE, p);
  p++;
  let status = 0;
  for (let i = 0; i < 3; i++, p++) {
    if (p >= stop) return more(p);
    const d = buf[p]! - 48;
    if (d < 0 || d > 9) return fail(head, HTTP_ERROR.INVALID_STATUS_LINE, p);
    status = status * 10 + d;
  }
  // RFC 9110 §15: the first digit is the class, 1 to 5.
  if (status < 100 || status > 599) return fail(head, HTTP_ERROR.INVALID_STATUS_LINE, p - 3);
  if (p >= stop) return more(p);
  // The SP before an empty reason is often left out; nothing depends on it, so it may be.
  let reasonStart = p;
  if (buf[p] === SP) reasonStart = ++p;
  else if (buf[p] !== CR) return fail(head, buf[p] === LF ? HTTP_ERROR.BARE_LF : HTTP_ERROR.INVALID_STATUS_LINE, p);
  // reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )
  while (p < stop && (CHAR_CLASS[buf[p]!]! & FIELD || buf[p] === SP || buf[p] === HTAB)) p++;
  if (p + 1 >= stop) {
    if (p < stop && buf[p] !== CR) return fail(head, buf[p] === LF ? HTTP_ERROR.BARE_LF : HTTP_ERROR.INVALID_STATUS_LINE, p);
    return more(p);
  }
  if (buf[p] !== CR) return fail(head, buf[p] === LF ? HTTP_ERROR.BARE_LF : HTTP_ERROR.INVALID_STATUS_LINE, p);
  if (buf[p + 1] !== LF) return fail(head, HTTP_ERROR.BARE_CR, p);
  const reasonEnd = p;
  p += 2;

  // Fields (RFC 9112 §5), as strictly as in requests.
  const maxHeaders = limits.maxHeaders;
  let offsets = head.offsets;
  let count = 0;
  let contentLength = -1;
  let hasTransferEncoding = false;
  let chunked = false;
  let connClose = false;
  let connKeepAlive = false;
  for (;;) {
    if (p >= stop) return more(p);
    let c = buf[p]!;
    if (c === CR) {
      if (p + 1 >= stop) return more(p);
      if (buf[p + 1] !== LF) return fail(head, HTTP_ERROR.BARE_CR, p);
      p += 2;
      break;
    }
    if (c === LF) return fail(head, HTTP_ERROR.BARE_LF, p);
    if (c === SP || c === HTAB) return fail(head, HTTP_ERROR.OBS_FOLD, p);
    const nameStart = p;
    while (p < stop && CHAR_CLASS[buf[p]!]! & TOKEN) p++;
    if (p >= stop) return more(p);
    c = buf[p]!;
    if (c !== COLON) return fail(head, c === SP || c === HTAB ? HTTP_ERROR.WHITESPACE_BEFORE_COLON : HTTP_ERROR.INVALID_HEADER_NAME, p);
    if (p === nameStart) return fail(head, HTTP_ERROR.INVALID_HEADER_NAME, p);
    const nameEnd = p++;
    while (p < stop && (buf[p] === SP || buf[p] === HTAB)) p++;
    const valueStart = p;
    while (p < stop && CHAR_CLASS[buf[p]!]! & FIELD) p++;
    if (p + 1 >= stop) {
      if (p < stop && buf[p] !== CR) return fail(head, buf[p] === LF ? HTTP_ERROR.BARE_LF : HTTP_ERROR.INVALID_HEADER_VALUE, p);
      return more(p);
    }
    c = buf[p]!;
    if (c !== CR) return fail(head, c === LF ? HTTP_ERROR.BARE_LF : HTTP_ERROR.INVALID_HEADER_VALUE, p);
    if (buf[p + 1] !== LF) return fail(head, HTTP_ERROR.BARE_CR, p);
    let valueEnd = p;
    while (valueEnd > valueStart && (buf[valueEnd - 1] === SP || buf[valueEnd - 1] === HTAB)) valueEnd--;
    p += 2;

    if (count === maxHeaders) return fail(head, HTTP_ERROR.TOO_MANY_HEADERS, nameStart);
    const o = count << 2;
    if (o + 4 > offsets.length) {
      const next = new Int32Array(Math.min(offsets.length * 2, maxHeaders * 4));
      next.set(offsets);
      offsets = head.offsets = next;
    }
    offsets[o] = nameStart;
    offsets[o + 1] = nameEnd;
    offsets[o + 2] = valueStart;
    offsets[o + 3] = valueEnd;
    count++;

    const len = nameEnd - nameStart;
    if (len === 10 && equalsLower(buf, nameStart, nameEnd, "connection")) {
      const flags = scanConnection(buf, valueStart, valueEnd);
      if (flags & 1) connClose = true;
      if (flags & 2) connKeepAlive = true;
    } else if (len === 14 && equalsLower(buf, nameStart, nameEnd, "content-length")) {
      const n = valueEnd - valueStart;
      if (n === 0 || n > MAX_CONTENT_LENGTH_DIGITS) return fail(head, HTTP_ERROR.INVALID_CONTENT_LENGTH, valueStart);
      let v = 0;
      for (let i = valueStart; i < valueEnd; i++) {
        const d = buf[i]! - 48;
        if (d < 0 || d > 9) return fail(head, HTTP_ERROR.INVALID_CONTENT_LENGTH, i);
        v = v * 10 + d;
      }
      // nginx lets the last of two differing values win: that is how a response gets smuggled.
      if (contentLength >= 0 && contentLength !== v) return fail(head, HTTP_ERROR.CONFLICTING_CONTENT_LENGTH, valueStart);
      contentLength = v;
    } else if (len === 17 && equalsLower(buf, nameStart, nameEnd, "transfer-encoding")) {
      // Transfer-Encoding is hop by hop: a proxy decodes it and frames anew. We decode chunked only,
      // so any other coding (even one RFC 9112 §6.1 allows, ended by a close) is a 502.
      const r = scanTransferEncoding(buf, valueStart, valueEnd, chunked);
      if (r < 0) return fail(head, -r as HttpErrorCode, valueStart);
      if (r & TE_OTHER) return fail(head, HTTP_ERROR.UNSUPPORTED_TRANSFER_CODING, valueStart);
      chunked = (r & TE_FINAL_CHUNKED) !== 0;
      hasTransferEncoding = true;
    }
  }

  let framing: BodyFraming;
  let keepAlive = minor === 1 ? !connClose : connKeepAlive && !connClose;
  if (hasTransferEncoding && contentLength >= 0) return fail(head, HTTP_ERROR.TRANSFER_ENCODING_WITH_CONTENT_LENGTH, start);
  if (hasTransferEncoding && minor === 0) return fail(head, HTTP_ERROR.TRANSFER_ENCODING_ON_HTTP10, start);
  if (requestMethodIsHead || status < 200 || status === 204 || status === 304) {
    framing = BODY.NONE; // §6.3 item 1, whatever the fields say
  } else if (requestIsConnect && status < 300) {
    return fail(head, HTTP_ERROR.UNSUPPORTED_FRAMING, start); // a tunnel: not for this parser's users
  } else if (hasTransferEncoding) {
    framing = BODY.CHUNKED;
  } else if (contentLength >= 0) {
    framing = BODY.LENGTH;
  } else {
    framing = BODY.UNTIL_CLOSE;
  }
  if (framing === BODY.UNTIL_CLOSE) keepAlive = false;

  head.buf = buf;
  head.start = start;
  head.end = p;
  head.status = status;
  head.minor = minor;
  head.reasonStart = reasonStart;
  head.reasonEnd = reasonEnd;
  head.headerCount = count;
  head.framing = framing;
  head.contentLength = framing === BODY.LENGTH ? contentLength : -1;
  head.keepAlive = keepAlive;
  head.error = 0;
  head.errorOffset = -1;
  return p - start;
}
