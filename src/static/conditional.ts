// Conditional requests (RFC 9110 §13): entity-tag lists, HTTP dates, and the decisions made from them.

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

/** The precondition fields of a request (§13.1), each undefined when absent. */
export interface PreconditionFields {
  ifMatch: string | undefined;
  ifNoneMatch: string | undefined;
  ifModifiedSince: string | undefined;
  ifUnmodifiedSince: string | undefined;
}

/** The validators a representation is judged by. */
export interface Validators {
  etag: string;
  /** Last-Modified, in whole seconds. */
  mtimeSeconds: number;
}

/** §13.2.2 steps 1-4, in that order: 0 to go on (to Range, step 5), or the status to answer, 304 or 412. */
export function evaluatePreconditions(fields: PreconditionFields, v: Validators, isGetOrHead: boolean): 0 | 304 | 412 {
  // Steps 1-2: If-Match, else If-Unmodified-Since (an invalid date is ignored, §13.1.4).
  if (fields.ifMatch !== undefined) {
    if (!etagMatches(fields.ifMatch, v.etag, false)) return 412;
  } else if (fields.ifUnmodifiedSince !== undefined) {
    const t = parseHttpDate(fields.ifUnmodifiedSince);
    if (!Number.isNaN(t) && v.mtimeSeconds > t) return 412;
  }
  // Steps 3-4: If-None-Match, else If-Modified-Since (GET and HEAD only, §13.1.3).
  if (fields.ifNoneMatch !== undefined) {
    if (etagMatches(fields.ifNoneMatch, v.etag, true)) return isGetOrHead ? 304 : 412;
  } else if (isGetOrHead && fields.ifModifiedSince !== undefined) {
    const t = parseHttpDate(fields.ifModifiedSince);
    if (!Number.isNaN(t) && v.mtimeSeconds <= t) return 304;
  }
  return 0;
}

/**
 * If-Range (§13.1.5): does the Range still apply? Only for a strong ETag match, or a date equal to
 * Last-Modified. `mtimeMs` is the exact modification time and `now` the clock, both in ms.
 * `byDate` false: a date never holds (several variants share the Last-Modified, so a date cannot
 * say which one the client holds part of).
 */
export function ifRangeHolds(value: string, etag: string, mtimeMs: number, now: number, byDate = true): boolean {
  const s = value.trim();
  if (s.startsWith('"') || s.startsWith("W/")) return !s.startsWith("W/") && s === etag;
  if (!byDate) return false;
  // A date is a strong validator only if the file had not changed within the second it names
  // (§8.8.2.2): a file modified in the last second never matches.
  const t = parseHttpDate(s);
  return !Number.isNaN(t) && t === Math.floor(mtimeMs / 1000) && now - mtimeMs >= 1000;
}
