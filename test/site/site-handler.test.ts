// The site handler in the chain, over TCP: --clean-urls without serve.json, routes and handler still
// first, the chain as before without rule files, serve.json re-read when it changes (a bad change
// logged, the old rules kept), a bad one at start-up, and header rules on cached and HEAD answers.
import { afterEach, beforeEach, describe, expect, spyOn, test } from "bun:test";
import { mkdirSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseFlags, loadSettings } from "../../src/config.ts";
import { serve, type Server } from "../../src/index.ts";
import { RuleFileError } from "../../src/site/rule-file-error.ts";
import { runCli } from "../helpers/child.ts";
import { pollUntil } from "../helpers/poll.ts";
import { siteFixture } from "./fixture.ts";
import { exchange, type RawResponse } from "../helpers/raw-client.ts";

const fx = siteFixture("bunhttp-site-");

/** A fresh root: about.html, dir/index.html, docs/a.txt, and what `extra` adds. */
function site(extra: Record<string, string> = {}): string {
  const root = fx.nextRoot();
  mkdirSync(join(root, "dir"), { recursive: true });
  mkdirSync(join(root, "docs"));
  writeFileSync(join(root, "about.html"), "about\n");
  writeFileSync(join(root, "dir", "index.html"), "dir index\n");
  writeFileSync(join(root, "docs", "a.txt"), "a\n");
  for (const [rel, text] of Object.entries(extra)) writeFileSync(join(root, rel), text);
  return root;
}

function start(options: Parameters<typeof serve>[0]): Server {
  const s = serve({ port: 0, hostname: "127.0.0.1", ...options });
  fx.track(s);
  return s;
}

function request(s: Server, path: string, method = "GET"): Promise<RawResponse> {
  return exchange(s.port, `${method} ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
}

function keepAliveGet(path: string): string {
  return `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`;
}

describe("--clean-urls without serve.json", () => {
  test("/about serves about.html; /about.html is a 301 to /about with the query kept", async () => {
    const s = start({ root: site(), cleanUrls: true });
    const a = await request(s, "/about");
    expect([a.status, a.text()]).toEqual([200, "about\n"]);
    const r = await request(s, "/about.html?x=1&y=2");
    expect([r.status, r.header("location")]).toEqual([301, "/about?x=1&y=2"]);
    const d = await request(s, "/dir");
    expect([d.status, d.text()]).toEqual([200, "dir index\n"]);
  });

  test("the flag and the config key", () => {
    expect(parseFlags(["--clean-urls"])).toEqual({ cleanUrls: true });
    expect(parseFlags(["--no-clean-urls"])).toEqual({ cleanUrls: false });
    expect(loadSettings([], {}).cleanUrls).toBe(false);
    expect(loadSettings([], { BUNHTTP_CLEAN_URLS: "1" }).cleanUrls).toBe(true);
  });

  test("off (the default): the static handler alone, as before", async () => {
    const s = start({ root: site() });
    expect((await request(s, "/about")).status).toBe(404);
    const d = await request(s, "/dir");
    expect([d.status, d.header("location")]).toEqual([301, "/dir/"]);
  });
});

describe("rule files are never served", () => {
  test("serve.json, _redirects and _headers: 404 and not listed, with or without serve.json", async () => {
    for (const withJson of [false, true]) {
      const files: Record<string, string> = { _redirects: "/a /b\n", _headers: "/*\n  X: 1\n" };
      if (withJson) files["serve.json"] = "{}";
      const s = start({ root: site(files), static: { listing: true } });
      for (const name of ["serve.json", "_redirects", "_headers"]) expect((await request(s, `/${name}`)).status).toBe(404);
      const list = await request(s, "/?");
      // (with serve.json "/" is listed; without it too: no index.html in these roots)
      expect(list.status).toBe(200);
      expect(list.text()).toContain("about.html");
      for (const name of ["serve.json", "_redirects", "_headers"]) expect(list.text()).not.toContain(`>${name}<`);
    }
  });
});

describe("precedence: routes and handler before serve.json", () => {
  test("a route and our handler answer before a redirect of the same path", async () => {
    const root = site({ "serve.json": JSON.stringify({ redirects: [{ source: "/r", destination: "/x" }, { source: "/h", destination: "/x" }, { source: "/s", destination: "/x" }] }) });
    const s = start({
      root,
      routes: { "/r": new Response("route") },
      handler: (req) => (req.path === "/h" ? "handler" : null),
    });
    expect((await request(s, "/r")).text()).toBe("route");
    expect((await request(s, "/h")).text()).toBe("handler");
    const r = await request(s, "/s");
    expect([r.status, r.header("location")]).toEqual([301, "/x"]);
  });
});

describe("header rules", () => {
  test("on a cached file, over keep-alive, and on HEAD", async () => {
    const root = site({ "serve.json": JSON.stringify({ headers: [{ source: "**/*.html", headers: [{ key: "X-Frame-Options", value: "DENY" }, { key: "Cache-Control", value: "max-age=9" }] }] }) });
    const s = start({ root });
    const { RawClient } = await import("../helpers/raw-client.ts");
    const c = await RawClient.connect(s.port);
    try {
      for (let i = 0; i < 3; i++) {
        await c.send(keepAliveGet("/about"));
        const r = await c.response();
        expect([r.status, r.text(), r.header("x-frame-options"), r.header("cache-control")]).toEqual([200, "about\n", "DENY", "max-age=9"]);
        expect(r.headers.get("cache-control")).toHaveLength(1);
      }
    } finally {
      c.close();
    }
    const h = await request(s, "/about", "HEAD");
    expect([h.status, h.header("x-frame-options"), h.header("content-length")]).toEqual([200, "DENY", "6"]);
  });
});

describe("serve.json is re-read when it changes", () => {
  let errors: string[];
  let spy: ReturnType<typeof spyOn>;
  beforeEach(() => {
    errors = [];
    spy = spyOn(console, "error").mockImplementation((...args: unknown[]) => void errors.push(args.join(" ")));
  });
  afterEach(() => spy.mockRestore());

  test("a new rule applies; a bad change is one line and the old rules stay; removed: plain static again", { timeout: 20_000 }, async () => {
    const root = site({ "serve.json": JSON.stringify({ redirects: [{ source: "/go", destination: "/one" }] }) });
    const s = start({ root });
    const location = async () => (await request(s, "/go")).header("location") ?? null;
    expect(await location()).toBe("/one");

    writeFileSync(join(root, "serve.json"), JSON.stringify({ redirects: [{ source: "/go", destination: "/two" }] }));
    await pollUntil(async () => (await location()) === "/two", 5000, "the new rule");

    writeFileSync(join(root, "serve.json"), '{\n  "redirects": 5\n}');
    await pollUntil(() => errors.length > 0, 5000, "the logged error");
    expect(errors[0]).toContain("serve.json:2: ");
    expect(errors[0]).toContain('"redirects" must be an array');
    expect(await location()).toBe("/two");

    unlinkSync(join(root, "serve.json"));
    await pollUntil(async () => (await request(s, "/go")).status === 404, 5000, "the rules gone");
    const d = await request(s, "/dir");
    expect([d.status, d.header("location")]).toEqual([301, "/dir/"]);
  });

  test("a serve.json that appears later is taken on", { timeout: 10_000 }, async () => {
    const root = site();
    const s = start({ root });
    expect((await request(s, "/about")).status).toBe(404);
    writeFileSync(join(root, "serve.json"), "{}");
    await pollUntil(async () => (await request(s, "/about")).status === 200, 5000, "clean URLs from serve.json");
  });
});

describe("a bad serve.json at start-up", () => {
  test("serve() throws a RuleFileError with the file, line and problem", () => {
    const root = site({ "serve.json": '{\n  "cleanUrls": true,\n  "bogus": 1\n}' });
    let err: unknown;
    try {
      start({ root });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RuleFileError);
    expect((err as RuleFileError).line).toBe(3);
    expect((err as RuleFileError).file).toEndWith("serve.json");
    expect((err as RuleFileError).problem).toContain('unknown key "bogus"');
  });

  test("the CLI exits 1 with one line", async () => {
    const root = site({ "serve.json": '{\n  "redirects": [\n    { "source": "/a", "destination": "/b", "type": 200 }\n  ]\n}' });
    const r = await runCli(["--root", root, "--port", "0"]);
    expect(r.code).toBe(1);
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^bunhttp: .*serve\.json:3: redirects\[0\]\.type must be 301, 302, 303, 307 or 308$/);
  });
});

describe("a list of RuleSets", () => {
  test("serve.json's rules first, then the next set's; header rules of both, the later winning a name", async () => {
    const { createStaticHandler } = await import("../../src/static/serve-static.ts");
    const { createSiteHandler, siteState } = await import("../../src/site/site-handler.ts");
    const { parseServeJson } = await import("../../src/site/serve-json-parse.ts");
    const root = site();
    const files = createStaticHandler({ root });
    const config = parseServeJson(
      JSON.stringify({ redirects: [{ source: "/both", destination: "/from-serve-json" }], headers: [{ source: "**", headers: [{ key: "X-A", value: "json" }, { key: "X-B", value: "json" }] }] }),
      "serve.json",
    );
    const asked: string[] = [];
    const second = {
      route(path: string) {
        asked.push(path);
        if (path === "/both" || path === "/second") return { kind: "redirect" as const, status: 302 as const, location: "/from-second" };
        if (path === "/rw") return { kind: "rewrite" as const, path: "/docs/a.txt?ignored=1", status: 404 as const };
        return null;
      },
      headers: (path: string) => (path === "/rw" ? ([["X-B", "second"]] as const) : []),
    };
    const state = siteState(config, { root: files.root, allowDotfiles: false, listing: true, cleanUrls: false }, [second]);
    const s = start({ handler: createSiteHandler(files, () => state) });
    const both = await request(s, "/both");
    expect([both.status, both.header("location")]).toEqual([301, "/from-serve-json"]);
    const sec = await request(s, "/second");
    expect([sec.status, sec.header("location")]).toEqual([302, "/from-second"]);
    const rw = await request(s, "/rw");
    expect([rw.status, rw.text(), rw.header("x-a"), rw.header("x-b")]).toEqual([404, "a\n", "json", "second"]);
    expect(asked).not.toContain("/both");
  });
});
