// Named protocol errors: code → status, reason, and a ready-made response that closes the connection.
import { concatBytes } from "./chars.ts";
import { getDateLine } from "./date.ts";
import { REASON_PHRASES } from "./reason-phrases.ts";

/** Every failure the parser, the chunked decoder or the connection can report. */
export const HTTP_ERROR = {
  BARE_CR: 1,
  BARE_LF: 2,
  INVALID_METHOD: 3,
  INVALID_TARGET: 4,
  INVALID_VERSION: 5,
  UNSUPPORTED_VERSION: 6,
  URI_TOO_LONG: 7,
  INVALID_HEADER_NAME: 8,
  WHITESPACE_BEFORE_COLON: 9,
  OBS_FOLD: 10,
  INVALID_HEADER_VALUE: 11,
  HEADERS_TOO_LARGE: 12,
  TOO_MANY_HEADERS: 13,
  MISSING_HOST: 14,
  DUPLICATE_HOST: 15,
  INVALID_CONTENT_LENGTH: 16,
  CONFLICTING_CONTENT_LENGTH: 17,
  TRANSFER_ENCODING_WITH_CONTENT_LENGTH: 18,
  TRANSFER_ENCODING_ON_HTTP10: 19,
  INVALID_TRANSFER_ENCODING: 20,
  UNSUPPORTED_TRANSFER_CODING: 21,
  BODY_TOO_LARGE: 22,
  INVALID_CHUNK_SIZE: 23,
  INVALID_CHUNK_EXTENSION: 24,
  CHUNK_EXTENSION_TOO_LARGE: 25,
  INVALID_CHUNK_DATA: 26,
  INVALID_TRAILER: 27,
  TRAILERS_TOO_LARGE: 28,
  HEADER_TIMEOUT: 29,
  BODY_TIMEOUT: 30,
  INVALID_HOST: 31,
  BODY_TOO_SLOW: 32,
  FRAGMENT_IN_TARGET: 33,
  INVALID_STATUS_LINE: 34,
  UNSUPPORTED_FRAMING: 35,
} as const;

export type HttpErrorCode = (typeof HTTP_ERROR)[keyof typeof HTTP_ERROR];

const TABLE: Record<HttpErrorCode, readonly [status: number, reason: string]> = {
  [HTTP_ERROR.BARE_CR]: [400, "CR not followed by LF"],
  [HTTP_ERROR.BARE_LF]: [400, "LF without CR (lines end with CRLF)"],
  [HTTP_ERROR.INVALID_METHOD]: [400, "invalid method"],
  [HTTP_ERROR.INVALID_TARGET]: [400, "invalid request target"],
  [HTTP_ERROR.INVALID_VERSION]: [400, "invalid HTTP version"],
  [HTTP_ERROR.UNSUPPORTED_VERSION]: [505, "HTTP version not supported"],
  [HTTP_ERROR.URI_TOO_LONG]: [414, "request line too long"],
  [HTTP_ERROR.INVALID_HEADER_NAME]: [400, "invalid header field name"],
  [HTTP_ERROR.WHITESPACE_BEFORE_COLON]: [400, "whitespace between header name and colon"],
  [HTTP_ERROR.OBS_FOLD]: [400, "header line starts with whitespace (obs-fold)"],
  [HTTP_ERROR.INVALID_HEADER_VALUE]: [400, "control character in header value"],
  [HTTP_ERROR.HEADERS_TOO_LARGE]: [431, "header section too large"],
  [HTTP_ERROR.TOO_MANY_HEADERS]: [431, "too many header fields"],
  [HTTP_ERROR.MISSING_HOST]: [400, "HTTP/1.1 request without Host"],
  [HTTP_ERROR.DUPLICATE_HOST]: [400, "more than one Host"],
  [HTTP_ERROR.INVALID_CONTENT_LENGTH]: [400, "invalid Content-Length"],
  [HTTP_ERROR.CONFLICTING_CONTENT_LENGTH]: [400, "conflicting Content-Length values"],
  [HTTP_ERROR.TRANSFER_ENCODING_WITH_CONTENT_LENGTH]: [400, "both Transfer-Encoding and Content-Length"],
  [HTTP_ERROR.TRANSFER_ENCODING_ON_HTTP10]: [400, "Transfer-Encoding on an HTTP/1.0 request"],
  [HTTP_ERROR.INVALID_TRANSFER_ENCODING]: [400, "final transfer coding is not chunked"],
  [HTTP_ERROR.UNSUPPORTED_TRANSFER_CODING]: [501, "transfer coding not implemented"],
  [HTTP_ERROR.BODY_TOO_LARGE]: [413, "request body too large"],
  [HTTP_ERROR.INVALID_CHUNK_SIZE]: [400, "invalid chunk size"],
  [HTTP_ERROR.INVALID_CHUNK_EXTENSION]: [400, "invalid chunk extension"],
  [HTTP_ERROR.CHUNK_EXTENSION_TOO_LARGE]: [400, "chunk extension too large"],
  [HTTP_ERROR.INVALID_CHUNK_DATA]: [400, "chunk data not followed by CRLF"],
  [HTTP_ERROR.INVALID_TRAILER]: [400, "invalid trailer field"],
  [HTTP_ERROR.TRAILERS_TOO_LARGE]: [431, "trailer section too large"],
  [HTTP_ERROR.HEADER_TIMEOUT]: [408, "request header not received in time"],
  [HTTP_ERROR.BODY_TIMEOUT]: [408, "request body not received in time"],
  [HTTP_ERROR.INVALID_HOST]: [400, "invalid Host"],
  [HTTP_ERROR.BODY_TOO_SLOW]: [408, "request body arriving too slowly"],
  [HTTP_ERROR.FRAGMENT_IN_TARGET]: [400, "fragment (#) in request target"],
  // What an upstream sends wrong (response-parser.ts): a proxy answers 502.
  [HTTP_ERROR.INVALID_STATUS_LINE]: [502, "invalid status line from upstream"],
  [HTTP_ERROR.UNSUPPORTED_FRAMING]: [502, "upstream framing not supported"],
};

const NAMES = Object.fromEntries(Object.entries(HTTP_ERROR).map(([k, v]) => [v, k])) as Record<HttpErrorCode, string>;

export function errorName(code: HttpErrorCode): string {
  return NAMES[code];
}
export function errorStatus(code: HttpErrorCode): number {
  return TABLE[code][0];
}
export function errorReason(code: HttpErrorCode): string {
  return TABLE[code][1];
}

/** Status texts for our error bodies and HttpException: the same words as the status lines. */
export const STATUS_TEXT: Readonly<Record<number, string>> = REASON_PHRASES;

const encoder = new TextEncoder();
const closingResponses = new Map<string, readonly [Uint8Array, Uint8Array]>();

/**
 * A complete response that ends the connection: status line, then the cached Date line, then the rest.
 * Built once per (status, message) and reused; only the Date line is spliced in per use.
 */
export function closingResponse(status: number, message?: string): readonly [Uint8Array, Uint8Array] {
  const key = `${status} ${message ?? ""}`;
  let parts = closingResponses.get(key);
  if (parts === undefined) {
    const text = STATUS_TEXT[status] ?? "Error";
    const body = `${status} ${text}${message ? `: ${message}` : ""}\n`;
    parts = [
      encoder.encode(`HTTP/1.1 ${status} ${text}\r\n`),
      encoder.encode(
        `Server: bunhttp\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\n` +
          `Connection: close\r\n\r\n${body}`,
      ),
    ];
    closingResponses.set(key, parts);
  }
  return parts;
}

/** The ready-made response for a protocol error, as one byte array with the current Date. */
export function errorResponseBytes(code: HttpErrorCode): Uint8Array {
  const [head, rest] = closingResponse(errorStatus(code), errorReason(code));
  return concatBytes([head, getDateLine(), rest]);
}
