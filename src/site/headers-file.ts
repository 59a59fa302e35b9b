// Parses a Netlify `_headers` file into blocks: a path line (a pattern: headers-pattern.ts) and the
// `Name: value` lines under it, usually indented. A name given twice in one block is one field, its
// values joined with ", " (Netlify), but Set-Cookie, which commas would break (RFC 6265 §3), stays
// several. `! Name` (Cloudflare's detach) removes a field an earlier block gave. A bad line is a
// RuleFileError naming file and line.

import { isToken } from "../http/chars.ts";
import { HeadersPattern } from "./headers-pattern.ts";
import { ruleLines } from "./rule-lines.ts";
import { RuleFileError } from "./rule-file-error.ts";
import type { HeaderPairs } from "./rule-set.ts";

/** More path blocks than this is refused: every request is matched against each. */
export const MAX_HEADER_RULES = 10_000;
/** More fields than this in one block is refused: a response carries them all. */
export const MAX_HEADER_FIELDS = 1_000;

export interface HeaderRule {
  /** 1-based line of the path. */
  readonly line: number;
  /** The path line as written. */
  readonly path: string;
  readonly pattern: HeadersPattern;
  /** The fields, in the order of their first line. */
  readonly fields: HeaderPairs;
  /** Lower-cased names that `! Name` removes from what earlier blocks gave. */
  readonly detach: readonly string[];
}

/** Why `v` cannot be a field value (RFC 9110 §5.5), or null. */
function badValue(v: string): string | null {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 9) continue; // HTAB
    if (c < 32 || c === 127) return `the value has a control character (0x${c.toString(16).padStart(2, "0")})`;
    if (c > 126) return `the value has a non-ASCII character: percent-encode it or use RFC 8187`;
  }
  return null;
}

interface OpenBlock {
  line: number;
  path: string;
  fields: [string, string][];
  detach: string[];
  count: number;
}

function close(b: OpenBlock | null, rules: HeaderRule[]): void {
  if (b === null || (b.fields.length === 0 && b.detach.length === 0)) return; // an empty block does nothing
  rules.push({ line: b.line, path: b.path, pattern: new HeadersPattern(b.path), fields: b.fields, detach: b.detach });
}

/** Parses a `_headers` text; `file` names it in errors. */
export function parseHeadersFile(text: string, file: string): HeaderRule[] {
  const rules: HeaderRule[] = [];
  let block: OpenBlock | null = null;
  let blocks = 0;
  for (const [line, s] of ruleLines(text, file)) {
    const fail = (problem: string) => new RuleFileError(file, line, problem);
    if (s.charCodeAt(0) === 47) {
      // '/': a path line opens a block
      if (/\s/.test(s)) throw fail(`the path "${s}" has a space in it (write %20)`);
      if (s.includes("?") || s.includes("#")) throw fail(`the path "${s}" has a query or a fragment: it matches paths only`);
      if (++blocks > MAX_HEADER_RULES) throw fail(`more than ${MAX_HEADER_RULES} path blocks`);
      close(block, rules);
      block = { line, path: s, fields: [], detach: [], count: 0 };
      continue;
    }
    if (/^https?:\/\//i.test(s)) throw fail(`absolute URLs ("${s}") are not supported: a block starts with a path`);
    if (block === null) throw fail(`a header line outside a block: put a path line (starting with "/") before it`);
    if (++block.count > MAX_HEADER_FIELDS) throw fail(`more than ${MAX_HEADER_FIELDS} header lines in one block`);
    if (s.charCodeAt(0) === 33) {
      // '!': detach
      const name = s.slice(1).trim();
      if (!isToken(name)) throw fail(`"${name}" is not a header name (to detach, write "! Name")`);
      block.detach.push(name.toLowerCase());
      continue;
    }
    const colon = s.indexOf(":");
    if (colon < 0) throw fail(`neither a path (starting with "/") nor a header ("Name: value")`);
    const name = s.slice(0, colon).trim();
    const value = s.slice(colon + 1).trim();
    if (!isToken(name)) throw fail(`"${name}" is not a header name (letters, digits and !#$%&'*+-.^_\`|~)`);
    if (value === "") throw fail(`the header "${name}" has no value`);
    const bad = badValue(value);
    if (bad !== null) throw fail(bad);
    const lower = name.toLowerCase();
    const same = lower === "set-cookie" ? -1 : block.fields.findIndex(([n]) => n.toLowerCase() === lower);
    if (same >= 0) block.fields[same]![1] += ", " + value;
    else block.fields.push([name, value]);
  }
  close(block, rules);
  return rules;
}
