// Router conformance: one table of (routes, request path) → matched pattern and params.
import { describe, expect, test } from "bun:test";
import { decodeParams, Router } from "../../src/app/router.ts";

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
  "/café": h,
  "/v1/*": h,
};

const cases: [path: string, pattern: string | null, params?: Record<string, string>][] = [
  ["/", "/"],
  ["/users", "/users"],
  ["/users/", null],
  ["/users/new", "/users/new"], // static beats :id
  ["/users/42", "/users/:id", { id: "42" }],
  ["/users/a%20b", "/users/:id", { id: "a b" }],
  ["/users/42/settings", "/users/:id/settings", { id: "42" }],
  ["/users/42/posts/7", "/users/:id/posts/:post", { id: "42", post: "7" }],
  ["/users/42/posts", null],
  ["/users//posts/7", null], // an empty segment is not a parameter
  ["/files/a/b/c.txt", "/files/*", { "*": "a/b/c.txt" }],
  ["/files/", "/files/*", { "*": "" }],
  ["/files/special", "/files/special"],
  ["/a/b/c", "/a/b/:y", { y: "c" }], // the static segment is tried first
  ["/a/z/c", "/a/:x/c", { x: "z" }],
  ["/a/b/c/d", "/a/:x/c/d", { x: "b" }], // backtracks out of the static "b" branch
  ["/a/b/d", "/a/b/:y", { y: "d" }],
  ["/caf%C3%A9", "/café"],
  ["/v1/anything/at/all", "/v1/*", { "*": "anything/at/all" }],
  ["/nope", null],
  ["/USERS", null], // paths are case-sensitive
];

describe("router", () => {
  const router = new Router(routes);
  for (const [path, pattern, params] of cases) {
    test(`${path} → ${pattern ?? "no match"}`, () => {
      const m = router.match(path);
      if (pattern === null) {
        expect(m).toBeNull();
        return;
      }
      expect(m?.route.pattern).toBe(pattern);
      expect(decodeParams(m!.route, m!.values)).toEqual(params ?? {});
    });
  }

  test("Allow lists the methods, HEAD with GET, and OPTIONS", () => {
    const r = new Router({ "/x": { GET: h, POST: h } });
    expect(r.match("/x")!.route.allow).toBe("GET, POST, HEAD, OPTIONS");
  });

  test("bad definitions are refused at start-up", () => {
    expect(() => new Router({ "nope": h })).toThrow();
    expect(() => new Router({ "/a/:x/:x": h })).toThrow();
    expect(() => new Router({ "/a": { "GE T": h } })).toThrow();
  });

  test("an invalid escape in a parameter is a 400", () => {
    const r = new Router({ "/u/:id": h });
    const m = r.match("/u/%zz")!;
    expect(() => decodeParams(m.route, m.values)).toThrow(expect.objectContaining({ status: 400 }));
  });
});
