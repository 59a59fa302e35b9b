// The reverse proxy's everyday work, over TCP: which requests go up and how (path, query, Host,
// forwarding fields, bodies, methods), what comes back (framing re-made, cookies, HEAD), the keep-alive
// pool, the route value and the command line. Failures and hostile upstreams: failures.test.ts.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { proxy, serve, type Server } from "../../src/index.ts";
import { killAll, startCli } from "../helpers/child.ts";
import { exchange, RawClient } from "../helpers/raw-client.ts";
import { type Answer, closedPort, ok, RawBackend } from "./upstreams.ts";

/** A Bun.serve backend that tells what it got. */
let app: ReturnType<typeof Bun.serve>;
/** A raw backend: counts connections, keeps each request's bytes, answers as `raw.answer` says. */
let raw: RawBackend;
const OK: Answer = (_req, conn) => void conn.write(ok());
let server: Server;
let base: string;

beforeAll(() => {
  app = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const u = new URL(req.url);
      if (u.pathname.endsWith("/echo")) return new Response(req.body, { headers: { "x-method": req.method } });
      if (u.pathname.endsWith("/count")) {
        let n = 0;
        for await (const chunk of req.body!) n += chunk.length;
        return new Response(`${n}`);
      }
      if (u.pathname.endsWith("/stream")) {
        let i = 0;
        return new Response(
          new ReadableStream({
            async pull(c) {
              c.enqueue(new TextEncoder().encode(`piece ${i}\n`));
              if (++i === 5) c.close();
              else await Bun.sleep(2);
            },
          }),
        );
      }
      if (u.pathname.endsWith("/cookies")) {
        const h = new Headers();
        h.append("Set-Cookie", "a=1; Path=/");
        h.append("Set-Cookie", "b=2, with comma; Path=/");
        return new Response("c", { headers: h });
      }
      if (u.pathname.endsWith("/nothing")) return new Response(null, { status: 204 });
      const headers: Record<string, string> = {};
      req.headers.forEach((v, k) => (headers[k] = v));
      const pad = u.pathname.endsWith("/big-text") ? "x".repeat(4096) : undefined;
      return Response.json({ method: req.method, url: u.pathname + u.search, headers, who: "app", pad });
    },
  });
  raw = RawBackend.start(OK);
  server = serve({
    port: 0,
    hostname: "127.0.0.1",
    log: "off",
    maxBody: 64 * 1024 * 1024,
    proxy: {
      "/api": `http://127.0.0.1:${app.port}`,
      "/api/raw": `http://127.0.0.1:${raw.port}`,
      "/all/": `http://127.0.0.1:${app.port}`,
    },
    routes: {
      "/routed/*": proxy(`http://127.0.0.1:${app.port}`),
      "/local": new Response("local"),
    },
    fetch: () => new Response("fell through", { status: 404 }),
  });
  base = `http://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await server.stop(true);
  app.stop(true);
  raw.stop();
  await killAll();
});

async function seen(path: string, init?: RequestInit): Promise<{ method: string; url: string; headers: Record<string, string>; who: string }> {
  const res = await fetch(base + path, init);
  expect(res.status).toBe(200);
  return res.json() as never;
}

describe("what goes up", () => {
  test("path and query unchanged, Host as sent, forwarding fields set", async () => {
    const r = await exchange(server.port, "GET /api/a%20b/c?x=1&y=%2F HTTP/1.1\r\nHost: site.example\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n");
    expect(r.status).toBe(200);
    const got = JSON.parse(r.text());
    expect(got.url).toBe("/api/a%20b/c?x=1&y=%2F");
    expect(got.headers.host).toBe("site.example");
    expect(got.headers["x-forwarded-for"]).toBe("127.0.0.1"); // the client's own claim is not trusted
    expect(got.headers["x-forwarded-proto"]).toBe("http");
    expect(got.headers["x-forwarded-host"]).toBe("site.example");
  });

  test("the longest prefix wins, on whole segments", async () => {
    expect((await seen("/api/x")).url).toBe("/api/x");
    expect((await seen("/api")).url).toBe("/api");
    expect((await seen("/api?q=1")).url).toBe("/api?q=1");
    const r = await exchange(server.port, "GET /api/raw/z HTTP/1.1\r\nHost: h\r\n\r\n");
    expect(r.text()).toBe("ok"); // the raw backend, not the app
    const miss = await fetch(`${base}/apiary`);
    expect(miss.status).toBe(404);
    expect(await miss.text()).toBe("fell through");
    expect((await seen("/all/deep/er")).url).toBe("/all/deep/er");
    expect((await fetch(`${base}/all`)).status).toBe(404); // "/all/" takes what is below it
  });

  test("a proxy() route value", async () => {
    expect((await seen("/routed/thing?q")).url).toBe("/routed/thing?q");
    expect(await (await fetch(`${base}/local`)).text()).toBe("local");
  });

  test("every method goes up, with its body; CONNECT does not", async () => {
    for (const method of ["POST", "PUT", "PATCH", "DELETE", "OPTIONS", "PROPFIND"]) {
      const res = await fetch(`${base}/api/echo`, { method, body: method === "OPTIONS" ? undefined : `body of ${method}` });
      expect(res.headers.get("x-method")).toBe(method);
      expect(await res.text()).toBe(method === "OPTIONS" ? "" : `body of ${method}`);
    }
    // CONNECT is not passed on: with nothing else to answer it, 501.
    const mark = raw.received;
    const only = serve({ port: 0, hostname: "127.0.0.1", log: "off", proxy: { "/": `http://127.0.0.1:${raw.port}` } });
    try {
      const r = await exchange(only.port, "CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n");
      expect(r.status).toBe(501);
      expect(raw.received).toBe(mark);
    } finally {
      await only.stop(true);
    }
  });

  test("a body of known length streams up with it; a chunked one goes up chunked", async () => {
    const mark = raw.text().length;
    raw.answer = OK;
    let r = await exchange(server.port, "POST /api/raw/p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello");
    expect(r.status).toBe(200);
    expect(raw.text().slice(mark)).toContain("\r\nContent-Length: 5\r\n\r\nhello");
    // A chunked body: the raw backend cannot read chunked, so watch what the app makes of it.
    const c = await RawClient.connect(server.port);
    await c.send("POST /api/echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
    await c.send("6\r\n world\r\n0\r\n\r\n");
    r = await c.response();
    c.close();
    expect(r.status).toBe(200);
    expect(r.text()).toBe("hello world");
  });

  test("a large upload streams through (8 MiB, counted by the upstream as it reads)", async () => {
    const body = new Uint8Array(8 * 1024 * 1024).fill(7);
    const res = await fetch(`${base}/api/count`, { method: "POST", body });
    expect(await res.text()).toBe(`${body.length}`);
  });

  test("Expect: 100-continue is answered here, then the body goes up", async () => {
    const c = await RawClient.connect(server.port);
    await c.send("POST /api/echo HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
    const interim = await c.response();
    expect(interim.status).toBe(100);
    await c.send("ping");
    const r = await c.response();
    c.close();
    expect(r.status).toBe(200);
    expect(r.text()).toBe("ping");
  });
});

describe("what comes back", () => {
  test("a streamed upstream body goes out chunked as it comes", async () => {
    const r = await exchange(server.port, "GET /api/stream HTTP/1.1\r\nHost: h\r\n\r\n");
    expect(r.header("transfer-encoding")).toBe("chunked");
    expect(r.text()).toBe("piece 0\npiece 1\npiece 2\npiece 3\npiece 4\n");
  });

  test("an answer goes back as the upstream sent it: not compressed here (nginx's gzip_proxied is off too)", async () => {
    const r = await exchange(server.port, "GET /api/big-text HTTP/1.1\r\nHost: h\r\nAccept-Encoding: br, gzip\r\n\r\n");
    expect(r.status).toBe(200);
    expect(r.header("content-type")).toStartWith("application/json");
    expect(r.body.length).toBeGreaterThan(1024);
    expect(r.header("content-encoding")).toBeUndefined();
    expect(r.header("vary")).toBeUndefined();
  });

  test("several Set-Cookie fields stay separate", async () => {
    const r = await exchange(server.port, "GET /api/cookies HTTP/1.1\r\nHost: h\r\n\r\n");
    expect(r.headers.get("set-cookie")).toEqual(["a=1; Path=/", "b=2, with comma; Path=/"]);
  });

  test("HEAD gets the upstream's Content-Length and no body; 204 has neither", async () => {
    const c = await RawClient.connect(server.port);
    await c.send("HEAD /api/cookies HTTP/1.1\r\nHost: h\r\n\r\nGET /api/nothing HTTP/1.1\r\nHost: h\r\n\r\nGET /api/cookies HTTP/1.1\r\nHost: h\r\n\r\n");
    const head = await c.response();
    const none = await c.response();
    const get = await c.response();
    c.close();
    expect(head.status).toBe(200);
    expect(Number(head.header("content-length"))).toBe(get.body.length);
    expect(head.body.length).toBe(0);
    expect(none.status).toBe(204);
    expect(none.header("content-length")).toBeUndefined();
    expect(none.header("transfer-encoding")).toBeUndefined();
    expect(get.text()).toBe("c");
  });

  test("a body read until the upstream closes is re-framed, and that connection is not reused", async () => {
    raw.answer = (_req, conn) => void conn.write(`HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil close on ${conn.id}`).then(() => conn.end());
    const on = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const r = await exchange(server.port, "GET /api/raw/c HTTP/1.1\r\nHost: h\r\n\r\n");
      expect(r.status).toBe(200);
      expect(r.text()).toStartWith("until close on ");
      expect(r.header("connection")).toBeUndefined();
      on.add(r.text());
    }
    expect(on.size).toBe(3); // each on a connection of its own
    raw.answer = OK;
  });

  test("an HTTP/1.0 upstream's answer reaches an HTTP/1.1 client", async () => {
    raw.answer = (_req, conn) => void conn.write("HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\n1.0");
    const r = await exchange(server.port, "GET /api/raw/old HTTP/1.1\r\nHost: h\r\n\r\n");
    expect(r.text()).toBe("1.0");
    raw.answer = OK;
  });
});

describe("the keep-alive pool", () => {
  test("1,000 sequential requests use one upstream connection", async () => {
    raw.answer = OK;
    // Let the connections of earlier tests go idle and be counted out.
    const before = raw.accepted;
    const c = await RawClient.connect(server.port);
    for (let i = 0; i < 1000; i++) {
      await c.send(`GET /api/raw/${i} HTTP/1.1\r\nHost: h\r\n\r\n`);
      const r = await c.response();
      if (r.status !== 200 || r.text() !== "ok") throw new Error(`request ${i}: ${r.status} ${r.text()}`);
    }
    c.close();
    expect(raw.accepted - before).toBeLessThanOrEqual(1);
  });

  test("…and so do 200 requests from 200 client connections, one after another", async () => {
    const before = raw.accepted;
    for (let i = 0; i < 200; i++) {
      const r = await exchange(server.port, `GET /api/raw/${i} HTTP/1.1\r\nHost: h\r\n\r\n`);
      if (r.status !== 200) throw new Error(`request ${i}: ${r.status}`);
    }
    expect(raw.accepted - before).toBeLessThanOrEqual(1);
  });

  test("an upstream that closes after each response without saying so: each request still succeeds", async () => {
    raw.answer = OK;
    // No Connection: close: the proxy finds out by the FIN.
    const closer = RawBackend.start((_req, conn) => void conn.write(ok("once")).then(() => conn.end()));
    const s = serve({ port: 0, hostname: "127.0.0.1", log: "off", proxy: { "/": closer.url } });
    try {
      for (let i = 0; i < 20; i++) {
        const r = await exchange(s.port, "GET /x HTTP/1.1\r\nHost: h\r\n\r\n");
        expect(`${r.status} ${r.text()}`).toBe("200 once");
      }
    } finally {
      await s.stop(true);
      closer.stop();
    }
  });
});

describe("a client that leaves", () => {
  test("while the upstream works on its answer: the upstream's connection is closed too", async () => {
    let closed: () => void = () => {};
    const gone = new Promise<void>((resolve) => (closed = resolve));
    let got: () => void = () => {};
    const asked = new Promise<void>((resolve) => (got = resolve));
    const silent = Bun.listen<undefined>({ hostname: "127.0.0.1", port: 0, socket: { data: () => got(), close: () => closed() } });
    const s = serve({ port: 0, hostname: "127.0.0.1", log: "off", proxy: { "/": `http://127.0.0.1:${silent.port}` } });
    try {
      const c = await RawClient.connect(s.port);
      await c.send("GET /slow HTTP/1.1\r\nHost: h\r\n\r\n");
      await asked;
      c.close();
      const t0 = performance.now();
      await gone;
      expect(performance.now() - t0).toBeLessThan(2000); // not the 60 s proxy timeout
    } finally {
      await s.stop(true);
      silent.stop(true);
    }
  });
});

describe("a pooled connection closed under us", () => {
  /** Answers the first request on each connection; reads the second, then closes without a word. */
  const dropsSecond = () => RawBackend.start((req, conn) => (req.index === 0 ? void conn.write(ok("first")) : conn.reset()));

  test("an idempotent request is sent once more, on a fresh connection", async () => {
    const b = dropsSecond();
    const s = serve({ port: 0, hostname: "127.0.0.1", log: "off", proxy: { "/": b.url } });
    try {
      const c = await RawClient.connect(s.port);
      for (const method of ["GET", "PUT", "DELETE"]) {
        await c.send(`${method} /x HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n`);
        const r = await c.response();
        expect(`${method} ${r.status} ${r.text()}`).toBe(`${method} 200 first`);
      }
      c.close();
      // GET opened one; PUT found it pooled, lost it, and opened another; so did DELETE.
      expect(b.accepted).toBe(3);
    } finally {
      await s.stop(true);
      b.stop();
    }
  });

  test("a POST is not: 502", async () => {
    const b = dropsSecond();
    const s = serve({ port: 0, hostname: "127.0.0.1", log: "off", proxy: { "/": b.url } });
    try {
      const c = await RawClient.connect(s.port);
      await c.send("GET /x HTTP/1.1\r\nHost: h\r\n\r\n");
      expect((await c.response()).status).toBe(200);
      await c.send("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi");
      expect((await c.response()).status).toBe(502);
      c.close();
      expect(b.accepted).toBe(1);
    } finally {
      await s.stop(true);
      b.stop();
    }
  });

  test("an idle pooled connection is closed after about 4 s", async () => {
    let closed: (at: number) => void = () => {};
    const closedAt = new Promise<number>((resolve) => (closed = resolve));
    const l = Bun.listen<undefined>({
      hostname: "127.0.0.1",
      port: 0,
      socket: { data: (sock) => void sock.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), close: () => closed(performance.now()) },
    });
    const s = serve({ port: 0, hostname: "127.0.0.1", log: "off", proxy: { "/": `http://127.0.0.1:${l.port}` } });
    try {
      expect((await exchange(s.port, "GET / HTTP/1.1\r\nHost: h\r\n\r\n")).status).toBe(200);
      const t0 = performance.now();
      const at = await Promise.race([closedAt, Bun.sleep(10_000).then(() => Number.NaN)]);
      expect(at - t0).toBeGreaterThan(3000);
      expect(at - t0).toBeLessThan(7000);
    } finally {
      await s.stop(true);
      l.stop(true);
    }
  });
});

describe("configuration", () => {
  test("--proxy on the command line; a bad one is one clear line", async () => {
    const cli = await startCli(["--port", "0", "--log", "off", "--proxy", `/api=http://127.0.0.1:${app.port}`, "--proxy", `/raw=http://127.0.0.1:${raw.port}`]);
    try {
      const res = await fetch(new URL("/api/cli?z", cli.url));
      expect(((await res.json()) as { url: string }).url).toBe("/api/cli?z");
      const file = await fetch(new URL("/", cli.url)); // the rest is served as before: ./public
      expect(file.status).toBe(200);
    } finally {
      cli.kill();
    }
  });

  test("a path with dot segments is refused, not passed on", async () => {
    for (const path of ["/api/../secret", "/api/%2e%2E/secret", "/api/./x", "/api/.%2e", "/api/..", "/api/%2E", "/api/x/..?q=1"]) {
      const r = await exchange(server.port, `GET ${path} HTTP/1.1\r\nHost: h\r\n\r\n`);
      expect(r.status).toBe(400);
    }
    // A dot inside a name is no segment of its own.
    expect((await seen("/api/.well-known/x.y..z")).url).toBe("/api/.well-known/x.y..z");
    expect((await seen("/api/...%2e/%2e%2e%2e/a.?b=/../")).url).toBe("/api/...%2e/%2e%2e%2e/a.?b=/../"); // 3 dots, or dots in the query
  });
});

describe("metrics", () => {
  test("requests sent up and failures, by upstream and reason, from --proxy prefixes and proxy() routes", async () => {
    const { scrape, value } = await import("../metrics/exposition.ts");
    const dead = closedPort();
    const s = serve({
      port: 0,
      hostname: "127.0.0.1",
      log: "off",
      metrics: "/metrics",
      proxyTimeout: 300,
      proxy: { "/app": `http://127.0.0.1:${app.port}`, "/dead": `http://127.0.0.1:${dead}`, "/silent": `http://127.0.0.1:${raw.port}` },
      routes: { "/routed/*": proxy(`http://127.0.0.1:${app.port}`) },
    });
    raw.answer = () => {}; // says nothing: 504
    try {
      for (let i = 0; i < 3; i++) expect((await exchange(s.port, "GET /app/x HTTP/1.1\r\nHost: h\r\n\r\n")).status).toBe(200);
      expect((await exchange(s.port, "GET /routed/x HTTP/1.1\r\nHost: h\r\n\r\n")).status).toBe(200);
      expect((await exchange(s.port, "GET /dead/x HTTP/1.1\r\nHost: h\r\n\r\n")).status).toBe(502);
      expect((await exchange(s.port, "GET /silent/x HTTP/1.1\r\nHost: h\r\n\r\n")).status).toBe(504);
      const { metrics } = await scrape(s.port);
      expect(value(metrics, `http_proxy_upstream_requests_total{upstream="127.0.0.1:${app.port}"}`)).toBe(4);
      expect(value(metrics, `http_proxy_upstream_requests_total{upstream="127.0.0.1:${dead}"}`)).toBe(1);
      expect(value(metrics, `http_proxy_upstream_errors_total{upstream="127.0.0.1:${dead}",reason="connect"}`)).toBe(1);
      expect(value(metrics, `http_proxy_upstream_errors_total{upstream="127.0.0.1:${raw.port}",reason="timeout"}`)).toBe(1);
      expect(value(metrics, 'http_requests_total{code="502"}')).toBe(1);
      expect(value(metrics, 'http_requests_total{code="504"}')).toBe(1);
    } finally {
      raw.answer = OK;
      await s.stop(true);
    }
  });
});
