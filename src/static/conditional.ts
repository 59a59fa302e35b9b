// Conditional requests (RFC 9110 §13), evaluated in the order §13.2.2 prescribes.
import { METHOD } from "../http/parser.ts";
import type { ServerRequest } from "../server/request.ts";

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

/**
 * Returns 0 to go on with the request, 304 (Not Modified) or 412 (Precondition Failed).
 * `lastModified` is in whole seconds.
 */
export function evaluatePreconditions(req: ServerRequest, etag: string, lastModified: number): number {
  const head = req.head;
  if (head.headerCount === 0) return 0;
  const isGetOrHead = head.method === METHOD.GET || head.method === METHOD.HEAD;
  // Step 1 / 2: If-Match, else If-Unmodified-Since.
  const ifMatch = head.header("if-match");
  if (ifMatch !== undefined) {
    if (!etagMatches(ifMatch, etag, false)) return 412;
  } else {
    const ius = head.header("if-unmodified-since");
    if (ius !== undefined) {
      const t = parseHttpDate(ius);
      if (!Number.isNaN(t) && lastModified > t) return 412;
    }
  }
  // Step 3 / 4: If-None-Match, else If-Modified-Since (GET and HEAD only).
  const ifNoneMatch = head.header("if-none-match");
  if (ifNoneMatch !== undefined) {
    if (etagMatches(ifNoneMatch, etag, true)) return isGetOrHead ? 304 : 412;
  } else if (isGetOrHead) {
    const ims = head.header("if-modified-since");
    if (ims !== undefined) {
      const t = parseHttpDate(ims);
      if (!Number.isNaN(t) && lastModified <= t) return 304;
    }
  }
  return 0;
}
