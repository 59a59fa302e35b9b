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
];
const PATHS = [
  "/", "/a", "/a/", "/a/b", "/a/b/c", "/x.html", "/a/x.html", "/.env", "/a/.env", "/.git/x.html", "/app.js",
  "/app.css", "/b/c", "/file1.txt", "/filex.txt", "/zed", "/img.jpg", "/p/q/img.png", "/xy.txt", "/ab", "/axxb",
  "/1.txt", "/4.txt", "/b.txt", "/aab.js", "/.js", "/a.js", "/docs/readme.md", "/a/.b", "/.a", "/a/c", "/a/d",
  "/]x", "/[a-", "/*", "/a/x/b", "/a/x/y/b", "/q/a/r", "/{}", "/x{y}", "/A",
  "/x/y", "/q/x/r/y", "/x/y/z", "/a/b/c/d", "/a/q/b/r/c", "/a/b/c", "/b/", "/a.js/x", "/.a/x", "/q/.a/r", "/x/.h/y",
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
  test.each([["/a/**/b"], ["/**/x/**/x/**/z"], ["/a/**/**/**/b"], ["/**/*.html"]])("%s", (pattern) => {
    const g = compileGlob(pattern);
    const path = `/a${"/x".repeat(4000)}/c`;
    const start = performance.now();
    expect(g(path)).toBe(minimatch(path, pattern));
    // A backtracking RegExp of two `**` takes seconds here; generous bound for a loaded machine.
    expect(performance.now() - start).toBeLessThan(250);
  });
});

describe("globs we refuse", () => {
  test.each([["/!(a).js"], ["/{1..100000}"]])("%s is a GlobError", (pattern) => {
    expect(() => compileGlob(pattern)).toThrow(GlobError);
  });
});

test("brace expansion keeps order, and nests", () => {
  expect(expandBraces("/{a,b{1,2}}.x")).toEqual(["/a.x", "/b1.x", "/b2.x"]);
  expect(expandBraces("/{01..03}")).toEqual(["/01", "/02", "/03"]);
});
