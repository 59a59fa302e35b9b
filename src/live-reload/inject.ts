// Puts the live-reload script tag into an HTML file's bytes: before the last `</body` (any case),
// or at the end when there is none. Bytes, not text: the file's encoding is left as it is.

const CLOSE_BODY = [0x3c, 0x2f, 0x62, 0x6f, 0x64, 0x79]; // "</body"

/** `html` with `tag` inserted before its last `</body>` (case-insensitive), else appended. */
export function injectBeforeBody(html: Uint8Array, tag: Uint8Array): Uint8Array {
  const at = lastCloseBody(html);
  const out = new Uint8Array(html.length + tag.length);
  if (at < 0) {
    out.set(html, 0);
    out.set(tag, html.length);
    return out;
  }
  out.set(html.subarray(0, at), 0);
  out.set(tag, at);
  out.set(html.subarray(at), at + tag.length);
  return out;
}

/** Where the last `</body` followed by `>`, whitespace or `/` starts, or -1. */
export function lastCloseBody(html: Uint8Array): number {
  const n = CLOSE_BODY.length;
  outer: for (let i = html.length - n; i >= 0; i--) {
    if (html[i] !== 0x3c || html[i + 1] !== 0x2f) continue; // "</"
    for (let k = 2; k < n; k++) {
      // ASCII letters compared with the 0x20 (lower-case) bit set: "</BODY" and "</Body" too.
      if ((html[i + k]! | 0x20) !== CLOSE_BODY[k]) continue outer;
    }
    const after = html[i + n];
    // "</bodyx" is another tag; "</body" at the very end is cut short but still the body's end.
    if (after === undefined || after === 0x3e || after === 0x2f || after === 0x20 || after === 0x09 || after === 0x0a || after === 0x0c || after === 0x0d) return i;
  }
  return -1;
}
