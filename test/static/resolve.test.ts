// resolveRequestPath turns a still-encoded request path into safe segments, or refuses it.
import { describe, expect, test } from "bun:test";
import { isHiddenSegments, RESOLVE_ERROR, resolveRequestPath } from "../../src/static/resolve.ts";

const BAD = RESOLVE_ERROR.BAD;
const UP = RESOLVE_ERROR.TRAVERSAL;
/** The expected outcome: segments and whether a trailing slash was seen, or an error code. */
type Expected = { segments: string[]; trailingSlash: boolean } | number;
const ok = (segments: string[], trailingSlash = false): Expected => ({ segments, trailingSlash });

const CASES: [string, string, Expected][] = [
  // plain paths
  ["root", "/", ok([], true)],
  ["a file", "/a.txt", ok(["a.txt"])],
  ["nested", "/a/b/c.txt", ok(["a", "b", "c.txt"])],
  ["trailing slash", "/a/b/", ok(["a", "b"], true)],
  ["// collapses", "//a///b", ok(["a", "b"])],
  ["// collapses, trailing kept", "/a//b//", ok(["a", "b"], true)],
  ["only slashes", "///", ok([], true)],
  ["a dot segment is dropped", "/a/./b", ok(["a", "b"])],
  ["trailing /. means a directory", "/a/b/.", ok(["a", "b"], true)],
  ["three dots is a name", "/...", ok(["..."])],
  ["dots inside a name", "/a..b/..c", ok(["a..b", "..c"])],
  // '..' inside the root is resolved, above the root is refused
  ["/a/../b", "/a/../b", ok(["b"])],
  ["/a/b/../../c", "/a/b/../../c", ok(["c"])],
  ["trailing /.. means a directory", "/a/b/..", ok(["a"], true)],
  ["/a/.. is the root", "/a/..", ok([], true)],
  ["/..", "/..", UP],
  ["/../", "/../", UP],
  ["/../etc/passwd", "/../etc/passwd", UP],
  ["/a/../../b", "/a/../../b", UP],
  ["/./../a", "/./../a", UP],
  ["//../a", "//../a", UP],
  // encoded dots are decoded once, then treated like the real thing
  ["%2e%2e", "/%2e%2e/etc/passwd", UP],
  ["%2E%2E upper case", "/%2E%2E/etc", UP],
  ["mixed .%2e", "/.%2e/etc", UP],
  ["mixed %2e.", "/%2e./etc", UP],
  ["%2e%2e inside the root", "/a/%2e%2e/b", ok(["b"])],
  ["%2e alone", "/%2e/a", ok(["a"])],
  ["%2e%2e%2e is a name", "/%2e%2e%2e", ok(["..."])],
  ["double-encoded dots stay literal", "/%252e%252e/x", ok(["%2e%2e", "x"])],
  // an encoded '/' or '\' never becomes a separator
  ["%2E%2E%2f", "/%2E%2E%2f", BAD],
  ["%2e%2e%2fetc", "/%2e%2e%2fetc%2fpasswd", BAD],
  ["..%2f", "/..%2f..%2fetc", BAD],
  ["a%2f..%2f..%2fetc", "/a%2f..%2f..%2fetc", BAD],
  ["%2f inside a segment", "/a%2fb", BAD],
  ["%2F inside a segment", "/a%2Fb", BAD],
  ["%5c", "/a%5cb", BAD],
  ["%5C..%5C", "/%5C..%5Cetc", BAD],
  ["raw backslash", "/a\\b", BAD],
  ["raw backslash traversal", "/..\\..\\etc\\passwd", BAD],
  // control bytes
  ["%00", "/%00", BAD],
  ["%00 before an extension", "/a.txt%00.html", BAD],
  ["%01", "/a%01", BAD],
  ["%09 tab", "/a%09b", BAD],
  ["%0a newline", "/a%0ab", BAD],
  ["%0d%0a CRLF", "/a%0d%0aSet-Cookie:x", BAD],
  ["%1f", "/%1f", BAD],
  ["%7f DEL", "/%7f", BAD],
  ["raw control byte", "/a\u0001b", BAD],
  // invalid or overlong UTF-8
  ["overlong '.' (%c0%ae%c0%ae)", "/%c0%ae%c0%ae/etc", BAD],
  ["overlong '.' (%e0%80%ae)", "/%e0%80%ae%e0%80%ae/etc", BAD],
  ["overlong '/' (%c0%af)", "/..%c0%af..%c0%afetc", BAD],
  ["overlong NUL (%c0%80)", "/a%c0%80", BAD],
  ["lone continuation byte", "/%80", BAD],
  ["%ff", "/%ff", BAD],
  ["truncated sequence", "/%c3", BAD],
  ["UTF-16 surrogate", "/%ed%a0%80", BAD],
  ["above U+10FFFF", "/%f4%90%80%80", BAD],
  // invalid escapes
  ["%zz", "/%zz", BAD],
  ["lone %", "/%", BAD],
  ["% then one digit", "/%4", BAD],
  ["% at the end of a name", "/a%", BAD],
  ["%% followed by digits", "/%%32%65", BAD],
  ["%u escape", "/%u002e", BAD],
  // valid encodings
  ["é as %C3%A9", "/%C3%A9.txt", ok(["é.txt"])],
  ["é as %c3%a9", "/%c3%a9.txt", ok(["é.txt"])],
  ["€", "/%E2%82%AC", ok(["€"])],
  ["4-byte UTF-8", "/%F0%9F%98%80", ok(["😀"])],
  ["space", "/with%20space.txt", ok(["with space.txt"])],
  ["encoded letters", "/%61%62c", ok(["abc"])],
  ["& < > encoded", "/a%26b%3Cc%3E.html", ok(["a&b<c>.html"])],
  ["+ stays +", "/a+b", ok(["a+b"])],
  ["encoded %", "/100%25", ok(["100%"])],
  // not a path
  ["empty", "", BAD],
  ["no leading slash", "a/b", BAD],
  ["asterisk-form", "*", BAD],
];

describe("resolveRequestPath", () => {
  test.each(CASES)("%s: %p", (_what, path, expected) => {
    expect(resolveRequestPath(path)).toEqual(expected);
  });

  test("errors are distinct codes", () => {
    expect(BAD).not.toBe(UP);
    expect(typeof BAD).toBe("number");
  });
});

/** [segments, hidden?]. */
const HIDDEN_CASES: [string[], boolean][] = [
  [[], false],
  [["a"], false],
  [["a.b"], false],
  [["a", "b.txt"], false],
  [[".env"], true],
  [["."], true],
  [["..."], true],
  [[".git", "config"], true],
  [["a", ".git", "config"], true],
  [["a", "b", ".htpasswd"], true],
  [[".well-known"], false],
  [[".well-known", "security.txt"], false],
  [[".well-known", "acme-challenge", "tok"], false],
  [[".well-known", ".secret"], true],
  [["a", ".well-known", "security.txt"], true],
  [[".Well-Known", "security.txt"], true],
  [[".well-known2"], true],
];

describe("isHiddenSegments", () => {
  test.each(HIDDEN_CASES)("%p → %p", (segments, hidden) => {
    expect(isHiddenSegments(segments)).toBe(hidden);
  });
});
