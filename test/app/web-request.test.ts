// The Request a fetch handler gets fills its Headers on first use (src/app/web-request.ts): every way
// of reading them, from JavaScript or inside Bun, must see all the fields, exactly as sent.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { toWebRequest } from "../../src/app/fetch.ts";
import { WebRequest } from "../../src/app/web-request.ts";
import { RequestHead } from "../../src/http/head.ts";
import { parseRequestHead } from "../../src/http/parser.ts";
import { serve, type Server } from "../../src/index.ts";
import { RequestBody } from "../../src/server/request-body.ts";
import { ServerRequest } from "../../src/server/request.ts";
import { exchange, RawClient } from "../helpers/raw-client.ts";

const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const peer = { remoteAddress: "127.0.0.1", remotePort: 1, secure: false, setWaitTimeout() {} };
const NO_FEEDER = { onBodyWanted() {}, onBodyRoom() {}, onBodyAbandoned() {} };

/** A Web Request made from raw request bytes, as the fetch door makes it. */
function webRequest(raw: string, head = new RequestHead()): Request {
  const bytes = latin1(raw);
  const n = parseRequestHead(bytes, 0, bytes.length, head);
  if (n <= 0) throw new Error(`did not parse: ${n}`);
  const body = head.contentLength > 0 ? RequestBody.whole(bytes.slice(n, n + head.contentLength), NO_FEEDER) : null;
  return toWebRequest(new ServerRequest(head, body, peer), "fallback");
}

const GET = "GET /p?q=1 HTTP/1.1\r\nHost: example.test\r\nX-Custom: caf\xe9\r\nAccept: a\r\naccept: b\r\nCookie: a=1\r\n\r\n";
const EXPECTED: [string, string][] = [
  ["accept", "a, b"],
  ["cookie", "a=1"],
  ["host", "example.test"],
  ["x-custom", "café"],
];
const FORM = "POST /f HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\na=1&b=2";

describe("headers filled on first use", () => {
  test("the headers getter: every field, names lower-cased, repeats joined, Latin-1 kept; one Headers object", () => {
    const r = webRequest(GET);
    expect(r instanceof Request && r instanceof WebRequest).toBe(true);
    expect(r.constructor.name).toBe("Request");
    expect([...r.headers]).toEqual(EXPECTED);
    expect(r.headers).toBe(r.headers);
    expect(r.url).toBe("http://example.test/p?q=1");
  });

  test("native readers see them too: new Request(r), new Request(url, r), clone(), Bun.inspect", () => {
    expect([...new Request(webRequest(GET)).headers]).toEqual(EXPECTED);
    expect([...new Request("http://other/", webRequest(GET)).headers]).toEqual(EXPECTED);
    expect([...webRequest(GET).clone().headers]).toEqual(EXPECTED);
    expect(Bun.inspect(webRequest(GET))).toContain("café");
  });

  test("formData() and blob() see the Content-Type without the headers being read first", async () => {
    expect(Object.fromEntries((await webRequest(FORM).formData()).entries())).toEqual({ a: "1", b: "2" });
    expect((await webRequest(FORM).blob()).type).toBe("application/x-www-form-urlencoded");
    expect(await webRequest(FORM).text()).toBe("a=1&b=2");
  });

  test("the fields survive the connection reusing its head and buffer for the next request", () => {
    const head = new RequestHead();
    const first = webRequest(GET, head);
    webRequest("GET / HTTP/1.1\r\nHost: zzzzzzzzzzzz\r\nX-Other: 1\r\n\r\n", head);
    expect([...first.headers]).toEqual(EXPECTED);
  });

  test("a request without fields (HTTP/1.0) has empty headers", () => {
    expect([...webRequest("GET / HTTP/1.0\r\n\r\n").headers]).toEqual([]);
  });
});

describe("through the server", () => {
  let echo: ReturnType<typeof Bun.serve>;
  let ours: Server;
  const kept: Request[] = [];
  beforeAll(() => {
    // What a forwarded request arrives with.
    echo = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (r) => Response.json([...r.headers].filter(([k]) => k.startsWith("x-"))) });
    ours = serve({
      port: 0,
      hostname: "127.0.0.1",
      log: "off",
      fetch: async (request, server) => {
        const path = new URL(request.url).pathname;
        // Forwarded without reading a header here: the fields must go along.
        if (path === "/forward") return fetch(new Request(`http://127.0.0.1:${echo.port}/`, request));
        if (path === "/forward-as-is") return fetch(request); // its Host names the echo server
        if (path === "/to-bun-server") return echo.fetch(new Request(request));
        if (path === "/ip") return new Response(server.requestIP(request)?.address ?? "none");
        if (path === "/keep") {
          kept.push(request); // its headers are read only later, after more requests on the connection
          return new Response("kept");
        }
        if (path === "/read-kept") return Response.json(kept.map((r) => r.headers.get("x-n")));
        return Response.json([...request.headers]);
      },
    });
  });
  afterAll(async () => {
    await ours.stop(true);
    echo.stop(true);
  });

  test("the handler sees every field as sent", async () => {
    const r = await exchange(ours.port, "GET /h HTTP/1.1\r\nHost: t\r\nX-A: 1\r\nX-B: two words\r\n\r\n");
    expect(JSON.parse(r.text())).toEqual([
      ["host", "t"],
      ["x-a", "1"],
      ["x-b", "two words"],
    ]);
  });

  test("a request forwarded with fetch() carries its fields", async () => {
    for (const path of ["/forward", "/forward-as-is"]) {
      const r = await exchange(ours.port, `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${echo.port}\r\nX-Trace: abc\r\n\r\n`);
      expect(JSON.parse(r.text())).toEqual([["x-trace", "abc"]]);
    }
  });

  test("a Request kept past its response still has its fields, however the bytes arrived", async () => {
    const c = await RawClient.connect(ours.port);
    const keep = (n: number) => `GET /keep HTTP/1.1\r\nHost: t\r\nX-N: ${n}-${"v".repeat(n * 7)}\r\n\r\n`;
    await c.send(keep(1));
    await c.response();
    // Request 2 in pieces, the last one running on into request 3: the connection holds them in its own
    // buffer, which takes more bytes after request 2 was handled.
    const two = keep(2);
    const three = keep(3);
    const pieces = [two.slice(0, 10), two.slice(10, 30), two.slice(30, -1), two.slice(-1) + three.slice(0, 20), three.slice(20, 30)];
    for (const piece of pieces) {
      await c.send(piece);
      await Bun.sleep(5); // so that the pieces arrive as separate reads
    }
    await c.send(three.slice(30) + keep(4) + "GET /read-kept HTTP/1.1\r\nHost: t\r\n\r\n"); // pipelined
    for (let i = 0; i < 3; i++) await c.response();
    const read = await c.response();
    expect(JSON.parse(read.text())).toEqual([1, 2, 3, 4].map((n) => `${n}-${"v".repeat(n * 7)}`));
    c.close();
  });

  test("another Bun.serve's server.fetch() gets the fields through new Request(request), as documented", async () => {
    const r = await exchange(ours.port, `GET /to-bun-server HTTP/1.1\r\nHost: t\r\nX-Trace: in-process\r\n\r\n`);
    expect(JSON.parse(r.text())).toEqual([["x-trace", "in-process"]]);
  });

  test("server.requestIP(request) still knows the peer", async () => {
    expect((await exchange(ours.port, "GET /ip HTTP/1.1\r\nHost: t\r\n\r\n")).text()).toBe("127.0.0.1");
  });
});
