// The metrics endpoint over TCP: exact counters after a known mix of requests (statuses, bytes,
// connections, file cache, WebSockets, the proxy's upstream counters), a consistent histogram, the
// endpoint's own answers (HEAD, 405, headers), and the registry's buckets and label escaping alone.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadSettings } from "../../src/config.ts";
import { Metrics } from "../../src/metrics/registry.ts";
import { serve, type Server } from "../../src/serve.ts";
import { killAll, startCli } from "../helpers/child.ts";
import { pollUntil } from "../helpers/poll.ts";
import { exchange, RawClient, type RawResponse } from "../helpers/raw-client.ts";
import { wrapWs } from "../helpers/ws-client.ts";
import { parseExposition, scrape, value } from "./exposition.ts";

const root = mkdtempSync(join(tmpdir(), "bunhttp-metrics-"));
const FILE = new Uint8Array(1024).map((_, i) => (i * 7) & 0xff);
writeFileSync(join(root, "a.bin"), FILE);

afterAll(async () => {
  await killAll();
  rmSync(root, { recursive: true, force: true });
});

const GAUGES = { connectionCount: 0, acceptedConnections: 0, refusedConnections: 0, pendingWebSockets: 0 };

/** A server with files, a WebSocket route at /ws, a 16-byte body limit and metrics at /metrics. */
function metricsServer(): Server {
  const server: Server = serve({
    port: 0,
    hostname: "127.0.0.1",
    log: "off",
    root,
    maxBody: 16,
    metrics: "/metrics",
    handler: (req) => (req.path === "/ws" && server.upgrade(req) ? undefined : null),
    websocket: { message(ws, m) { ws.send(m); } },
  });
  return server;
}

describe("counters after a known mix of requests", () => {
  test("statuses, bytes, connections, file cache, WebSockets and upstreams, exactly", async () => {
    using server = metricsServer();
    const port = server.port;
    // Connection 1, kept alive: three of the file (the first a cache miss), two 404s (misses), a
    // DELETE of the file (a hit, then 405), a POST to the metrics path (405, no cache lookup).
    const c = await RawClient.connect(port);
    const sent: RawResponse[] = [];
    const ask = async (raw: string) => {
      await c.send(raw);
      sent.push(await c.response());
    };
    for (let i = 0; i < 3; i++) await ask("GET /a.bin HTTP/1.1\r\nHost: t\r\n\r\n");
    for (let i = 0; i < 2; i++) await ask("GET /nope HTTP/1.1\r\nHost: t\r\n\r\n");
    await ask("DELETE /a.bin HTTP/1.1\r\nHost: t\r\n\r\n");
    await ask("POST /metrics HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
    expect(sent.map((r) => r.status)).toEqual([200, 200, 200, 404, 404, 405, 405]);
    expect(sent[0]!.body).toEqual(FILE);
    expect(sent[6]!.header("allow")).toBe("GET, HEAD");
    c.close();
    // Connection 2: a body over the limit, refused by the engine itself with its ready-made 413.
    const tooLarge = await exchange(port, "POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n");
    expect(tooLarge.status).toBe(413);
    // Connection 3: a WebSocket (a 101), left open.
    const ws = await wrapWs(new WebSocket(`ws://127.0.0.1:${port}/ws`));
    await ws.echo("hi");
    await pollUntil(() => server.connectionCount === 1 && server.pendingWebSockets === 1, 5000, "only the WebSocket left open");
    // What the reverse proxy will report, called as it will call them.
    const proxy = server.metrics!;
    for (let i = 0; i < 3; i++) proxy.upstreamRequest("10.0.0.1:8080");
    proxy.upstreamRequest("app");
    proxy.upstreamError("10.0.0.1:8080", "connect");
    proxy.upstreamError("10.0.0.1:8080", "timeout");
    proxy.upstreamError("10.0.0.1:8080", "timeout");
    proxy.upstreamError("app", "framing");

    // Connection 4: the scrape (it is not in its own answer).
    const { res, metrics } = await scrape(port);
    expect(res.header("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(res.header("cache-control")).toBe("no-store");
    const codes = [...metrics.samples].filter(([k]) => k.startsWith("http_requests_total{"));
    expect(Object.fromEntries(codes)).toEqual({
      'http_requests_total{code="101"}': 1,
      'http_requests_total{code="200"}': 3,
      'http_requests_total{code="404"}': 2,
      'http_requests_total{code="405"}': 2,
      'http_requests_total{code="413"}': 1,
    });
    // Bodies as sent; the engine's ready-made 413 counts whole, as the access log has it.
    const bodies = sent.reduce((n, r) => n + r.body.length, 0);
    expect(value(metrics, "http_response_bytes_total")).toBe(bodies + tooLarge.raw.length);
    expect(value(metrics, "http_request_duration_seconds_count")).toBe(9);
    expect(value(metrics, "http_connections_total")).toBe(4);
    expect(value(metrics, "http_connections_open")).toBe(2); // the WebSocket and the scrape
    expect(value(metrics, "http_connections_refused_total")).toBe(0);
    expect(value(metrics, "http_websockets_open")).toBe(1);
    expect(value(metrics, "http_static_cache_hits_total")).toBe(3);
    expect(value(metrics, "http_static_cache_misses_total")).toBe(3);
    expect(value(metrics, 'http_proxy_upstream_requests_total{upstream="10.0.0.1:8080"}')).toBe(3);
    expect(value(metrics, 'http_proxy_upstream_requests_total{upstream="app"}')).toBe(1);
    expect(value(metrics, 'http_proxy_upstream_errors_total{upstream="10.0.0.1:8080",reason="connect"}')).toBe(1);
    expect(value(metrics, 'http_proxy_upstream_errors_total{upstream="10.0.0.1:8080",reason="timeout"}')).toBe(2);
    expect(value(metrics, 'http_proxy_upstream_errors_total{upstream="app",reason="framing"}')).toBe(1);

    // The next scrape counts the first one (a 200 of its body's length), and its connection.
    const second = (await scrape(port)).metrics;
    expect(value(second, 'http_requests_total{code="200"}')).toBe(4);
    expect(value(second, "http_response_bytes_total")).toBe(bodies + tooLarge.raw.length + res.body.length);
    expect(value(second, "http_connections_total")).toBe(5);
    ws.socket.close();
    await ws.closed;
    await pollUntil(() => server.pendingWebSockets === 0, 5000, "the WebSocket to be gone");
    expect(value((await scrape(port)).metrics, "http_websockets_open")).toBe(0);
  });

  test("every family has HELP and TYPE; counters end in _total; the histogram is cumulative and ends at +Inf == _count", async () => {
    using server = metricsServer();
    for (const path of ["/a.bin", "/nope", "/a.bin"]) await exchange(server.port, `GET ${path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`);
    const { metrics } = await scrape(server.port);
    for (const [name, type] of metrics.types) {
      expect(metrics.helped.has(name)).toBe(true);
      if (type === "counter") expect(name).toEndWith("_total");
    }
    expect(metrics.types.get("http_request_duration_seconds")).toBe("histogram");
    expect(metrics.types.get("http_connections_open")).toBe("gauge");
    expect(metrics.types.get("http_websockets_open")).toBe("gauge");
    // Every sample belongs to a family that has a TYPE.
    for (const key of metrics.samples.keys()) {
      const name = key.replace(/\{.*$/, "").replace(/_(bucket|sum|count)$/, "");
      expect(metrics.types.has(name) || metrics.types.has(key.replace(/\{.*$/, ""))).toBe(true);
    }
    const buckets = [...metrics.samples].filter(([k]) => k.startsWith("http_request_duration_seconds_bucket"));
    const bounds = buckets.map(([k]) => /le="([^"]+)"/.exec(k)![1]!);
    expect(bounds).toEqual(["0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"]);
    for (let i = 1; i < buckets.length; i++) expect(buckets[i]![1]).toBeGreaterThanOrEqual(buckets[i - 1]![1]);
    const count = value(metrics, "http_request_duration_seconds_count");
    expect(count).toBe(3);
    expect(buckets.at(-1)![1]).toBe(count);
    const byCode = [...metrics.samples].filter(([k]) => k.startsWith("http_requests_total{")).reduce((n, [, v]) => n + v, 0);
    expect(byCode).toBe(count);
    expect(value(metrics, "http_request_duration_seconds_sum")).toBeGreaterThan(0);
  });
});

describe("the endpoint", () => {
  test("HEAD gets the head alone; a query string is still the metrics path; other methods get 405 with Allow", async () => {
    using server = metricsServer();
    const head = await exchange(server.port, "HEAD /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(head.header("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(head.header("cache-control")).toBe("no-store");
    expect((await scrape(server.port, "/metrics?x=1")).metrics.types.size).toBeGreaterThan(5);
    for (const method of ["PUT", "DELETE", "OPTIONS"]) {
      const r = await exchange(server.port, `${method} /metrics HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      expect(r.status).toBe(405);
      expect(r.header("allow")).toBe("GET, HEAD");
    }
    // Paths that only look like it are not it.
    for (const path of ["/metric", "/metricsx", "/Metrics", "/metrics/"]) {
      expect((await exchange(server.port, `GET ${path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`)).status).toBe(404);
    }
  });

  test("answered before anything else: routes and files at that path do not see it", async () => {
    writeFileSync(join(root, "metrics"), "a file named metrics\n");
    try {
      using server = serve({ port: 0, hostname: "127.0.0.1", log: "off", root, metrics: "/metrics", routes: { "/metrics": () => new Response("route") } });
      const { metrics } = await scrape(server.port);
      expect(metrics.types.get("http_requests_total")).toBe("counter");
    } finally {
      rmSync(join(root, "metrics"));
    }
  });

  test("off by default: the path falls through, no metrics object", async () => {
    using server = serve({ port: 0, hostname: "127.0.0.1", log: "off", root });
    expect(server.metrics).toBeNull();
    expect((await exchange(server.port, "GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")).status).toBe(404);
  });

  test("with the access log on too, both get every response", async () => {
    const lines: string[] = [];
    using server = serve({ port: 0, hostname: "127.0.0.1", log: "common", logWrite: (t) => lines.push(...t.trimEnd().split("\n")), root, metrics: "/metrics" });
    for (let i = 0; i < 3; i++) await exchange(server.port, "GET /nope HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    const { metrics } = await scrape(server.port);
    expect(value(metrics, 'http_requests_total{code="404"}')).toBe(3);
    expect(metrics.samples.has("http_static_cache_hits_total")).toBe(true);
    await server.stop(); // flushes the log
    expect(lines.filter((l) => l.includes('"GET /nope HTTP/1.1" 404'))).toHaveLength(3);
    expect(lines.filter((l) => l.includes('"GET /metrics HTTP/1.1" 200'))).toHaveLength(1);
  });

  test("no static root: no file-cache metrics", async () => {
    using server = serve({ port: 0, hostname: "127.0.0.1", log: "off", metrics: "/metrics" });
    const { metrics } = await scrape(server.port);
    expect(metrics.types.has("http_static_cache_hits_total")).toBe(false);
    expect(metrics.types.has("http_connections_total")).toBe(true);
  });
});

describe("the registry alone", () => {
  test("a duration on a bucket's bound falls in that bucket (le: less or equal); beyond 10 s, only +Inf", () => {
    const m = new Metrics();
    for (const ms of [0, 0.5, 0.5001, 1, 10_000, 10_001, 60_000]) m.observe(200, 1, ms);
    const e = parseExposition(m.render(GAUGES, null));
    const le = (bound: string) => value(e, `http_request_duration_seconds_bucket{le="${bound}"}`);
    expect(le("0.0005")).toBe(2);
    expect(le("0.001")).toBe(4);
    expect(le("5")).toBe(4);
    expect(le("10")).toBe(5);
    expect(le("+Inf")).toBe(7);
    expect(value(e, "http_request_duration_seconds_count")).toBe(7);
    expect(value(e, "http_request_duration_seconds_sum")).toBeCloseTo((0.5 + 0.5001 + 1 + 10_000 + 10_001 + 60_000) / 1000, 9);
    expect(value(e, 'http_requests_total{code="200"}')).toBe(7);
    expect(value(e, "http_response_bytes_total")).toBe(7);
  });

  test("upstream names and reasons are escaped as label values", () => {
    const m = new Metrics();
    m.upstreamRequest('a"b\\c\nd');
    m.upstreamError('a"b\\c\nd', "closed");
    const text = m.render(GAUGES, { hits: 0, misses: 0 });
    expect(text).toContain('http_proxy_upstream_requests_total{upstream="a\\"b\\\\c\\nd"} 1\n');
    expect(text).toContain('http_proxy_upstream_errors_total{upstream="a\\"b\\\\c\\nd",reason="closed"} 1\n');
    expect(parseExposition(text).samples.size).toBeGreaterThan(0);
  });
});

describe("settings", () => {
  test("--metrics, BUNHTTP_METRICS and the config key; a path must start with /", () => {
    expect(loadSettings(["--metrics", "/m"], {}).metrics).toBe("/m");
    expect(loadSettings([], { BUNHTTP_METRICS: "/env" }).metrics).toBe("/env");
    const config = join(root, "config.json");
    writeFileSync(config, JSON.stringify({ metrics: "/from-file" }));
    expect(loadSettings(["--config", config], {}).metrics).toBe("/from-file");
    expect(loadSettings([], {}).metrics).toBeUndefined();
    expect(() => loadSettings(["--metrics", "metrics"], {})).toThrow('--metrics must be a path starting with "/"');
  });

  test("the CLI serves them", async () => {
    const cli = await startCli(["--root", root, "--port", "0", "--log", "off", "--metrics", "/metrics"]);
    await exchange(cli.port, "GET /a.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    const { metrics } = await scrape(cli.port);
    expect(value(metrics, 'http_requests_total{code="200"}')).toBe(1);
    expect(value(metrics, "http_static_cache_misses_total")).toBe(1);
    cli.kill("SIGTERM");
    expect(await cli.exited).toBe(0);
  });
});
