// parseHeadersFile is pure: one row per text, the blocks it gives or the RuleFileError it throws;
// and HeadersPattern, one row per pattern and path.
import { describe, expect, test } from "bun:test";
import { MAX_HEADER_FIELDS, MAX_HEADER_RULES, parseHeadersFile } from "../../src/site/headers-file.ts";
import { HeadersPattern } from "../../src/site/headers-pattern.ts";
import { MAX_RULE_LINE } from "../../src/site/rule-lines.ts";
import { RuleFileError } from "../../src/site/rule-file-error.ts";

type Block = { line: number; path: string; fields: [string, string][]; detach?: string[] };

/** [what, text, blocks]. */
const GOOD: [string, string, Block[]][] = [
  ["empty file", "", []],
  ["comments only", "# a\n  # b\n", []],
  [
    "two blocks",
    "/a\n  X-Frame-Options: DENY\n  X-Content-Type-Options: nosniff\n/b/*\n  Cache-Control: max-age=60\n",
    [
      { line: 1, path: "/a", fields: [["X-Frame-Options", "DENY"], ["X-Content-Type-Options", "nosniff"]] },
      { line: 4, path: "/b/*", fields: [["Cache-Control", "max-age=60"]] },
    ],
  ],
  ["header lines need not be indented (Netlify)", "/a\nX-A: 1", [{ line: 1, path: "/a", fields: [["X-A", "1"]] }]],
  ["comments and blanks inside a block", "/a\n  # why\n\n  X-A: 1", [{ line: 1, path: "/a", fields: [["X-A", "1"]] }]],
  ["a value with colons", "/a\n  Content-Security-Policy: default-src https: 'self'", [{ line: 1, path: "/a", fields: [["Content-Security-Policy", "default-src https: 'self'"]] }]],
  ["spaces around name and value are trimmed", "/a\n  X-A :   1 2  \t", [{ line: 1, path: "/a", fields: [["X-A", "1 2"]] }]],
  ["a name twice in a block joins its values", "/*\n  Cache-Control: max-age=0\n  cache-control: no-cache", [{ line: 1, path: "/*", fields: [["Cache-Control", "max-age=0, no-cache"]] }]],
  ["Set-Cookie twice stays two fields", "/a\n  Set-Cookie: a=1\n  Set-Cookie: b=2", [{ line: 1, path: "/a", fields: [["Set-Cookie", "a=1"], ["Set-Cookie", "b=2"]] }]],
  ["detach", "/a\n  ! X-Robots-Tag\n  X-B: 2", [{ line: 1, path: "/a", fields: [["X-B", "2"]], detach: ["x-robots-tag"] }]],
  ["an empty block does nothing", "/a\n/b\n  X-B: 2", [{ line: 2, path: "/b", fields: [["X-B", "2"]] }]],
  ["CRLF", "/a\r\n  X-A: 1\r\n", [{ line: 1, path: "/a", fields: [["X-A", "1"]] }]],
];

/** [what, text, line, a piece of the problem]. */
const BAD: [string, string, number, string][] = [
  ["header before any path", "X-A: 1\n/a\n  X-B: 2", 1, "outside a block"],
  ["detach before any path", "! X-A", 1, "outside a block"],
  ["a line that is neither", "/a\n  just words", 2, "neither a path"],
  ["bad header name", "/a\n  X A: 1", 2, "not a header name"],
  ["empty header name", "/a\n  : 1", 2, "not a header name"],
  ["non-token name", "/a\n  X(A): 1", 2, "not a header name"],
  ["empty value", "/a\n  X-A:", 2, "has no value"],
  ["empty value after spaces", "/a\n  X-A:   ", 2, "has no value"],
  ["NUL in a value", "/a\n  X-A: a\0b", 2, "control character (0x00)"],
  ["lone CR in a value", "/a\n  X-A: a\rb", 2, "control character (0x0d)"],
  ["DEL in a value", "/a\n  X-A: a\x7fb", 2, "control character (0x7f)"],
  ["non-ASCII in a value", "/a\n  X-A: café", 2, "non-ASCII"],
  ["bad detach", "/a\n  ! X A", 2, "not a header name"],
  ["a space in a path", "/a b\n  X-A: 1", 1, "space"],
  ["a query in a path", "/a?x\n  X-A: 1", 1, "query"],
  ["absolute URL", "https://example.com/*\n  X-A: 1", 1, "absolute URLs"],
  ["the error names its line", "/a\n  X-A: 1\n\n# c\n/b\n  bad line", 6, "neither"],
  ["line too long", `/a\n  X-A: ${"v".repeat(MAX_RULE_LINE)}`, 2, "longer than"],
];

describe("parseHeadersFile: good files", () => {
  for (const [what, text, expected] of GOOD) {
    test(what, () => {
      const got = parseHeadersFile(text, "_headers").map((b) => ({ line: b.line, path: b.path, fields: b.fields, detach: b.detach }));
      expect(got).toEqual(expected.map((b) => ({ ...b, detach: b.detach ?? [] })));
    });
  }
});

describe("parseHeadersFile: bad files name file, line and problem", () => {
  for (const [what, text, line, problem] of BAD) {
    test(what, () => {
      let error: unknown;
      try {
        parseHeadersFile(text, "site/_headers");
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(RuleFileError);
      const e = error as RuleFileError;
      expect([e.file, e.line]).toEqual(["site/_headers", line]);
      expect(e.problem).toContain(problem);
    });
  }
});

describe("parseHeadersFile: caps", () => {
  test(`${MAX_HEADER_RULES} blocks are fine, one more is an error on its line`, () => {
    const lines: string[] = [];
    for (let i = 0; i < MAX_HEADER_RULES; i++) lines.push(`/p${i}`, "  X-A: 1");
    expect(parseHeadersFile(lines.join("\n"), "_headers").length).toBe(MAX_HEADER_RULES);
    lines.push("/last", "  X-A: 1");
    expect(() => parseHeadersFile(lines.join("\n"), "_headers")).toThrow(`_headers:${2 * MAX_HEADER_RULES + 1}: more than`);
  });

  test(`${MAX_HEADER_FIELDS} header lines in a block are fine, one more is not`, () => {
    const lines = ["/a"];
    for (let i = 0; i < MAX_HEADER_FIELDS; i++) lines.push(`  X-${i}: 1`);
    expect(parseHeadersFile(lines.join("\n"), "_headers")[0]!.fields.length).toBe(MAX_HEADER_FIELDS);
    lines.push("  X-last: 1");
    expect(() => parseHeadersFile(lines.join("\n"), "_headers")).toThrow(`_headers:${MAX_HEADER_FIELDS + 2}: more than`);
  });
});

/** [pattern, path, matches]; paths as canonicalPath(…).toLowerCase() gives them. */
const MATCHES: [string, string, boolean][] = [
  // literal (Netlify: case-insensitive, trailing slash optional, empty segments ignored)
  ["/", "/", true],
  ["/", "/a", false],
  ["/a", "/a", true],
  ["/a", "/a/", true],
  ["/a/", "/a", true],
  ["/a", "/ab", false],
  ["/a", "/a/b", false],
  ["/a", "/", false],
  ["/A/B", "/a/b", true],
  ["//a//b", "/a/b", true],
  ["/caf%C3%A9", "/café", true],
  // /prefix/*
  ["/*", "/", true],
  ["/*", "/anything/at/all", true],
  ["/a/*", "/a", true],
  ["/a/*", "/a/", true],
  ["/a/*", "/a/b/c", true],
  ["/a/*", "/ab", false],
  ["/a/*", "/b/a", false],
  // placeholders: one non-empty segment
  ["/:x", "/a", true],
  ["/:x", "/a/", true],
  ["/:x", "/", false],
  ["/:x", "/a/b", false],
  ["/u/:id/edit", "/u/7/edit", true],
  ["/u/:id/edit", "/u//edit", false],
  ["/u/:id/edit", "/u/7/8/edit", false],
  // a star inside a segment spans '/'
  ["/*.css", "/a.css", true],
  ["/*.css", "/x/y/a.css", true],
  ["/*.css", "/a.css/", true],
  ["/*.css", "/a.js", false],
  ["/assets/*.css", "/assets/x/y.css", true],
  ["/assets/*.css", "/other/y.css", false],
  ["/a*b", "/ab", true],
  ["/a*b", "/a/x/b", true],
  ["/a*b", "/ba", false],
  // a whole-segment star in the middle
  ["/a/*/z", "/a/z", true],
  ["/a/*/z", "/a/b/c/z", true],
  ["/a/*/z", "/ab/z", false],
  ["/a/*/z", "/a/b/c/zz", false],
  ["/:lang/*.html", "/en/a/b.html", true],
  ["/:lang/*.html", "/a.html", false],
];

describe("HeadersPattern", () => {
  for (const [pattern, path, want] of MATCHES) {
    test(`${pattern} ${want ? "takes" : "does not take"} ${path}`, () => {
      expect(new HeadersPattern(pattern).matches(path)).toBe(want);
    });
  }

  test("a pattern of many stars against a long path that fails at the end is not exponential", () => {
    const p = new HeadersPattern("/" + "*a".repeat(30) + "b");
    const path = "/" + "a".repeat(8000);
    const t0 = performance.now();
    expect(p.matches(path)).toBe(false);
    expect(performance.now() - t0).toBeLessThan(2000); // O(path × pattern): ~0.5M steps
  });
});
