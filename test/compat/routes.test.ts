// The `routes` option against Bun.serve's (test/helpers/compat.ts): which route answers which method,
// precedence, parameters, static Responses and files, and the errors Bun.serve throws for bad routes.
// Every check runs on both servers; each also pins what Bun did, so a change in Bun shows up here.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve } from "../../src/serve.ts";
import { type Served, sameOnBoth } from "../helpers/compat.ts";
import { exchange } from "../helpers/raw-client.ts";

/** One request, and what came back: status, headers but Date and Server (sorted by name), body text. */
async function ask(s: Served, method: string, path: string, headers = ""): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const r = await exchange(s.port, `${method} ${path} HTTP/1.1\r\nHost: t\r\n${headers}\r\n`);
  const h: Record<string, string> = {};
  for (const [name, values] of [...r.headers].sort(([a], [b]) => a.localeCompare(b))) if (name !== "date" && name !== "server") h[name] = values.join(" | ");
  return { status: r.status, headers: h, body: r.text() };
}
/** Status and body of each request, in order. */
const answers = (s: Served, ...reqs: [method: string, path: string][]) =>
  Promise.all(reqs.map(async ([m, p]) => `${m} ${p} → ${await ask(s, m, p).then((r) => `${r.status} ${r.body}`)}`));
const text = (t: string) => () => new Response(t);
const fallback = () => new Response("fetch");

describe("methods", () => {
  test("a method the map lacks goes to fetch; HEAD takes GET; OPTIONS is not answered", async () => {
    const bun = await sameOnBoth(
      () => ({ routes: { "/a": { GET: text("get") } }, fetch: fallback }),
      (s) => answers(s, ["GET", "/a"], ["POST", "/a"], ["OPTIONS", "/a"], ["DELETE", "/a"], ["HEAD", "/a"]),
    );
    expect(bun).toEqual(["GET /a → 200 get", "POST /a → 200 fetch", "OPTIONS /a → 200 fetch", "DELETE /a → 200 fetch", "HEAD /a → 200 "]);
  });

  test("without fetch, a method the map lacks is a 404, not a 405", async () => {
    const bun = await sameOnBoth(
      () => ({ routes: { "/a": { GET: text("get") } } }),
      async (s) => [(await ask(s, "POST", "/a")).status, (await ask(s, "OPTIONS", "/a")).status, (await ask(s, "HEAD", "/a")).status],
    );
    expect(bun).toEqual([404, 404, 200]);
  });

  test("a more specific route without the method yields to a parameter or wildcard route", async () => {
    const bun = await sameOnBoth(
      () => ({ routes: { "/a": { GET: text("get") }, "/:x": text("param"), "/u/:id": { GET: text("user") }, "/u/*": text("wild") } }),
      (s) => answers(s, ["GET", "/a"], ["POST", "/a"], ["GET", "/u/1"], ["POST", "/u/1"]),
    );
    expect(bun).toEqual(["GET /a → 200 get", "POST /a → 200 param", "GET /u/1 → 200 user", "POST /u/1 → 200 wild"]);
  });

  test("HEAD: a route's own GET beats a wildcard's HEAD; a route with only POST yields", async () => {
    const bun = await sameOnBoth(
      () => ({
        routes: {
          "/a": { GET: () => new Response("get", { headers: { "X-Route": "a" } }) },
          "/b": { POST: text("post") },
          "/*": { HEAD: () => new Response("wildcard", { headers: { "X-Route": "wild" } }) },
        },
      }),
      async (s) => {
        const a = await ask(s, "HEAD", "/a");
        const b = await ask(s, "HEAD", "/b");
        return [a.status, a.headers["x-route"], a.headers["content-length"], a.body, b.headers["x-route"], b.headers["content-length"]];
      },
    );
    expect(bun).toEqual([200, "a", "3", "", "wild", "8"]);
  });

  test("the GET handler sees HEAD as the method", async () => {
    const bun = await sameOnBoth(
      () => ({ routes: { "/m": { GET: (req: Request) => new Response("body", { headers: { "X-Method": req.method } }) } } }),
      async (s) => (await ask(s, "HEAD", "/m")).headers["x-method"],
    );
    expect(bun).toBe("HEAD");
  });

  test("a route for every method takes methods Bun does not name, and OPTIONS", async () => {
    const bun = await sameOnBoth(
      () => ({ routes: { "/a": (req: Request) => new Response(`any ${req.method}`) } }),
      (s) => answers(s, ["PURGE", "/a"], ["OPTIONS", "/a"], ["PATCH", "/a"]),
    );
    expect(bun).toEqual(["PURGE /a → 200 any PURGE", "OPTIONS /a → 200 any OPTIONS", "PATCH /a → 200 any PATCH"]);
  });

  test("every method Bun names in a map reaches its handler", async () => {
    const methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"];
    const bun = await sameOnBoth(
      () => ({ routes: { "/a": Object.fromEntries(methods.map((m) => [m, text(m)])) } }),
      (s) => answers(s, ...methods.map((m) => [m, "/a"] as [string, string])),
    );
    expect(bun).toEqual(methods.map((m) => `${m} /a → 200 ${m}`));
  });

  test("keys that are not upper-case method names are ignored when the map names one", async () => {
    const bun = await sameOnBoth(
      () => ({ routes: { "/a": { GET: text("GET"), get: text("get"), PURGE: text("purge") } }, fetch: fallback }),
      (s) => answers(s, ["GET", "/a"], ["PURGE", "/a"]),
    );
    expect(bun).toEqual(["GET /a → 200 GET", "PURGE /a → 200 fetch"]);
  });
});

describe("false and skipped values", () => {
  test("a route `false` goes straight to fetch, past other routes; without fetch, 404", async () => {
    const bun = await sameOnBoth(
      () => ({ routes: { "/a": false, "/:x": text("param") }, fetch: fallback }),
      (s) => answers(s, ["GET", "/a"], ["POST", "/a"], ["GET", "/b"]),
    );
    expect(bun).toEqual(["GET /a → 200 fetch", "POST /a → 200 fetch", "GET /b → 200 param"]);
    const status = await sameOnBoth(
      () => ({ routes: { "/x": new Response("x"), "/off": false, "/off/:id": false, "/wild/*": false } }),
      async (s) => [(await ask(s, "GET", "/off")).status, (await ask(s, "GET", "/off/7")).status, (await ask(s, "GET", "/wild/z")).status, (await ask(s, "GET", "/x")).body],
    );
    expect(status).toEqual([404, 404, 404, "x"]);
  });

  test("false, a number or undefined for a method, and an undefined route, yield to other routes", async () => {
    const bun = await sameOnBoth(
      () => ({ routes: { "/a": { GET: false, POST: text("post") }, "/b": { GET: 123, POST: text("post") }, "/c": undefined, "/*": text("wild") } }),
      (s) => answers(s, ["GET", "/a"], ["GET", "/b"], ["GET", "/c"], ["POST", "/a"]),
    );
    expect(bun).toEqual(["GET /a → 200 wild", "GET /b → 200 wild", "GET /c → 200 wild", "POST /a → 200 post"]);
  });
});

describe("precedence and paths", () => {
  test("static, then parameter, then wildcard, whatever the order of definition", async () => {
    const bun = await sameOnBoth(
      () => ({
        routes: {
          "/*": text("root catchall"),
          "/api/*": text("api catchall"),
          "/api/users/:id": (req: Request & { params: Record<string, string> }) => new Response(`user ${req.params.id}`),
          "/api/users": text("users list"),
          "/api/users/:id/posts": (req: Request & { params: Record<string, string> }) => new Response(`posts ${req.params.id}`),
          "/a/:x/c/d": text("x c d"),
          "/a/b/:y": text("b y"),
        },
      }),
      (s) => answers(s, ["GET", "/api/users"], ["GET", "/api/users/1"], ["GET", "/api/other"], ["GET", "/other"], ["GET", "/api/users/1/posts"], ["GET", "/a/b/c/d"], ["GET", "/a/b/c"], ["GET", "/"]),
    );
    expect(bun).toEqual([
      "GET /api/users → 200 users list",
      "GET /api/users/1 → 200 user 1",
      "GET /api/other → 200 api catchall",
      "GET /other → 200 root catchall",
      "GET /api/users/1/posts → 200 posts 1",
      "GET /a/b/c/d → 200 x c d", // backtracks out of the static "b"
      "GET /a/b/c → 200 b y",
      "GET / → 200 root catchall",
    ]);
  });

  test("trailing slashes are distinct paths; a wildcard takes its bare prefix with a slash only", async () => {
    const bun = await sameOnBoth(
      () => ({ routes: { "/a": text("a"), "/b/": text("b/"), "/w/*": text("w") } }),
      async (s) => Promise.all(["/a", "/a/", "/b", "/b/", "/a?x=1", "/a//", "/w", "/w/", "/w/x/y"].map(async (p) => `${p} ${(await ask(s, "GET", p)).status}`)),
    );
    expect(bun).toEqual(["/a 200", "/a/ 404", "/b 404", "/b/ 200", "/a?x=1 200", "/a// 404", "/w 404", "/w/ 200", "/w/x/y 200"]);
  });

  test("static segments compare as sent: %20 matches only a pattern written with %20", async () => {
    const bun = await sameOnBoth(
      () => ({ routes: { "/a%20b": text("encoded"), "/c d": text("space"), "/a*": text("star") }, fetch: fallback }),
      (s) => answers(s, ["GET", "/a%20b"], ["GET", "/c%20d"], ["GET", "/a*"], ["GET", "/abc"]),
    );
    expect(bun).toEqual(["GET /a%20b → 200 encoded", "GET /c%20d → 200 fetch", "GET /a* → 200 star", "GET /abc → 200 fetch"]);
  });

  test("a `*` that is not the last segment makes a route that matches nothing", async () => {
    const bun = await sameOnBoth(
      () => ({ routes: { "/a/*/b": text("mid") }, fetch: fallback }),
      (s) => answers(s, ["GET", "/a/x/b"], ["GET", "/a/x"], ["GET", "/a/*/b"]),
    );
    expect(bun).toEqual(["GET /a/x/b → 200 fetch", "GET /a/x → 200 fetch", "GET /a/*/b → 200 fetch"]);
  });

  test("routes match the path as sent; dot-segments are resolved only in request.url", async () => {
    const bun = await sameOnBoth(
      () => ({ routes: { "/admin/x": text("admin") }, fetch: (req: Request) => new Response(`fetch ${new URL(req.url).pathname}`) }),
      (s) => answers(s, ["GET", "/w/../admin/x"], ["GET", "/./admin/x"], ["GET", "/admin/x"]),
    );
    expect(bun).toEqual(["GET /w/../admin/x → 200 fetch /admin/x", "GET /./admin/x → 200 fetch /admin/x", "GET /admin/x → 200 admin"]);
  });

  test("a handler's Promise is awaited", async () => {
    const bun = await sameOnBoth(() => ({ routes: { "/a": async () => new Response("later") } }), (s) => answers(s, ["GET", "/a"]));
    expect(bun).toEqual(["GET /a → 200 later"]);
  });
});

describe("static Responses", () => {
  test("sent for every method with their status and headers, plus Bun's ETag", async () => {
    const bun = await sameOnBoth(
      () => ({ routes: { "/s": new Response("hello", { status: 201, headers: { "X-A": "1", "Content-Type": "text/x" } }) } }),
      async (s) => [await ask(s, "GET", "/s"), await ask(s, "POST", "/s"), await ask(s, "GET", "/s", "If-None-Match: *\r\n")],
    );
    const hello = { status: 201, headers: { "content-length": "5", "content-type": "text/x", etag: '"26c7827d889f6da3"', "x-a": "1" }, body: "hello" };
    expect(bun).toEqual([hello, hello, hello]); // not 304: only a 200 is revalidated
  });

  test("a 200 is revalidated: If-None-Match (weak, lists, *), or If-Modified-Since against its Last-Modified", async () => {
    const inm = ['"26c7827d889f6da3"', 'W/"26c7827d889f6da3"', '"x", "26c7827d889f6da3"', "*", '"other"'];
    const bun = await sameOnBoth(
      () => ({ routes: { "/s": new Response("hello"), "/lm": new Response("hello", { headers: { "Last-Modified": "Wed, 01 Jan 2020 00:00:00 GMT" } }) } }),
      async (s) => {
        const out: string[] = [];
        for (const tag of inm) out.push(`${tag} ${(await ask(s, "GET", "/s", `If-None-Match: ${tag}\r\n`)).status}`);
        const head = await ask(s, "HEAD", "/s", "If-None-Match: *\r\n");
        out.push(`HEAD ${head.status} ${head.headers.etag}`);
        out.push(`POST ${(await ask(s, "POST", "/s", "If-None-Match: *\r\n")).status}`);
        for (const since of ["Wed, 01 Jan 2100 00:00:00 GMT", "Wed, 01 Jan 2019 00:00:00 GMT", "garbage"]) {
          out.push(`since ${since} ${(await ask(s, "GET", "/lm", `If-Modified-Since: ${since}\r\n`)).status}`);
        }
        out.push(`no Last-Modified ${(await ask(s, "GET", "/s", "If-Modified-Since: Wed, 01 Jan 2100 00:00:00 GMT\r\n")).status}`);
        out.push(`If-None-Match first ${(await ask(s, "GET", "/lm", 'If-None-Match: "zz"\r\nIf-Modified-Since: Wed, 01 Jan 2100 00:00:00 GMT\r\n')).status}`);
        return out;
      },
    );
    expect(bun).toEqual([
      '"26c7827d889f6da3" 304',
      'W/"26c7827d889f6da3" 304',
      '"x", "26c7827d889f6da3" 304',
      "* 304",
      '"other" 200',
      'HEAD 304 "26c7827d889f6da3"',
      "POST 200",
      "since Wed, 01 Jan 2100 00:00:00 GMT 304",
      "since Wed, 01 Jan 2019 00:00:00 GMT 200",
      "since garbage 200",
      "no Last-Modified 200",
      "If-None-Match first 200",
    ]);
  });

  test("the 304 keeps the headers but Content-Length; an ETag of the Response's own is kept", async () => {
    const bun = await sameOnBoth(
      () => ({ routes: { "/s": new Response("hello", { headers: { ETag: '"mine"' } }) } }),
      async (s) => [await ask(s, "GET", "/s"), await ask(s, "GET", "/s", 'If-None-Match: "mine"\r\n')],
    );
    expect(bun[0]!.headers.etag).toBe('"mine"');
    expect(bun[1]).toEqual({ status: 304, headers: { "content-type": "text/plain;charset=utf-8", etag: '"mine"' }, body: "" });
  });

  test("bodies: JSON, empty (no ETag), null 204, a redirect, Set-Cookie lines", async () => {
    const cookies = new Headers();
    cookies.append("Set-Cookie", "a=1");
    cookies.append("Set-Cookie", "b=2");
    const bun = await sameOnBoth(
      () => ({
        routes: {
          "/json": Response.json({ a: 1 }),
          "/empty": new Response(""),
          "/none": new Response(null, { status: 204 }),
          "/redirect": Response.redirect("/x", 301),
          "/cookies": new Response("x", { headers: cookies }),
        },
      }),
      (s) => Promise.all(["/json", "/empty", "/none", "/redirect", "/cookies"].map((p) => ask(s, "GET", p))),
    );
    expect(bun[0]!.headers).toEqual({ "content-length": "7", "content-type": "application/json;charset=utf-8", etag: '"ca0b885a32fc8b48"' });
    expect(bun[1]).toEqual({ status: 200, headers: { "content-length": "0" }, body: "" });
    expect(bun[2]).toEqual({ status: 204, headers: {}, body: "" });
    expect(bun[3]).toEqual({ status: 301, headers: { "content-length": "0", location: "/x" }, body: "" });
    expect(bun[4]!.headers["set-cookie"]).toBe("a=1 | b=2");
  });

  test("one Response may serve several routes", async () => {
    const bun = await sameOnBoth(() => {
      const shared = new Response("shared");
      return { routes: { "/s": shared, "/t": shared } };
    }, (s) => answers(s, ["GET", "/s"], ["GET", "/t"], ["GET", "/s"]));
    expect(bun).toEqual(["GET /s → 200 shared", "GET /t → 200 shared", "GET /s → 200 shared"]);
  });
});

describe("Bun.file routes", () => {
  const dir = mkdtempSync(join(tmpdir(), "bunhttp-routes-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "a.txt");
  writeFileSync(file, "file body\n");
  utimesSync(file, new Date("2024-05-01T10:00:00Z"), new Date("2024-05-01T10:00:00Z"));
  writeFileSync(join(dir, "b.html"), "<h1>x</h1>");

  test("type, Last-Modified and length, for any method; a missing file falls through to fetch", async () => {
    const bun = await sameOnBoth(
      () => ({ routes: { "/f": Bun.file(file), "/h": { GET: Bun.file(join(dir, "b.html")) }, "/m": Bun.file(join(dir, "missing.txt")) }, fetch: fallback }),
      async (s) => [await ask(s, "GET", "/f"), await ask(s, "POST", "/f"), (await ask(s, "GET", "/h")).headers["content-type"], (await ask(s, "GET", "/m")).body],
    );
    const whole = { status: 200, headers: { "content-length": "10", "content-type": "text/plain;charset=utf-8", "last-modified": "Wed, 01 May 2024 10:00:00 GMT" }, body: "file body\n" };
    expect(bun).toEqual([whole, whole, "text/html;charset=utf-8", "fetch"]);
  });

  test("one range (206, 416 past the end; several or malformed: the whole file) and 304", async () => {
    const bun = await sameOnBoth(
      () => ({ routes: { "/f": Bun.file(file) } }),
      async (s) => {
        const out: string[] = [];
        for (const h of ["Range: bytes=0-3", "Range: bytes=-3", "Range: bytes=8-20", "Range: bytes=100-", "Range: bytes=0-1,3-4", "Range: bytes=5-2", "If-None-Match: *", 'If-None-Match: "x"', "If-Modified-Since: Thu, 02 May 2024 00:00:00 GMT", "If-Modified-Since: Wed, 01 Jan 2020 00:00:00 GMT"]) {
          const r = await ask(s, "GET", "/f", `${h}\r\n`);
          out.push(`${h} → ${r.status} ${r.headers["content-range"] ?? ""} ${JSON.stringify(r.body)}`);
        }
        return out;
      },
    );
    expect(bun).toEqual([
      'Range: bytes=0-3 → 206 bytes 0-3/10 "file"',
      'Range: bytes=-3 → 206 bytes 7-9/10 "dy\\n"',
      'Range: bytes=8-20 → 206 bytes 8-9/10 "y\\n"',
      'Range: bytes=100- → 416 bytes */10 ""',
      'Range: bytes=0-1,3-4 → 200  "file body\\n"',
      'Range: bytes=5-2 → 200  "file body\\n"',
      'If-None-Match: * → 304  ""',
      'If-None-Match: "x" → 200  "file body\\n"',
      'If-Modified-Since: Thu, 02 May 2024 00:00:00 GMT → 304  ""',
      'If-Modified-Since: Wed, 01 Jan 2020 00:00:00 GMT → 200  "file body\\n"',
    ]);
  });
});

describe("what Bun.serve refuses", () => {
  /** What serve(options) throws on each server: [constructor, name, code, message]. */
  async function refusal(options: () => Record<string, unknown>): Promise<[string, string, unknown, string]> {
    const caught: [string, string, unknown, string][] = [];
    for (const start of [Bun.serve, serve] as ((o: never) => { stop(force: boolean): unknown })[]) {
      try {
        const s = start({ port: 0, hostname: "127.0.0.1", ...options() } as never);
        void s.stop(true);
        caught.push(["none", "", undefined, ""]);
      } catch (e) {
        const err = e as Error & { code?: string };
        caught.push([err.constructor.name, err.name, err.code, err.message]);
      }
    }
    expect(caught[1]).toEqual(caught[0]!);
    return caught[0]!;
  }
  const h = () => new Response("x");

  test("routes: {} without fetch", async () => {
    const [ctor, , code, message] = await refusal(() => ({ routes: {} }));
    expect([ctor, code]).toEqual(["TypeError", "ERR_INVALID_ARG_TYPE"]);
    expect(message).toStartWith("Bun.serve() needs either:");
  });

  test("routes that answer nothing, without fetch", async () => {
    expect((await refusal(() => ({ routes: { "/a": { GET: false } } })))[3]).toStartWith("Bun.serve() needs either:");
  });

  test("a value that is no route", async () => {
    for (const value of [123, "text", null, true, Promise.resolve(h()), { fetch: h }, {}, { get: h }, { PURGE: h }]) {
      const [ctor, , code, message] = await refusal(() => ({ routes: { "/a": value }, fetch: fallback }));
      expect([ctor, code]).toEqual(["TypeError", "ERR_INVALID_ARG_TYPE"]);
      expect(message).toStartWith("'routes' expects a Record<string, Response | HTMLBundle");
    }
  });

  test("patterns: no leading slash, non-ASCII, a parameter name starting with a digit, a repeated one", async () => {
    expect(await refusal(() => ({ routes: { a: h }, fetch: fallback }))).toEqual(["TypeError", "TypeError", "ERR_INVALID_ARG_TYPE", `Invalid route "a". Path must start with '/'`]);
    expect((await refusal(() => ({ routes: { ":123": h }, fetch: fallback })))[3]).toBe(`Invalid route ":123". Path must start with '/'`);
    expect((await refusal(() => ({ routes: { "/café": h }, fetch: fallback })))[3]).toBe(`Invalid route "/café". Please encode all non-ASCII characters in the path.`);
    const [ctor, name, code, message] = await refusal(() => ({ routes: { "/:123": h }, fetch: fallback }));
    expect([ctor, name, code]).toEqual(["Error", "TODOError", undefined]);
    expect(message).toStartWith("Route parameter names cannot start with a number.");
    expect((await refusal(() => ({ routes: { "/x/:a/y/:a": h }, fetch: fallback })))[3]).toStartWith("Support for duplicate route parameter names is not yet implemented.");
  });

  test("patterns Bun takes and never matches: empty, with a query", async () => {
    const bun = await sameOnBoth(() => ({ routes: { "": text("empty"), "/x?a=1": text("query") }, fetch: fallback }), (s) => answers(s, ["GET", "/"], ["GET", "/x?a=1"]));
    expect(bun).toEqual(["GET / → 200 fetch", "GET /x?a=1 → 200 fetch"]);
  });

  test("static Responses: Response.error(), a streamed body, a used body", async () => {
    const [ctor, , code, message] = await refusal(() => ({ routes: { "/e": Response.error() }, fetch: fallback }));
    expect([ctor, code]).toEqual(["TypeError", "ERR_INVALID_ARG_TYPE"]);
    expect(message).toBe("Cannot use a Response with status 0 as a static route. HTTP status codes must be between 100 and 999 (Response.error() returns status 0).");
    expect((await refusal(() => ({ routes: { "/e": { GET: Response.error() } }, fetch: fallback })))[3]).toStartWith("Cannot use a Response with status 0");
    const stream = () => new Response(new ReadableStream({ start: (c) => (c.enqueue(new Uint8Array([1])), c.close()) }));
    expect((await refusal(() => ({ routes: { "/s": stream() } })))[3]).toStartWith("Body must be fully buffered before it can be used in a static route.");
    const used = async () => {
      const r = new Response("used");
      await r.text();
      return r;
    };
    const r1 = await used();
    const r2 = await used();
    let n = 0;
    expect((await refusal(() => ({ routes: { "/s": n++ === 0 ? r1 : r2 } })))[3]).toBe("Response body has already been used");
  });

  test("a refused serve() leaves no listener behind", () => {
    const before = serve({ port: 0, hostname: "127.0.0.1", fetch: fallback });
    const port = before.port;
    void before.stop(true);
    expect(() => serve({ port, hostname: "127.0.0.1", routes: { "/:1": h }, fetch: fallback })).toThrow();
    const again = serve({ port, hostname: "127.0.0.1", fetch: fallback }); // the port is free again
    expect(again.port).toBe(port);
    void again.stop(true);
  });
});
