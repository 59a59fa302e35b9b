// Router conformance: one table of (routes, request path) → matched pattern and params. How the
// router treats methods, values and bad patterns is measured against Bun.serve in test/compat/routes.test.ts.
import { describe, expect, test } from "bun:test";
import { decodeParam, Router } from "../../src/app/router.ts";
import { METHOD } from "../../src/http/parser.ts";

const h = () => "x";
const routes = {
  "/": h,
  "/users": h,
  "/users/new": h,
  "/users/:id": h,
  "/users/:id/posts/:post": h,
  "/users/:id/settings": h,
  "/files/*": h,
  "/files/special": h,
  "/a/:x/c": h,
  "/a/:x/c/d": h,
  "/a/b/:y": h,
  "/caf%C3%A9": h,
  "/v1/*": h,
};

const cases: [path: string, pattern: string | null, params?: Record<string, string>][] = [
  ["/", "/"],
  ["/users", "/users"],
  ["/users/", null],
  ["/users/new", "/users/new"], // static beats :id
  ["/users/42", "/users/:id", { id: "42" }],
  ["/users/a%20b", "/users/:id", { id: "a b" }],
  ["/users/%zz", "/users/:id", { id: "\uFFFD" }], // a bad escape is not an error, as in Bun
  ["/users/42/settings", "/users/:id/settings", { id: "42" }],
  ["/users/42/posts/7", "/users/:id/posts/:post", { id: "42", post: "7" }],
  ["/users/42/posts", null],
  ["/users//posts/7", null], // an empty segment is not a parameter
  ["/files/a/b/c.txt", "/files/*"], // Bun gives a wildcard no parameter
  ["/files/", "/files/*"],
  ["/files", null],
  ["/files/special", "/files/special"],
  ["/a/b/c", "/a/b/:y", { y: "c" }], // the static segment is tried first
  ["/a/z/c", "/a/:x/c", { x: "z" }],
  ["/a/b/c/d", "/a/:x/c/d", { x: "b" }], // backtracks out of the static "b" branch
  ["/a/b/d", "/a/b/:y", { y: "d" }],
  ["/caf%C3%A9", "/caf%C3%A9"], // Bun refuses "/café": patterns are written encoded
  ["/v1/anything/at/all", "/v1/*"],
  ["/nope", null],
  ["/USERS", null], // paths are case-sensitive
];

describe("router", () => {
  const router = new Router(routes);
  for (const [path, pattern, params] of cases) {
    test(`${path} → ${pattern ?? "no match"}`, () => {
      const route = router.match(path, METHOD.GET);
      if (pattern === null) {
        expect(route).toBeNull();
        return;
      }
      expect(route?.pattern).toBe(pattern);
      expect({ ...router.params(route!) }).toEqual(params ?? {});
    });
  }

  test("only routes that answer the method are candidates; HEAD takes GET", () => {
    const r = new Router({ "/x": { GET: h, POST: h }, "/:p": { PUT: h }, "/*": h });
    expect(r.match("/x", METHOD.POST)!.pattern).toBe("/x");
    expect(r.match("/x", METHOD.HEAD)!.pattern).toBe("/x");
    expect(r.match("/x", METHOD.PUT)!.pattern).toBe("/:p");
    expect(r.match("/x", METHOD.DELETE)!.pattern).toBe("/*");
    expect(r.match("/x", METHOD.OTHER)!.pattern).toBe("/*");
  });

  test("bad definitions are refused at start-up", () => {
    expect(() => new Router({ nope: h })).toThrow("must start with '/'");
    expect(() => new Router({ "/a/:x/:x": h })).toThrow("duplicate route parameter names");
    expect(() => new Router({ "/a": { get: h } })).toThrow("'routes' expects");
  });

  test("decodeParam: UTF-8 escapes, raw Latin-1 bytes as UTF-8, U+FFFD for what is not", () => {
    expect(decodeParam("plain")).toBe("plain");
    expect(decodeParam("%F0%9F%A6%8A")).toBe("🦊");
    expect(decodeParam("\xc3\xa9")).toBe("é"); // raw bytes, as the parser gives them
    expect(decodeParam("\xe9")).toBe("\uFFFD");
    expect(decodeParam("%zz%41")).toBe("\uFFFDA");
  });
});
