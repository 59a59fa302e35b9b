// Accept-Encoding (RFC 9110 §12.5.3): which content coding a client takes, by q-value. A header is
// parsed once and remembered (browsers send a handful of distinct values), so a request pays a Map
// lookup. Codings are numbered so a resource's available ones fit in a bit mask.

/** The codings we make or send, in our order of preference when q-values tie. */
export const CODINGS = [
  { name: "br", suffix: ".br" },
  { name: "zstd", suffix: ".zst" },
  { name: "gzip", suffix: ".gz" },
] as const;

export type CodingName = (typeof CODINGS)[number]["name"];
/** An index into CODINGS. */
export type Coding = 0 | 1 | 2;
export const BR: Coding = 0;
export const ZSTD: Coding = 1;
export const GZIP: Coding = 2;
/** Every coding we make. */
export const ALL_CODINGS = 0b111;
/** pickCoding's answer when identity (no coding) is the one to send. */
export const IDENTITY = -1;

/** What one Accept-Encoding value says: a q (0 to 1000) per coding, and about identity. */
export interface Preferences {
  /** q × 1000 for br, zstd, gzip (0: refused or not listed). */
  readonly q: Int16Array;
  /** q × 1000 of identity when the client named it (or `*`), else -1: acceptable, no stated preference. */
  readonly identity: number;
}

const NONE: Preferences = { q: new Int16Array(3), identity: -1 };
const MEMO_LIMIT = 256;
const memo = new Map<string, Preferences>();

/** The preferences of an Accept-Encoding value (undefined: no header, so identity). */
export function preferences(header: string | undefined): Preferences {
  if (header === undefined) return NONE;
  let p = memo.get(header);
  if (p === undefined) {
    p = parse(header);
    if (memo.size >= MEMO_LIMIT) memo.clear(); // a client sending random values only costs us parsing
    memo.set(header, p);
  }
  return p;
}

/**
 * The coding to send of those in `available` (a mask of 1 << Coding), or IDENTITY: the highest q
 * wins, ties go to br, then zstd, then gzip; identity wins only when the client rates it higher.
 */
export function pickCoding(p: Preferences, available: number): Coding | typeof IDENTITY {
  let best: Coding | typeof IDENTITY = IDENTITY;
  let bestQ = 0;
  for (let c = 0; c < 3; c++) {
    const q = p.q[c]!;
    if (q > bestQ && (available & (1 << c)) !== 0) {
      best = c as Coding;
      bestQ = q;
    }
  }
  return best !== IDENTITY && p.identity > bestQ ? IDENTITY : best;
}

/** The client said identity;q=0 (or *;q=0 without naming identity): avoid sending it when we can. */
export function refusesIdentity(p: Preferences): boolean {
  return p.identity === 0;
}

/** The q (×1000) given `name` alone: for tests and for one-off questions. */
export function qualityOf(header: string, name: CodingName | "identity"): number {
  const p = parse(header);
  if (name === "identity") return p.identity < 0 ? 1000 : p.identity;
  return p.q[CODINGS.findIndex((c) => c.name === name)]!;
}

/**
 * Parses `coding [; q=qvalue]` elements. `*` gives its q to every coding not named (identity
 * included); "x-gzip" is gzip. An element whose q is malformed counts as q=0 (refused, the safe
 * reading). An empty value asks for identity (§12.5.3).
 */
function parse(header: string): Preferences {
  const q = new Int16Array(3);
  const named = [false, false, false];
  let star = -1;
  let identity = -1;
  let from = 0;
  while (from <= header.length) {
    let end = header.indexOf(",", from);
    if (end < 0) end = header.length;
    const element = header.slice(from, end);
    from = end + 1;
    const semi = element.indexOf(";");
    const name = (semi < 0 ? element : element.slice(0, semi)).trim().toLowerCase();
    if (name === "") continue;
    const value = semi < 0 ? 1000 : qParam(element.slice(semi + 1));
    let c = -1;
    if (name === "br") c = 0;
    else if (name === "zstd") c = 1;
    else if (name === "gzip" || name === "x-gzip") c = 2;
    if (c >= 0) {
      // A coding listed twice keeps its highest q.
      q[c] = named[c] ? Math.max(q[c]!, value) : value;
      named[c] = true;
    } else if (name === "identity") identity = Math.max(identity, value);
    else if (name === "*") star = Math.max(star, value);
  }
  if (star >= 0) {
    for (let c = 0; c < 3; c++) if (!named[c]) q[c] = star;
    if (identity < 0) identity = star;
  }
  return { q, identity };
}

/** The weight of `coding;q=0.5` (OWS around `;` and `=`), × 1000; anything else after `;`: 0. */
function qParam(params: string): number {
  const p = params.trim();
  if (p.length < 2 || (p.charCodeAt(0) | 0x20) !== 113 /* q */) return 0;
  const rest = p.slice(1).trimStart();
  if (rest.charCodeAt(0) !== 61 /* = */) return 0;
  return qValue(rest.slice(1).trim());
}

/** RFC 9110 §12.4.2: "0" ["." 0*3DIGIT] / "1" ["." 0*3("0")], × 1000; anything else 0. */
function qValue(s: string): number {
  if (s.length === 0 || s.length > 5) return 0;
  const lead = s.charCodeAt(0) - 48;
  if (lead !== 0 && lead !== 1) return 0;
  if (s.length === 1) return lead * 1000;
  if (s.charCodeAt(1) !== 46 /* . */) return 0;
  let frac = 0;
  let scale = 100;
  for (let i = 2; i < s.length; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9 || (lead === 1 && d !== 0)) return 0;
    frac += d * scale;
    scale /= 10;
  }
  return lead * 1000 + frac;
}
