// CORS and Basic auth as a browser meets them, in headless Chromium: a page on one origin making a
// request that needs a preflight to another origin, served with and without CORS; and a site behind
// Basic auth, visited with credentials and without.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { haveChromium, launchChromium } from "../helpers/chromium.ts";
import { serve, type Server } from "../../src/index.ts";

let browser: Browser;
let dir: string;
let pages: Server; // the page's origin
const apis: Record<"any" | "list" | "off" | "own", Server> = {} as never;
const seen: Record<string, string[]> = { any: [], list: [], off: [], own: [] };
let locked: Server;

/** The page: PUTs with a custom field (which needs a preflight) to the URL in its query, says what came back. */
const PAGE = `<!doctype html><title>waiting</title><script>
const api = new URLSearchParams(location.search).get("api");
const credentials = new URLSearchParams(location.search).get("credentials") ?? "same-origin";
fetch(api, { method: "PUT", headers: { "X-Custom": "1" }, body: "hello", credentials })
  .then(async (r) => { document.title = "ok " + r.status + " " + (await r.text()) + " " + r.headers.get("etag"); })
  .catch((e) => { document.title = "failed " + e.name; });
</script>`;

beforeAll(async () => {
  if (!haveChromium) return;
  dir = mkdtempSync(join(tmpdir(), "bunhttp-browser-access-"));
  mkdirSync(join(dir, "site"));
  writeFileSync(join(dir, "index.html"), PAGE);
  writeFileSync(join(dir, "site", "index.html"), '<!doctype html><title>private</title><script src="app.js"></script>');
  writeFileSync(join(dir, "site", "app.js"), 'document.addEventListener("DOMContentLoaded", () => { document.title += " + script"; });');
  pages = serve({ port: 0, hostname: "127.0.0.1", root: dir, log: "off" });
  const api = (name: string, cors: boolean | string[] | undefined, own?: string) =>
    serve({
      port: 0,
      hostname: "127.0.0.1",
      log: "off",
      cors,
      async fetch(req) {
        seen[name]!.push(req.method);
        const headers: Record<string, string> = { ETag: '"v1"' };
        if (own !== undefined) Object.assign(headers, { "Access-Control-Allow-Origin": own, "Access-Control-Expose-Headers": "ETag" });
        return new Response(`${req.method} ${await req.text()}`, { headers });
      },
    });
  apis.any = api("any", true);
  apis.list = api("list", [pages.url.origin]);
  apis.off = api("off", undefined);
  apis.own = api("own", true, pages.url.origin);
  locked = serve({ port: 0, hostname: "127.0.0.1", root: join(dir, "site"), log: "off", auth: { credentials: "alice:wonder land" } });
  browser = await launchChromium();
}, 30_000);

afterAll(async () => {
  if (!haveChromium) return;
  await browser?.close();
  await Promise.all([pages, locked, ...Object.values(apis)].map((s) => s?.stop(true)));
  rmSync(dir, { recursive: true, force: true });
});

/** Opens the page with `api` as its target and gives the title it ends with. */
async function crossOrigin(api: string, credentials?: string): Promise<string> {
  const page = await browser.newPage();
  try {
    const url = new URL(pages.url.href);
    url.searchParams.set("api", api);
    if (credentials) url.searchParams.set("credentials", credentials);
    await page.goto(url.href);
    await page.waitForFunction('document.title !== "waiting"', undefined, { timeout: 10_000 });
    return await page.title();
  } finally {
    await page.close();
  }
}

describe.skipIf(!haveChromium)("CORS in Chromium", () => {
  test("with --cors: the preflight passes, the PUT is made and its answer read (ETag exposed)", async () => {
    seen.any!.length = 0;
    expect(await crossOrigin(apis.any.url.href)).toBe('ok 200 PUT hello "v1"');
    // The preflight was answered before the app; the app saw only the PUT.
    expect(seen.any).toEqual(["PUT"]);
  });

  test("with --cors (*), a request with credentials is refused by the browser", async () => {
    expect(await crossOrigin(apis.any.url.href, "include")).toBe("failed TypeError");
  });

  test("with --cors-origin naming the page's origin: credentials too", async () => {
    expect(await crossOrigin(apis.list.url.href, "include")).toBe('ok 200 PUT hello "v1"');
  });

  test("with --cors and an app that sets its own Allow-Origin: one goes out, and the browser takes it", async () => {
    seen.own!.length = 0;
    expect(await crossOrigin(apis.own.url.href)).toBe('ok 200 PUT hello "v1"');
    expect(seen.own).toEqual(["PUT"]);
  });

  test("without CORS: the preflight fails and the PUT is never sent", async () => {
    seen.off!.length = 0;
    expect(await crossOrigin(apis.off.url.href)).toBe("failed TypeError");
    expect(seen.off).not.toContain("PUT");
  });
});

describe.skipIf(!haveChromium)("Basic auth in Chromium", () => {
  test("with credentials (httpCredentials): the page and its script load", async () => {
    const context = await browser.newContext({ httpCredentials: { username: "alice", password: "wonder land" } });
    try {
      const page = await context.newPage();
      const res = await page.goto(locked.url.href);
      expect(res?.status()).toBe(200);
      await page.waitForFunction('document.title === "private + script"', undefined, { timeout: 10_000 });
    } finally {
      await context.close();
    }
  });

  test("without credentials: the 401 challenge, and the navigation fails (no prompt in headless)", async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const answers: { status: number; challenge: string | undefined }[] = [];
      page.on("response", (r) => void answers.push({ status: r.status(), challenge: r.headers()["www-authenticate"] }));
      await expect(page.goto(locked.url.href)).rejects.toThrow("ERR_INVALID_AUTH_CREDENTIALS");
      expect(answers[0]).toEqual({ status: 401, challenge: 'Basic realm="bunhttp", charset="UTF-8"' });
      expect(await page.title()).not.toContain("private");
    } finally {
      await context.close();
    }
  });

  test("--watch behind --auth: the page's event stream is let in with the page's credentials", async () => {
    const root = join(dir, "watched");
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, "index.html"), '<!doctype html><title>watched</title><body><p id="t">one</p></body>');
    const watched = serve({ port: 0, hostname: "127.0.0.1", root, log: "off", watch: true, auth: { credentials: "alice:wonder land" } });
    const context = await browser.newContext({ httpCredentials: { username: "alice", password: "wonder land" } });
    try {
      const page = await context.newPage();
      const stream = page.waitForResponse((r) => r.url().endsWith("/.bunhttp/live-reload"));
      await page.goto(watched.url.href);
      expect((await stream).status()).toBe(200);
      writeFileSync(join(root, "index.html"), '<!doctype html><title>watched</title><body><p id="t">two</p></body>');
      await page.waitForFunction('document.getElementById("t")?.textContent === "two"', undefined, { timeout: 5000 });
    } finally {
      await context.close();
      await watched.stop(true);
    }
  });

  test("with wrong credentials: 401 and nothing of the page", async () => {
    const context = await browser.newContext({ httpCredentials: { username: "alice", password: "wonderland" } });
    try {
      const page = await context.newPage();
      const res = await page.goto(locked.url.href);
      expect(res?.status()).toBe(401);
      expect(await page.title()).not.toContain("private");
    } finally {
      await context.close();
    }
  });
});
