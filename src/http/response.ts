// Response serialisation: pre-encoded status lines and headers, written into one growable buffer
// so that every response produced by one read leaves in a single socket write.
import { reasonPhrase } from "./reason-phrases.ts";

const encoder = new TextEncoder();

/** The Content-Type line of bytes of no declared type (light-value bytes, Response bytes bodies). */
export const OCTET_STREAM_TYPE = encoder.encode("Content-Type: application/octet-stream\r\n");
/** The Content-Type line of text results and the engine's own small answers. */
export const TEXT_PLAIN_TYPE = encoder.encode("Content-Type: text/plain; charset=utf-8\r\n");

/** Bun's Buffer has Node's native string writers; bun-types does not declare them. */
type WritableBuffer = Buffer & {
  latin1Write(s: string, offset: number, length: number): number;
  utf8Write(s: string, offset: number, length: number): number;
};

/** A growable byte buffer; `Buffer` for its native latin1/utf8 writers. */
export class OutBuffer {
  buf: WritableBuffer;
  len = 0;

  constructor(private readonly initial = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initial) as WritableBuffer;
  }

  reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = Buffer.allocUnsafe(cap) as WritableBuffer;
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  bytes(b: Uint8Array): void {
    const n = b.length;
    this.reserve(n);
    if (n <= 64) {
      // Status lines, Date, CRLF: a loop beats the native call of set() for small pieces (~20 ns each).
      const buf = this.buf;
      const at = this.len;
      for (let i = 0; i < n; i++) buf[at + i] = b[i]!;
    } else {
      this.buf.set(b, this.len);
    }
    this.len += n;
  }

  /** Header text: each UTF-16 unit becomes one byte (callers reject non-Latin-1 values first). */
  latin1(s: string): void {
    this.reserve(s.length);
    this.len += this.buf.latin1Write(s, this.len, s.length);
  }

  utf8(s: string): void {
    // A UTF-16 unit takes at most 3 UTF-8 bytes.
    this.reserve(s.length * 3);
    this.len += this.buf.utf8Write(s, this.len, s.length * 3);
  }

  decimal(n: number): void {
    this.latin1(`${n}`);
  }

  /** Detaches the bytes written so far as a copy, and empties the buffer. */
  take(): Uint8Array {
    const out = this.copy(0, this.len);
    this.len = 0;
    return out;
  }

  /** A copy of [start, end). Not `buf.slice()`: on a Buffer that is a view, which the next write overwrites. */
  copy(start: number, end: number): Uint8Array {
    return Uint8Array.prototype.slice.call(this.buf, start, end);
  }

  reset(): void {
    this.len = 0;
  }

  /** After a large burst, give the memory back: keep at most the initial capacity. */
  shrink(): void {
    if (this.len === 0 && this.buf.length > this.initial * 4) this.buf = Buffer.allocUnsafe(this.initial) as WritableBuffer;
  }
}

const statusLines: (Uint8Array | undefined)[] = [];

/** `HTTP/1.1 <code> <reason>\r\n` as bytes, built once per status. */
export function statusLine(status: number): Uint8Array {
  let line = statusLines[status];
  if (line === undefined) {
    if (!Number.isInteger(status) || status < 100 || status > 999) throw new RangeError(`invalid status ${status}`);
    line = encoder.encode(`HTTP/1.1 ${status} ${reasonPhrase(status)}\r\n`);
    statusLines[status] = line;
  }
  return line;
}

export const SERVER_HEADER = encoder.encode("Server: bunhttp\r\n");
export const CONNECTION_CLOSE = encoder.encode("Connection: close\r\n");
export const CONNECTION_KEEP_ALIVE = encoder.encode("Connection: keep-alive\r\n");
export const CHUNKED_HEADER = encoder.encode("Transfer-Encoding: chunked\r\n");
export const CONTINUE_100 = encoder.encode("HTTP/1.1 100 Continue\r\n\r\n");
export const CRLF = encoder.encode("\r\n");
export const LAST_CHUNK = encoder.encode("0\r\n\r\n");

/** Statuses whose responses never carry content (RFC 9110 §6.4.1, §15.3.5, §15.4.5). */
export function isBodiless(status: number): boolean {
  return status === 204 || status === 304 || (status >= 100 && status < 200);
}

const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Anything but HTAB, visible ASCII, SP and obs-text: CTLs, and code units above 0xFF, which a Latin-1 write would
 * truncate (U+010D becomes CR: response splitting). */
const NOT_FIELD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/** True when a header name is not a token or a value holds anything that is not a field character. */
export function isUnsafeHeader(name: string, value: string): boolean {
  return !FIELD_NAME.test(name) || NOT_FIELD_VALUE.test(value);
}
