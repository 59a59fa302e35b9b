// Server frames (RFC 6455 §5.2), unmasked, written straight into an output buffer: the header, then
// the payload. Text is encoded from the string into place, with no intermediate bytes.
import type { OutBuffer } from "../http/response.ts";

/** The first header byte: FIN and an opcode, RSV1 for a compressed message (RFC 7692 §6). */
export function firstByte(opcode: number, compressed: boolean): number {
  return 0x80 | (compressed ? 0x40 : 0) | opcode;
}

/** The header's length for a payload of `n` bytes. */
export function headerLength(n: number): number {
  return n < 126 ? 2 : n < 0x10000 ? 4 : 10;
}

/** Writes a header at out.buf[at] (room for headerLength(n) bytes must be there). */
function putHeader(buf: Uint8Array, at: number, b0: number, n: number): void {
  buf[at] = b0;
  if (n < 126) {
    buf[at + 1] = n;
  } else if (n < 0x10000) {
    buf[at + 1] = 126;
    buf[at + 2] = n >> 8;
    buf[at + 3] = n & 0xff;
  } else {
    buf[at + 1] = 127;
    const hi = Math.floor(n / 0x100000000);
    buf[at + 2] = 0;
    buf[at + 3] = 0;
    buf[at + 4] = (hi >> 8) & 0xff;
    buf[at + 5] = hi & 0xff;
    buf[at + 6] = (n >>> 24) & 0xff;
    buf[at + 7] = (n >>> 16) & 0xff;
    buf[at + 8] = (n >>> 8) & 0xff;
    buf[at + 9] = n & 0xff;
  }
}

/** A frame's header, into `out` (the payload follows from the caller). */
export function writeHeader(out: OutBuffer, b0: number, n: number): void {
  const h = headerLength(n);
  out.reserve(h);
  putHeader(out.buf, out.len, b0, n);
  out.len += h;
}

/** A frame with a bytes payload, into `out`. */
export function writeFrame(out: OutBuffer, b0: number, payload: Uint8Array): void {
  writeHeader(out, b0, payload.length);
  out.bytes(payload);
}

/** A text frame from a string: encoded in place. Returns the payload's length in bytes. */
export function writeTextFrame(out: OutBuffer, b0: number, text: string): number {
  const units = text.length;
  if (units <= 41) {
    // At most 123 bytes of UTF-8: a 2-byte header, its length filled in after the encoding.
    out.reserve(2 + units * 3);
    const at = out.len;
    const n = out.buf.utf8Write(text, at + 2, units * 3);
    out.buf[at] = b0;
    out.buf[at + 1] = n;
    out.len = at + 2 + n;
    return n;
  }
  const n = units <= 0x3fff ? utf8Length(text) : Buffer.byteLength(text, "utf8");
  writeHeader(out, b0, n);
  out.reserve(n);
  out.len += out.buf.utf8Write(text, out.len, n);
  return n;
}

/** The UTF-8 length of a short string: an ASCII one is its length. */
function utf8Length(text: string): number {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return Buffer.byteLength(text, "utf8");
  return text.length;
}

/** A whole frame as its own bytes (a published message, encoded once for every subscriber). */
export function encodeFrame(b0: number, payload: Uint8Array): Uint8Array {
  const h = headerLength(payload.length);
  const frame = new Uint8Array(h + payload.length);
  putHeader(frame, 0, b0, payload.length);
  frame.set(payload, h);
  return frame;
}

const encoder = new TextEncoder();

/** A close frame's payload: the code, then the reason in UTF-8 (at most 123 bytes, §5.5). */
export function closePayload(code: number, reason: string): Uint8Array {
  if (code === 0) return new Uint8Array(0);
  const text = encoder.encode(reason);
  let n = Math.min(text.length, 123);
  while (n < text.length && (text[n]! & 0xc0) === 0x80) n--; // not inside a character
  const p = new Uint8Array(2 + n);
  p[0] = code >> 8;
  p[1] = code & 0xff;
  p.set(text.subarray(0, n), 2);
  return p;
}
