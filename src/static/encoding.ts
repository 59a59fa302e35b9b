// Accept-Encoding (RFC 9110 §12.5.3) → which precompressed sibling to send, if any.

/** Codings we look for as sibling files, in our order of preference at equal q. */
export const CODINGS = [
  { name: "br", suffix: ".br" },
  { name: "zstd", suffix: ".zst" },
  { name: "gzip", suffix: ".gz" },
] as const;

export type CodingName = (typeof CODINGS)[number]["name"];

/**
 * The q-value the client gives `coding` (0 when refused or not listed). `*` covers codings not
 * named; "x-gzip" counts as gzip (§12.5.3). Malformed q-values make that element count as q=0.
 */
export function acceptsCoding(header: string, coding: string): number {
  let star = -1;
  let found = -1;
  for (const part of header.split(",")) {
    const semi = part.indexOf(";");
    const name = (semi < 0 ? part : part.slice(0, semi)).trim().toLowerCase();
    if (name === "") continue;
    let q = 1;
    if (semi >= 0) {
      const m = /^\s*q\s*=\s*(0(?:\.\d{0,3})?|1(?:\.0{0,3})?)\s*$/i.exec(part.slice(semi + 1));
      q = m ? Number(m[1]) : 0;
    }
    if (name === coding || (coding === "gzip" && name === "x-gzip")) found = Math.max(found, q);
    else if (name === "*") star = q;
  }
  if (found >= 0) return found;
  return star >= 0 ? star : 0;
}

/** Picks the available coding the client likes best (ties go to our order); null for identity. */
export function chooseCoding(header: string | undefined, available: readonly CodingName[]): CodingName | null {
  if (header === undefined || available.length === 0) return null;
  let best: CodingName | null = null;
  let bestQ = 0;
  for (const c of CODINGS) {
    if (!available.includes(c.name)) continue;
    const q = acceptsCoding(header, c.name);
    if (q > bestQ) {
      best = c.name;
      bestQ = q;
    }
  }
  return best;
}
