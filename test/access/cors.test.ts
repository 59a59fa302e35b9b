// CORS over TCP: the fields on every kind of response (a cached file sent whole, a streamed file, an
// app Response, a proxied answer, error pages, pipelined), preflights, the origin list, and nothing at
// all when CORS is off.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CORS_MAX_AGE, parseOrigins } from "../../src/access/cors.ts";
import { serve, type Server } from "../../src/index.ts";
import { exchange, RawClient, type RawResponse } from "../helpers/raw-client.ts";

let tmp: string;
const servers: Server[] = [];
let upstream: Server;
let anyPort: number; // cors: true
let listPort: number; // cors: [two origins]
let offPort: number; // no cors
let authPort: number; // cors: true, auth

const A = "http://a.example";
const B = "https://b.example:8443";
const EVIL = "http://evil.example";

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "bunhttp-cors-"));
  writeFileSync(join(tmp, "small.txt"), "small file\n");
  writeFileSync(join(tmp, "medium.bin"), new Uint8Array(30 * 1024)); // cached, sent whole by reference
  writeFileSync(join(tmp, "big.bin"), new Uint8Array(200 * 1024)); // over the cache limit: streamed
  upstream = serve({ port: 0, hostname: "127.0.0.1", log: "off", fetch: () => new Response("from upstream\n") });
  const base = {
    port: 0,
    hostname: "127.0.0.1",
    log: "off" as const,
    root: tmp,
    static: { cacheFileLimit: 64 * 1024 },
    proxy: { "/up": `http://127.0.0.1:${upstream.port}` },
    fetch(req: Request) {
      const path = new URL(req.url).pathname;
      if (path === "/app") return new Response("app says hi\n", { headers: { "X-App": "1" } });
      if (path === "/throw") throw new Error("boom (expected in this test)");
      return new Response("no such thing\n", { status: 404 });
    },
    error: () => new Response("oops\n", { status: 500 }),
  };
  const start = (extra: Record<string, unknown>) => {
    const s = serve({ ...base, ...extra });
    servers.push(s);
    return s.port;
  };
  anyPort = start({ cors: true });
  listPort = start({ cors: [A, B] });
  offPort = start({});
  authPort = start({ cors: true, auth: { credentials: "alice:s3cret" } });
});

afterAll(async () => {
  await Promise.all([...servers, upstream].map((s) => s.stop(true)));
  rmSync(tmp, { recursive: true, force: true });
});

const get = (path: string, extra = "", method = "GET", version = "1.1") => `${method} ${path} HTTP/${version}\r\nHost: t\r\n${extra}\r\n`;
const preflight = (origin: string, method = "PUT", headers = "x-custom") =>
  `OPTIONS /app HTTP/1.1\r\nHost: t\r\nOrigin: ${origin}\r\nAccess-Control-Request-Method: ${method}\r\n${headers ? `Access-Control-Request-Headers: ${headers}\r\n` : ""}\r\n`;
const all = (r: RawResponse, name: string) => r.headers.get(name) ?? [];
const varyList = (r: RawResponse) => all(r, "vary").flatMap((v) => v.split(",").map((s) => s.trim().toLowerCase()));

/** Every kind of response the server makes, with the status and a part of the body it should have. */
const KINDS: { name: string; request: (extra: string) => string; status: number; body?: string }[] = [
  { name: "a cached file, sent whole (pre-encoded)", request: (x) => get("/small.txt", x), status: 200, body: "small file\n" },
  { name: "a larger cached file, sent whole by reference", request: (x) => get("/medium.bin", x), status: 200 },
  { name: "a cached file to HEAD", request: (x) => get("/small.txt", x, "HEAD"), status: 200 },
  { name: "a cached file over HTTP/1.0", request: (x) => get("/small.txt", x, "GET", "1.0"), status: 200, body: "small file\n" },
  { name: "a file streamed from disk", request: (x) => get("/big.bin", x), status: 200 },
  { name: "a 304 for a file", request: (x) => get("/small.txt", `${x}If-Modified-Since: ${new Date(Date.now() + 86_400_000).toUTCString()}\r\n`), status: 304 },
  { name: "a range of a file", request: (x) => get("/big.bin", `${x}Range: bytes=0-9\r\n`), status: 206 },
  { name: "an app Response", request: (x) => get("/app", x), status: 200, body: "app says hi\n" },
  { name: "a proxied answer", request: (x) => get("/up/x", x), status: 200, body: "from upstream\n" },
  { name: "the app's 404", request: (x) => get("/nothing", x), status: 404 },
  { name: "a handler that throws (error page)", request: (x) => get("/throw", x), status: 500 },
  { name: "a method a file does not take (405)", request: (x) => get("/small.txt", `${x}Content-Length: 0\r\n`, "DELETE"), status: 405 },
];

describe("--cors: Access-Control-Allow-Origin: * on every response", () => {
  for (const kind of KINDS) {
    test(kind.name, async () => {
      for (const origin of ["", `Origin: ${A}\r\n`]) {
        const r = await exchange(anyPort, kind.request(origin));
        expect(r.status).toBe(kind.status);
        if (kind.body !== undefined) expect(r.text()).toBe(kind.body);
        if (kind.name.includes("by reference")) expect(r.body.length).toBe(30 * 1024);
        expect(all(r, "access-control-allow-origin")).toEqual(["*"]);
        expect(all(r, "access-control-expose-headers")).toEqual(["*"]);
        // With `*`, credentials must not be allowed (Fetch §3.2.5), and the answer does not vary by origin.
        expect(r.header("access-control-allow-credentials")).toBeUndefined();
        expect(varyList(r)).not.toContain("origin");
      }
    });
  }

  test("pipelined requests for a cached file each get it (the pre-encoded response is not sent as is)", async () => {
    const c = await RawClient.connect(anyPort);
    try {
      await c.send(get("/small.txt").repeat(3));
      for (let i = 0; i < 3; i++) {
        const r = await c.response();
        expect(r.text()).toBe("small file\n");
        expect(all(r, "access-control-allow-origin")).toEqual(["*"]);
      }
    } finally {
      c.close();
    }
  });

  test("compressed app answers keep both Vary: Accept-Encoding and the CORS field", async () => {
    const s = serve({ port: 0, hostname: "127.0.0.1", log: "off", cors: [A], fetch: () => new Response("x".repeat(4000)) });
    try {
      const r = await exchange(s.port, get("/", `Origin: ${A}\r\nAccept-Encoding: gzip\r\n`));
      expect(r.header("content-encoding")).toBe("gzip");
      expect(varyList(r)).toEqual(expect.arrayContaining(["accept-encoding", "origin"]));
      expect(r.header("access-control-allow-origin")).toBe(A);
    } finally {
      await s.stop(true);
    }
  });
});

describe("a response with its own Access-Control-Allow-Origin", () => {
  const OWN = "https://own.example";
  let own: Server;
  const ports: Record<"any" | "list", number> = { any: 0, list: 0 };
  beforeAll(() => {
    const root = join(tmp, "own");
    mkdirSync(root);
    writeFileSync(join(root, "own.txt"), "own file\n");
    writeFileSync(join(root, "serve.json"), JSON.stringify({ headers: [{ source: "/own.txt", headers: [{ key: "Access-Control-Allow-Origin", value: OWN }] }] }));
    own = serve({ port: 0, hostname: "127.0.0.1", log: "off", fetch: () => new Response("upstream's\n", { headers: { "access-control-allow-origin": OWN } }) });
    const make = (cors: boolean | string[]) => {
      const s = serve({
        port: 0,
        hostname: "127.0.0.1",
        log: "off",
        root,
        cors,
        proxy: { "/up": `http://127.0.0.1:${own.port}` },
        handler(req) {
          if (req.url === "/record") return { headers: { "ACCESS-CONTROL-ALLOW-ORIGIN": OWN }, body: "record\n" };
          if (req.url === "/pairs") return { headers: [["Access-Control-Allow-Origin", OWN]], body: "pairs\n" };
          if (req.url === "/bytes") return { headers: new TextEncoder().encode(`access-control-allow-origin: ${OWN}\r\n`), body: "bytes\n" };
          return null;
        },
        fetch: () => new Response("app's\n", { headers: { "Access-Control-Allow-Origin": OWN } }),
      });
      servers.push(s);
      return s.port;
    };
    ports.any = make(true);
    ports.list = make([A]);
  });
  afterAll(() => own.stop(true));

  const OWNERS: [string, string][] = [
    ["an app Response (Headers)", "/app"],
    ["a Reply with a record of fields", "/record"],
    ["a Reply with pairs", "/pairs"],
    ["a Reply with pre-encoded lines", "/bytes"],
    ["a file whose serve.json headers set it (pre-encoded whole)", "/own.txt"],
    ["a proxied answer", "/up/x"],
  ];
  for (const [name, path] of OWNERS) {
    test(`${name}: only its own goes out; under a list, Vary: Origin still does`, async () => {
      for (const method of ["GET", "HEAD"]) {
        const any = await exchange(ports.any, get(path, `Origin: ${A}\r\n`, method));
        expect(any.status).toBe(200);
        expect(all(any, "access-control-allow-origin")).toEqual([OWN]);
        expect(any.header("access-control-expose-headers")).toBeUndefined();
        expect(varyList(any)).not.toContain("origin");
        for (const origin of [A, EVIL]) {
          const list = await exchange(ports.list, get(path, `Origin: ${origin}\r\n`, method));
          expect(list.status).toBe(200);
          expect(all(list, "access-control-allow-origin")).toEqual([OWN]);
          expect(list.header("access-control-allow-credentials")).toBeUndefined();
          expect(list.header("access-control-expose-headers")).toBeUndefined();
          expect(varyList(list)).toContain("origin");
        }
      }
    });
  }

  test("a field that only starts like it (or a value naming it) does not count", async () => {
    const s = serve({
      port: 0,
      hostname: "127.0.0.1",
      log: "off",
      cors: true,
      handler: () => ({ headers: new TextEncoder().encode("Access-Control-Allow-Origins: x\r\nX-Note: Access-Control-Allow-Origin: y\r\n"), body: "x" }),
    });
    try {
      const r = await exchange(s.port, get("/", `Origin: ${A}\r\n`));
      expect(all(r, "access-control-allow-origin")).toEqual(["*"]);
    } finally {
      await s.stop(true);
    }
  });
});

describe("pipelined on one connection", () => {
  test("each request gets its own CORS fields and user: none carried over from the one before", async () => {
    const logged: string[] = [];
    const s = serve({
      port: 0,
      hostname: "127.0.0.1",
      root: tmp,
      cors: [A],
      auth: { credentials: "alice:s3cret" },
      log: "common",
      logWrite: (t: string) => void logged.push(t),
    });
    const auth = `Authorization: Basic ${btoa("alice:s3cret")}\r\n`;
    const c = await RawClient.connect(s.port);
    try {
      // A listed origin with credentials, then neither, then another origin with credentials, then a
      // listed one without: a cached file (pre-encoded) each time.
      await c.send(
        get("/small.txt?1", `Origin: ${A}\r\n${auth}`) + get("/small.txt?2") + get("/small.txt?3", `Origin: ${EVIL}\r\n${auth}`) + get("/small.txt?4", `Origin: ${A}\r\n`),
      );
      const [first, second, third, fourth] = [await c.response(), await c.response(), await c.response(), await c.response()];
      expect(first.status).toBe(200);
      expect(all(first, "access-control-allow-origin")).toEqual([A]);
      expect(second.status).toBe(401);
      for (const r of [second, third]) {
        expect(r.header("access-control-allow-origin")).toBeUndefined();
        expect(r.header("access-control-allow-credentials")).toBeUndefined();
        expect(varyList(r)).toEqual(["origin"]);
      }
      expect(third.status).toBe(200);
      expect(fourth.status).toBe(401);
      expect(all(fourth, "access-control-allow-origin")).toEqual([A]);
    } finally {
      c.close();
      await s.stop(true);
    }
    const users = logged.join("").trim().split("\n").map((line) => /^\S+ \S+ (\S+) .*"GET \/small\.txt\?(\d)/.exec(line)!.slice(1).join(" "));
    expect(users).toEqual(["alice 1", "- 2", "alice 3", "- 4"]);
  });
});

describe("errors the engine writes itself", () => {
  let port: number;
  let entered: (() => void) | null = null;
  beforeAll(() => {
    const s = serve({
      port: 0,
      hostname: "127.0.0.1",
      log: "off",
      cors: true,
      maxBody: 100,
      maxHeaderSize: 1024,
      headerTimeout: 500,
      bodyTimeout: 500,
      async fetch(req) {
        entered?.();
        return new Response(`read ${(await req.text()).length}\n`);
      },
    });
    servers.push(s);
    port = s.port;
  });
  const ORIGIN = `Origin: ${A}\r\n`;
  const post = (fields: string) => `POST /up HTTP/1.1\r\nHost: t\r\n${ORIGIN}${fields}\r\n`;

  /** Sends `first`; once the app has been called (if `rest` is given), sends `rest`; gives the answer. */
  async function answer(first: string, rest?: string): Promise<RawResponse> {
    const c = await RawClient.connect(port);
    try {
      const called = new Promise<void>((resolve) => (entered = resolve));
      await c.send(first);
      if (rest !== undefined) {
        await called;
        if (rest !== "") await c.send(rest);
      }
      return await c.response();
    } finally {
      entered = null;
      c.close();
    }
  }

  test.each([
    ["a malformed head (400)", `GET / HTTP/1.1\r\nHost: t\r\n${ORIGIN}Bad Header\r\n\r\n`, 400],
    ["a head too large (431)", `GET / HTTP/1.1\r\nHost: t\r\n${ORIGIN}X-Big: ${"a".repeat(2000)}\r\n\r\n`, 431],
    ["a head too slow (408)", `GET / HTTP/1.1\r\nHost: t\r\n${ORIGIN}`, 408],
    ["a Content-Length over maxBody (413)", post("Content-Length: 1000\r\n"), 413],
  ])("before any handler ran, %s: no CORS fields (the README says so)", async (_name, raw, status) => {
    const r = await answer(raw);
    expect(r.status).toBe(status);
    expect(r.header("access-control-allow-origin")).toBeUndefined();
  });

  test.each([
    ["a chunked body that grows past maxBody (413)", `10\r\n${"a".repeat(16)}\r\n`, `c8\r\n${"b".repeat(200)}\r\n0\r\n\r\n`, 413],
    ["a body too slow (408)", "", "", 408],
    ["a bad chunk (400)", `5\r\nhello\r\n`, "zz\r\n", 400],
  ])("while a handler reads the body, %s: the CORS fields it was given", async (_name, part, rest, status) => {
    const fields = status === 408 ? "Content-Length: 10\r\n" : "Transfer-Encoding: chunked\r\n";
    const r = await answer(post(fields) + (status === 408 ? "ab" : part), rest);
    expect(r.status).toBe(status);
    expect(all(r, "access-control-allow-origin")).toEqual(["*"]);
    expect(r.header("connection")).toBe("close");
  });
});

describe("preflights", () => {
  test("OPTIONS with Origin and Access-Control-Request-Method: 204, the method and fields asked for, Max-Age", async () => {
    const r = await exchange(anyPort, preflight(A, "PUT", "x-custom, content-type"));
    expect(r.status).toBe(204);
    expect(r.body.length).toBe(0);
    expect(r.header("access-control-allow-origin")).toBe("*");
    expect(r.header("access-control-allow-methods")).toBe("PUT");
    expect(r.header("access-control-allow-headers")).toBe("x-custom, content-type");
    expect(r.header("access-control-max-age")).toBe(String(CORS_MAX_AGE));
    expect(varyList(r)).toEqual(expect.arrayContaining(["access-control-request-method", "access-control-request-headers"]));
  });

  test("fields asked for that are not tokens are not echoed (the method is still allowed)", async () => {
    const r = await exchange(anyPort, preflight(A, "PATCH", "x-ok, bad@name"));
    expect(r.status).toBe(204);
    expect(r.header("access-control-allow-methods")).toBe("PATCH");
    expect(r.header("access-control-allow-headers")).toBeUndefined();
  });

  test.each([
    ["x-a,x-b", true],
    ["x-a ,\tx-b", true],
    ["x-a,,x-b", false],
    ["x-a,", false],
    ["x-\xe9", false],
  ])("Access-Control-Request-Headers %p echoed: %p", async (asked, echoed) => {
    const r = await exchange(anyPort, Buffer.from(preflight(A, "PUT", asked), "latin1"));
    expect(r.status).toBe(204);
    expect(r.header("access-control-allow-headers")).toBe(echoed ? asked : undefined);
  });

  test("an OPTIONS that is not a preflight (no Access-Control-Request-Method) goes down the chain", async () => {
    const r = await exchange(anyPort, get("/small.txt", `Origin: ${A}\r\n`, "OPTIONS"));
    expect(r.header("access-control-allow-methods")).toBeUndefined();
    expect(r.header("access-control-allow-origin")).toBe("*");
  });

  test("preflights carry no credentials: answered before auth; the actual request's 401 carries CORS", async () => {
    const pre = await exchange(authPort, preflight(A));
    expect(pre.status).toBe(204);
    expect(pre.header("access-control-allow-origin")).toBe("*");
    const denied = await exchange(authPort, get("/app", `Origin: ${A}\r\n`));
    expect(denied.status).toBe(401);
    expect(denied.header("www-authenticate")).toStartWith("Basic ");
    expect(denied.header("access-control-allow-origin")).toBe("*");
    const ok = await exchange(authPort, get("/app", `Origin: ${A}\r\nAuthorization: Basic ${btoa("alice:s3cret")}\r\n`));
    expect(ok.status).toBe(200);
    expect(ok.header("access-control-allow-origin")).toBe("*");
  });

  test("without CORS, a preflight is an ordinary OPTIONS (no CORS fields)", async () => {
    const r = await exchange(offPort, preflight(A));
    expect(r.header("access-control-allow-origin")).toBeUndefined();
    expect(r.header("access-control-allow-methods")).toBeUndefined();
  });
});

describe("--cors-origin: a list of origins", () => {
  for (const kind of KINDS) {
    test(`${kind.name}: the matching origin echoed, with credentials; Vary: Origin whatever the origin`, async () => {
      const yes = await exchange(listPort, kind.request(`Origin: ${B}\r\n`));
      expect(yes.status).toBe(kind.status);
      expect(all(yes, "access-control-allow-origin")).toEqual([B]);
      expect(yes.header("access-control-allow-credentials")).toBe("true");
      expect(yes.header("access-control-expose-headers")).toContain("ETag");
      expect(varyList(yes)).toContain("origin");
      // Another origin, or none: no Allow-Origin, but the same Vary, so a cache keeps them apart.
      for (const extra of [`Origin: ${EVIL}\r\n`, ""]) {
        const no = await exchange(listPort, kind.request(extra));
        expect(no.status).toBe(kind.status);
        expect(no.header("access-control-allow-origin")).toBeUndefined();
        expect(no.header("access-control-allow-credentials")).toBeUndefined();
        expect(varyList(no)).toContain("origin");
      }
    });
  }

  test("a preflight from a listed origin is allowed; from another, 204 without any Allow field", async () => {
    const yes = await exchange(listPort, preflight(A, "DELETE", ""));
    expect(yes.status).toBe(204);
    expect(yes.header("access-control-allow-origin")).toBe(A);
    expect(yes.header("access-control-allow-credentials")).toBe("true");
    expect(yes.header("access-control-allow-methods")).toBe("DELETE");
    expect(yes.header("access-control-allow-headers")).toBeUndefined();
    const no = await exchange(listPort, preflight(EVIL));
    expect(no.status).toBe(204);
    for (const name of ["access-control-allow-origin", "access-control-allow-methods", "access-control-allow-headers", "access-control-max-age"]) {
      expect(no.header(name)).toBeUndefined();
    }
    expect(varyList(no)).toContain("origin");
  });

  test("an origin is compared whole: a prefix, a suffix or another port does not match", async () => {
    for (const origin of ["http://a.example.evil", "http://a.exampl", "http://a.example:8080", "https://a.example", "null"]) {
      const r = await exchange(listPort, get("/app", `Origin: ${origin}\r\n`));
      expect(r.header("access-control-allow-origin")).toBeUndefined();
    }
  });
});

describe("off", () => {
  test("no CORS field and no Vary: Origin on any kind of response", async () => {
    for (const kind of KINDS) {
      const r = await exchange(offPort, kind.request(`Origin: ${A}\r\n`));
      expect(r.status).toBe(kind.status);
      expect([...r.headers.keys()].filter((n) => n.startsWith("access-control-"))).toEqual([]);
      expect(varyList(r)).not.toContain("origin");
    }
  });
});

describe("parseOrigins", () => {
  test.each([
    ["https://app.example", ["https://app.example"]],
    ["HTTP://A.Example/", ["http://a.example"]],
    ["http://127.0.0.1:3000, https://b.example:8443", ["http://127.0.0.1:3000", "https://b.example:8443"]],
  ])("%p is read as %p", (given, want) => {
    expect(parseOrigins(given)).toEqual(want);
  });

  test.each(["https://app.example/path", "app.example", "null", "*", "", "https://a.example?x"])("%p is refused", (given) => {
    expect(() => parseOrigins(given)).toThrow(/origin/);
  });
});
