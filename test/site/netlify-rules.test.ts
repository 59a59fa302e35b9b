// netlifyRules is pure: a _redirects and a _headers text in, a RuleSet out; one row per request
// (path as sent, query, which files exist) and what the RuleSet says of it.
import { describe, expect, test } from "bun:test";
import { netlifyRules } from "../../src/site/netlify-rules.ts";
import { RuleFileError } from "../../src/site/rule-file-error.ts";
import { NO_HEADERS, type SiteRoute } from "../../src/site/rule-set.ts";

const FILES = { redirects: "public/_redirects", headers: "public/_headers" };

const REDIRECTS = `
# plain
/home              /                  301
/old-path          /new-path          302
/temp              /elsewhere         307
/perm              /elsewhere         308
/other             /elsewhere         303
# splats and placeholders
/news/*            /blog/:splat       301
/news-*            /blog/:splat       302
/n/:year/:month    /b/:year-:month.html 200
/u/:id/*           /users/:splat/:id  302
# query parameters
/store id=:id      /blog/:id          301
/search q=lit      /found             302
/search q=:q       /s?term=:q         302
# rewrites, a custom 404, shadowing and force
/app/*             /app/index.html    200
/gone              /sorry.html        404
/kept              /replacement       301
/forced            /replacement       301!
# absolute destination
/ext/*             https://example.com/x/:splat 302
# everything else under /r: the leading-slash guard
/r/*               /:splat            302
`;

const route = netlifyRules(REDIRECTS, null, FILES);

/** [what, path, search, existing files, expected]. */
const ROUTES: [string, string, string, string[], SiteRoute | null][] = [
  ["literal 301", "/home", "", [], { kind: "redirect", status: 301, location: "/" }],
  ["trailing slash of the request is not significant", "/home/", "", [], { kind: "redirect", status: 301, location: "/" }],
  ["302", "/old-path", "", [], { kind: "redirect", status: 302, location: "/new-path" }],
  ["303", "/other", "", [], { kind: "redirect", status: 303, location: "/elsewhere" }],
  ["307", "/temp", "", [], { kind: "redirect", status: 307, location: "/elsewhere" }],
  ["308", "/perm", "", [], { kind: "redirect", status: 308, location: "/elsewhere" }],
  ["the query is passed on", "/old-path", "?utm=x&y=1", [], { kind: "redirect", status: 302, location: "/new-path?utm=x&y=1" }],
  ["a bare ? is not passed on", "/old-path", "?", [], { kind: "redirect", status: 302, location: "/new-path" }],
  ["no rule", "/nothing/here", "", [], null],
  ["case-sensitive (Netlify's docs)", "/HOME", "", [], null],
  ["splat", "/news/2024/01/story", "", [], { kind: "redirect", status: 301, location: "/blog/2024/01/story" }],
  ["splat takes the parent itself", "/news", "", [], { kind: "redirect", status: 301, location: "/blog/" }],
  ["splat keeps a trailing slash", "/news/a/", "", [], { kind: "redirect", status: 301, location: "/blog/a/" }],
  ["splat after a prefix", "/news-letters/1", "", [], { kind: "redirect", status: 302, location: "/blog/letters/1" }],
  ["placeholders", "/n/2004/02", "", [], { kind: "rewrite", path: "/b/2004-02.html", status: 200 }],
  ["placeholders need every segment", "/n/2004", "", [], null],
  ["placeholders take no more segments", "/n/2004/02/12", "", [], null],
  ["placeholder and splat", "/u/42/a/b", "", [], { kind: "redirect", status: 302, location: "/users/a/b/42" }],
  ["query placeholder", "/store", "?id=my-post", [], { kind: "redirect", status: 301, location: "/blog/my-post?id=my-post" }],
  ["query parameter missing: the rule does not apply", "/store", "?other=1", [], null],
  ["query literal matches", "/search", "?q=lit", [], { kind: "redirect", status: 302, location: "/found?q=lit" }],
  ["query literal differs: the next rule", "/search", "?q=cats", [], { kind: "redirect", status: 302, location: "/s?term=cats" }],
  ["a destination with its own query drops the request's", "/search", "?x=1&q=a%20b", [], { kind: "redirect", status: 302, location: "/s?term=a%20b" }],
  ["a query value's & and = are re-encoded", "/search", "?q=a%26b%3Dc", [], { kind: "redirect", status: 302, location: "/s?term=a%26b%3Dc" }],
  ["rewrite", "/app/dashboard", "", [], { kind: "rewrite", path: "/app/index.html", status: 200 }],
  ["rewrite keeps the query", "/app/x", "?tab=2", [], { kind: "rewrite", path: "/app/index.html?tab=2", status: 200 }],
  ["custom 404", "/gone", "", [], { kind: "rewrite", path: "/sorry.html", status: 404 }],
  ["shadowing: a file at the path wins over a rule", "/kept", "", ["/kept"], null],
  ["shadowing: no file, the rule applies", "/kept", "", ["/other"], { kind: "redirect", status: 301, location: "/replacement" }],
  ["shadowing: asked of the path as sent", "/app/main.js", "", ["/app/main.js"], null],
  ["force: the rule wins over a file", "/forced", "", ["/forced"], { kind: "redirect", status: 301, location: "/replacement" }],
  ["absolute destination", "/ext/a/b", "?k=v", [], { kind: "redirect", status: 302, location: "https://example.com/x/a/b?k=v" }],
  // encoding: what a captured value can and cannot put into a Location
  ["escapes are compared canonically", "/news/caf%c3%a9", "", [], { kind: "redirect", status: 301, location: "/blog/caf%C3%A9" }],
  ["unreserved escapes are decoded", "/%6Eews/%7Euser", "", [], { kind: "redirect", status: 301, location: "/blog/~user" }],
  ["CR LF in a capture stays encoded", "/news/a%0D%0ASet-Cookie:x", "", [], { kind: "redirect", status: 301, location: "/blog/a%0D%0ASet-Cookie:x" }],
  ["an encoded slash stays one", "/news/a%2fb", "", [], { kind: "redirect", status: 301, location: "/blog/a%2Fb" }],
  ["a space stays encoded", "/news/a%20b", "", [], { kind: "redirect", status: 301, location: "/blog/a%20b" }],
  ["a stray % is escaped", "/news/100%", "", [], { kind: "redirect", status: 301, location: "/blog/100%25" }],
  ["invalid UTF-8 stays escaped", "/news/%FF%C3", "", [], { kind: "redirect", status: 301, location: "/blog/%FF%C3" }],
  ["no scheme-relative //host from an empty segment", "/r//evil.example/x", "", [], { kind: "redirect", status: 302, location: "/evil.example/x" }],
  ["no scheme-relative //host from several", "/r////evil.example", "", [], { kind: "redirect", status: 302, location: "/evil.example" }],
  ["an encoded // is no host", "/r/%2F%2Fevil.example", "", [], { kind: "redirect", status: 302, location: "/%2F%2Fevil.example" }],
  ["a backslash is encoded", "/r/\\evil.example", "", [], { kind: "redirect", status: 302, location: "/%5Cevil.example" }],
];

describe("netlifyRules: route", () => {
  for (const [what, path, search, files, expected] of ROUTES) {
    test(what, () => {
      const asked: string[] = [];
      const exists = (p: string) => {
        asked.push(p);
        return files.includes(p);
      };
      expect(route.route(path, search, exists)).toEqual(expected);
      for (const p of asked) expect(p).toBe(path); // shadowing looks at the path as sent, once
      expect(asked.length).toBeLessThanOrEqual(1);
    });
  }

  test("a forced rule is not asked about files", () => {
    let asked = 0;
    netlifyRules("/a /b 302!", null, FILES).route("/a", "", () => (asked++, true));
    expect(asked).toBe(0);
  });

  test("a shadowed rule lets a later forced rule apply", () => {
    const rs = netlifyRules("/a /b 302\n/a /c 301!", null, FILES);
    expect(rs.route("/a", "", () => true)).toEqual({ kind: "redirect", status: 301, location: "/c" });
  });

  test("rules apply in file order across literal and placeholder rules", () => {
    const rs = netlifyRules("/:any /first 302\n/a /second 302\n/* /third 302", null, FILES);
    expect(rs.route("/a", "", () => false)).toMatchObject({ location: "/first" });
    const rs2 = netlifyRules("/a /first 302\n/:any /second 302", null, FILES);
    expect(rs2.route("/a", "", () => false)).toMatchObject({ location: "/first" });
    expect(rs2.route("/b", "", () => false)).toMatchObject({ location: "/second" });
  });

  test("the root rule takes / only", () => {
    const rs = netlifyRules("/ /home 302", null, FILES);
    expect(rs.route("/", "", () => false)).toMatchObject({ location: "/home" });
    expect(rs.route("/x", "", () => false)).toBeNull();
  });

  test("no _redirects: no route, no file asked about", () => {
    const rs = netlifyRules(null, null, FILES);
    expect(rs.route("/a", "", () => {
      throw new Error("asked");
    })).toBeNull();
  });

  test("10,000 literal rules: the last one is found quickly", () => {
    const text = Array.from({ length: 10_000 }, (_, i) => `/page-${i} /new-${i} 301`).join("\n");
    const rs = netlifyRules(text, null, FILES);
    const t0 = performance.now();
    for (let i = 0; i < 1000; i++) expect(rs.route("/page-9999", "", () => false)).toMatchObject({ location: "/new-9999" });
    expect(performance.now() - t0).toBeLessThan(1000); // bucketed by first segment: not 10M comparisons
  });
});

const HEADERS = `
/*
  X-Frame-Options: DENY
  X-Robots-Tag: noindex
/assets/*
  Cache-Control: public, max-age=31536000, immutable
/assets/*.css
  Content-Type: text/css; charset=utf-8
/Secure/:page
  ! X-Robots-Tag
  X-Frame-Options: SAMEORIGIN
  Set-Cookie: a=1
/secure/login
  Set-Cookie: b=2
`;

const headers = netlifyRules(null, HEADERS, FILES);

/** [what, path, expected pairs]. */
const HEADER_CASES: [string, string, [string, string][]][] = [
  ["the catch-all only", "/index.html", [["X-Frame-Options", "DENY"], ["X-Robots-Tag", "noindex"]]],
  ["two blocks, in file order", "/assets/logo.png", [["X-Frame-Options", "DENY"], ["X-Robots-Tag", "noindex"], ["Cache-Control", "public, max-age=31536000, immutable"]]],
  ["three blocks", "/assets/css/site.css", [["X-Frame-Options", "DENY"], ["X-Robots-Tag", "noindex"], ["Cache-Control", "public, max-age=31536000, immutable"], ["Content-Type", "text/css; charset=utf-8"]]],
  ["a later block replaces a field, detach removes one", "/secure/account", [["X-Frame-Options", "SAMEORIGIN"], ["Set-Cookie", "a=1"]]],
  ["Set-Cookie from two blocks adds up", "/secure/login", [["X-Frame-Options", "SAMEORIGIN"], ["Set-Cookie", "a=1"], ["Set-Cookie", "b=2"]]],
  ["paths are case-insensitive (Netlify's matcher)", "/SECURE/login/", [["X-Frame-Options", "SAMEORIGIN"], ["Set-Cookie", "a=1"], ["Set-Cookie", "b=2"]]],
  ["escapes are compared canonically", "/%61ssets/x", [["X-Frame-Options", "DENY"], ["X-Robots-Tag", "noindex"], ["Cache-Control", "public, max-age=31536000, immutable"]]],
];

describe("netlifyRules: headers", () => {
  for (const [what, path, expected] of HEADER_CASES) {
    test(what, () => {
      expect(headers.headers(path)).toEqual(expected);
    });
  }

  test("no block matches: NO_HEADERS itself", () => {
    const rs = netlifyRules(null, "/only\n  X-A: 1", FILES);
    expect(rs.headers("/other")).toBe(NO_HEADERS);
    expect(netlifyRules(null, null, FILES).headers("/a")).toBe(NO_HEADERS);
  });

  test("one block matches: its own pairs, not a copy", () => {
    const rs = netlifyRules(null, "/only\n  X-A: 1", FILES);
    expect(rs.headers("/only")).toBe(rs.headers("/only/"));
  });

  test("merging does not change what a block gives on its own", () => {
    const rs = netlifyRules(null, "/*\n  X-A: 1\n/b\n  X-A: 2", FILES);
    expect(rs.headers("/b")).toEqual([["X-A", "2"]]);
    expect(rs.headers("/a")).toEqual([["X-A", "1"]]);
  });

  test("a detach-only first block, then others", () => {
    const rs = netlifyRules(null, "/a\n  ! X-A\n/a\n  X-B: 1\n/*\n  X-C: 2", FILES);
    expect(rs.headers("/a")).toEqual([["X-B", "1"], ["X-C", "2"]]);
  });
});

describe("netlifyRules: errors", () => {
  test("a bad _redirects line names _redirects", () => {
    expect(() => netlifyRules("/a /b 999", "/a\n  X-A: 1", FILES)).toThrow(new RuleFileError(FILES.redirects, 1, "status 999 is not supported: use one of 200, 301, 302, 303, 307, 308, 404"));
  });

  test("a bad _headers line names _headers", () => {
    let e: unknown;
    try {
      netlifyRules("/a /b", "X-A: 1", FILES);
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(RuleFileError);
    expect((e as RuleFileError).message).toStartWith("public/_headers:1: ");
  });
});
