// --watch from the command line: the setting (flag, environment, config file, --help), and the real
// CLI serving injected pages and change events, with one process and with --workers 2.
import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULTS, helpText, loadSettings, parseFlags } from "../../src/config.ts";
import { EVENTS_PATH, SCRIPT_TAG } from "../../src/live-reload/live-reload.ts";
import { killAll, startCli } from "../helpers/child.ts";
import { freePort, removeTemps, tempDir } from "../deploy/helpers.ts";

afterAll(async () => {
  await killAll();
  removeTemps();
});

describe("the setting", () => {
  test("off by default; --watch, BUNHTTP_WATCH and a config file turn it on; --no-watch off", () => {
    expect(DEFAULTS.watch).toBe(false);
    expect(parseFlags(["--watch"])).toEqual({ watch: true });
    expect(parseFlags(["--no-watch"])).toEqual({ watch: false });
    expect(loadSettings([], { BUNHTTP_WATCH: "1" }).watch).toBe(true);
    const cfg = join(tempDir(), "c.json");
    writeFileSync(cfg, JSON.stringify({ watch: true }));
    expect(loadSettings(["--config", cfg], {}).watch).toBe(true);
    expect(loadSettings(["--config", cfg, "--no-watch"], {}).watch).toBe(false);
    expect(helpText()).toMatch(/--watch, --no-watch +live reload.*\(default: false\)/);
  });
});

/** Reads an event stream until `what` arrives (after `write` ran), within `ms`. */
async function eventAfter(url: URL, write: () => void, what: string, ms = 2000): Promise<string> {
  const res = await fetch(new URL(EVENTS_PATH, url), { signal: AbortSignal.timeout(ms + 3000) });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = decoder.decode((await reader.read()).value); // the opening: the stream is registered
  write();
  const deadline = performance.now() + ms;
  while (!text.includes(what)) {
    if (performance.now() > deadline) throw new Error(`no ${what} within ${ms} ms: ${JSON.stringify(text)}`);
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value);
  }
  await reader.cancel();
  return text;
}

describe("the CLI", () => {
  for (const workers of ["1", "2"]) {
    test(`--watch --workers ${workers}: pages injected, a change announced`, async () => {
      const root = tempDir("bunhttp-lr-cli-");
      writeFileSync(join(root, "index.html"), "<body>hello</body>");
      // (Workers share a fixed port: 0 would give each its own.)
      const port = workers === "1" ? "0" : String(freePort());
      const cli = await startCli(["--port", port, "--log", "off", "--watch", "--workers", workers, root]);
      try {
        // Each worker has its own cache and watcher: every answer is injected, whichever worker gives it.
        for (let i = 0; i < 6; i++) expect(await (await fetch(cli.url)).text()).toBe(`<body>hello${SCRIPT_TAG}</body>`);
        const text = await eventAfter(cli.url, () => writeFileSync(join(root, "index.html"), "<body>again</body>"), "event: reload");
        expect(text).toContain('data: ["/index.html"]');
        expect(await (await fetch(cli.url)).text()).toBe(`<body>again${SCRIPT_TAG}</body>`);
      } finally {
        cli.kill();
      }
    }, 20_000);
  }

  test("without --watch the page is the file", async () => {
    const root = tempDir("bunhttp-lr-cli-");
    writeFileSync(join(root, "index.html"), "<body>hello</body>");
    const cli = await startCli(["--port", "0", "--log", "off", root]);
    try {
      expect(await (await fetch(cli.url)).text()).toBe("<body>hello</body>");
    } finally {
      cli.kill();
    }
  });
});
