// Our glob matcher against minimatch 3.1.5 itself (serve-handler's, installed with it): every
// pattern of the table against every path, the answers compared; and the patterns we refuse.
import { describe, expect, test } from "bun:test";
import { compileGlob, expandBraces, GlobError } from "../../src/site/glob.ts";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const minimatch = require("minimatch") as (path: string, pattern: string) => boolean;

const PATTERNS = [
  "/**", "/a/**", "/**/*.html", "/*.html", "/a/*", "/a/**/b", "/*", "/.*", "/**/.env", "/*.{js,css}",
  "/{a,b}/**", "/file[0-9].txt", "/[!a]*", "/[^a]*", "/**/*.@(jpg|png)", "/x?.txt", "/a*b", "!/a/**", "/a/**/",
  "/{1..3}.txt", "/{a..c}.txt", "/+(a|b).js", "/*(a|b).js", "/?(a).js", "/docs/*.md", "/a/b", "/A", "/a/{b,{c,d}}",
  "/[]]x", "/[a-", "/\\*", "/a/**/**/b", "/**/a/**", "/{}", "/x{y}",
  "/**/x/**/y", "/**/b/**", "/a/**/b/**/c", "/**/*.js/**", "/**/.a/**", "/a/**/c/**",
  // Segments matched by the automaton (two unbounded quantifiers, or a repeated extglob):
  "/*-*-*.js", "/a*a*b", "/*(a)*(a)b", "/+(a|aa)+(b)", "/@(a*)*b", "/**/*-*.js", "/*.+(js|css)", "/?(x)*.txt",
  "/*[0-9]*", "/.*-*", "/**/x/*a*b", "/@(a|*(b))c", "/a\\*b*",
];
const PATHS = [
  "/", "/a", "/a/", "/a/b", "/a/b/c", "/x.html", "/a/x.html", "/.env", "/a/.env", "/.git/x.html", "/app.js",
  "/app.css", "/b/c", "/file1.txt", "/filex.txt", "/zed", "/img.jpg", "/p/q/img.png", "/xy.txt", "/ab", "/axxb",
  "/1.txt", "/4.txt", "/b.txt", "/aab.js", "/.js", "/a.js", "/docs/readme.md", "/a/.b", "/.a", "/a/c", "/a/d",
  "/]x", "/[a-", "/*", "/a/x/b", "/a/x/y/b", "/q/a/r", "/{}", "/x{y}", "/A",
  "/x/y", "/q/x/r/y", "/x/y/z", "/a/b/c/d", "/a/q/b/r/c", "/a/b/c", "/b/", "/a.js/x", "/.a/x", "/q/.a/r", "/x/.h/y",
  "/a-b-c.js", "/--.js", "/a-b.js", "/q/a-b.js", "/aaab", "/b", "/aab/", "/x.txt", "/xx.txt", "/a.css", "/a.jsjs",
  "/a1b", "/.a-b", "/x/ab", "/x/xab", "/c", "/bbc", "/abc", "/a*b", "/a*bxb", "/axb",
];

describe("globs match as minimatch 3.1.5 does", () => {
  for (const pattern of PATTERNS) {
    test(pattern, () => {
      const ours = compileGlob(pattern);
      const disagree = PATHS.filter((p) => ours(p) !== minimatch(p, pattern)).map((p) => `${p}: minimatch ${minimatch(p, pattern)}`);
      expect(disagree).toEqual([]);
    });
  }
});

describe("globs stay fast on paths made to make them backtrack", () => {
  test.each([["/a/**/b"], ["/**/x/**/x/**/z"], ["/**/x/**/x/**/x/**/x/**/z"], ["/a/**/**/**/b"], ["/**/*.html"], ["/**/x/*x*x*z"]])("%s", (pattern) => {
    const g = compileGlob(pattern);
    const path = `/a${"/x".repeat(4000)}/c`;
    const theirs = minimatch(path, pattern); // (before the clock starts: minimatch's own time is not ours)
    const start = performance.now();
    expect(g(path)).toBe(theirs);
    // A backtracking RegExp of two `**` takes seconds here; generous bound for a loaded machine.
    expect(performance.now() - start).toBeLessThan(250);
  });
});

describe("a segment of several wildcards stays fast on a long name made to make it backtrack", () => {
  // As RegExps these took seconds (a*a*a*b: 12 s on 4,000 characters); each is an automaton now.
  const long = (c: string) => `/${c.repeat(8000)}`;
  // (minimatch itself is not asked here: its RegExp takes minutes on these.)
  test.each([
    ["/*-*-*.js", long("-"), false],
    ["/*-*-*.js", `${long("-")}.js`, true],
    ["/a*a*a*b", `${long("a")}c`, false],
    ["/a*a*a*b", `${long("a")}b`, true],
    ["/*(a)*(a)*(a)b", `${long("a")}c`, false],
    ["/+(a|aa)+(b)", `${long("a")}c`, false],
    ["/@(a*)*b", `${long("a")}c`, false],
    ["/**/*.*.*.html", `/x${long("a.")}htmlx`, false],
  ] as const)("%s", (pattern, path, matches) => {
    const g = compileGlob(pattern);
    const start = performance.now();
    expect(g(path)).toBe(matches);
    expect(performance.now() - start).toBeLessThan(250);
  });
});

describe("globs we refuse", () => {
  test.each([["/!(a).js"], ["/{1..100000}"], ["{a,".repeat(50000) + "}".repeat(50000)], ["{a,b}".repeat(50000)], ["@(".repeat(50000) + ")".repeat(50000)]])(
    "%s is a GlobError",
    (pattern) => {
      expect(() => compileGlob(pattern)).toThrow(GlobError);
    },
  );
});

test("brace expansion keeps order, and nests", () => {
  expect(expandBraces("/{a,b{1,2}}.x")).toEqual(["/a.x", "/b1.x", "/b2.x"]);
  expect(expandBraces("/{01..03}")).toEqual(["/01", "/02", "/03"]);
});
