// What a route handler gets, against Bun.serve's BunRequest (test/helpers/compat.ts): a Request with
// an absolute URL, decoded `params`, `cookies` whose changes go out as Set-Cookie, and a clone() that
// keeps both. Each check reports what the handler saw, measured on both servers.
import { describe, expect, test } from "bun:test";
import { sameOnBoth, type Served } from "../helpers/compat.ts";
import { exchange } from "../helpers/raw-client.ts";

type Req = Request & { params: Record<string, string>; cookies: Bun.CookieMap };

/** Serves one route whose handler reports `look(req)` as JSON; returns what it saw for `raw`. */
function seen(pattern: string, look: (req: Req) => unknown, raw: (s: Served) => string) {
  return sameOnBoth(
    () => ({ routes: { [pattern]: async (req: Req) => Response.json(await look(req)) } }),
    async (s) => JSON.parse((await exchange(s.port, raw(s))).text()),
  );
}
const get = (path: string, headers = "") => () => `GET ${path} HTTP/1.1\r\nHost: t\r\n${headers}\r\n`;

describe("the request", () => {
  test("a Request with an absolute URL from Host, its headers and method", async () => {
    const bun = await seen(
      "/u/:id",
      (req) => ({ isRequest: req instanceof Request, name: req.constructor.name, url: req.url, path: new URL(req.url).pathname, q: new URL(req.url).searchParams.get("q"), method: req.method, ua: req.headers.get("user-agent"), own: Object.keys(req) }),
      get("/u/7?q=1", "User-Agent: probe\r\n"),
    );
    expect(bun).toEqual({ isRequest: true, name: "Request", url: "http://t/u/7?q=1", path: "/u/7", q: "1", method: "GET", ua: "probe", own: [] });
  });

  test("the body of a POST", async () => {
    const bun = await sameOnBoth(
      () => ({ routes: { "/echo": { POST: async (req: Req) => new Response(`got ${await req.text()}`) } } }),
      async (s) => (await exchange(s.port, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello")).text(),
    );
    expect(bun).toBe("got hello");
  });

  test("signal is an AbortSignal, not aborted while the handler runs", async () => {
    const bun = await seen("/s", (req) => ({ signal: req.signal instanceof AbortSignal, aborted: req.signal.aborted }), get("/s"));
    expect(bun).toEqual({ signal: true, aborted: false });
  });
});

describe("params", () => {
  test("decoded; invalid escapes and bytes become U+FFFD; %2F and + stay in the segment", async () => {
    const values: string[] = [];
    for (const raw of ["a%20b", "%C3%A9", "%zz", "a%zzb", "%", "%2", "%E9x", "a%2Fb", "a+b", "user@example.com"]) {
      values.push(...(await seen("/p/:v", (req) => [req.params.v], get(`/p/${raw}`))));
    }
    expect(values).toEqual(["a b", "é", "\uFFFD", "a\uFFFDb", "\uFFFD", "\uFFFD2", "\uFFFDx", "a/b", "a+b", "user@example.com"]);
  });

  test("several, and a parameter before a wildcard; the wildcard itself is not a parameter", async () => {
    expect(await seen("/g/:id/*", (req) => req.params, get("/g/1/x/y"))).toEqual({ id: "1" });
    expect(await seen("/p/:a/c/:b", (req) => req.params, get("/p/1/c/2"))).toEqual({ a: "1", b: "2" });
    expect(await seen("/f/*", (req) => req.params, get("/f/x"))).toEqual({});
    expect(await seen("/x/:", (req) => req.params, get("/x/1"))).toEqual({}); // a `:` without a name
    expect(await seen("/a/:x-y", (req) => req.params, get("/a/1"))).toEqual({ "x-y": "1" });
  });

  test("the same object every time, read-only, with a null prototype on a route without", async () => {
    const look = (req: Req) => {
      let assign = "allowed";
      try {
        (req as { params: unknown }).params = {};
      } catch (e) {
        assign = (e as Error).constructor.name;
      }
      return { same: req.params === req.params, assign, plain: Object.getPrototypeOf(req.params) === Object.prototype, keys: Object.keys(req.params) };
    };
    expect(await seen("/u/:id", look, get("/u/1"))).toEqual({ same: true, assign: "TypeError", plain: false, keys: ["id"] });
    const bun = await seen("/plain", (req) => ({ proto: Object.getPrototypeOf(req.params), keys: Object.keys(req.params) }), get("/plain"));
    expect(bun).toEqual({ proto: null, keys: [] });
  });
});

describe("cookies", () => {
  test("a CookieMap of the Cookie field, the same one every time", async () => {
    const bun = await seen(
      "/c",
      (req) => ({ type: req.cookies.constructor.name, a: req.cookies.get("a"), size: req.cookies.size, same: req.cookies === req.cookies }),
      get("/c", "Cookie: a=1; b=2\r\n"),
    );
    expect(bun).toEqual({ type: "CookieMap", a: "1", size: 2, same: true });
    expect(await seen("/c", (req) => req.cookies.size, get("/c"))).toBe(0);
  });

  test("what the handler sets or deletes goes out as Set-Cookie, after the response's own", async () => {
    const bun = await sameOnBoth(
      () => ({
        routes: {
          "/set": (req: Req) => {
            req.cookies.set("x", "1");
            req.cookies.delete("a");
            return new Response("ok", { headers: { "Set-Cookie": "y=2" } });
          },
          "/async": async (req: Req) => {
            await null;
            req.cookies.set("z", "3", { httpOnly: true });
            return new Response("ok");
          },
          "/read": (req: Req) => new Response(String(req.cookies.get("a"))),
        },
      }),
      async (s) => {
        const out: (string[] | undefined)[] = [];
        for (const path of ["/set", "/async", "/read"]) out.push((await exchange(s.port, get(path, "Cookie: a=1\r\n")())).headers.get("set-cookie"));
        return out;
      },
    );
    expect(bun).toEqual([["y=2", "x=1; Path=/; SameSite=Lax", "a=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; SameSite=Lax"], ["z=3; Path=/; HttpOnly; SameSite=Lax"], undefined]);
  });
});

describe("clone()", () => {
  test("a Request with the same URL, params and cookies, and its own body", async () => {
    const bun = await sameOnBoth(
      () => ({
        routes: {
          "/u/:id": async (req: Req) => {
            const c = req.clone() as Req;
            const cc = c.clone() as Req;
            return Response.json({ url: c.url, params: c.params, deeper: cc.params, cookie: c.cookies.get("a"), name: c.constructor.name, isRequest: c instanceof Request, body: await c.text(), original: await req.text() });
          },
        },
      }),
      async (s) => JSON.parse((await exchange(s.port, "POST /u/9 HTTP/1.1\r\nHost: t\r\nCookie: a=1\r\nContent-Length: 2\r\n\r\nhi")).text()),
    );
    expect(bun).toEqual({ url: "http://t/u/9", params: { id: "9" }, deeper: { id: "9" }, cookie: "1", name: "Request", isRequest: true, body: "hi", original: "hi" });
  });
});

describe("the server argument", () => {
  test("requestIP works on the request", async () => {
    const bun = await sameOnBoth(
      () => ({ routes: { "/ip": (req: Req, server: { requestIP(r: Request): { address: string } | null }) => new Response(server.requestIP(req)?.address ?? "none") } }),
      async (s) => (await exchange(s.port, get("/ip")())).text(),
    );
    expect(bun).toBe("127.0.0.1");
  });
});
