// _redirects and _headers in the root, over TCP: read at start (a bad line stops serve() and the
// CLI with file:line), asked before the static lookup with a file shadowing an unforced rule, their
// header fields on every answer (cached and keep-alive too), re-read when they change (a bad change
// logged, the old rules kept), and otherwise the static handler's own behaviour.
import { describe, expect, spyOn, test } from "bun:test";
import { mkdirSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { serve, type Server } from "../../src/index.ts";
import { RuleFileError } from "../../src/site/rule-file-error.ts";
import { runCli } from "../helpers/child.ts";
import { pollUntil } from "../helpers/poll.ts";
import { siteFixture } from "./fixture.ts";
import { exchange, RawClient, type RawResponse } from "../helpers/raw-client.ts";

const fx = siteFixture("bunhttp-netlify-");

const REDIRECTS = `# a comment
/old            /new            301
/blog/*         /posts/:splat   302
/shop/:item     /store/:item    307
/a.txt          /b.txt          301
/forced.txt     /b.txt          301!
/app/*          /app.html       200
/gone           /missing.html   404
/posts/*        /posts/index.html 200
`;

const HEADERS = `/*
  X-Frame-Options: DENY
/posts/*
  Cache-Control: public, max-age=60
  X-Posts: yes
`;

/** A fresh root: a.txt, b.txt, forced.txt, app.html, dir/index.html, 404.html and what `extra` adds. */
function site(extra: Record<string, string> = {}): string {
  const root = fx.nextRoot();
  mkdirSync(join(root, "dir"), { recursive: true });
  mkdirSync(join(root, "posts"));
  for (const [rel, text] of Object.entries({
    "a.txt": "a\n",
    "b.txt": "b\n",
    "forced.txt": "forced\n",
    "app.html": "<p>app</p>\n",
    "dir/index.html": "dir\n",
    "posts/first.txt": "first post\n",
    "posts/index.html": "posts index\n",
    "404.html": "<p>not here</p>\n",
    ...extra,
  })) {
    writeFileSync(join(root, rel), text);
  }
  return root;
}

function start(root: string): Server {
  const s = serve({ port: 0, hostname: "127.0.0.1", root });
  fx.track(s);
  return s;
}

function get(s: Server, path: string, method = "GET"): Promise<RawResponse> {
  return exchange(s.port, `${method} ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
}

describe("_redirects", () => {
  // path → [status, Location or body]
  const rows: [string, number, string][] = [
    ["/old", 301, "location /new"],
    ["/old?x=1", 301, "location /new?x=1"],
    ["/blog/2024/hello", 302, "location /posts/2024/hello"],
    ["/shop/hat", 307, "location /store/hat"],
    ["/a.txt", 200, "a\n"], // a file at the path shadows an unforced rule
    ["/forced.txt", 301, "location /b.txt"], // "!": forced
    ["/app/any/where", 200, "<p>app</p>\n"], // 200: a rewrite
    ["/posts/first.txt", 200, "first post\n"], // the file shadows the splat rewrite
    ["/posts/none", 200, "posts index\n"],
    ["/gone", 404, "<p>not here</p>\n"], // 404 to a missing page: the 404 page
    ["/nothing", 404, "<p>not here</p>\n"], // no rule: static as ever
    ["/dir", 301, "location /dir/"],
    ["/dir/", 200, "dir\n"],
  ];
  for (const [path, status, want] of rows) {
    test(`${path} → ${status} ${want.trim()}`, async () => {
      const s = start(site({ _redirects: REDIRECTS }));
      const r = await get(s, path);
      expect(r.status).toBe(status);
      if (want.startsWith("location ")) expect(r.header("location")).toBe(want.slice(9));
      else expect(r.text()).toBe(want);
    });
  }

  test("a 404 rule to a page that exists serves it with 404", async () => {
    const s = start(site({ _redirects: "/gone /b.txt 404\n" }));
    const r = await get(s, "/gone");
    expect([r.status, r.text()]).toEqual([404, "b\n"]);
  });
});

describe("_headers", () => {
  test("every matching block's fields, on fresh, cached and keep-alive answers, HEAD too", async () => {
    const s = start(site({ _headers: HEADERS }));
    const plain = await get(s, "/a.txt");
    expect([plain.status, plain.header("x-frame-options"), plain.header("x-posts")]).toEqual([200, "DENY", undefined]);
    // Twice on one connection: the second answer comes from the cache, pre-encoded.
    const c = await RawClient.connect(s.port);
    const both: RawResponse[] = [];
    for (const method of ["GET", "GET", "HEAD"]) {
      await c.send(`${method} /posts/first.txt HTTP/1.1\r\nHost: x\r\n\r\n`);
      both.push(await c.response());
    }
    c.close();
    for (const r of both) {
      expect(r.status).toBe(200);
      expect(r.header("x-frame-options")).toBe("DENY");
      expect(r.header("x-posts")).toBe("yes");
      expect(r.header("cache-control")).toBe("public, max-age=60"); // replaces ours
    }
    expect(both[0]!.text()).toBe("first post\n");
    expect(both[2]!.text()).toBe("");
  });

  test("404s and redirects get the path's fields too", async () => {
    const s = start(site({ _headers: HEADERS, _redirects: REDIRECTS }));
    expect((await get(s, "/nothing")).header("x-frame-options")).toBe("DENY");
  });
});

describe("other spellings of a path", () => {
  // "//p", "/./p" and "/x/../p" serve /p: the rules must take them as /p too.
  const spellings = (p: string) => [p, `/${p}`, `/.${p}`, `/x/..${p}`, `/x/%2e%2e${p}`];

  test("a forced redirect holds for each", async () => {
    const s = start(site({ _redirects: "/posts/* /login 302!\n" }));
    for (const path of spellings("/posts/first.txt")) {
      const r = await get(s, path);
      expect([path, r.status, r.header("location")]).toEqual([path, 302, "/login"]);
    }
  });

  test("a header block holds for each", async () => {
    const s = start(site({ _headers: "/posts/*\n  X-Frame-Options: DENY\n" }));
    for (const path of spellings("/posts/first.txt")) {
      const r = await get(s, path);
      expect([path, r.status, r.header("x-frame-options")]).toEqual([path, 200, "DENY"]);
    }
  });
});

describe("with the other rules", () => {
  test("with --clean-urls, a page its clean URL serves shadows an unforced rule", async () => {
    const root = site({ "about.html": "about\n", _redirects: "/about /elsewhere 302\n/app /elsewhere 302\n" });
    const s = serve({ port: 0, hostname: "127.0.0.1", root, cleanUrls: true });
    fx.track(s);
    const about = await get(s, "/about");
    expect([about.status, about.text()]).toEqual([200, "about\n"]);
    expect((await get(s, "/app")).status).toBe(200); // app.html
    expect((await get(s, "/nothing-here")).status).toBe(404);
  });

  test("a rule's redirect gets the path's _headers fields", async () => {
    const s = start(site({ _redirects: "/old /new 301\n", _headers: "/*\n  Strict-Transport-Security: max-age=60\n" }));
    const r = await get(s, "/old");
    expect([r.status, r.header("location"), r.header("strict-transport-security")]).toEqual([301, "/new", "max-age=60"]);
  });

  test("Set-Cookie from serve.json and from _headers add up", async () => {
    const root = site({
      "serve.json": JSON.stringify({ headers: [{ source: "**/*.txt", headers: [{ key: "Set-Cookie", value: "a=1" }] }] }),
      _headers: "/*\n  Set-Cookie: b=2\n",
    });
    const s = start(root);
    const raw = await get(s, "/a.txt");
    expect(raw.status).toBe(200);
    expect(raw.headers.get("set-cookie")?.sort()).toEqual(["a=1", "b=2"]);
  });
});

describe("the files themselves", () => {
  test("are never served, and not listed", async () => {
    const s = start(site({ _redirects: REDIRECTS, _headers: HEADERS }));
    for (const path of ["/_redirects", "/_headers"]) expect((await get(s, path)).status).toBe(404);
    const listing = await get(s, "/");
    expect(listing.status).toBe(200);
    expect(listing.text()).not.toContain("_redirects");
    expect(listing.text()).not.toContain("_headers");
  });

  test("a bad line stops serve() with file:line: problem", () => {
    const root = site({ _redirects: "/ok /fine 301\n/bad /x 299\n" });
    let err: unknown;
    try {
      start(root);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RuleFileError);
    expect((err as RuleFileError).line).toBe(2);
    expect((err as RuleFileError).file.endsWith("_redirects")).toBe(true);
  });

  test("a bad _headers stops the CLI with one line naming it", async () => {
    const root = site({ _headers: "X-Orphan: 1\n" });
    const r = await runCli(["--port", "0", "--log", "off", root]);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split("\n");
    expect(lines.length).toBe(1);
    expect(lines[0]).toMatch(/^bunhttp: .*_headers:1: /);
  });

  test("are read again when they change; a bad change is logged and the old rules stay", async () => {
    const root = site({ _redirects: "/x /a.txt 302\n" });
    const s = start(root);
    expect((await get(s, "/x")).header("location")).toBe("/a.txt");
    writeFileSync(join(root, "_redirects"), "/x /b.txt 302\n");
    await pollUntil(async () => (await get(s, "/x")).header("location") === "/b.txt", 5000);

    const logged: string[] = [];
    const spy = spyOn(console, "error").mockImplementation((line: unknown) => void logged.push(String(line)));
    try {
      writeFileSync(join(root, "_redirects"), "/x\n");
      await pollUntil(() => logged.some((l) => l.includes("_redirects:1:")), 5000);
      expect((await get(s, "/x")).header("location")).toBe("/b.txt");
    } finally {
      spy.mockRestore();
    }

    // _headers appears later; then both files go, and the static handler serves alone.
    writeFileSync(join(root, "_headers"), "/*\n  X-Late: 1\n");
    await pollUntil(async () => (await get(s, "/a.txt")).header("x-late") === "1", 5000);
    unlinkSync(join(root, "_redirects"));
    unlinkSync(join(root, "_headers"));
    // Each file is read again on its own fs.watch event, so the two go one after the other: wait for both.
    await pollUntil(async () => (await get(s, "/x")).status === 404, 5000);
    await pollUntil(async () => (await get(s, "/a.txt")).header("x-late") === undefined, 5000);
    expect((await get(s, "/x")).status).toBe(404);
  });
});
