// Behind a load balancer: PROXY protocol v1/v2 parsing, trusted proxies and forwarding headers,
// serve({ proxyProtocol, trustProxy }) end to end, and HAProxy (Debian's) in front of us.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { clientAddress, compileTrust, PROXY_INCOMPLETE, PROXY_INVALID, parseProxyHeader } from "../../src/server/proxy.ts";
import { serve } from "../../src/serve.ts";
import { killAll, run, spawnChild } from "../helpers/child.ts";
import { pollUntil } from "../helpers/poll.ts";
import { RawClient } from "../helpers/raw-client.ts";
import { freePort, removeTemps, tempDir } from "./helpers.ts";

afterAll(async () => {
  await killAll();
  removeTemps();
});

const enc = (s: string) => new TextEncoder().encode(s);
const SIG = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];

/** A PROXY v2 header: verCmd 0x21 (PROXY) or 0x20 (LOCAL), family, then the address block. */
function v2(verCmd: number, family: number, block: number[]): Uint8Array {
  return new Uint8Array([...SIG, verCmd, family, block.length >> 8, block.length & 0xff, ...block]);
}
const u16 = (n: number) => [n >> 8, n & 0xff];
function v2ipv4(src: number[], dst: number[], sport: number, dport: number, tlvs: number[] = []): Uint8Array {
  return v2(0x21, 0x11, [...src, ...dst, ...u16(sport), ...u16(dport), ...tlvs]);
}
function v2ipv6(src: number[], dst: number[], sport: number, dport: number): Uint8Array {
  return v2(0x21, 0x21, [...src, ...dst, ...u16(sport), ...u16(dport)]);
}
/** "2001:db8::1" as 16 bytes (test inputs only: full or with one "::"). */
function ipv6Bytes(s: string): number[] {
  const [head, tail] = s.split("::") as [string, string | undefined];
  const h = head === "" ? [] : head.split(":");
  const t = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups = [...h, ...new Array(8 - h.length - t.length).fill("0"), ...t].map((g) => parseInt(g, 16));
  return groups.flatMap(u16);
}
const concat = (a: Uint8Array, b: Uint8Array) => {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
};

const V1_TCP4 = enc("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n");
const V1_TCP6 = enc("PROXY TCP6 2001:db8::1 2001:db8::2 4000 443\r\n");
const V1_UNKNOWN = enc("PROXY UNKNOWN\r\n");
const V2_IPV4 = v2ipv4([203, 0, 113, 7], [10, 0, 0, 1], 51000, 80);
const V2_IPV6 = v2ipv6(ipv6Bytes("2001:db8:cafe::17"), ipv6Bytes("2001:db8::2"), 4711, 443);
const V2_LOCAL = v2(0x20, 0x00, []);

describe("parseProxyHeader", () => {
  test("v1 TCP4", () => {
    expect(parseProxyHeader(V1_TCP4, 0, V1_TCP4.length)).toEqual({ length: V1_TCP4.length, address: "192.168.0.1", port: 56324 });
  });

  test("v1 TCP6", () => {
    expect(parseProxyHeader(V1_TCP6, 0, V1_TCP6.length)).toEqual({ length: V1_TCP6.length, address: "2001:db8::1", port: 4000 });
  });

  test("v1 UNKNOWN (with or without addresses): no address", () => {
    expect(parseProxyHeader(V1_UNKNOWN, 0, V1_UNKNOWN.length)).toEqual({ length: V1_UNKNOWN.length, address: null, port: 0 });
    const withAddrs = enc("PROXY UNKNOWN ffff:f::1 ffff:f::2 1 2\r\n");
    expect(parseProxyHeader(withAddrs, 0, withAddrs.length)).toEqual({ length: withAddrs.length, address: null, port: 0 });
  });

  test("the longest v1 line (107 bytes with CRLF) is accepted", () => {
    const full = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
    const line = enc(`PROXY TCP6 ${full} ${full} 65535 65535\r\n`);
    expect(line.length).toBe(104);
    expect(parseProxyHeader(line, 0, line.length)).toEqual({ length: 104, address: full, port: 65535 });
  });

  test("v2 IPv4", () => {
    expect(parseProxyHeader(V2_IPV4, 0, V2_IPV4.length)).toEqual({ length: 28, address: "203.0.113.7", port: 51000 });
  });

  test("v2 IPv6 (RFC 5952 compressed)", () => {
    expect(parseProxyHeader(V2_IPV6, 0, V2_IPV6.length)).toEqual({ length: 52, address: "2001:db8:cafe::17", port: 4711 });
    const loop = v2ipv6(ipv6Bytes("::1"), ipv6Bytes("::1"), 1, 2);
    expect((parseProxyHeader(loop, 0, loop.length) as { address: string }).address).toBe("::1");
    const one = v2ipv6(ipv6Bytes("2001:db8:0:1:1:1:1:1"), ipv6Bytes("::1"), 1, 2);
    // A single zero group is not shortened to "::".
    expect((parseProxyHeader(one, 0, one.length) as { address: string }).address).toBe("2001:db8:0:1:1:1:1:1");
  });

  test("v2 LOCAL: no address (the proxy's own health check)", () => {
    expect(parseProxyHeader(V2_LOCAL, 0, V2_LOCAL.length)).toEqual({ length: 16, address: null, port: 0 });
  });

  test("v2 with TLVs after the addresses: the length covers them", () => {
    const h = v2ipv4([1, 2, 3, 4], [5, 6, 7, 8], 1000, 2000, [0x04, 0x00, 0x03, 0x61, 0x62, 0x63]);
    expect(parseProxyHeader(h, 0, h.length)).toEqual({ length: 34, address: "1.2.3.4", port: 1000 });
  });

  test("v2 UNSPEC family: no address", () => {
    const h = v2(0x21, 0x00, []);
    expect(parseProxyHeader(h, 0, h.length)).toEqual({ length: 16, address: null, port: 0 });
  });

  test("followed by the request, inside a larger buffer at an offset", () => {
    for (const h of [V1_TCP4, V2_IPV4]) {
      const req = enc("GET / HTTP/1.1\r\n\r\n");
      const buf = new Uint8Array(5 + h.length + req.length + 3);
      buf.set(h, 5);
      buf.set(req, 5 + h.length);
      const r = parseProxyHeader(buf, 5, 5 + h.length + req.length) as { length: number };
      expect(r.length).toBe(h.length);
    }
  });

  test("every proper prefix of a valid header is PROXY_INCOMPLETE", () => {
    for (const h of [V1_TCP4, V1_TCP6, V1_UNKNOWN, V2_IPV4, V2_IPV6, V2_LOCAL]) {
      for (let k = 0; k < h.length; k++) {
        const r = parseProxyHeader(h, 0, k);
        if (r !== PROXY_INCOMPLETE) throw new Error(`prefix of ${k}/${h.length} bytes gave ${JSON.stringify(r)}`);
      }
      // And the same at an offset, in a buffer with bytes after the end.
      const buf = new Uint8Array(h.length + 20).fill(0x41);
      buf.set(h, 7);
      for (let k = 0; k < h.length; k++) expect(parseProxyHeader(buf, 7, 7 + k)).toBe(PROXY_INCOMPLETE);
    }
  });

  test("garbage is PROXY_INVALID", () => {
    const cases: (string | Uint8Array)[] = [
      "GET / HTTP/1.1\r\n\r\n",
      "proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
      "PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n",
      "PROXY TCP4 256.1.1.1 5.6.7.8 1 2\r\n",
      "PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n",
      "PROXY TCP4 2001:db8::1 5.6.7.8 1 2\r\n",
      "PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n",
      "PROXY TCP4 1.2.3.4 5.6.7.8 70000 2\r\n",
      "PROXY TCP4 1.2.3.4 5.6.7.8 x 2\r\n",
      "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",
      "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n",
      "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", // LF without CR
      "PROXY\r\n",
      "\r\n\r\nX", // starts like the v2 signature, then is not
      new Uint8Array([...SIG.slice(0, 11), 0x00]),
      v2(0x11, 0x11, new Array(12).fill(0)), // version 1 in a v2 header
      v2(0x22, 0x11, new Array(12).fill(0)), // command 2
      v2(0x21, 0x11, new Array(8).fill(0)), // IPv4 block too short
      v2(0x21, 0x21, new Array(20).fill(0)), // IPv6 block too short
      new Uint8Array([0x16, 0x03, 0x01, 0x00, 0x05]), // a TLS ClientHello
    ];
    for (const c of cases) {
      const b = typeof c === "string" ? enc(c) : c;
      const r = parseProxyHeader(b, 0, b.length);
      if (r !== PROXY_INVALID) throw new Error(`${JSON.stringify(typeof c === "string" ? c : [...c])} gave ${JSON.stringify(r)}`);
    }
  });

  test("an overlong v1 line is PROXY_INVALID as soon as 107 bytes have no LF", () => {
    const long = enc(`PROXY TCP4 ${"1".repeat(200)}`);
    expect(parseProxyHeader(long, 0, 106)).toBe(PROXY_INCOMPLETE);
    expect(parseProxyHeader(long, 0, 107)).toBe(PROXY_INVALID);
    expect(parseProxyHeader(long, 0, long.length)).toBe(PROXY_INVALID);
    // An LF that comes too late does not help.
    const late = enc(`PROXY UNKNOWN ${"x".repeat(120)}\r\n`);
    expect(parseProxyHeader(late, 0, late.length)).toBe(PROXY_INVALID);
  });
});

describe("compileTrust", () => {
  test("loopback: 127.0.0.0/8 and ::1, also IPv4-mapped", () => {
    const t = compileTrust("loopback");
    for (const a of ["127.0.0.1", "127.255.255.254", "::1", "::ffff:127.0.0.1"]) expect(t(a)).toBe(true);
    for (const a of ["128.0.0.1", "126.255.255.255", "10.0.0.1", "::2", "2001:db8::1", "", "localhost"]) expect(t(a)).toBe(false);
  });

  test("exact addresses, IPv6 case-insensitive", () => {
    const t = compileTrust("10.1.2.3, 2001:DB8::1");
    expect(t("10.1.2.3")).toBe(true);
    expect(t("10.1.2.4")).toBe(false);
    expect(t("2001:db8::1")).toBe(true);
    expect(t("2001:db8::2")).toBe(false);
    expect(t("::ffff:10.1.2.3")).toBe(true);
  });

  test("CIDRs /8 /24 /32 /0", () => {
    const t8 = compileTrust("10.0.0.0/8");
    expect([t8("10.0.0.0"), t8("10.255.255.255"), t8("11.0.0.0"), t8("9.255.255.255")]).toEqual([true, true, false, false]);
    const t24 = compileTrust("192.168.7.0/24");
    expect([t24("192.168.7.1"), t24("192.168.7.255"), t24("192.168.8.1"), t24("192.168.6.255")]).toEqual([true, true, false, false]);
    const t32 = compileTrust("203.0.113.9/32");
    expect([t32("203.0.113.9"), t32("203.0.113.8"), t32("203.0.113.10")]).toEqual([true, false, false]);
    const t0 = compileTrust("0.0.0.0/0");
    expect([t0("0.0.0.0"), t0("255.255.255.255"), t0("8.8.8.8"), t0("::1")]).toEqual([true, true, true, false]);
    // High addresses (sign-bit trouble in 32-bit arithmetic).
    const high = compileTrust("200.0.0.0/8");
    expect([high("200.1.2.3"), high("201.0.0.0"), high("72.1.2.3")]).toEqual([true, false, false]);
  });

  test("::ffff:-mapped IPv4 addresses match IPv4 rules", () => {
    const t = compileTrust("10.0.0.0/8,192.168.1.1");
    expect(t("::ffff:10.9.8.7")).toBe(true);
    expect(t("::ffff:192.168.1.1")).toBe(true);
    expect(t("::ffff:11.0.0.1")).toBe(false);
  });

  test("several items; blanks ignored", () => {
    const t = compileTrust(" loopback , ,10.0.0.0/8,");
    expect([t("127.0.0.1"), t("10.2.3.4"), t("192.168.0.1")]).toEqual([true, true, false]);
  });

  test("bad items are errors that name them", () => {
    expect(() => compileTrust("10.0.0.0/33")).toThrow('"10.0.0.0/33" is not an IPv4 CIDR');
    expect(() => compileTrust("10.0.0/8")).toThrow('"10.0.0/8" is not an IPv4 CIDR');
    expect(() => compileTrust("10.0.0.0/x")).toThrow("is not an IPv4 CIDR");
    expect(() => compileTrust("proxy.internal")).toThrow('"proxy.internal" is not an address');
    expect(() => compileTrust("300.1.1.1")).toThrow("is not an address");
  });
});

describe("clientAddress", () => {
  const trust = compileTrust("loopback,10.0.0.0/8");

  test("an untrusted peer: its own address; forwarding headers are ignored", () => {
    expect(clientAddress("198.51.100.1", "for=1.1.1.1", "2.2.2.2", trust)).toBe("198.51.100.1");
    expect(clientAddress("198.51.100.1", undefined, "2.2.2.2", trust)).toBe("198.51.100.1");
  });

  test("a trusted peer without headers: the peer", () => {
    expect(clientAddress("127.0.0.1", undefined, undefined, trust)).toBe("127.0.0.1");
    expect(clientAddress("127.0.0.1", undefined, "", trust)).toBe("127.0.0.1");
  });

  test("X-Forwarded-For: the rightmost untrusted hop", () => {
    expect(clientAddress("127.0.0.1", undefined, "203.0.113.5", trust)).toBe("203.0.113.5");
    expect(clientAddress("127.0.0.1", undefined, "203.0.113.5, 10.0.0.2, 10.0.0.3", trust)).toBe("203.0.113.5");
    // A client that forges the left part does not get to choose.
    expect(clientAddress("127.0.0.1", undefined, "6.6.6.6, 203.0.113.5,10.0.0.3", trust)).toBe("203.0.113.5");
    // Every hop trusted: the leftmost.
    expect(clientAddress("127.0.0.1", undefined, "10.0.0.1, 10.0.0.2", trust)).toBe("10.0.0.1");
    // IPv6 in XFF.
    expect(clientAddress("::1", undefined, "2001:db8::9", trust)).toBe("2001:db8::9");
  });

  test("Forwarded: for= in each element, read from the right; quoted IPv6; IPv4 with a port", () => {
    expect(clientAddress("127.0.0.1", "for=192.0.2.60;proto=http;by=203.0.113.43", undefined, trust)).toBe("192.0.2.60");
    expect(clientAddress("127.0.0.1", 'for="[2001:db8:cafe::17]"', undefined, trust)).toBe("2001:db8:cafe::17");
    expect(clientAddress("127.0.0.1", 'for="192.0.2.60:8080"', undefined, trust)).toBe("192.0.2.60");
    expect(clientAddress("127.0.0.1", "For=198.51.100.17, for=10.0.0.5", undefined, trust)).toBe("198.51.100.17");
    expect(clientAddress("127.0.0.1", "proto=https;for=5.5.5.5", undefined, trust)).toBe("5.5.5.5");
    expect(clientAddress("127.0.0.1", "for=6.6.6.6, for=5.5.5.5, for=10.0.0.5", undefined, trust)).toBe("5.5.5.5");
  });

  test("Forwarded wins over X-Forwarded-For", () => {
    expect(clientAddress("127.0.0.1", "for=1.1.1.1", "2.2.2.2", trust)).toBe("1.1.1.1");
  });

  test("Forwarded: quoted IPv6 with a port", () => {
    expect(clientAddress("127.0.0.1", 'for="[2001:db8:cafe::17]:4711"', undefined, trust)).toBe("2001:db8:cafe::17");
    expect(clientAddress("127.0.0.1", 'for="[2001:db8:cafe::17]:4711";proto=https, for=10.0.0.5', undefined, trust)).toBe("2001:db8:cafe::17");
  });
});

describe("serve({ proxyProtocol: true })", () => {
  const handler = (req: { remoteAddress: string; remotePort: number }) => `${req.remoteAddress} ${req.remotePort}`;
  const GET = enc("GET / HTTP/1.1\r\nHost: t\r\n\r\n");

  test("the address from a v1 header", async () => {
    using server = serve({ port: 0, hostname: "127.0.0.1", log: "off", proxyProtocol: true, handler });
    const c = await RawClient.connect(server.port);
    await c.send(concat(V1_TCP4, GET));
    expect((await c.response()).text()).toBe("192.168.0.1 56324");
    // Later requests on the connection keep it; no second header is expected.
    await c.send(GET);
    expect((await c.response()).text()).toBe("192.168.0.1 56324");
    c.close();
  });

  test("the address from a v2 header (IPv4 and IPv6)", async () => {
    using server = serve({ port: 0, hostname: "127.0.0.1", log: "off", proxyProtocol: true, handler });
    for (const [h, want] of [[V2_IPV4, "203.0.113.7 51000"], [V2_IPV6, "2001:db8:cafe::17 4711"]] as const) {
      const c = await RawClient.connect(server.port);
      await c.send(concat(h, GET));
      expect((await c.response()).text()).toBe(want);
      c.close();
    }
  });

  test("a header that arrives byte by byte", async () => {
    using server = serve({ port: 0, hostname: "127.0.0.1", log: "off", proxyProtocol: true, handler });
    const c = await RawClient.connect(server.port);
    for (const b of V2_IPV4) {
      await c.send(new Uint8Array([b]));
      await Bun.sleep(1);
    }
    await c.send(GET);
    expect((await c.response()).text()).toBe("203.0.113.7 51000");
    c.close();
  });

  test("LOCAL and UNKNOWN keep the peer's address", async () => {
    using server = serve({ port: 0, hostname: "127.0.0.1", log: "off", proxyProtocol: true, handler: (req) => req.remoteAddress });
    for (const h of [V2_LOCAL, V1_UNKNOWN]) {
      const c = await RawClient.connect(server.port);
      await c.send(concat(h, GET));
      expect((await c.response()).text()).toBe("127.0.0.1");
      c.close();
    }
  });

  test("a connection without a valid header is closed unanswered", async () => {
    using server = serve({ port: 0, hostname: "127.0.0.1", log: "off", proxyProtocol: true, handler });
    for (const bytes of [GET, enc("PROXY TCP4 1.2.3.4 5.6.7.8 99999 80\r\n"), enc(`PROXY ${"x".repeat(150)}`)]) {
      const c = await RawClient.connect(server.port);
      await c.send(bytes);
      await c.closedByServer(3000);
      expect(c.pendingBytes).toBe(0);
    }
  });

  test("with trustProxy, X-Forwarded-For after a PROXY header from a trusted proxy counts", async () => {
    using server = serve({ port: 0, hostname: "127.0.0.1", log: "off", proxyProtocol: true, trustProxy: "10.0.0.0/8", handler: (req) => req.clientAddress });
    const fromTrusted = enc("PROXY TCP4 10.0.0.5 10.0.0.1 1234 80\r\n");
    const fromOutside = enc("PROXY TCP4 198.51.100.3 10.0.0.1 1234 80\r\n");
    const req = enc("GET / HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: 203.0.113.50\r\n\r\n");
    const a = await RawClient.connect(server.port);
    await a.send(concat(fromTrusted, req));
    expect((await a.response()).text()).toBe("203.0.113.50");
    a.close();
    const b = await RawClient.connect(server.port);
    await b.send(concat(fromOutside, req));
    expect((await b.response()).text()).toBe("198.51.100.3");
    b.close();
  });
});

describe("serve({ trustProxy })", () => {
  test('"loopback": req.clientAddress comes from X-Forwarded-For (and Forwarded)', async () => {
    using server = serve({ port: 0, hostname: "127.0.0.1", log: "off", trustProxy: "loopback", handler: (req) => `${req.clientAddress} ${req.remoteAddress}` });
    const xff = await fetch(server.url, { headers: { "x-forwarded-for": "198.51.100.7, 127.0.0.1" } });
    expect(await xff.text()).toBe("198.51.100.7 127.0.0.1");
    const fwd = await fetch(server.url, { headers: { forwarded: 'for="[2001:db8::5]"' } });
    expect(await fwd.text()).toBe("2001:db8::5 127.0.0.1");
    const none = await fetch(server.url);
    expect(await none.text()).toBe("127.0.0.1 127.0.0.1");
  });

  test("a peer that is not trusted cannot set its address", async () => {
    using server = serve({ port: 0, hostname: "127.0.0.1", log: "off", trustProxy: "10.0.0.0/8", handler: (req) => req.clientAddress });
    const res = await fetch(server.url, { headers: { "x-forwarded-for": "198.51.100.7" } });
    expect(await res.text()).toBe("127.0.0.1");
  });

  test("without trustProxy the headers are ignored", async () => {
    using server = serve({ port: 0, hostname: "127.0.0.1", log: "off", handler: (req) => req.clientAddress });
    const res = await fetch(server.url, { headers: { "x-forwarded-for": "198.51.100.7" } });
    expect(await res.text()).toBe("127.0.0.1");
  });

  test("the access log records the client address", async () => {
    const lines: string[] = [];
    const server = serve({ port: 0, hostname: "127.0.0.1", log: "json", logWrite: (t) => lines.push(...t.trim().split("\n")), trustProxy: "loopback", handler: () => "x" });
    try {
      await (await fetch(server.url, { headers: { "x-forwarded-for": "198.51.100.8" } })).text();
    } finally {
      await server.stop(true); // flushes the log
    }
    expect(lines.map((l) => JSON.parse(l).remote)).toEqual(["198.51.100.8"]);
  });
});

// ---- HAProxy in front ---------------------------------------------------------------------------

const HAPROXY = "/usr/sbin/haproxy";
const haveHaproxy = existsSync(HAPROXY);
if (!haveHaproxy) console.warn(`${HAPROXY} not found (apt-get install haproxy): the HAProxy tests are skipped`);

/** One request on a raw connection; returns our local port and the whole response as text. */
async function requestVia(port: number, path: string): Promise<{ localPort: number; text: string }> {
  const c = await RawClient.connect(port);
  try {
    // Read now: once the socket has closed, localPort is gone.
    const localPort = c.socket.localPort;
    await c.send(`GET ${path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`);
    return { localPort, text: new TextDecoder().decode((await c.response()).raw) };
  } finally {
    c.close();
  }
}

describe.skipIf(!haveHaproxy)("HAProxy (Debian) in front, send-proxy and send-proxy-v2", () => {
  test("our handler sees the client's address and port through PROXY v1 (mode http) and v2 (mode tcp)", async () => {
    const seen: string[] = [];
    using server = serve({
      port: 0,
      hostname: "127.0.0.1",
      log: "off",
      proxyProtocol: true,
      handler: (req) => {
        const line = `${req.path} ${req.remoteAddress} ${req.remotePort}`;
        seen.push(line);
        return `${line}\n`;
      },
    });
    const dir = tempDir();
    const v1Port = freePort();
    const v2Port = freePort();
    const cfg = join(dir, "haproxy.cfg");
    writeFileSync(
      cfg,
      `global
  maxconn 100
defaults
  timeout connect 2s
  timeout client 5s
  timeout server 5s
frontend via_v1
  mode http
  bind 127.0.0.1:${v1Port}
  default_backend ours_v1
backend ours_v1
  mode http
  server s1 127.0.0.1:${server.port} send-proxy
frontend via_v2
  mode tcp
  bind 127.0.0.1:${v2Port}
  default_backend ours_v2
backend ours_v2
  mode tcp
  server s2 127.0.0.1:${server.port} send-proxy-v2
`,
    );
    expect((await run([HAPROXY, "-c", "-f", cfg])).code).toBe(0);
    const haproxy = spawnChild([HAPROXY, "-f", cfg, "-db"]);
    try {
      // Ready once it answers (each attempt until then is refused).
      const first = await pollUntil(
        async () => (await requestVia(v1Port, "/v1").catch(() => null)) ?? null,
        5000,
        "HAProxy to listen",
        { every: 50 },
      );
      expect(first.text).toStartWith("HTTP/1.1 200");
      // The address and port our handler saw are those of the client's end of the connection to HAProxy.
      expect(first.text).toContain(`/v1 127.0.0.1 ${first.localPort}\n`);

      const second = await pollUntil(async () => (await requestVia(v2Port, "/v2").catch(() => null)) ?? null, 5000, "HAProxy v2 frontend", { every: 50 });
      expect(second.text).toStartWith("HTTP/1.1 200");
      expect(second.text).toContain(`/v2 127.0.0.1 ${second.localPort}\n`);

      // A few more through each, all fine.
      for (let i = 0; i < 5; i++) {
        for (const [port, path] of [[v1Port, "/a"], [v2Port, "/b"]] as const) {
          const r = await requestVia(port, path);
          expect(r.text).toStartWith("HTTP/1.1 200");
          expect(r.text).toContain(`${path} 127.0.0.1 ${r.localPort}\n`);
        }
      }
      expect(seen.length).toBeGreaterThanOrEqual(12);
      expect(haproxy.exitCode()).toBeNull();
    } finally {
      haproxy.kill("SIGKILL");
      await haproxy.exited;
    }
  });
});
