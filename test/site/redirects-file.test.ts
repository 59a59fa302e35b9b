// parseRedirectsFile is pure: one row per text, the rules it gives (reduced to what they say) or the
// RuleFileError it throws (file, line, a piece of the problem).
import { describe, expect, test } from "bun:test";
import {
  MAX_REDIRECT_RULES,
  parseRedirectsFile,
  type RedirectRule,
} from "../../src/site/redirects-file.ts";
import { MAX_RULE_FILE_BYTES } from "../../src/site/rule-file.ts";
import { MAX_RULE_LINE } from "../../src/site/rule-lines.ts";
import { RuleFileError } from "../../src/site/rule-file-error.ts";
import { NO_SPLAT, SPLAT_REST, SPLAT_SUFFIX } from "../../src/site/splat-pattern.ts";

/** What a rule says, in a form a row can spell out. */
function summary(r: RedirectRule) {
  return {
    line: r.line,
    segments: r.source.segments,
    splat: r.source.splat,
    status: r.status,
    force: r.force,
    to: r.to.literals.join("{}"),
    refs: r.to.refs,
    query: r.query.map((q) => `${q.key}=${q.value ?? `#${q.capture}`}`),
  };
}

type Summary = ReturnType<typeof summary>;
const rule = (s: Partial<Summary>): Partial<Summary> => s;

/** [what, text, expected rules (only the fields given are checked)]. */
const GOOD: [string, string, Partial<Summary>[]][] = [
  ["empty file", "", []],
  ["comments and blank lines only", "# a\n\n   # b\n\t\n", []],
  ["default status is 301", "/home /", [rule({ line: 1, segments: ["home"], status: 301, force: false, to: "/" })]],
  ["line numbers count comments and blanks", "# x\n\n/a /b 302", [rule({ line: 3, status: 302 })]],
  ["CRLF line ends", "/a /b 302\r\n/c /d\r\n", [rule({ line: 1, status: 302 }), rule({ line: 2, status: 301 })]],
  ["tabs and runs of spaces separate", "/a\t\t/b   307", [rule({ status: 307, to: "/b" })]],
  ["inline comment after the status", "/a /b 302 # moved", [rule({ status: 302 })]],
  ["inline comment right after the destination", "/a /b #302", [rule({ status: 301 })]],
  ["every status", "/a /b 200\n/a /b 301\n/a /b 302\n/a /b 303\n/a /b 307\n/a /b 308\n/a /b 404", ([200, 301, 302, 303, 307, 308, 404] as const).map((status) => rule({ status }))],
  ["force", "/a /b 301!\n/c /d 200!", [rule({ status: 301, force: true }), rule({ status: 200, force: true })]],
  ["trailing slash of the source is dropped", "/blog/ /news", [rule({ segments: ["blog"] })]],
  ["root source", "/ /home 302", [rule({ segments: [], splat: NO_SPLAT })]],
  ["splat", "/news/* /blog/:splat", [rule({ segments: ["news"], splat: SPLAT_REST, to: "/blog/{}", refs: [0] })]],
  ["root splat", "/* /index.html 200", [rule({ segments: [], splat: SPLAT_REST, to: "/index.html" })]],
  ["splat after a prefix", "/news* /blog/:splat", [rule({ segments: [], splat: SPLAT_SUFFIX, refs: [0] })]],
  ["placeholders, reordered", "/n/:year/:month /b/:month-:year.html", [rule({ segments: ["n", null, null], to: "/b/{}-{}.html", refs: [1, 0] })]],
  ["placeholders then the splat", "/u/:id/* /v/:splat/:id", [rule({ refs: [1, 0] })]],
  ["a placeholder in the destination's query", "/u/:id /v?user=:id", [rule({ to: "/v?user={}", refs: [0] })]],
  ["absolute destination", "/g https://example.com/search", [rule({ to: "https://example.com/search" })]],
  ["absolute destination: port and user are not placeholders", "/g https://u:pw@example.com:8080/:x 302".replace("/g", "/g/:x"), [rule({ to: "https://u:pw@example.com:8080/{}", refs: [0] })]],
  ["forward rule: no destination", "/app/* 200", [rule({ to: "/app/{}", refs: [0], status: 200 })]],
  ["forward rule forced", "/app/* 200!", [rule({ to: "/app/{}", force: true })]],
  ["query conditions", "/store id=:id /blog/:id 301", [rule({ query: ["id=#0"], refs: [0] })]],
  ["query literal and placeholder", "/s a=1 b=:b /t/:b", [rule({ query: ["a=1", "b=#0"], refs: [0] })]],
  ["query placeholders come after the splat", "/s/* q=:q /t/:q/:splat", [rule({ query: ["q=#1"], refs: [1, 0] })]],
  ["query condition with an empty value", "/s a= /t", [rule({ query: ["a="] })]],
  ["source escapes are canonical", "/caf%c3%a9/%7euser /x", [rule({ segments: ["café", "~user"] })]],
  ["a raw UTF-8 source", "/café /x", [rule({ segments: ["café"] })]],
  ["a colon inside a destination segment needs %3A", "/w /wiki/Special%3ARandom", [rule({ to: "/wiki/Special%3ARandom", refs: [] })]],
  ["non-ASCII in a destination is percent-encoded", "/a /café", [rule({ to: "/caf%C3%A9" })]],
];

/** [what, text, line, a piece of the problem]. */
const BAD: [string, string, number, string][] = [
  ["no destination", "/a", 1, "no destination"],
  ["no destination, with a status", "/a 301", 1, "no destination"],
  ["forward rule needs a splat", "/a 200", 1, "no destination"],
  ["forward rule needs 200", "/a/* 301", 1, "no destination"],
  ["destination not a path", "/a b", 1, "neither a destination"],
  ["status not allowed", "/a /b 410", 1, "status 410 is not supported"],
  ["status 201", "/a /b 201", 1, "status 201"],
  ["status not a number", "/a /b permanent", 1, "not a status"],
  ["status with junk", "/a /b 301!!", 1, "not a status"],
  ["a condition", "/a /b 302 Country=au", 1, "Country"],
  ["a role", "/admin/* /admin/:splat 200! Role=admin", 1, "not supported"],
  ["junk after the status", "/a /b 302 extra", 1, 'unexpected "extra"'],
  ["the error names its line", "/a /b\n# c\n\n/c /d 999", 4, "status 999"],
  ["source not a path", "a /b", 1, "must be a path"],
  ["host rule", "https://blog.example.com/* https://example.com/:splat 301", 1, "host rules"],
  ["splat in the middle", "/a/*/b /c", 1, "only end the source"],
  ["two splats", "/a/**", 1, "only end the source"],
  ["placeholder glued to a splat", "/a/:x* /b", 1, "whole segment"],
  ["query in the source", "/a?x=1 /b", 1, "key=value"],
  ["fragment in the source", "/a#top /b", 1, "fragment"],
  ["empty segment", "/a//b /c", 1, "empty segment"],
  ["bad placeholder name", "/a/:1x /b", 1, "placeholder"],
  [":splat in the source", "/a/:splat /b", 1, "write \"*\""],
  ["placeholder twice", "/a/:x/:x /b", 1, "used twice"],
  ["query placeholder shadows a path one", "/a/:x x=:x /b", 1, "used twice"],
  ["undefined placeholder", "/a/:x /b/:y", 1, 'has no placeholder ":y"'],
  ["undefined splat", "/a /b/:splat", 1, "has no splat"],
  ["a colon in the destination is a placeholder", "/w /wiki/Special:Random", 1, "%3A"],
  ["proxy", "/api/* https://api.example.com/:splat 200", 1, "proxying"],
  ["proxy as 404", "/x https://example.com/ 404", 1, "proxying"],
  ["absolute destination without a host", "/x https:///path", 1, "no host"],
  ["query condition without =", "/a id /b", 1, "neither a destination"],
  ["NUL in a line", "/a /b\0", 1, "NUL"],
  ["lone CR inside a line", "/a\r/b 301", 1, "CR"],
  ["line too long", `/a /${"b".repeat(MAX_RULE_LINE)}`, 1, "longer than"],
];

describe("parseRedirectsFile: good files", () => {
  for (const [what, text, expected] of GOOD) {
    test(what, () => {
      const got = parseRedirectsFile(text, "_redirects").map(summary);
      expect(got.length).toBe(expected.length);
      for (let i = 0; i < expected.length; i++) expect(got[i]).toMatchObject(expected[i]!);
    });
  }
});

describe("parseRedirectsFile: bad files name file, line and problem", () => {
  for (const [what, text, line, problem] of BAD) {
    test(what, () => {
      let error: unknown;
      try {
        parseRedirectsFile(text, "public/_redirects");
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(RuleFileError);
      const e = error as RuleFileError;
      expect(e.file).toBe("public/_redirects");
      expect(e.line).toBe(line);
      expect(e.problem).toContain(problem);
      expect(e.message).toStartWith(`public/_redirects:${line}: `);
    });
  }
});

describe("parseRedirectsFile: caps", () => {
  test(`${MAX_REDIRECT_RULES} rules are fine, one more is an error on its line`, () => {
    const lines = Array.from({ length: MAX_REDIRECT_RULES }, (_, i) => `/a${i} /b`);
    expect(parseRedirectsFile(lines.join("\n"), "_redirects").length).toBe(MAX_REDIRECT_RULES);
    lines.push("# a comment does not count", "/last /b");
    expect(() => parseRedirectsFile(lines.join("\n"), "_redirects")).toThrow(`_redirects:${MAX_REDIRECT_RULES + 2}: more than`);
  });

  test("a line of exactly the cap is read", () => {
    const line = `/a /${"b".repeat(MAX_RULE_LINE - 4)}`;
    expect(line.length).toBe(MAX_RULE_LINE);
    expect(parseRedirectsFile(line, "_redirects").length).toBe(1);
  });

  test("a file over the size cap is refused whole (line 0)", () => {
    const text = "#".repeat(MAX_RULE_FILE_BYTES + 1);
    expect(() => parseRedirectsFile(text, "_redirects")).toThrow("_redirects: is larger than");
  });
});
