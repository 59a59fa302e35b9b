// Applications over real TCP: routes, request bodies, responses, the fetch door, errors.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { serve, type Server } from "../../src/index.ts";
import { HttpException } from "../../src/server/http-exception.ts";
import { pollUntil } from "../helpers/poll.ts";
import { exchange, RawClient } from "../helpers/raw-client.ts";

let server: Server;
let port: number;
const seen: string[] = [];

beforeAll(() => {
  server = serve({
    port: 0,
    hostname: "127.0.0.1",
    log: "off",
    maxBody: 1024,
    routes: {
      "/health": new Response("ok", { headers: { "X-Fixed": "yes" } }),
      "/users/:id": {
        GET: (req) => Response.json({ id: req.params.id, q: new URL(req.url).searchParams.get("q") }),
        PUT: async (req) => Response.json({ id: req.params.id, body: await req.json() }),
      },
      "/files/*": (req) => `file ${new URL(req.url).pathname.slice("/files/".length)}`, // no params["*"] in Bun
      "/stream": () =>
        new Response(
          new ReadableStream({
            // Pieces that come over time go out chunked (all at once, they would get a Content-Length).
            async pull(c) {
              for (let i = 0; i < 3; i++) {
                c.enqueue(`chunk ${i};`);
                await Bun.sleep(5);
              }
              c.close();
            },
          }),
        ),
      "/cookies": () => {
        const h = new Headers({ "Content-Type": "text/plain" });
        h.append("Set-Cookie", "a=1; Path=/");
        h.append("Set-Cookie", "b=2; Path=/");
        return new Response("cookies", { headers: h });
      },
      "/teapot": () => {
        throw new HttpException(418, "short and stout");
      },
      "/boom": () => {
        throw new Error("secret stack detail");
      },
      "/ip": (req, srv) => srv.requestIP(req)?.address ?? "none",
      // Bun's method maps take only the nine methods it knows; a route for every method takes any.
      "/custom-method": (req) => (req.method === "PURGE" ? "purged" : null),
    },
    // Our own handler option: the light request, whose body readers answer 400/413/415 themselves.
    async handler(req) {
      if (req.method === "PUT" && req.path === "/light/json") return Response.json({ body: await req.json() });
      if (req.method !== "POST") return null;
      if (req.path === "/form") return Response.json(Object.fromEntries((await req.formData()).entries()));
      if (req.path === "/upload") return `${(await req.bytes()).length} bytes`;
      if (req.path === "/ignore-body") return "did not read it";
      return null;
    },
    fetch(request, srv) {
      const url = new URL(request.url);
      if (url.pathname === "/from-fetch") {
        seen.push(srv.requestIP(request)?.address ?? "none");
        return new Response(`fetch saw ${request.method} ${url.pathname}${url.search}`, { status: 202 });
      }
      return new Response("fetch 404", { status: 404 });
    },
    error(err) {
      if (err instanceof HttpException) return err.toReply();
      return { status: 500, headers: [["Content-Type", "text/plain"]], body: "custom error page" };
    },
  });
  port = server.port;
});
afterAll(() => server.stop(true));

const req = (method: string, path: string, headers = "", body = "") =>
  `${method} ${path} HTTP/1.1\r\nHost: t\r\n${headers}${body ? `Content-Length: ${Buffer.byteLength(body)}\r\n` : ""}\r\n${body}`;

describe("routes", () => {
  test("params and query", async () => {
    const r = await exchange(port, req("GET", "/users/42?q=hi"));
    expect(r.status).toBe(200);
    expect(r.header("content-type")).toContain("application/json");
    expect(r.header("content-length")).toBe(String(r.body.length)); // a Response body of known length
    expect(JSON.parse(r.text())).toEqual({ id: "42", q: "hi" });
  });

  test("wildcard", async () => {
    expect((await exchange(port, req("GET", "/files/a/b.txt"))).text()).toBe("file a/b.txt");
  });

  test("a fixed Response is sent every time", async () => {
    for (let i = 0; i < 3; i++) {
      const r = await exchange(port, req("GET", "/health"));
      expect(r.text()).toBe("ok");
      expect(r.header("x-fixed")).toBe("yes");
    }
  });

  test("another method and OPTIONS go on to fetch, as in Bun.serve; HEAD uses GET", async () => {
    const r = await exchange(port, req("DELETE", "/users/1"));
    expect(r.status).toBe(404);
    expect(r.text()).toBe("fetch 404");
    const o = await exchange(port, req("OPTIONS", "/users/1"));
    expect(o.text()).toBe("fetch 404");
    const c = await RawClient.connect(port);
    await c.send(req("HEAD", "/users/7") + req("GET", "/users/8"));
    const h = await c.response();
    expect(h.status).toBe(200);
    expect(h.body.length).toBe(0);
    expect(Number(h.header("content-length"))).toBeGreaterThan(0);
    expect(JSON.parse((await c.response()).text()).id).toBe("8");
    c.close();
  });

  test("a custom method a route names reaches it; unknown elsewhere → fetch", async () => {
    expect((await exchange(port, req("PURGE", "/custom-method"))).text()).toBe("purged");
  });

  test("no route → the fetch handler, with requestIP", async () => {
    const r = await exchange(port, req("GET", "/from-fetch?x=1"));
    expect(r.status).toBe(202);
    expect(r.text()).toBe("fetch saw GET /from-fetch?x=1");
    expect(seen.at(-1)).toBe("127.0.0.1");
  });
});

describe("request bodies", () => {
  test("JSON", async () => {
    const r = await exchange(port, req("PUT", "/users/5", "Content-Type: application/json\r\n", '{"name":"ann"}'));
    expect(JSON.parse(r.text())).toEqual({ id: "5", body: { name: "ann" } });
  });

  test("malformed JSON → 400 with a short reason, and the connection goes on", async () => {
    const c = await RawClient.connect(port);
    await c.send(req("PUT", "/light/json", "", "{nope") + req("GET", "/users/6"));
    const r = await c.response();
    expect(r.status).toBe(400);
    expect(r.text()).toContain("malformed JSON");
    expect(r.text().length).toBeLessThan(200);
    expect((await c.response()).status).toBe(200);
    c.close();
  });

  test("urlencoded and multipart forms", async () => {
    const u = await exchange(port, req("POST", "/form", "Content-Type: application/x-www-form-urlencoded\r\n", "a=1&b=x+y%21"));
    expect(JSON.parse(u.text())).toEqual({ a: "1", b: "x y!" });
    const body = '--XyZ\r\nContent-Disposition: form-data; name="field"\r\n\r\nvalue\r\n--XyZ--\r\n';
    const m = await exchange(port, req("POST", "/form", "Content-Type: multipart/form-data; boundary=XyZ\r\n", body));
    expect(JSON.parse(m.text())).toEqual({ field: "value" });
  });

  test("malformed multipart → 400; a non-form type → 415", async () => {
    const m = await exchange(port, req("POST", "/form", "Content-Type: multipart/form-data\r\n", "junk"));
    expect(m.status).toBe(400);
    const t = await exchange(port, req("POST", "/form", "Content-Type: text/plain\r\n", "junk"));
    expect(t.status).toBe(415);
  });

  test("chunked upload, split", async () => {
    const c = await RawClient.connect(port);
    const raw = "POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n4\r\nwxyz\r\n0\r\n\r\n";
    for (let i = 0; i < raw.length; i += 5) await c.send(raw.slice(i, i + 5));
    expect((await c.response()).text()).toBe("20 bytes");
    c.close();
  });

  test("over the body limit → 413, Content-Length or chunked", async () => {
    expect((await exchange(port, req("POST", "/upload", "", "x".repeat(2000)))).status).toBe(413);
    const chunked = `POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n${"x".repeat(2048)}\r\n0\r\n\r\n`;
    expect((await exchange(port, chunked)).status).toBe(413);
  });

  test("an unread body does not break the next pipelined request", async () => {
    const c = await RawClient.connect(port);
    await c.send(req("POST", "/ignore-body", "", "GET /users/1 HTTP/1.1\r\nHost: t\r\n\r\n") + req("GET", "/users/9"));
    expect((await c.response()).text()).toBe("did not read it");
    expect(JSON.parse((await c.response()).text()).id).toBe("9");
    c.close();
  });
});

describe("responses", () => {
  test("a stream goes out chunked", async () => {
    const r = await exchange(port, req("GET", "/stream"));
    expect(r.header("transfer-encoding")).toBe("chunked");
    expect(r.text()).toBe("chunk 0;chunk 1;chunk 2;");
  });

  test("Set-Cookie from a Headers object stays separate lines", async () => {
    const r = await exchange(port, req("GET", "/cookies"));
    expect(r.headers.get("set-cookie")).toEqual(["a=1; Path=/", "b=2; Path=/"]);
  });

  test("an HttpException becomes its status; other errors go to the error hook, never the stack", async () => {
    const t = await exchange(port, req("GET", "/teapot"));
    expect(t.status).toBe(418);
    expect(t.text()).toContain("short and stout");
    const b = await exchange(port, req("GET", "/boom"));
    expect(b.status).toBe(500);
    expect(b.text()).toBe("custom error page");
    expect(b.text()).not.toContain("secret");
  });
});

describe("stop()", () => {
  test("stop() lets a request in progress finish, refuses new connections, then resolves", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const s = serve({ port: 0, hostname: "127.0.0.1", log: "off", routes: { "/slow": async () => (await gate, "finished") } });
    const c = await RawClient.connect(s.port);
    await c.send(req("GET", "/slow"));
    const idle = await RawClient.connect(s.port);
    await pollUntil(() => s.connectionCount === 2, 3000, "the server to hold both connections", { every: 5 });
    let resolved = false;
    const stopped = s.stop().then(() => (resolved = true));
    await idle.closedByServer(); // idle connections close at once
    await expect(RawClient.connect(s.port).then((x) => x.send(req("GET", "/slow")))).rejects.toThrow();
    expect(resolved).toBe(false);
    release();
    const r = await c.response();
    expect(r.text()).toBe("finished");
    expect(r.header("connection")).toBe("close");
    await stopped;
    expect(resolved).toBe(true);
  });
});
