// --watch's event stream over TCP: an event within 1 s of a write, "css" for stylesheets alone and
// "reload" for anything else, names under "." ignored, the static cache fresh at once after a change,
// heartbeats, the cap on open streams (503), the reserved /.bunhttp/ path, a handler timeout that
// does not cut an idle stream, and stop() ending the streams.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import zlib from "node:zlib";
import { serve, type Server } from "../../src/index.ts";
import { EVENTS_PATH, SCRIPT_PATH, SCRIPT_TAG } from "../../src/live-reload/live-reload.ts";
import { pollUntil } from "../helpers/poll.ts";
import { exchange, RawClient } from "../helpers/raw-client.ts";
import { GET, HEAD } from "../helpers/wire.ts";

let root: string;
let server: Server;
const open: RawClient[] = [];

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "bunhttp-lr-events-"));
  mkdirSync(join(root, "css"));
  mkdirSync(join(root, ".bunhttp")); // a real folder of that name: the endpoint comes first
  writeFileSync(join(root, ".bunhttp", "live-reload.js"), "the site's own file");
  writeFileSync(join(root, ".bunhttp", "other.txt"), "another of the site's files");
  writeFileSync(join(root, "page.html"), "<body>v1</body>");
  writeFileSync(join(root, "css", "site.css"), "body { color: red }");
  server = serve({ port: 0, hostname: "127.0.0.1", root, log: "off", watch: true, static: { dotfiles: "allow" } });
});

afterAll(async () => {
  for (const c of open) c.close();
  await server.stop(true);
  rmSync(root, { recursive: true, force: true });
});

/** A page's event stream: the 200 head and the opening comment are in. */
async function connect(port = server.port): Promise<RawClient> {
  const c = await RawClient.connect(port);
  open.push(c);
  await c.send(GET(EVENTS_PATH, "Accept: text/event-stream\r\n"));
  await c.until(() => c.text().includes("bunhttp live reload") || c.ended, 5000, "the stream's opening");
  return c;
}

/** Waits for `what` in what `c` received after byte `from`; throws after `ms`. */
async function after(c: RawClient, from: number, what: string, ms = 1000): Promise<string> {
  await c.until(() => c.text().slice(from).includes(what), ms, JSON.stringify(what));
  return c.text().slice(from);
}

describe("the event stream", () => {
  test("200 text/event-stream, chunked, not stored; retry set", async () => {
    const c = await connect();
    const text = c.text();
    expect(text).toStartWith("HTTP/1.1 200 OK\r\n");
    expect(text).toContain("Content-Type: text/event-stream; charset=utf-8\r\n");
    expect(text).toContain("Transfer-Encoding: chunked\r\n");
    expect(text).toContain("Cache-Control: no-store\r\n");
    expect(text).toContain("retry: 1000\n");
    expect(text).not.toContain("Content-Encoding");
    c.close();
  });

  test("an HTML write: a reload event within 1 s", async () => {
    const c = await connect();
    const from = c.received;
    const t0 = performance.now();
    writeFileSync(join(root, "page.html"), "<body>v2</body>");
    const got = await after(c, from, 'event: reload\ndata: ["/page.html"]\n\n', 1000);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(got).not.toContain("event: css");
    c.close();
  });

  test("a stylesheet alone: a css event naming it, not a reload", async () => {
    const c = await connect();
    const from = c.received;
    writeFileSync(join(root, "css", "site.css"), "body { color: blue }");
    const got = await after(c, from, 'event: css\ndata: ["/css/site.css"]\n\n', 1000);
    expect(got).not.toContain("event: reload");
    c.close();
  });

  test("a stylesheet and an HTML file together: one reload", async () => {
    const c = await connect();
    const from = c.received;
    writeFileSync(join(root, "css", "site.css"), "body { color: green }");
    writeFileSync(join(root, "page.html"), "<body>v3</body>");
    const got = await after(c, from, "event: reload\n", 1000);
    expect(got).not.toContain("event: css");
    c.close();
  });

  test("names under a '.' segment are not changes: beside a stylesheet, it is still a css event", async () => {
    const c = await connect();
    const from = c.received;
    writeFileSync(join(root, ".editor-swap"), "x");
    writeFileSync(join(root, "css", "site.css"), "body { color: purple }");
    const got = await after(c, from, "event: css\n", 1000);
    expect(got).toContain('data: ["/css/site.css"]');
    expect(got).not.toContain("event: reload");
    c.close();
  });

  test("the page after the event is the new one, in every coding: the static cache does not wait its second", async () => {
    writeFileSync(join(root, "fresh.html"), `<body>${"old ".repeat(400)}</body>`);
    await pollUntil(async () => (await exchange(server.port, GET("/fresh.html"))).text().includes("old"), 2000, "the old page");
    const gz = await exchange(server.port, GET("/fresh.html", "Accept-Encoding: gzip\r\n"));
    expect(zlib.gunzipSync(gz.body).toString()).toContain("old");
    const c = await connect();
    const from = c.received;
    writeFileSync(join(root, "fresh.html"), `<body>${"new ".repeat(400)}</body>`);
    await after(c, from, '"/fresh.html"', 1000);
    // Cached a moment ago, so trusted for a second without --watch: now revalidated at once.
    const res = await exchange(server.port, GET("/fresh.html"));
    expect(res.text()).toBe(`<body>${"new ".repeat(400)}${SCRIPT_TAG}</body>`);
    const gz2 = await exchange(server.port, GET("/fresh.html", "Accept-Encoding: gzip\r\n"));
    expect(zlib.gunzipSync(gz2.body).toString()).toBe(res.text());
    c.close();
  });

  test("heartbeat comments keep an idle stream talking", async () => {
    const s = serve({ port: 0, hostname: "127.0.0.1", root, log: "off", watch: { heartbeatMs: 50 } });
    try {
      const c = await connect(s.port);
      await after(c, c.received, ": ping\n\n", 2000);
      c.close();
    } finally {
      await s.stop(true);
    }
  });
});

describe("bounds", () => {
  test("at most maxClients streams: the next gets 503 with Retry-After; a closed one frees its place", async () => {
    const s = serve({ port: 0, hostname: "127.0.0.1", root, log: "off", watch: { maxClients: 2 } });
    try {
      const streams = [await connect(s.port), await connect(s.port)];
      for (const c of streams) expect(c.text()).toStartWith("HTTP/1.1 200");
      const refused = await exchange(s.port, GET(EVENTS_PATH));
      expect(refused.status).toBe(503);
      expect(refused.header("retry-after")).toBe("10");
      streams[0]!.close();
      await pollUntil(() => tryStream(s.port), 3000, "a place free again");
      streams[1]!.close();
    } finally {
      await s.stop(true);
    }
  });

  test("a handler timeout does not cut an idle stream; an event still arrives after it", async () => {
    const s = serve({ port: 0, hostname: "127.0.0.1", root, log: "off", watch: true, handlerTimeout: 300 });
    try {
      const c = await connect(s.port);
      // The sweep runs once a second: a 300 ms timeout would have cut the stream twice over by now.
      await Bun.sleep(2500);
      expect(c.ended).toBe(false);
      const from = c.received;
      writeFileSync(join(root, "page.html"), "<body>after a wait</body>");
      await after(c, from, "event: reload", 1000);
      c.close();
    } finally {
      await s.stop(true);
    }
  });

  test("stop() ends the open streams (they are not requests to wait for)", async () => {
    const s = serve({ port: 0, hostname: "127.0.0.1", root, log: "off", watch: true });
    const c = await connect(s.port);
    const t0 = performance.now();
    await s.stop();
    expect(performance.now() - t0).toBeLessThan(2000);
    await c.until(() => c.text().endsWith("0\r\n\r\n") || c.ended, 2000, "the last chunk");
  });
});

describe("the reserved path /.bunhttp/", () => {
  test("the script: JavaScript that opens the stream beside it", async () => {
    const res = await exchange(server.port, GET(SCRIPT_PATH));
    expect(res.status).toBe(200);
    expect(res.header("content-type")).toBe("text/javascript; charset=utf-8");
    expect(res.text()).toContain('new EventSource(new URL("live-reload", base).href)');
  });

  test("comes before the site's files, even a real .bunhttp folder with --dotfiles allow", async () => {
    expect((await exchange(server.port, GET(SCRIPT_PATH))).text()).not.toBe("the site's own file");
    const other = await exchange(server.port, GET("/.bunhttp/other.txt"));
    expect(other.status).toBe(404);
    const plain = serve({ port: 0, hostname: "127.0.0.1", root, log: "off", static: { dotfiles: "allow" } });
    try {
      expect((await exchange(plain.port, GET(SCRIPT_PATH))).text()).toBe("the site's own file"); // without --watch
    } finally {
      await plain.stop(true);
    }
  });

  test("other methods: 405 with Allow; HEAD of the stream: its head, no body", async () => {
    const post = await exchange(server.port, "POST /.bunhttp/live-reload HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
    expect(post.status).toBe(405);
    expect(post.header("allow")).toBe("GET, HEAD");
    const head = await exchange(server.port, HEAD(EVENTS_PATH));
    expect(head.status).toBe(200);
    expect(head.header("content-type")).toBe("text/event-stream; charset=utf-8");
  });
});

/** Whether a stream opens now (200), closed again at once. */
async function tryStream(port: number): Promise<boolean> {
  const c = await RawClient.connect(port);
  try {
    await c.send(GET(EVENTS_PATH));
    await c.until(() => c.text().includes("\r\n\r\n") || c.ended, 2000);
    return c.text().startsWith("HTTP/1.1 200");
  } finally {
    c.close();
  }
}
