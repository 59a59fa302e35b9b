// Pages a person looks at, checked in headless Chromium: the directory listing and the demo page.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { haveChromium, launchChromium } from "../helpers/chromium.ts";
import { serve, type Server } from "../../src/index.ts";
import demoApp from "../../examples/demo.ts";

let browser: Browser;
let files: Server;
let demo: Server;
let dir: string;

beforeAll(async () => {
  if (!haveChromium) return;
  dir = mkdtempSync(join(tmpdir(), "bunhttp-browser-"));
  mkdirSync(join(dir, "docs"));
  mkdirSync(join(dir, "docs", "zeta-dir"));
  writeFileSync(join(dir, "docs", "small.txt"), "tiny");
  writeFileSync(join(dir, "docs", "large.bin"), new Uint8Array(50_000));
  writeFileSync(join(dir, "docs", "<b>bold<b> & more.txt"), "escaped name");
  files = serve({ port: 0, hostname: "127.0.0.1", root: dir, log: "off" });
  demo = serve({ port: 0, hostname: "127.0.0.1", root: join(import.meta.dir, "..", "..", "public"), log: "off", ...demoApp });
  browser = await launchChromium();
}, 30_000);

afterAll(async () => {
  if (!haveChromium) return;
  await browser?.close();
  files?.stop(true);
  demo?.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!haveChromium)("in Chromium", () => {
  test("the directory listing shows entries, sorts, and its links work", async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 800 } }); // a phone
    await page.goto(new URL("/docs/", files.url).href);
    expect(await page.title()).toBe("Index of /docs/");
    const names = await page.$$eval("td.name a", (as) => as.map((a) => a.textContent));
    // Parent link, then directories, then files by name; the odd name is shown as text, not markup.
    expect(names).toEqual(["../", "zeta-dir/", "<b>bold<b> & more.txt", "large.bin", "small.txt"]);
    expect(await page.$$eval("td.name b", (b) => b.length)).toBe(0);
    // Nothing overflows the phone's width.
    const scrollWidth = await page.evaluate("document.documentElement.scrollWidth");
    expect(scrollWidth).toBeLessThanOrEqual(390);
    await page.screenshot({ path: join(tmpdir(), "bunhttp-listing.png") }); // for a person to look at

    await page.click("th.size a"); // sort by size (largest first)
    const bySize = await page.$$eval("tr.file td.name a", (as) => as.map((a) => a.textContent));
    expect(bySize).toEqual(["large.bin", "<b>bold<b> & more.txt", "small.txt"]);

    await page.click("text=<b>bold<b> & more.txt");
    expect(await page.textContent("body")).toContain("escaped name");
    await page.goBack();
    await page.click("text=../");
    expect(new URL(page.url()).pathname).toBe("/");
    await page.close();
  });

  test("the demo page: the form posts to the demo app and shows its answer", async () => {
    const page = await browser.newPage();
    await page.goto(demo.url.href);
    await page.fill("input[name=name]", "Grace <Hopper>");
    await page.fill("input[name=message]", "ranges & all");
    await page.click("#echo-form button[type=submit]");
    await page.waitForFunction('document.getElementById("echo-result").textContent.startsWith("200")');
    const text = (await page.textContent("#echo-result")) ?? "";
    const json = JSON.parse(text.slice(text.indexOf("\n") + 1));
    expect(json.fields).toEqual({ name: "Grace <Hopper>", message: "ranges & all" });
    expect(json.method).toBe("POST");

    await page.click("#range-button");
    await page.waitForFunction('document.getElementById("http-result").textContent.startsWith("206")');
    expect(await page.textContent("#http-result")).toContain('Body: "0123456789"');

    await page.click("#conditional-button");
    await page.waitForFunction('document.getElementById("http-result").textContent.startsWith("First")');
    await page.screenshot({ path: join(tmpdir(), "bunhttp-demo.png"), fullPage: true }); // for a person to look at
    expect(await page.textContent("#http-result")).toContain("With If-None-Match: 304");

    await page.click("#listing-link");
    expect(await page.title()).toBe("Index of /files/");
    await page.close();
  });

  test("the demo page renders", async () => {
    const page = await browser.newPage();
    const res = await page.goto(demo.url.href);
    expect(res?.status()).toBe(200);
    expect(await page.textContent("h1")).toBe("bunhttp");
    // The stylesheet loaded and applied.
    const font = await page.evaluate("getComputedStyle(document.body).fontFamily");
    expect(font).toContain("system-ui");
    await page.close();
  });
});
