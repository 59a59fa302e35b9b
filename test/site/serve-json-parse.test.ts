// Bad serve.json files: each is a RuleFileError naming the file, the line of the bad key or value
// (0 when the whole file is bad) and the problem.
import { describe, expect, test } from "bun:test";
import { RuleFileError } from "../../src/site/rule-file-error.ts";
import { parseServeJson } from "../../src/site/serve-json-parse.ts";

function problem(text: string): RuleFileError {
  try {
    parseServeJson(text, "site/serve.json");
  } catch (err) {
    if (err instanceof RuleFileError) return err;
    throw err;
  }
  throw new Error("no error");
}

const BAD: [string, string, number, string][] = [
  ["not JSON", "{\n  \"cleanUrls\": true,\n  oops\n}", 3, "not valid JSON"],
  ["a trailing comma", '{\n  "cleanUrls": true,\n}', 3, "not valid JSON"],
  ["an unclosed string", '{\n  "a": "b\n}', 2, "not valid JSON"],
  ["not an object", "[1, 2]", 1, "must be a JSON object"],
  ["an unknown key", '{\n  "cleanUrls": true,\n  "cleanUrl": false\n}', 3, 'unknown key "cleanUrl"'],
  ["public", '{ "public": "dist" }', 1, '"public" is not supported'],
  ["a wrong type", '{\n  "trailingSlash": "yes"\n}', 2, '"trailingSlash" must be true or false'],
  ["cleanUrls neither", '{\n  "cleanUrls": 1\n}', 2, '"cleanUrls" must be true, false or an array of globs'],
  ["redirects not an array", '{\n  "redirects": {}\n}', 2, '"redirects" must be an array'],
  ["a redirect without destination", '{\n  "redirects": [\n    { "source": "/a" }\n  ]\n}', 3, "redirects/0.destination must be a non-empty string"],
  ["a bad redirect type", '{\n  "redirects": [\n    {\n      "source": "/a",\n      "destination": "/b",\n      "type": 200\n    }\n  ]\n}', 6, "type must be 301, 302, 303, 307 or 308"],
  ["an unknown rewrite key", '{\n  "rewrites": [\n    { "source": "/a", "destination": "/b",\n      "type": 301 }\n  ]\n}', 4, 'unknown key "type" in rewrites/0'],
  ["a bad pattern", '{\n  "rewrites": [\n    {\n      "source": "/a/:id([)",\n      "destination": "/b"\n    }\n  ]\n}', 4, "bad pattern"],
  ["a refused extglob", '{\n  "headers": [\n    { "source": "/!(a).js", "headers": [] }\n  ]\n}', 3, "bad pattern"],
  ["two repeated parameters", '{\n  "redirects": [\n    { "source": "/:a+/:b+/x", "destination": "/b" }\n  ]\n}', 3, "repeated parameters"],
  ["braces nested 50,000 deep", `{\n  "unlisted": [\n    "${"{a,".repeat(50000)}${"}".repeat(50000)}"\n  ]\n}`, 3, "braces nest deeper than 32"],
  ["extglobs nested 50,000 deep", `{\n  "headers": [\n    { "source": "${"@(".repeat(50000)}${")".repeat(50000)}", "headers": [] }\n  ]\n}`, 3, "extglobs nest deeper than 16"],
  ["a bad header name", '{\n  "headers": [\n    { "source": "**", "headers": [\n      { "key": "X Bad", "value": "1" }\n    ] }\n  ]\n}', 4, "is not a header field name"],
  ["a header value with a newline", '{\n  "headers": [\n    { "source": "**", "headers": [\n      { "key": "X", "value": "a\\nb" }\n    ] }\n  ]\n}', 4, "without control characters"],
  ["unlisted not strings", '{\n  "unlisted": [\n    3\n  ]\n}', 3, "unlisted[0] must be a non-empty string"],
];

describe("a bad serve.json names its line", () => {
  test.each(BAD)("%s", (_name, text, line, contains) => {
    const err = problem(text);
    expect(err.file).toBe("site/serve.json");
    expect(err.line).toBe(line);
    expect(err.problem).toContain(contains);
    expect(err.message).toStartWith(`site/serve.json:${line}: `);
  });
});

test("a good one: every key", () => {
  const c = parseServeJson(
    JSON.stringify({
      cleanUrls: ["/blog/**"],
      trailingSlash: false,
      redirects: [{ source: "/a", destination: "/b", type: 302 }],
      rewrites: [{ source: "/app/**", destination: "/index.html" }],
      headers: [{ source: "**/*.js", headers: [{ key: "Cache-Control", value: "max-age=60" }] }],
      directoryListing: false,
      unlisted: [".DS_Store"],
      renderSingle: true,
      symlinks: true,
      etag: true,
    }),
    "serve.json",
  );
  expect(c.redirects[0]!.status).toBe(302);
  expect([c.trailingSlash, c.directoryListing, c.renderSingle, c.symlinks, c.etag]).toEqual([false, false, true, true, true]);
});
