// A response head as bytes: the status line, the handler's fields (less the framing ones, which are
// ours), Date and Server, then the framing RFC 9112 §6 asks for. Pure: it writes into an OutBuffer
// and decides, and has no socket. Tested alone in test/http/response-head.test.ts.
import {
  CHUNKED_HEADER,
  CONNECTION_CLOSE,
  CONNECTION_KEEP_ALIVE,
  CRLF,
  isBodiless,
  isUnsafeHeader,
  type OutBuffer,
  SERVER_HEADER,
  statusLine,
} from "./response.ts";

export type HeaderList = Record<string, string | number | readonly string[]> | readonly (readonly [string, string])[];

/** How a response body is delimited (RFC 9112 §6.1–6.3). */
export const FRAMING = {
  /** No body bytes follow: 1xx, 204 and 304 (RFC 9110 §6.4.1). */
  NONE: 0,
  LENGTH: 1,
  CHUNKED: 2,
  /** HTTP/1.0 with a body of unknown length: it ends when the connection does. */
  CLOSE: 3,
} as const;
export type Framing = (typeof FRAMING)[keyof typeof FRAMING];

/**
 * The framing for a status, a body length (-1: unknown until it ends) and the request's minor
 * version. A declared Content-Length for a stream is never trusted (a wrong one would break the
 * framing of every later response), so the caller passes -1 for any stream.
 */
export function chooseFraming(status: number, length: number, minor: number): Framing {
  if (isBodiless(status)) return FRAMING.NONE;
  if (length >= 0) return FRAMING.LENGTH;
  return minor === 1 ? FRAMING.CHUNKED : FRAMING.CLOSE;
}

/** The inputs of one head; one object is reused by a writer, so a response allocates none. */
export interface HeadInput {
  status: number;
  headers: HeaderList | Headers | Uint8Array | undefined;
  /** Body bytes to follow; -1 when unknown (a stream). */
  length: number;
  /** A "Content-Type: …\r\n" line for when `headers` has none. */
  defaultType: Uint8Array | undefined;
  /** The request's HTTP minor version (0 or 1). */
  minor: number;
  /** Whether the connection stays open after this response (before the framing's say). */
  keepAlive: boolean;
  /** The current "Date: …\r\n" line. */
  dateLine: Uint8Array;
  /** A 101 that switches protocols: `Connection: Upgrade` instead of keep-alive or close. */
  upgrade: boolean;
  /**
   * A HEAD answered with no body at all: a Content-Length the handler declared is what a GET would
   * have got, so it goes out as declared (as under Bun.serve) instead of 0.
   */
  headWithoutBody: boolean;
  /** Pre-encoded lines added to every response of the request (the CORS fields: src/access/cors.ts). */
  added?: Uint8Array | null;
}

/** Returned by writeResponseHead when a field would split the response; nothing was kept. */
export const INVALID_HEAD = -1;

/**
 * Writes a whole head (status line through the blank line) and returns its framing, or INVALID_HEAD
 * when a header name or value is not allowed (the buffer is left as it was). FRAMING.CLOSE means the
 * connection must close after the body; the head then says `Connection: close`.
 */
export function writeResponseHead(out: OutBuffer, h: HeadInput): Framing | typeof INVALID_HEAD {
  const start = out.len;
  const status = h.status;
  out.bytes(statusLine(status));
  let seen = 0;
  if (h.headers !== undefined) {
    seen = writeHeaders(out, h.headers);
    if (seen < 0) {
      out.len = start;
      return INVALID_HEAD;
    }
  }
  if (h.added != null) out.bytes(h.added);
  if (!(seen & SEEN_DATE)) out.bytes(h.dateLine);
  if (!(seen & SEEN_SERVER)) out.bytes(SERVER_HEADER);
  const framing = chooseFraming(status, h.length, h.minor);
  // The type Bun.serve infers for a Response body, when the handler set none; never on a 204 or 304
  // (RFC 9110 §15.4.5: a cache would take it over) or for an empty body, as Bun.serve.
  if (!(seen & SEEN_TYPE) && h.defaultType !== undefined && framing !== FRAMING.NONE && h.length !== 0) {
    out.bytes(h.defaultType);
  }
  if (framing === FRAMING.NONE) {
    // 204 and 1xx carry no Content-Length; 304 keeps the one a GET would get, if declared.
    if (status === 304 && seen & SEEN_LENGTH) writeContentLength(out, declaredContentLength);
  } else if (framing === FRAMING.LENGTH) {
    writeContentLength(out, h.headWithoutBody && seen & SEEN_LENGTH ? declaredContentLength : h.length);
  } else if (framing === FRAMING.CHUNKED) {
    out.bytes(CHUNKED_HEADER);
  }
  if (h.upgrade) out.bytes(CONNECTION_UPGRADE);
  else if (!h.keepAlive || framing === FRAMING.CLOSE) out.bytes(CONNECTION_CLOSE);
  else if (h.minor === 0) out.bytes(CONNECTION_KEEP_ALIVE);
  out.bytes(CRLF);
  return framing;
}

function writeContentLength(out: OutBuffer, n: number): void {
  out.bytes(CONTENT_LENGTH);
  out.decimal(n);
  out.bytes(CRLF);
}
const encoder = new TextEncoder();
const CONTENT_LENGTH = encoder.encode("Content-Length: ");
const COLON_SP = encoder.encode(": ");
const CONNECTION_UPGRADE = encoder.encode("Connection: Upgrade\r\n");

const SEEN_DATE = 1;
const SEEN_SERVER = 2;
const SEEN_LENGTH = 4;
const SEEN_TYPE = 8;
/** Set by writeHeader when it returns SEEN_LENGTH. */
let declaredContentLength = -1;

/**
 * Writes user headers, skipping the framing ones we own (Content-Length, Transfer-Encoding,
 * Connection, Keep-Alive). Returns SEEN_* flags, or -1 if a name or value would split the response.
 */
function writeHeaders(out: OutBuffer, headers: HeaderList | Headers | Uint8Array): number {
  if (headers instanceof Uint8Array) {
    out.bytes(headers);
    return 0;
  }
  let seen = 0;
  if (headers instanceof Headers) {
    // Bun's toJSON() is a third of the cost of iterating (no array per field); values come joined
    // as iteration gives them, and Set-Cookie as an array of separate lines.
    if (headers.count === 0) return 0;
    headers = headers.toJSON();
  }
  if (Array.isArray(headers)) {
    for (let i = 0; i < headers.length; i++) {
      const pair = headers[i]!;
      const r = writeHeader(out, pair[0], pair[1]);
      if (r < 0) return -1;
      seen |= r;
    }
  } else {
    const record = headers as Record<string, string | number | readonly string[]>;
    for (const name in record) {
      if (!Object.hasOwn(record, name)) continue; // not a key someone added to Object.prototype
      const value = record[name]!;
      if (typeof value === "object") {
        for (const v of value) {
          const r = writeHeader(out, name, v);
          if (r < 0) return -1;
          seen |= r;
        }
      } else {
        const r = writeHeader(out, name, typeof value === "string" ? value : `${value}`);
        if (r < 0) return -1;
        seen |= r;
      }
    }
  }
  return seen;
}

/** Writes one field unless it is one we own; returns SEEN_* bits, or -1 for CR/LF/NUL (response splitting). */
function writeHeader(out: OutBuffer, name: string, value: string): number {
  if (isUnsafeHeader(name, value)) return -1;
  // Only names starting with c, d, k, s or t can be one of ours: skip the lower-casing for the rest.
  const c = name.charCodeAt(0) | 0x20;
  if ((c === 99 || c === 100 || c === 107 || c === 115 || c === 116) && name.length >= 4 && name.length <= 17) {
    switch (name.toLowerCase()) {
      case "date":
        writeField(out, name, value);
        return SEEN_DATE;
      case "server":
        writeField(out, name, value);
        return SEEN_SERVER;
      case "content-type":
        writeField(out, name, value);
        return SEEN_TYPE;
      case "content-length": {
        const n = Number(value);
        if (!Number.isSafeInteger(n) || n < 0) return 0;
        declaredContentLength = n;
        return SEEN_LENGTH;
      }
      case "transfer-encoding":
      case "connection":
      case "keep-alive":
        return 0;
    }
  }
  writeField(out, name, value);
  return 0;
}

function writeField(out: OutBuffer, name: string, value: string): void {
  out.latin1(name);
  out.bytes(COLON_SP);
  out.latin1(value);
  out.bytes(CRLF);
}
