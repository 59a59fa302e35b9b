// Responses built from a string or bytes are sent without reading their body stream
// (src/app/known-bodies.ts): the wrapped global Response must behave like the native one, the
// bytes sent must be exactly the body given, and anything we did not see being made keeps the
// stream path.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { serve, type Server } from "../../src/index.ts";
import { hiddenField } from "../../src/app/hidden-field.ts";
import { knownBody, trackResponses, untrackResponses } from "../../src/app/known-bodies.ts";
import { exchange, RawClient } from "../helpers/raw-client.ts";

const decoder = new TextDecoder();
const get = (path: string, method = "GET") => `${method} ${path} HTTP/1.1\r\nHost: t\r\n\r\n`;

beforeAll(() => trackResponses());

describe("hiddenField", () => {
  test("holds a value per object, invisible to reflection; each field is its own", () => {
    const a = hiddenField<object, string>();
    const b = hiddenField<object, number>();
    const res = new Response("x");
    const keys = Reflect.ownKeys(res);
    a.set(res, "one");
    b.set(res, 2);
    expect([a.get(res), b.get(res)]).toEqual(["one", 2]);
    a.set(res, "again"); // a second set replaces, never throws
    expect(a.get(res)).toBe("again");
    expect(a.get(new Response("y"))).toBeUndefined();
    expect(Reflect.ownKeys(res)).toEqual(keys);
    expect(Bun.inspect(res)).not.toContain("again");
  });
});

describe("the wrapped Response constructor", () => {
  test("is in place (so the tests below test the wrapper, not the native class)", () => {
    expect(Function.prototype.toString.call(Response)).not.toContain("[native code]");
  });

  test("makes native Responses: prototype, instanceof, constructor, name, length", async () => {
    const res = new Response("x");
    expect(Object.getPrototypeOf(res)).toBe(Response.prototype);
    expect(res instanceof Response).toBe(true);
    expect(res.constructor).toBe(Response);
    expect(Response.name).toBe("Response");
    expect(Response.length).toBe(0);
    expect(Response.error() instanceof Response).toBe(true);
    expect(new Response(null, { status: 204 }).status).toBe(204);
    expect(await new Response("body").text()).toBe("body");
  });

  test("has the native class's own statics and lengths", () => {
    const native = Object.getPrototypeOf(Response) as typeof Response;
    expect(Function.prototype.toString.call(native)).toContain("[native code]");
    for (const name of Object.getOwnPropertyNames(native)) expect(Object.getOwnPropertyNames(Response)).toContain(name);
    expect(Response.json.length).toBe(native.json.length);
    expect(Response.redirect).toBe(native.redirect);
  });

  test("refuses to be called without new, as the native one does", () => {
    expect(() => (Response as unknown as (b: string) => Response)("x")).toThrow(TypeError);
  });

  test("can be subclassed", async () => {
    class Mine extends Response {
      hello() {
        return "mine";
      }
    }
    const m = new Mine("sub", { status: 201 });
    expect(m instanceof Mine && m instanceof Response).toBe(true);
    expect(m.hello()).toBe("mine");
    expect(m.status).toBe(201);
    expect(knownBody(m)?.body).toBe("sub");
    expect(await m.text()).toBe("sub");
  });

  test("statics work: json (with init), redirect, error", async () => {
    const j = Response.json({ a: "é" }, { status: 202, headers: { "X-A": "1" } });
    expect(j.status).toBe(202);
    expect(j.headers.get("content-type")).toBe("application/json;charset=utf-8");
    expect(j.headers.get("x-a")).toBe("1");
    expect(await j.json()).toEqual({ a: "é" });
    expect(() => Response.json(1n)).toThrow();
    const r = Response.redirect("http://example.com/next", 301);
    expect([r.status, r.headers.get("location")]).toEqual([301, "http://example.com/next"]);
    expect(Response.error().type).toBe("error");
  });
});

describe("knownBody", () => {
  test("a string body is the string itself", () => {
    expect(knownBody(new Response("héllo"))?.body).toBe("héllo");
  });

  test("a bytes body is the copy made at construction, not the caller's array", () => {
    const u = new Uint8Array([1, 2, 3]);
    const res = new Response(u);
    u[0] = 99;
    expect(knownBody(res)?.body).toEqual(new Uint8Array([1, 2, 3]));
    expect(knownBody(new Response(new Uint8Array([4, 5]).buffer))?.body).toEqual(new Uint8Array([4, 5]));
    expect(knownBody(new Response(new DataView(new Uint8Array([6, 7, 8]).buffer, 1)))?.body).toEqual(new Uint8Array([7, 8]));
  });

  test("Response.json is its text", () => {
    expect(knownBody(Response.json({ n: 1 }) as Response)?.body).toBe('{"n":1}');
  });

  test("`new Response(res.body, res)` (Hono adding headers) keeps a known body known, as bytes", async () => {
    const a = new Response("Hello Hono!", { headers: { "X-A": "1" } });
    const b = new Response(a.body, a);
    expect(new TextDecoder().decode(knownBody(b)?.body as Uint8Array)).toBe("Hello Hono!");
    expect(b.headers.get("x-a")).toBe("1");
    // another Response's stream, or a stream of unknown origin, stays unknown
    const c = new Response("c");
    expect(knownBody(new Response(new Response("other").body, c))).toBeUndefined();
    const streamed = new Response(new ReadableStream({ start: (ctl) => ctl.close() }));
    expect(knownBody(new Response(streamed.body, streamed))).toBeUndefined();
  });

  test("Blobs, clones of known bodies and values Bun makes text of are known", async () => {
    const blob = new Blob(["b"], { type: "text/css" });
    expect(knownBody(new Response(blob))?.body).toBe(blob);
    expect(knownBody(new Response("c").clone() as Response)?.body).toBe("c");
    const bytes = knownBody(new Response(new Uint8Array([1])).clone() as Response);
    expect(bytes?.body).toEqual(new Uint8Array([1]));
    expect(knownBody(new Response(42 as unknown as string))?.body).toBe("42");
    expect(knownBody(new Response({ toString: () => "obj" } as unknown as string))?.body).toBe("obj");
  });

  test("unknown: streams, forms, async iterables, used bodies", async () => {
    expect(knownBody(new Response(new ReadableStream({ start: (c) => c.close() })))).toBeUndefined();
    expect(knownBody(new Response(new URLSearchParams("a=1")))).toBeUndefined();
    const iterable = { async *[Symbol.asyncIterator]() { yield "x"; } };
    expect(knownBody(new Response(iterable as unknown as string))).toBeUndefined();
    const used = new Response("read already");
    await used.text();
    expect(knownBody(used)).toBeUndefined();
    const locked = new Response("locked");
    locked.body!.getReader();
    expect(knownBody(locked)).toBeUndefined();
  });
});

describe("over TCP", () => {
  let server: Server;
  // One Response returned for every request: like any Response, its body can be sent once.
  let cached: Response;
  beforeAll(() => {
    cached = new Response("cached");
    server = serve({
      port: 0,
      hostname: "127.0.0.1",
      log: "off",
      fetch: async (request) => {
        const path = new URL(request.url).pathname;
        switch (path) {
          case "/str":
            return new Response("héllo wörld", { status: 201, headers: { "Content-Type": "text/plain;charset=utf-8", "X-A": "1" } });
          case "/typed":
            return new Response("<p>hi</p>", { headers: { "content-type": "text/html" } });
          case "/empty":
            return new Response("");
          case "/bytes": {
            const u = new Uint8Array([0, 255, 10, 13]);
            const res = new Response(u);
            u.fill(7); // after construction: must not change what is sent
            return res;
          }
          case "/json":
            return Response.json({ a: "é" }, { status: 202 });
          case "/headers-later": {
            const res = new Response("later");
            res.headers.set("X-Later", "yes");
            return res;
          }
          case "/used": {
            const res = new Response("secret");
            await res.text();
            return res;
          }
          case "/lone-surrogate":
            return new Response("a\uD800b");
          case "/not-modified":
            return new Response("", { status: 304, headers: { ETag: '"v1"' } });
          case "/no-content":
            return new Response("", { status: 204 });
          case "/empty-bytes":
            return new Response(new Uint8Array(0));
          case "/cached":
            return cached;
          case "/polluted":
            return new Response("p", { headers: { "X-Own": "1" } });
        }
        return new Response("nope", { status: 404 });
      },
    });
  });
  afterAll(() => server.stop(true));

  test("a string body: status, headers, exact UTF-8 bytes and their length", async () => {
    const r = await exchange(server.port, get("/str"));
    expect(r.status).toBe(201);
    expect(r.header("x-a")).toBe("1");
    expect(r.header("content-type")).toBe("text/plain;charset=utf-8"); // the handler's own
    expect(r.header("content-length")).toBe("13");
    expect(r.header("transfer-encoding")).toBeUndefined();
    expect(r.text()).toBe("héllo wörld");
  });

  test("HEAD gets the length without the body; an empty string is Content-Length: 0", async () => {
    const c = await RawClient.connect(server.port);
    await c.send(get("/str", "HEAD") + get("/empty"));
    const head = await c.response();
    expect(head.header("content-length")).toBe("13");
    expect(head.body.length).toBe(0);
    const empty = await c.response();
    expect([empty.status, empty.header("content-length"), empty.body.length]).toEqual([200, "0", 0]);
    c.close();
  });

  test("bytes go out as they were when the Response was made", async () => {
    const r = await exchange(server.port, get("/bytes"));
    expect(r.header("content-length")).toBe("4");
    expect(r.body).toEqual(new Uint8Array([0, 255, 10, 13]));
  });

  test("without a Content-Type, the one Bun.serve infers: text for strings, octet-stream for bytes; one only", async () => {
    const c = await RawClient.connect(server.port);
    await c.send(get("/headers-later") + get("/bytes") + get("/json") + get("/typed"));
    const types: (string[] | undefined)[] = [];
    for (let i = 0; i < 4; i++) types.push((await c.response()).headers.get("content-type"));
    expect(types).toEqual([["text/plain;charset=utf-8"], ["application/octet-stream"], ["application/json;charset=utf-8"], ["text/html"]]);
    c.close();
  });

  test("Response.json keeps its status and type", async () => {
    const r = await exchange(server.port, get("/json"));
    expect(r.status).toBe(202);
    expect(r.header("content-type")).toBe("application/json;charset=utf-8");
    expect(JSON.parse(r.text())).toEqual({ a: "é" });
  });

  test("headers set after construction are sent", async () => {
    const r = await exchange(server.port, get("/headers-later"));
    expect(r.header("x-later")).toBe("yes");
    expect(r.text()).toBe("later");
  });

  test("a body the handler already read is not sent from our note of it: 500", async () => {
    const r = await exchange(server.port, get("/used"));
    expect(r.status).toBe(500);
    expect(decoder.decode(r.raw)).not.toContain("secret");
  });

  test("no inferred Content-Type on 304, 204 or an empty body (Bun.serve sends none; a cache would keep it)", async () => {
    const c = await RawClient.connect(server.port);
    await c.send(get("/not-modified") + get("/no-content") + get("/empty") + get("/empty-bytes"));
    for (const status of [304, 204, 200, 200]) {
      const r = await c.response();
      expect([r.status, r.header("content-type")]).toEqual([status, undefined]);
    }
    c.close();
  });

  test("a Response returned twice: sent the first time, a 500 the second (as Bun.serve)", async () => {
    const first = await exchange(server.port, get("/cached"));
    expect([first.status, first.text()]).toEqual([200, "cached"]);
    const second = await exchange(server.port, get("/cached"));
    expect(second.status).toBe(500);
    expect(decoder.decode(second.raw)).not.toContain("cached");
  });

  test("keys added to Object.prototype are not sent as headers", async () => {
    const proto = Object.prototype as Record<string, unknown>;
    proto["x-polluted"] = "1";
    try {
      const r = await exchange(server.port, get("/polluted"));
      expect(r.header("x-own")).toBe("1");
      expect(r.header("x-polluted")).toBeUndefined();
    } finally {
      delete proto["x-polluted"];
    }
  });

  test("a lone surrogate goes out as U+FFFD, as Bun's own encoding of the body would", async () => {
    const r = await exchange(server.port, get("/lone-surrogate"));
    expect(r.body).toEqual(await new Response("a\uD800b").bytes());
  });
});

describe("trackResponses: false", () => {
  test.each([{ trackResponses: false }])("%p leaves the global Response alone, and Responses still go out right (through their stream)", async (option) => {
    untrackResponses();
    try {
      const native = globalThis.Response;
      expect(Function.prototype.toString.call(native)).toContain("[native code]");
      using s = serve({ port: 0, hostname: "127.0.0.1", log: "off", ...option, fetch: () => new Response("plain", { status: 203 }) });
      expect(globalThis.Response).toBe(native);
      const r = await exchange(s.port, get("/"));
      expect([r.status, r.header("content-length"), r.text()]).toEqual([203, "5", "plain"]);
    } finally {
      trackResponses();
    }
  });
});
