// The head a proxied request goes up with, and the fields of the response that come back: table cases,
// each also parsed from inside a buffer of poison bytes (the builders must keep to their offsets).
import { describe, expect, test } from "bun:test";
import { RequestHead } from "../../src/http/head.ts";
import { parseRequestHead } from "../../src/http/parser.ts";
import { parseResponseHead, ResponseHead } from "../../src/http/response-parser.ts";
import { clientResponseFields, type ForwardInput, scratchBytes, upstreamRequestHead } from "../../src/proxy/forwarded-fields.ts";

const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const text = (b: Uint8Array) => String.fromCharCode(...b);

/** `raw` at offset `pad` inside poison bytes ('X'), so an offset mistake shows. */
function placed(raw: string, pad: number): { buf: Uint8Array; start: number; end: number } {
  const buf = new Uint8Array(pad + raw.length + pad).fill(0x58);
  buf.set(latin1(raw), pad);
  return { buf, start: pad, end: pad + raw.length };
}

const BASE: ForwardInput = { peer: "10.0.0.9", trusted: false, proto: "http", fallbackHost: "up:3000", bodyLength: 0, explicitZero: false, upgrade: false };

function up(raw: string, f: Partial<ForwardInput> = {}, pad = 0): string {
  const { buf, start, end } = placed(raw, pad);
  const head = new RequestHead();
  const n = parseRequestHead(buf, start, end, head);
  if (n <= 0) throw new Error(`request did not parse: ${n}`);
  return text(scratchBytes().subarray(0, upstreamRequestHead(head, { ...BASE, ...f })));
}

const FORWARDING = (host: string, xff = "10.0.0.9", proto = "http", xfh = host) =>
  `Host: ${host}\r\nX-Forwarded-For: ${xff}\r\nX-Forwarded-Proto: ${proto}\r\nX-Forwarded-Host: ${xfh}\r\n`;
const OURS = (host: string, xff?: string, proto?: string, xfh?: string) => `${FORWARDING(host, xff, proto, xfh)}Via: 1.1 bunhttp\r\n`;

const REQUEST_CASES: { name: string; raw: string; f?: Partial<ForwardInput>; want: string }[] = [
  {
    name: "a plain GET keeps its fields, Host and target as sent",
    raw: "GET /api/x?y=1&z HTTP/1.1\r\nHost: site.test\r\nAccept: */*\r\nUser-Agent: t\r\n\r\n",
    want: `GET /api/x?y=1&z HTTP/1.1\r\nAccept: */*\r\nUser-Agent: t\r\n${OURS("site.test")}\r\n`,
  },
  {
    name: "hop-by-hop fields and the fields Connection names are dropped",
    raw:
      "GET / HTTP/1.1\r\nConnection: keep-alive, X-Secret\r\nHost: h\r\nKeep-Alive: timeout=5\r\nX-Secret: s\r\nTE: trailers\r\n" +
      "Trailer: X\r\nUpgrade: h2c\r\nProxy-Authorization: Basic x\r\nProxy-Connection: keep-alive\r\nX-Kept: k\r\n\r\n",
    want: `GET / HTTP/1.1\r\nX-Kept: k\r\n${OURS("h")}\r\n`,
  },
  {
    name: "Connection may name a field in another case, and name several, with odd spacing",
    raw: "GET / HTTP/1.1\r\nHost: h\r\nx-a: 1\r\nX-B: 2\r\nConnection: X-A ,x-b\r\nX-C: 3\r\n\r\n",
    want: `GET / HTTP/1.1\r\nX-C: 3\r\n${OURS("h")}\r\n`,
  },
  {
    name: "an untrusted peer's forwarding fields are replaced",
    raw: "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 1.2.3.4\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: evil\r\nForwarded: for=1.2.3.4\r\n\r\n",
    want: `GET / HTTP/1.1\r\n${OURS("h")}\r\n`,
  },
  {
    name: "a trusted peer's forwarding fields are kept, X-Forwarded-For appended to (repeats joined)",
    raw: "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 1.2.3.4\r\nX-Forwarded-For: 5.6.7.8\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: outer\r\nForwarded: for=1.2.3.4\r\n\r\n",
    f: { trusted: true },
    want: `GET / HTTP/1.1\r\n${FORWARDING("h", "1.2.3.4, 5.6.7.8, 10.0.0.9", "https", "outer")}Forwarded: for=1.2.3.4\r\nVia: 1.1 bunhttp\r\n\r\n`,
  },
  {
    name: "a trusted peer that sent none gets ours",
    raw: "GET / HTTP/1.1\r\nHost: h\r\n\r\n",
    f: { trusted: true, proto: "https" },
    want: `GET / HTTP/1.1\r\n${OURS("h", "10.0.0.9", "https")}\r\n`,
  },
  {
    name: "HTTP/1.0 without Host gets the upstream's authority, and goes up as HTTP/1.1 (Via says 1.0)",
    raw: "GET /p HTTP/1.0\r\nAccept: a\r\n\r\n",
    want: `GET /p HTTP/1.1\r\nAccept: a\r\n${FORWARDING("up:3000")}Via: 1.0 bunhttp\r\n\r\n`,
  },
  {
    name: "Via: ours is added after the ones before us (repeats joined)",
    raw: "GET / HTTP/1.1\r\nVia: 1.1 edge\r\nHost: h\r\nvia: 1.0 cdn (x)\r\n\r\n",
    want: `GET / HTTP/1.1\r\n${FORWARDING("h")}Via: 1.1 edge, 1.0 cdn (x), 1.1 bunhttp\r\n\r\n`,
  },
  {
    name: "a body of known length: our Content-Length, Expect dropped",
    raw: "POST /u HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\nContent-Type: text/plain\r\n\r\n",
    f: { bodyLength: 5 },
    want: `POST /u HTTP/1.1\r\nContent-Type: text/plain\r\n${OURS("h")}Content-Length: 5\r\n\r\n`,
  },
  {
    name: "a chunked body goes up chunked, with our Transfer-Encoding",
    raw: "POST /u HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n",
    f: { bodyLength: -1 },
    want: `POST /u HTTP/1.1\r\n${OURS("h")}Transfer-Encoding: chunked\r\n\r\n`,
  },
  {
    name: "an explicit Content-Length: 0 stays",
    raw: "POST /u HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
    f: { explicitZero: true },
    want: `POST /u HTTP/1.1\r\n${OURS("h")}Content-Length: 0\r\n\r\n`,
  },
  {
    name: "a handshake keeps Upgrade, with Connection: upgrade",
    raw: "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\nSec-WebSocket-Version: 13\r\n\r\n",
    f: { upgrade: true },
    want: `GET /ws HTTP/1.1\r\nSec-WebSocket-Key: k\r\nSec-WebSocket-Version: 13\r\n${OURS("h")}Connection: upgrade\r\nUpgrade: websocket\r\n\r\n`,
  },
  {
    name: "absolute-form goes up in origin-form",
    raw: "GET http://h/a/b?c HTTP/1.1\r\nHost: h\r\n\r\n",
    want: `GET /a/b?c HTTP/1.1\r\n${OURS("h")}\r\n`,
  },
  {
    name: "field whitespace is kept as received",
    raw: "GET / HTTP/1.1\r\nHost: h\r\nX-A:   spaced  \r\nX-B:\tt\r\n\r\n",
    want: `GET / HTTP/1.1\r\nX-A:   spaced  \r\nX-B:\tt\r\n${OURS("h")}\r\n`,
  },
];

describe("upstreamRequestHead", () => {
  for (const c of REQUEST_CASES) {
    test(c.name, () => {
      expect(up(c.raw, c.f)).toBe(c.want);
      expect(up(c.raw, c.f, 37)).toBe(c.want); // from inside poison bytes
    });
  }

  test("a head of many fields (past the first table size) keeps them all", () => {
    let fields = "";
    for (let i = 0; i < 90; i++) fields += `X-F${i}: ${i}\r\n`;
    expect(up(`GET / HTTP/1.1\r\nHost: h\r\n${fields}\r\n`)).toBe(`GET / HTTP/1.1\r\n${fields}${OURS("h")}\r\n`);
  });

  test("a body given goes right after the head", () => {
    const { buf, start, end } = placed("POST /u HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n", 11);
    const head = new RequestHead();
    parseRequestHead(buf, start, end, head);
    const n = upstreamRequestHead(head, { ...BASE, bodyLength: 5 }, latin1("hello"));
    expect(text(scratchBytes().subarray(0, n))).toBe(`POST /u HTTP/1.1\r\n${OURS("h")}Content-Length: 5\r\n\r\nhello`);
  });

  test("a long Host fits twice (Host and X-Forwarded-Host)", () => {
    const host = "h".repeat(4000);
    expect(up(`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`)).toBe(`GET / HTTP/1.1\r\n${OURS(host)}\r\n`);
  });
});

function back(raw: string, upgrade = false, pad = 0): string {
  const { buf, start, end } = placed(raw, pad);
  const head = new ResponseHead();
  const n = parseResponseHead(buf, start, end, head);
  if (n <= 0) throw new Error(`response did not parse: ${n}`);
  return text(clientResponseFields(head, upgrade));
}

const RESPONSE_CASES: { name: string; raw: string; upgrade?: boolean; want: string }[] = [
  {
    name: "end-to-end fields pass, Set-Cookie lines stay separate",
    raw: "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nETag: \"x\"\r\nContent-Length: 3\r\n\r\n",
    want: 'Content-Type: text/html\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nETag: "x"\r\n',
  },
  {
    name: "hop-by-hop, framing, Date and Server are ours",
    raw:
      "HTTP/1.1 200 OK\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\nServer: up\r\nConnection: keep-alive, X-Foo\r\nX-Foo: 1\r\nKeep-Alive: timeout=5\r\n" +
      "Proxy-Authenticate: Basic\r\nTrailer: X-T\r\nTransfer-Encoding: chunked\r\nUpgrade: h2c\r\nX-Kept: 1\r\n\r\n",
    want: "X-Kept: 1\r\n",
  },
  {
    name: "a 101 keeps Upgrade",
    raw: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: abc\r\n\r\n",
    upgrade: true,
    want: "Upgrade: websocket\r\nSec-WebSocket-Accept: abc\r\n",
  },
  { name: "no fields at all", raw: "HTTP/1.1 204 No Content\r\n\r\n", want: "" },
];

describe("clientResponseFields", () => {
  for (const c of RESPONSE_CASES) {
    test(c.name, () => {
      expect(back(c.raw, c.upgrade)).toBe(c.want);
      expect(back(c.raw, c.upgrade, 23)).toBe(c.want);
    });
  }
});
