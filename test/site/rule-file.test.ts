// watchRuleFile at run time: whatever the parser throws is one logged line (the process goes on,
// the rules read before stay), and the same bad text is not parsed again on later events.
import { afterEach, beforeEach, expect, spyOn, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { watchRuleFile } from "../../src/site/rule-file.ts";
import { parseServeJson } from "../../src/site/serve-json-parse.ts";
import { pollUntil } from "../helpers/poll.ts";

let root: string;
let errors: string[];
let spy: ReturnType<typeof spyOn>;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "bunhttp-rule-file-"));
  errors = [];
  spy = spyOn(console, "error").mockImplementation((...args: unknown[]) => void errors.push(args.join(" ")));
});
afterEach(() => {
  spy.mockRestore();
  rmSync(root, { recursive: true, force: true });
});

test("a parser's own error (not a RuleFileError) is logged once, and the old rules stay", { timeout: 15_000 }, async () => {
  writeFileSync(join(root, "rules"), "good 1");
  const parsed: string[] = [];
  const changes: (string | null)[] = [];
  const parse = (text: string) => {
    parsed.push(text);
    if (text.startsWith("bad")) throw new RangeError("Maximum call stack size exceeded.");
    return text;
  };
  const w = watchRuleFile(root, "rules", parse, (v) => void changes.push(v));
  try {
    writeFileSync(join(root, "rules"), "bad");
    await pollUntil(() => errors.length > 0, 5000, "the logged error");
    expect(errors[0]).toBe("Maximum call stack size exceeded.; the rules read before stay");
    expect(w.current).toBe("good 1");
    // The same text again (an event, and a new mtime): not parsed again, not logged again.
    writeFileSync(join(root, "rules"), "bad");
    writeFileSync(join(root, "rules"), "good 2");
    await pollUntil(() => w.current === "good 2", 5000, "the next good text");
    expect(parsed.filter((t) => t === "bad")).toHaveLength(1);
    expect(errors).toHaveLength(1);
    expect(changes.at(-1)).toBe("good 2");
  } finally {
    w.close();
  }
});

test("a serve.json whose braces nest 50,000 deep, written at run time, is one line naming file and line", { timeout: 15_000 }, async () => {
  writeFileSync(join(root, "serve.json"), "{}");
  const w = watchRuleFile(root, "serve.json", parseServeJson, () => {});
  try {
    writeFileSync(join(root, "serve.json"), JSON.stringify({ unlisted: ["{a,".repeat(50000) + "}".repeat(50000)] }));
    await pollUntil(() => errors.length > 0, 5000, "the logged error");
    expect(errors[0]).toMatch(/serve\.json:1: bad pattern: braces nest deeper than 32; the rules read before stay$/);
    expect(w.current).not.toBeNull();
  } finally {
    w.close();
  }
});
