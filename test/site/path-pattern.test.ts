// Our `:param` patterns against path-to-regexp 3.3.0 itself (serve-handler's, installed with it):
// the same regex for each pattern, the same matches and parameters, and the same destinations.
import { describe, expect, test } from "bun:test";
import { compileDestination, compilePathPattern } from "../../src/site/path-pattern.ts";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const pathToRegexp = require("path-to-regexp") as {
  (path: string, keys: { name: string | number }[]): RegExp;
  compile(path: string): (props: Record<string, unknown>) => string;
};

const PATTERNS = [
  "/old", "/user/:id", "/user/:id/edit", "/files/:name.txt", "/opt/:v?", "/many/:rest*", "/plus/:rest+", "/num/:id(\\d+)",
  "/(.*)", "/docs/:section/(.*)", "/x\\:y", "/:a-:b", "/p/:id.html", "/a.b", "/a+b",
];
const PATHS = ["/b", "/b/", "/b/x", "/b//x/y/", "/c/x", "/c/q/x", "/c/q/r/x", "/c//x", "/a/", "/a//", "/old", "/OLD", "/old/", "/user/42", "/user/42/edit", "/user/a%20b", "/files/guide.txt", "/opt", "/opt/7", "/many", "/many/a/b", "/plus", "/plus/a/b", "/num/12", "/num/x", "/", "/a/x/y", "/docs/api/v1/x", "/x:y", "/one-two", "/p/7.html", "/a.b", "/axb", "/a+b", "/aab"];

/** Repeated ".*" and ".+", which we write as the pattern alone (the same strings, no backtracking blow-up). */
const SIMPLIFIED = new Set(["/a/(.*)*", "/b/(.+)+", "/c/(.*)+/x"]);

describe("patterns compile and match as path-to-regexp 3.3.0", () => {
  for (const pattern of [...PATTERNS, ...SIMPLIFIED]) {
    test(pattern, () => {
      const keys: { name: string | number }[] = [];
      const theirs = pathToRegexp(pattern, keys);
      const ours = compilePathPattern(pattern);
      if (!SIMPLIFIED.has(pattern)) expect(ours.regex.source).toBe(theirs.source);
      expect(ours.keys).toEqual(keys.map((k) => k.name));
      for (const p of PATHS) expect([p, ours.regex.exec(p)?.slice()]).toEqual([p, theirs.exec(p)?.slice()]);
    });
  }
});

test("a repeated (.*) stays fast on a long path that does not match", () => {
  const { regex } = compilePathPattern("/a/(.*)*/b");
  const path = `/a${"/x".repeat(4000)}/c`;
  const start = performance.now();
  expect(regex.exec(path)).toBeNull();
  // path-to-regexp's own regex takes minutes here; generous bound for a loaded machine.
  expect(performance.now() - start).toBeLessThan(250);
});

describe("destinations are written as path-to-regexp's compile()", () => {
  const cases: [string, Record<string, string>][] = [
    ["/profile/:id", { id: "42" }],
    ["/profile/:id", { id: "a b" }],
    ["/profile/:id", { id: "a/b" }],
    ["/o/:v?", {}],
    ["/docs/:name.md", { name: "guide" }],
    ["https://example.com/:id", { id: "7" }],
  ];
  test.each(cases)("%s %o", (dest, props) => {
    expect(compileDestination(dest)(props)).toBe(pathToRegexp.compile(dest)(props));
  });

  test("a missing parameter or one that does not fit is null, where compile() throws", () => {
    expect(() => pathToRegexp.compile("/p/:id")({})).toThrow();
    expect(compileDestination("/p/:id")({})).toBeNull();
    expect(() => pathToRegexp.compile("/n/:id(\\d+)")({ id: "x" })).toThrow();
    expect(compileDestination("/n/:id(\\d+)")({ id: "x" })).toBeNull();
  });
});

describe("more than one repeated parameter is refused", () => {
  // path-to-regexp's regex for these backtracks polynomially: /:a+/:b+/:c+/x took a second on 2,000 characters.
  test.each([["/:a+/:b+/:c+/x"], ["/:a+/:b+"], ["/:a*/x/:b+"], ["/(.*)*/:b*"]])("%s is a SyntaxError", (pattern) => {
    expect(() => compilePathPattern(pattern)).toThrow(SyntaxError);
  });

  test("one repeated parameter with others stays fast on a long path that does not match", () => {
    const { regex } = compilePathPattern("/:a/:b+/:c/x");
    const path = `/${"a/".repeat(4000)}!`;
    const start = performance.now();
    expect(regex.exec(path)).toBeNull();
    expect(performance.now() - start).toBeLessThan(250);
  });
});
