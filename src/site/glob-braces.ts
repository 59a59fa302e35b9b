// Brace expansion of a glob, as minimatch 3.1.5 does it (through the brace-expansion package) before
// it matches anything: `{a,b}`, nested, and `{1..3}`, `{01..10}`, `{a..c}` ranges, capped in number.
import { GlobError } from "./glob-error.ts";

const MAX_EXPANSIONS = 256;
/** Braces nested (or in a row) deeper are refused: each is a level of recursion. */
export const MAX_BRACE_DEPTH = 32;

/** Brace expansion as the brace-expansion package does it: `{a,b}`, nested, and `{1..3}` / `{a..c}` ranges. */
export function expandBraces(pattern: string): string[] {
  const out = expand(pattern, 0);
  if (out.length > MAX_EXPANSIONS) throw new GlobError(`"${pattern}" expands to more than ${MAX_EXPANSIONS} patterns`);
  return out;
}

function expand(s: string, level: number): string[] {
  if (level > MAX_BRACE_DEPTH) throw new GlobError(`braces nest deeper than ${MAX_BRACE_DEPTH}`);
  // The first '{' whose matching '}' encloses a ',' at depth 1 or a range.
  for (let open = s.indexOf("{"); open >= 0; open = s.indexOf("{", open + 1)) {
    if (open > 0 && s[open - 1] === "\\") continue;
    if (open > 0 && s[open - 1] === "$") continue; // "${…}" is left alone, as brace-expansion does
    let depth = 0;
    let close = -1;
    const commas: number[] = [];
    for (let i = open; i < s.length; i++) {
      const c = s[i];
      if (c === "\\") i++;
      else if (c === "{") depth++;
      else if (c === "}" && --depth === 0) {
        close = i;
        break;
      } else if (c === "," && depth === 1) commas.push(i);
    }
    if (close < 0) return [s];
    const pre = s.slice(0, open);
    const post = s.slice(close + 1);
    const inner = s.slice(open + 1, close);
    let alts: string[] | null = null;
    if (commas.length > 0) {
      alts = [];
      let from = open + 1;
      for (const comma of [...commas, close]) {
        alts.push(...expand(s.slice(from, comma), level + 1));
        from = comma + 1;
      }
    } else alts = range(inner);
    if (alts === null) continue;
    const tails = expand(post, level + 1);
    const result: string[] = [];
    for (const a of alts) for (const t of tails) {
      result.push(pre + a + t);
      if (result.length > MAX_EXPANSIONS) return result;
    }
    return result;
  }
  return [s];
}

function range(inner: string): string[] | null {
  const m = /^(-?\d+)\.\.(-?\d+)(?:\.\.(-?\d+))?$/.exec(inner) ?? /^([a-zA-Z])\.\.([a-zA-Z])(?:\.\.(-?\d+))?$/.exec(inner);
  if (m === null) return null;
  const numeric = /\d/.test(m[1]!);
  const a = numeric ? Number(m[1]) : m[1]!.charCodeAt(0);
  const b = numeric ? Number(m[2]) : m[2]!.charCodeAt(0);
  const step = Math.max(1, Math.abs(Number(m[3] ?? 1)));
  const width = numeric && (/^-?0\d/.test(m[1]!) || /^-?0\d/.test(m[2]!)) ? Math.max(m[1]!.length, m[2]!.length) : 0;
  const out: string[] = [];
  for (let v = a; a <= b ? v <= b : v >= b; v += a <= b ? step : -step) {
    if (out.length > MAX_EXPANSIONS) break;
    if (!numeric) out.push(String.fromCharCode(v));
    else {
      const abs = String(Math.abs(v)).padStart(width - (v < 0 ? 1 : 0), "0");
      out.push(v < 0 ? `-${abs}` : abs);
    }
  }
  return out;
}
