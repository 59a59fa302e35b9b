// Our exposition against Prometheus's own tools (Debian's `prometheus` package): `promtool check
// metrics` lints a scrape, and a real Prometheus scrapes us every second until its query API shows
// the requests this test sent. Each part skips, saying so, when its binary is absent.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve } from "../../src/serve.ts";
import { killAll, spawnChild } from "../helpers/child.ts";
import { poll } from "../helpers/poll.ts";
import { exchange } from "../helpers/raw-client.ts";
import { scrape } from "./exposition.ts";

const PROMTOOL = "/usr/bin/promtool";
const PROMETHEUS = "/usr/bin/prometheus";
const havePromtool = existsSync(PROMTOOL);
const havePrometheus = existsSync(PROMETHEUS);
if (!havePromtool) console.warn(`${PROMTOOL} not found (apt-get install prometheus): the promtool check is skipped`);
if (!havePrometheus) console.warn(`${PROMETHEUS} not found (apt-get install prometheus): the Prometheus scrape test is skipped`);

const temps: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "bunhttp-prometheus-"));
  temps.push(d);
  return d;
}

afterAll(async () => {
  await killAll();
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
});

function freePort(): number {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

/** A server with files and metrics, and some traffic: 200s, 404s, a 405. */
async function servedWithTraffic(root: string) {
  writeFileSync(join(root, "a.txt"), "hello\n");
  const server = serve({ port: 0, hostname: "127.0.0.1", log: "off", root, metrics: "/metrics" });
  for (const req of ["GET /a.txt", "GET /a.txt", "GET /nope", "DELETE /a.txt"]) {
    await exchange(server.port, `${req} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`);
  }
  return server;
}

describe.skipIf(!havePromtool)("promtool check metrics", () => {
  test("a scrape passes the linter (first and second scrape: before and after requests of each kind)", async () => {
    using server = await servedWithTraffic(tempDir());
    server.metrics!.upstreamRequest("app:3000");
    server.metrics!.upstreamError("app:3000", "connect");
    for (let i = 0; i < 2; i++) {
      const { res } = await scrape(server.port);
      const check = Bun.spawn([PROMTOOL, "check", "metrics"], { stdin: res.body, stdout: "pipe", stderr: "pipe" });
      const [out, err, code] = await Promise.all([new Response(check.stdout).text(), new Response(check.stderr).text(), check.exited]);
      expect({ code, out, err }).toEqual({ code: 0, out: "", err: "" });
    }
  });

  test("it does fail on a bad exposition (the check is real)", async () => {
    const bad = "# TYPE requests counter\nrequests 1\n";
    const check = Bun.spawn([PROMTOOL, "check", "metrics"], { stdin: new TextEncoder().encode(bad), stdout: "pipe", stderr: "pipe" });
    expect(await check.exited).not.toBe(0);
  });
});

describe.skipIf(!havePrometheus)("a real Prometheus scraping us", () => {
  test("its query API shows the 404s we sent", async () => {
    const dir = tempDir();
    const root = join(dir, "root");
    mkdirSync(root);
    using server = serve({ port: 0, hostname: "127.0.0.1", log: "off", root, metrics: "/metrics" });
    // A status only these requests get (scrapes are 200s): 7 of them.
    for (let i = 0; i < 7; i++) {
      expect((await exchange(server.port, `GET /missing-${i} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`)).status).toBe(404);
    }
    const config = join(dir, "prometheus.yml");
    writeFileSync(
      config,
      `global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: bunhttp
    metrics_path: /metrics
    static_configs:
      - targets: ["127.0.0.1:${server.port}"]
`,
    );
    const webPort = freePort();
    const prometheus = spawnChild([
      PROMETHEUS,
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${webPort}`,
      "--log.level=warn",
    ]);
    try {
      const query = `http://127.0.0.1:${webPort}/api/v1/query?query=${encodeURIComponent('http_requests_total{code="404"}')}`;
      let last = "";
      // Prometheus has no event to wait on: its API is polled, bounded at 20 s.
      const seen = await poll(
        async () => {
          if (prometheus.dead) return "exited";
          try {
            const body = (await (await fetch(query)).json()) as { data?: { result?: { value: [number, string] }[] } };
            last = JSON.stringify(body);
            return body.data?.result?.[0]?.value[1] === "7" ? "7" : null;
          } catch {
            return null; // not listening yet
          }
        },
        20_000,
        { every: 250 },
      );
      if (seen !== "7") throw new Error(`Prometheus never showed 7 404s (${seen ?? "timed out"}); last answer ${last}; stderr: ${prometheus.stderr()}`);
      expect(seen).toBe("7");
      // Its scrapes of us count as requests too, as 200s, from the second on (a scrape's answer does
      // not include itself); and it sees the target up.
      const api = async (q: string) =>
        ((await (await fetch(`http://127.0.0.1:${webPort}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as { data: { result: { value: [number, string] }[] } })
          .data.result;
      const scrapes = await poll(async () => Number((await api('http_requests_total{code="200"}'))[0]?.value[1] ?? 0), 10_000, { every: 250 });
      expect(scrapes).toBeGreaterThanOrEqual(1);
      expect((await api("up"))[0]!.value[1]).toBe("1");
    } finally {
      prometheus.kill("SIGKILL");
      await prometheus.exited;
    }
  }, 40_000);
});
