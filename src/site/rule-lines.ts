// The lines of a line-based rule file (_redirects, _headers) that say something: each trimmed, with
// its 1-based number; blank lines and `#` comments left out. A file over the size cap or a line over
// the length cap is refused with its RuleFileError.
import { MAX_RULE_FILE_BYTES } from "./rule-file.ts";
import { RuleFileError } from "./rule-file-error.ts";

/** Longer lines than this are refused (Cloudflare allows 1,000 characters a rule). */
export const MAX_RULE_LINE = 2_000;

/** [line number, trimmed text] for each line of `text` that is not blank or a comment. */
export function* ruleLines(text: string, file: string): Generator<[number, string]> {
  if (text.length > MAX_RULE_FILE_BYTES) throw new RuleFileError(file, 0, `is larger than ${MAX_RULE_FILE_BYTES} bytes`);
  let line = 0;
  for (let at = 0; at <= text.length; ) {
    let nl = text.indexOf("\n", at);
    if (nl < 0) nl = text.length;
    const raw = text.slice(at, nl);
    at = nl + 1;
    line++;
    if (raw.length > MAX_RULE_LINE) throw new RuleFileError(file, line, `the line is longer than ${MAX_RULE_LINE} characters`);
    const s = raw.trim();
    if (s !== "" && !s.startsWith("#")) yield [line, s];
  }
}
