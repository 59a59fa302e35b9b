// Validators for conditional requests (RFC 9110 §13): entity-tag lists and HTTP dates.

/**
 * Does `etag` match the field value (a list of entity-tags, or "*")?
 * Weak comparison ignores W/; strong comparison needs both tags strong (§8.8.3.2).
 */
export function etagMatches(fieldValue: string, etag: string, weak: boolean): boolean {
  const v = fieldValue.trim();
  if (v === "*") return true;
  const ours = etag.startsWith("W/") ? etag.slice(2) : etag;
  if (!weak && etag.startsWith("W/")) return false;
  let i = 0;
  while (i < v.length) {
    while (i < v.length && (v[i] === " " || v[i] === "\t" || v[i] === ",")) i++;
    if (i >= v.length) break;
    let isWeak = false;
    if (v.startsWith("W/", i)) {
      isWeak = true;
      i += 2;
    }
    if (v[i] !== '"') return false; // malformed list: no match
    const close = v.indexOf('"', i + 1);
    if (close < 0) return false;
    const tag = v.slice(i, close + 1);
    if (tag === ours && (weak || !isWeak)) return true;
    i = close + 1;
  }
  return false;
}

/** An HTTP-date in whole seconds, or NaN when the value is not a date (the header is then ignored). */
export function parseHttpDate(value: string): number {
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? NaN : Math.floor(ms / 1000);
}
