// Field lines a layer above the engine adds to every response of a request (the CORS fields:
// src/access/cors.ts), and the one rule they follow: when the response already carries a field that
// the lines would contradict (an app's own Access-Control-Allow-Origin), other lines go out in their
// place, so that a browser never sees two. Encoded once, at start; the look for the field runs only
// when there are lines to add, and allocates nothing.
import { COLON, CR, equalsLower, LF } from "./chars.ts";
import type { HeaderList } from "./response-head.ts";

export interface AddedFields {
  /** The lines ("Name: value\r\n" each). */
  readonly lines: Uint8Array;
  /** A field (its lower-case name) the response may set itself; null: `lines` always go. */
  readonly yieldTo: string | null;
  /** What goes out instead when the response sets `yieldTo` (null: nothing). */
  readonly instead: Uint8Array | null;
}

/** The lines to add to a response with these fields (a handler's, as a Reply holds them). */
export function addedLines(added: AddedFields, headers: HeaderList | Headers | Uint8Array | undefined): Uint8Array | null {
  const name = added.yieldTo;
  if (name === null || headers === undefined) return added.lines;
  return hasField(headers, name) ? added.instead : added.lines;
}

/** The lines to add to a whole pre-encoded response (status line, fields, blank line, body). */
export function addedLinesRaw(added: AddedFields, raw: Uint8Array): Uint8Array | null {
  const name = added.yieldTo;
  if (name === null) return added.lines;
  return linesHaveField(raw, raw.indexOf(LF) + 1, raw.length, name) ? added.instead : added.lines;
}

/** Whether `headers` has a field named `lower` (a lower-case name), in any case. */
export function hasField(headers: HeaderList | Headers | Uint8Array, lower: string): boolean {
  if (headers instanceof Uint8Array) return linesHaveField(headers, 0, headers.length, lower);
  if (headers instanceof Headers) return headers.has(lower);
  if (Array.isArray(headers)) {
    for (let i = 0; i < headers.length; i++) {
      const n = headers[i]![0];
      if (n.length === lower.length && n.toLowerCase() === lower) return true;
    }
    return false;
  }
  for (const n in headers) {
    if (n.length === lower.length && Object.hasOwn(headers, n) && n.toLowerCase() === lower) return true;
  }
  return false;
}

/**
 * Whether the field lines in buf[start, end) ("Name: value\r\n" each) have one named `lower`; an
 * empty line (the end of a head) ends the search.
 */
function linesHaveField(buf: Uint8Array, start: number, end: number, lower: string): boolean {
  const n = lower.length;
  let p = start;
  while (p < end) {
    const c = buf[p]!;
    if (c === CR || c === LF) return false; // the blank line
    if (p + n < end && buf[p + n] === COLON && equalsLower(buf, p, p + n, lower)) return true;
    const eol = buf.indexOf(LF, p);
    if (eol < 0 || eol >= end) return false;
    p = eol + 1;
  }
  return false;
}
