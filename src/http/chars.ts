// Byte classes for the HTTP/1.1 grammar (RFC 9110 §5.6.2, RFC 9112 §3), one 256-entry table.

export const CR = 13;
export const LF = 10;
export const SP = 32;
export const HTAB = 9;
export const COLON = 58;

/** tchar: "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA */
export const TOKEN = 1;
/** field-vchar / SP / HTAB: VCHAR (0x21-0x7E), obs-text (0x80-0xFF), SP, HTAB. Everything else is a CTL. */
export const FIELD = 2;
/**
 * A request-target byte: visible ASCII (0x21-0x7E) but '#'. Spaces, CTLs and non-ASCII bytes are never
 * allowed; '#' starts a fragment, which a request-target has none of (RFC 9112 §3.2).
 */
export const TARGET = 4;
export const HEX = 8;
export const DIGIT = 16;

export const CHAR_CLASS = new Uint8Array(256);
/** ASCII lower-casing table: header names are compared through it without allocating. */
export const LOWER = new Uint8Array(256);

for (let c = 0; c < 256; c++) {
  let k = 0;
  const isDigit = c >= 48 && c <= 57;
  const isAlpha = (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
  if (isDigit || isAlpha || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c))) k |= TOKEN;
  if ((c >= 0x21 && c <= 0x7e) || c >= 0x80 || c === SP || c === HTAB) k |= FIELD;
  if (c >= 0x21 && c <= 0x7e && c !== 35) k |= TARGET; // '#'
  if (isDigit || (c >= 65 && c <= 70) || (c >= 97 && c <= 102)) k |= HEX;
  if (isDigit) k |= DIGIT;
  CHAR_CLASS[c] = k;
  LOWER[c] = c >= 65 && c <= 90 ? c + 32 : c;
}

/**
 * Whether s[start, end) is a token (RFC 9110 §5.6.2: one or more tchars), as a method or a field
 * name must be. Through CHAR_CLASS, so it is the same class the parser uses; a code unit above 0xFF
 * is never one.
 */
export function isToken(s: string, start = 0, end = s.length): boolean {
  if (start >= end) return false;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c > 255 || (CHAR_CLASS[c]! & TOKEN) === 0) return false;
  }
  return true;
}

/** Value of a hex digit, or 255 when the byte is not one. */
export const HEX_VALUE = new Uint8Array(256).fill(255);
for (let c = 0; c < 256; c++) {
  if (c >= 48 && c <= 57) HEX_VALUE[c] = c - 48;
  else if (c >= 65 && c <= 70) HEX_VALUE[c] = c - 55;
  else if (c >= 97 && c <= 102) HEX_VALUE[c] = c - 87;
}

const latin1Slice = (Buffer.prototype as unknown as { latin1Slice(this: Uint8Array, s: number, e: number): string })
  .latin1Slice;

/** Decodes bytes [start, end) as Latin-1 (every byte one code unit): header values keep obs-text bytes intact. */
export function decodeLatin1(buf: Uint8Array, start: number, end: number): string {
  return start === end ? "" : latin1Slice.call(buf, start, end);
}

const bufferCopy = (Buffer.prototype as unknown as { copy(this: Uint8Array, t: Uint8Array, at: number, s: number, e: number): number })
  .copy;

/**
 * Copies src[start, end) into dst at `at` without making a view of src: the first view (subarray,
 * slice) of a fresh socket chunk makes Bun materialize its ArrayBuffer, about a microsecond.
 */
export function copyBytes(src: Uint8Array, start: number, end: number, dst: Uint8Array, at: number): void {
  // Buffer#copy would copy what fits and say nothing; a short target is a bug to hear about.
  if (end - start > dst.length - at) throw new RangeError(`copyBytes: ${end - start} bytes do not fit at ${at} of ${dst.length}`);
  bufferCopy.call(src, dst, at, start, end);
}

/**
 * Whether bytes [start, end) equal `lower` (lower-case ASCII) ignoring ASCII case, without allocating: the
 * one case-insensitive compare for field names (RFC 9110 §5.1), connection options and transfer codings.
 * Through LOWER, so only A-Z fold: '@' is not '`', and an obs-text byte matches no letter.
 */
export function equalsLower(buf: Uint8Array, start: number, end: number, lower: string): boolean {
  if (end - start !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    if (LOWER[buf[start + i]!] !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** Joins byte arrays into one new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
