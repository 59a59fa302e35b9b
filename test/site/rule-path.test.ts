// canonicalPath, canonicalRequestPath and encodeValue are pure: one row per input.
import { describe, expect, test } from "bun:test";
import { canonicalPath, canonicalRequestPath, encodeValue, IN_QUERY, IN_SEGMENT, IN_SPLAT, type ValueContext } from "../../src/site/rule-path.ts";

/** [input, canonical form]. */
const CANONICAL: [string, string][] = [
  ["/plain/path-1.html", "/plain/path-1.html"],
  ["/%7Euser/%61", "/~user/a"],
  ["/caf%c3%a9", "/café"],
  ["/café", "/café"],
  ["/a%2fb%2F", "/a%2Fb%2F"],
  ["/a%25b", "/a%25b"],
  ["/100%", "/100%25"],
  ["/%zz", "/%25zz"],
  ["/%4", "/%254"],
  ["/a%20b", "/a%20b"],
  ["/a b", "/a%20b"],
  ["/%3F%23", "/%3F%23"],
  ["/%0d%0a", "/%0D%0A"],
  ["/%FF", "/%FF"],
  ["/%C3", "/%C3"],
  ["/%C3%28", "/%C3("],
  ["/%E2%82%AC", "/€"],
  ["/%F0%9F%98%80", "/😀"],
  ["/%ED%A0%80", "/%ED%A0%80"], // a UTF-8-encoded surrogate is not UTF-8
  ["/%C0%AF", "/%C0%AF"], // overlong '/'
  ["/\\", "/%5C"],
  ["/\"<>", "/%22%3C%3E"],
  ["/!$&'()*+,;=:@", "/!$&'()*+,;=:@"],
];

/** [canonical value, context, encoded]. */
const ENCODED: [string, ValueContext, string][] = [
  ["plain", IN_SEGMENT, "plain"],
  ["a/b", IN_SEGMENT, "a%2Fb"],
  ["a/b", IN_SPLAT, "a/b"],
  ["café", IN_SPLAT, "caf%C3%A9"],
  ["😀", IN_SEGMENT, "%F0%9F%98%80"],
  ["a%2Fb", IN_SEGMENT, "a%2Fb"],
  ["a&b=c+d", IN_SEGMENT, "a&b=c+d"],
  ["a&b=c+d", IN_QUERY, "a%26b%3Dc%2Bd"],
  ["a\r\nb", IN_SPLAT, "a%0D%0Ab"],
  ["a b", IN_SEGMENT, "a%20b"],
  ["100%", IN_SEGMENT, "100%25"],
  ["\uD800x", IN_SEGMENT, "%EF%BF%BDx"], // a lone surrogate does not swallow the next character
];

/** [request path, what rules match]: the path the static files serve for it. */
const REQUEST: [string, string][] = [
  ["/secure/a.html", "/secure/a.html"],
  ["//secure/a.html", "/secure/a.html"],
  ["/./secure/a.html", "/secure/a.html"],
  ["/x/../secure/a.html", "/secure/a.html"],
  ["/x/%2e%2e/secure/a.html", "/secure/a.html"],
  ["/x/%2E/secure//a.html", "/x/secure/a.html"],
  ["/../a", "/a"],
  ["/a/..", "/"],
  ["/dir/.", "/dir/"],
  ["/dir//", "/dir/"],
  ["/", "/"],
  ["/a.b/..c", "/a.b/..c"], // not dot segments
];

describe("canonicalRequestPath", () => {
  for (const [input, want] of REQUEST) test(JSON.stringify(input), () => expect(canonicalRequestPath(input)).toBe(want));
});

describe("canonicalPath", () => {
  for (const [input, want] of CANONICAL) test(JSON.stringify(input), () => expect(canonicalPath(input)).toBe(want));
  test("is idempotent", () => {
    for (const [input] of CANONICAL) expect(canonicalPath(canonicalPath(input))).toBe(canonicalPath(input));
  });
});

describe("encodeValue", () => {
  for (const [input, context, want] of ENCODED) {
    test(`${JSON.stringify(input)} in context ${context}`, () => expect(encodeValue(input, context)).toBe(want));
  }
});
