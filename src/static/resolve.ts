// Request path → safe relative file path: percent-decode once, normalise, never leave the root.

export const RESOLVE_ERROR = {
  /** Malformed: bad %-escape, overlong or invalid UTF-8, control bytes, backslash, encoded '/'. → 400 */
  BAD: -1,
  /** A `..` that would climb above the root. → 400 */
  TRAVERSAL: -2,
} as const;

export interface ResolvedPath {
  /** Decoded segments, none empty, none "." or "..". */
  segments: string[];
  /** The path ended with '/' (a directory was asked for). */
  trailingSlash: boolean;
}

/**
 * Decodes and normalises a request path (still percent-encoded, starting with '/').
 * Returns the segments, or a RESOLVE_ERROR code.
 */
export function resolveRequestPath(path: string): ResolvedPath | number {
  if (path.charCodeAt(0) !== 47) return RESOLVE_ERROR.BAD; // must start with '/'
  const raw = path.split("/");
  const segments: string[] = [];
  for (let i = 1; i < raw.length; i++) {
    const enc = raw[i]!;
    if (enc === "") continue; // "//" collapses, as nginx's merge_slashes
    let seg: string;
    if (enc.includes("%")) {
      try {
        // decodeURIComponent rejects bad escapes and invalid or overlong UTF-8 (URIError).
        seg = decodeURIComponent(enc);
      } catch {
        return RESOLVE_ERROR.BAD;
      }
      // "%2f" would smuggle a separator into a segment.
      if (seg.includes("/")) return RESOLVE_ERROR.BAD;
    } else seg = enc;
    // Control bytes (NUL above all) and backslashes never name a file we serve.
    for (let j = 0; j < seg.length; j++) {
      const c = seg.charCodeAt(j);
      if (c < 0x20 || c === 0x7f || c === 92) return RESOLVE_ERROR.BAD;
    }
    if (seg === ".") continue;
    if (seg === "..") {
      if (segments.length === 0) return RESOLVE_ERROR.TRAVERSAL;
      segments.pop();
      continue;
    }
    segments.push(seg);
  }
  const last = path.charCodeAt(path.length - 1);
  return { segments, trailingSlash: last === 47 || path.endsWith("/.") || path.endsWith("/..") };
}

/** True when a segment is hidden (dotfile/dot-directory); `.well-known` (RFC 8615) never is. */
export function isHiddenSegments(segments: readonly string[]): boolean {
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    if (s.charCodeAt(0) === 46 && !(i === 0 && s === ".well-known")) return true;
  }
  return false;
}

/** A site's rule files, in its root: read by the server, never sent (404, and left out of listings). */
export const NEVER_SERVED: ReadonlySet<string> = new Set(["serve.json", "_redirects", "_headers"]);

/** True when the segments name one of the root's rule files. */
export function isNeverServed(segments: readonly string[]): boolean {
  return segments.length === 1 && NEVER_SERVED.has(segments[0]!);
}
