// What a file says about itself in its response: Content-Type, a default Cache-Control, and its ETag.
// Pure functions of the name and the stat() result, computed once per file when the cache builds it.
import type { BigIntStats } from "node:fs";
import mime from "mime";
import type { CodingName } from "../compress/negotiate.ts";

/** `app.3f9a1c2b.js`, `main-5TQXR2.css`: a hash-like part (≥ 6 chars, with a digit) before the extension. */
// Either ≥ 8 lower-case hex chars (webpack, Vite) or ≥ 6 upper-case base32 chars (esbuild), with at least
// one letter and one digit, so `icon-192x192.png` and `report-202401.pdf` are not taken for hashes.
const FINGERPRINT =
  /[.-](?:(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{8,}|(?=[0-9A-Z]*[A-Z])(?=[0-9A-Z]*\d)[0-9A-Z]{6,})\.[a-z0-9]+$/;

/**
 * HTML is revalidated every time (it names the assets); a fingerprinted name never changes content.
 * With `everyFile` (live reload), every other file is revalidated too: else a browser may keep a
 * script, or a sheet only an @import names, fresh by heuristic after the page reloads.
 */
export function defaultCacheControl(name: string, contentType: string, everyFile = false): string | undefined {
  if (contentType.startsWith("text/html")) return "no-cache";
  if (FINGERPRINT.test(name)) return "public, max-age=31536000, immutable";
  return everyFile ? "no-cache" : undefined;
}

/** The type for a file name; textual types say `charset=utf-8`, or browsers fall back on a legacy default. */
export function contentTypeFor(name: string): string {
  const type = mime.getType(name) ?? "application/octet-stream";
  if (
    type.startsWith("text/") ||
    type === "application/javascript" ||
    type === "application/json" ||
    type.endsWith("+xml") ||
    type.endsWith("+json")
  ) {
    return `${type}; charset=utf-8`;
  }
  return type;
}

/** A strong validator that costs nothing to compute: inode, size and mtime in nanoseconds. */
export function makeEtag(st: BigIntStats, coding: CodingName | null = null): string {
  const base = `${st.ino.toString(36)}-${st.size.toString(36)}-${st.mtimeNs.toString(36)}`;
  return coding === null ? `"${base}"` : `"${base}-${coding}"`;
}
