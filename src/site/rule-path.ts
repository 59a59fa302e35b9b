// The one form in which _redirects/_headers rules and request paths are compared, and the encoding of
// captured values put back into a Location or a rewrite path.
//
// Canonical form: percent-escapes of characters that mean nothing special in a path (unreserved,
// sub-delims, ':' and '@', RFC 3986 §2.2-2.3) and of valid UTF-8 are decoded; every other byte is
// (re-)written as an upper-case %XX, a stray '%' as %25. So `/caf%C3%A9`, `/café` and `/caf%c3%a9`
// compare equal, while `%2F` stays one segment and `%3F` never becomes a query. Both sides of a
// comparison go through it, so it is a normalisation, not a decoding: nothing is lost.

/** 1: a character left (or made) literal in the canonical form. */
const LITERAL = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@") {
  LITERAL[c.charCodeAt(0)] = 1;
}
const HEX = "0123456789ABCDEF";

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48; // 0-9
  if (c >= 65 && c <= 70) return c - 55; // A-F
  if (c >= 97 && c <= 102) return c - 87; // a-f
  return -1;
}

function escapeByte(b: number): string {
  return "%" + HEX[b >> 4] + HEX[b & 15];
}

/** True when `s` is already canonical and has no escapes: the common request, returned as it is. */
function isPlain(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || (LITERAL[c] === 0 && c !== 47)) return false; // '/'
  }
  return true;
}

/** The length of the valid UTF-8 sequence starting at bytes[i], or 0. */
function utf8Length(bytes: number[], i: number): number {
  const b = bytes[i]!;
  let n: number;
  let min: number;
  if (b >= 0xc2 && b <= 0xdf) (n = 2), (min = 0x80);
  else if (b >= 0xe0 && b <= 0xef) (n = 3), (min = 0x800);
  else if (b >= 0xf0 && b <= 0xf4) (n = 4), (min = 0x10000);
  else return 0;
  if (i + n > bytes.length) return 0;
  let cp = b & (0xff >> (n + 1));
  for (let k = 1; k < n; k++) {
    const c = bytes[i + k]!;
    if ((c & 0xc0) !== 0x80) return 0;
    cp = (cp << 6) | (c & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

const utf8Decoder = new TextDecoder();

/** Decodes one run of %XX bytes into canonical text. */
function canonicalBytes(bytes: number[]): string {
  let out = "";
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i]!;
    if (b < 128) {
      out += LITERAL[b] === 1 ? String.fromCharCode(b) : escapeByte(b);
      i++;
      continue;
    }
    const n = utf8Length(bytes, i);
    if (n === 0) {
      out += escapeByte(b);
      i++;
      continue;
    }
    out += utf8Decoder.decode(new Uint8Array(bytes.slice(i, i + n)));
    i += n;
  }
  return out;
}

/** The canonical form of a path (or a query key or value). */
export function canonicalPath(s: string): string {
  if (isPlain(s)) return s;
  let out = "";
  for (let i = 0; i < s.length; ) {
    const c = s.charCodeAt(i);
    if (c === 37) {
      // '%': gather the whole run of escapes, so a multi-byte UTF-8 character decodes as one
      const bytes: number[] = [];
      while (i + 2 < s.length && s.charCodeAt(i) === 37) {
        const hi = hexValue(s.charCodeAt(i + 1));
        const lo = hexValue(s.charCodeAt(i + 2));
        if (hi < 0 || lo < 0) break;
        bytes.push((hi << 4) | lo);
        i += 3;
      }
      if (bytes.length === 0) {
        out += "%25"; // a '%' that starts no escape
        i++;
      } else out += canonicalBytes(bytes);
      continue;
    }
    if (c < 128) out += LITERAL[c] === 1 || c === 47 ? s[i] : escapeByte(c);
    else {
      const cp = s.codePointAt(i)!;
      out += cp >= 0xd800 && cp <= 0xdfff ? "%EF%BF%BD" : String.fromCodePoint(cp); // lone surrogate
      i += cp > 0xffff ? 2 : 1;
      continue;
    }
    i++;
  }
  return out;
}

/**
 * A request path's canonical form as the static files see it: canonicalPath, then "//" collapsed and
 * "." and ".." segments resolved (".." at the top stays at the top), the trailing '/' kept. Rules match
 * this, so that "//secure/a", "/./secure/a" and "/x/../secure/a", which serve /secure/a, are matched
 * as /secure/a too.
 */
export function canonicalRequestPath(path: string): string {
  const c = canonicalPath(path);
  if (!c.includes("//") && !c.includes("/.")) return c;
  const out: string[] = [];
  const parts = c.split("/");
  for (let i = 1; i < parts.length; i++) {
    const seg = parts[i]!;
    if (seg === "" || seg === ".") continue;
    if (seg === "..") out.pop();
    else out.push(seg);
  }
  const last = parts[parts.length - 1]!;
  const slash = out.length > 0 && (last === "" || last === "." || last === "..");
  return `/${out.join("/")}${slash ? "/" : ""}`;
}

/** Where a captured value goes: one path segment, a splat (may hold '/'), or a query or fragment. */
export const IN_SEGMENT = 0;
export const IN_SPLAT = 1;
export const IN_QUERY = 2;
export type ValueContext = typeof IN_SEGMENT | typeof IN_SPLAT | typeof IN_QUERY;

const utf8 = new TextEncoder();

/**
 * A canonical value made safe for a URL at its place: non-ASCII is percent-encoded as UTF-8 and the
 * characters that would change the URL's structure there ('/' outside a splat; '&', '=', '+' in a
 * query) are escaped. Canonical text has no CR, LF, space or other CTL, so none can come out.
 */
export function encodeValue(v: string, context: ValueContext): string {
  let out = "";
  let from = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    let keep: boolean;
    if (c >= 128) keep = false;
    else if (c === 47) keep = context === IN_SPLAT; // '/'
    else if (c === 37) keep = i + 2 < v.length && hexValue(v.charCodeAt(i + 1)) >= 0 && hexValue(v.charCodeAt(i + 2)) >= 0;
    else if (context === IN_QUERY && (c === 38 || c === 61 || c === 43)) keep = false; // '&' '=' '+'
    else keep = LITERAL[c] === 1;
    if (keep) continue;
    out += v.slice(from, i);
    const low = i + 1 < v.length ? v.charCodeAt(i + 1) : 0;
    if (c >= 0xd800 && c <= 0xdbff && low >= 0xdc00 && low <= 0xdfff) {
      for (const b of utf8.encode(v.slice(i, i + 2))) out += escapeByte(b);
      i++;
    } else if (c >= 128) for (const b of utf8.encode(v[i]!)) out += escapeByte(b);
    else out += escapeByte(c);
    from = i + 1;
  }
  return from === 0 ? v : out + v.slice(from);
}
