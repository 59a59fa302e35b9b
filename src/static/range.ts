// Range requests (RFC 9110 §14): a pure parser for `Range: bytes=…` against a representation size.

export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive. */
  end: number;
}

/** Ignore the header and send the whole representation (malformed, other unit, too many ranges). */
export const RANGE_IGNORE = "ignore" as const;
/** No range overlaps the representation: 416 with `Content-Range: bytes *\/size`. */
export const RANGE_UNSATISFIABLE = "unsatisfiable" as const;

export type RangeResult = ByteRange[] | typeof RANGE_IGNORE | typeof RANGE_UNSATISFIABLE;

/** More ranges than this in one request is abuse, not a client's need (§14.2 lets us ignore it). */
export const MAX_RANGES = 32;

/**
 * Parses a Range field value for a representation of `size` bytes. Satisfiable ranges come back
 * clipped to the size, sorted and coalesced where they overlap or touch.
 */
export function parseRange(header: string, size: number, maxRanges = MAX_RANGES): RangeResult {
  const eq = header.indexOf("=");
  if (eq < 0 || header.slice(0, eq).trim().toLowerCase() !== "bytes") return RANGE_IGNORE;
  const specs = header.slice(eq + 1).split(",");
  if (specs.length > maxRanges) return RANGE_IGNORE;
  const ranges: ByteRange[] = [];
  let any = false;
  for (const raw of specs) {
    const spec = raw.trim();
    if (spec === "") continue; // empty list elements are allowed (§5.6.1)
    any = true;
    const dash = spec.indexOf("-");
    if (dash < 0) return RANGE_IGNORE;
    const first = spec.slice(0, dash);
    const last = spec.slice(dash + 1);
    if (first === "") {
      // suffix-range: the last N bytes
      if (!isDigits(last)) return RANGE_IGNORE;
      const n = Number(last);
      if (n === 0 || size === 0) continue; // unsatisfiable
      ranges.push({ start: Math.max(0, size - n), end: size - 1 });
      continue;
    }
    if (!isDigits(first) || (last !== "" && !isDigits(last))) return RANGE_IGNORE;
    const start = Number(first);
    const end = last === "" ? Infinity : Number(last);
    if (end < start) return RANGE_IGNORE; // an invalid range-spec makes the whole field invalid
    if (start >= size) continue; // unsatisfiable
    ranges.push({ start, end: Math.min(end, size - 1) });
  }
  if (!any) return RANGE_IGNORE;
  if (ranges.length === 0) return RANGE_UNSATISFIABLE;
  return coalesce(ranges);
}

function isDigits(s: string): boolean {
  if (s.length === 0 || s.length > 15) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function coalesce(ranges: ByteRange[]): ByteRange[] {
  if (ranges.length === 1) return ranges;
  ranges.sort((a, b) => a.start - b.start);
  const out: ByteRange[] = [{ ...ranges[0]! }];
  for (let i = 1; i < ranges.length; i++) {
    const r = ranges[i]!;
    const prev = out[out.length - 1]!;
    if (r.start <= prev.end + 1) prev.end = Math.max(prev.end, r.end);
    else out.push({ ...r });
  }
  return out;
}

/** `bytes a-b/size` for Content-Range. */
export function contentRange(r: ByteRange, size: number): string {
  return `bytes ${r.start}-${r.end}/${size}`;
}
