// The real command line as a child process: errors are one line and exit 1; health check; access logs.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { killAll, REPO, run, runCli, startCli } from "../helpers/child.ts";
import { pollUntil } from "../helpers/poll.ts";
import { freePort, removeTemps, tempDir } from "./helpers.ts";

afterAll(async () => {
  await killAll();
  removeTemps();
});

const root = tempDir();
writeFileSync(join(root, "a.txt"), "hi\n");
mkdirSync(join(root, "sub"));
writeFileSync(join(root, "sub", "b.txt"), "bee\n");

/** Exit code 1, nothing on stdout, exactly one line on stderr starting "bunhttp: ", no stack trace. */
function expectOneLineError(r: { code: number; stdout: string; stderr: string }, contains: string): void {
  expect(r.code).toBe(1);
  expect(r.stdout).toBe("");
  expect(r.stderr.endsWith("\n")).toBe(true);
  const lines = r.stderr.slice(0, -1).split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toStartWith("bunhttp: ");
  expect(lines[0]).toContain(contains);
  expect(r.stderr).not.toMatch(/\n\s+at |Error:|\.ts:\d+/);
}

describe("errors: exit 1 and one line on stderr", () => {
  test("unknown flag", async () => {
    const r = await runCli(["--bogus"]);
    expectOneLineError(r, "unknown option --bogus");
  });

  test("unknown flag close to a real one gets a suggestion", async () => {
    const r = await runCli(["--max_body", "5"]);
    expectOneLineError(r, "did you mean --max-body?");
  });

  test("bad port", async () => {
    expectOneLineError(await runCli(["--port", "70000", "--root", root]), '--port: must be a port number 0-65535, not "70000"');
    expectOneLineError(await runCli(["--port=http", "--root", root]), "--port: must be a whole number");
    expectOneLineError(await runCli(["--root", root], { PORT: "eighty" }), 'PORT: must be a whole number ≥ 0, not "eighty"');
  });

  test("missing root directory", async () => {
    const missing = join(root, "does-not-exist");
    expectOneLineError(await runCli(["--port", "0", "--root", missing]), `root directory not found: ${missing}`);
  });

  test("root that is a file: said to be one, not \"not found\" (by --root, or given alone)", async () => {
    const file = join(root, "a.txt");
    expectOneLineError(await runCli(["--port", "0", "--root", file]), `root ${file} is a file, not a directory`);
    expectOneLineError(await runCli(["--port", "0", file]), `root ${file} is a file, not a directory`);
  });

  test("a directory given alone is served; with --root too, one clear line", async () => {
    const cli = await startCli(["--port", "0", "--log", "off", root]);
    try {
      expect(await (await fetch(new URL("/sub/b.txt", cli.url))).text()).toBe("bee\n");
    } finally {
      cli.kill();
    }
    expectOneLineError(await runCli(["--port", "0", root, "--root", root]), `two directories to serve: ${root} and --root ${root} (give one)`);
  });

  test("bad config file names the key", async () => {
    const cfg = join(tempDir(), "c.json");
    writeFileSync(cfg, JSON.stringify({ root, idleTimout: 5 }));
    expectOneLineError(await runCli(["--config", cfg]), 'unknown key "idleTimout"');
  });

  test("--tls-cert without --tls-key", async () => {
    expectOneLineError(await runCli(["--root", root, "--tls-cert", "x.pem"]), "--tls-cert and --tls-key go together");
  });

  test("unreadable certificate", async () => {
    const missing = join(root, "no-cert.pem");
    expectOneLineError(await runCli(["--port", "0", "--root", root, "--tls-cert", missing, "--tls-key", missing]), `cannot read certificate ${missing}`);
  });

  test("bad --trust-proxy", async () => {
    expectOneLineError(await runCli(["--port", "0", "--root", root, "--trust-proxy", "10.0.0.0/40"]), "trust-proxy");
  });

  test("a log file that cannot be opened, a certificate that is not PEM: exit 1, one line", async () => {
    const badLog = join(root, "no-such-dir", "access.log");
    expectOneLineError(await runCli(["--port", "0", "--root", root, "--log-file", badLog]), badLog);
    const notPem = join(root, "a.txt");
    expectOneLineError(await runCli(["--port", "0", "--root", root, "--tls-cert", notPem, "--tls-key", notPem]), "PEM");
  });

  test("those errors say what is wrong instead of 'cannot listen'", async () => {
    const badLog = join(root, "no-such-dir", "access.log");
    const r1 = await runCli(["--port", "0", "--root", root, "--log-file", badLog]);
    expect(r1.stderr).not.toContain("cannot listen");
    const notPem = join(root, "a.txt");
    const r2 = await runCli(["--port", "0", "--root", root, "--tls-cert", notPem, "--tls-key", notPem]);
    expect(r2.stderr).not.toContain("cannot listen");
    expect(r2.stderr).toContain(notPem);
  });

  test("port in use", async () => {
    const holder = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      const r = await runCli(["--port", String(holder.port), "--root", root]);
      expectOneLineError(r, `port ${holder.port} on 127.0.0.1 is already in use`);
    } finally {
      holder.stop(true);
    }
  });

  test("--help prints the help on stdout and exits 0", async () => {
    const r = await runCli(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage:");
    expect(r.stdout).toContain("--shutdown-timeout");
    expect(r.stderr).toBe("");
  });
});

describe("running", () => {
  test("PORT from the environment is used", async () => {
    const port = freePort();
    const cli = await startCli(["--root", root, "--log", "off"], { PORT: String(port) });
    try {
      expect(cli.port).toBe(port);
      const res = await fetch(`http://127.0.0.1:${port}/a.txt`);
      expect(await res.text()).toBe("hi\n");
    } finally {
      cli.kill();
      await cli.exited;
    }
  });

  test("--health /healthz answers 200 ok (before the static files), other paths are unaffected", async () => {
    const cli = await startCli(["--port", "0", "--root", root, "--log", "off", "--health", "/healthz"]);
    try {
      const res = await fetch(new URL("/healthz", cli.url));
      expect(res.status).toBe(200);
      expect((await res.text()).trim()).toBe("ok");
      expect(res.headers.get("cache-control")).toBe("no-store");
      const head = await fetch(new URL("/healthz", cli.url), { method: "HEAD" });
      expect(head.status).toBe(200);
      expect((await fetch(new URL("/healthz/x", cli.url))).status).toBe(404);
      expect(await (await fetch(new URL("/a.txt", cli.url))).text()).toBe("hi\n");
    } finally {
      cli.kill();
      await cli.exited;
    }
  });

  test("without --health, /healthz is just a path", async () => {
    const cli = await startCli(["--port", "0", "--root", root, "--log", "off"]);
    try {
      expect((await fetch(new URL("/healthz", cli.url))).status).toBe(404);
    } finally {
      cli.kill();
      await cli.exited;
    }
  });
});

describe("compression flags", () => {
  const text = "const answer = 42; // a line of JavaScript\n".repeat(100); // 4.3 KiB
  writeFileSync(join(root, "app.js"), text);
  writeFileSync(join(root, "tiny.js"), text.slice(0, 1500));
  const get = (url: URL) => fetch(url, { headers: { "Accept-Encoding": "gzip" }, decompress: false } as RequestInit);

  test("by default a text-like file goes out compressed, and decodes to the file", async () => {
    const cli = await startCli(["--port", "0", "--root", root, "--log", "off"]);
    try {
      const res = await get(new URL("/app.js", cli.url));
      expect(res.headers.get("content-encoding")).toBe("gzip");
      expect(res.headers.get("vary")).toBe("Accept-Encoding");
      expect(Bun.gunzipSync(new Uint8Array(await res.arrayBuffer()))).toEqual(new TextEncoder().encode(text));
    } finally {
      cli.kill();
      await cli.exited;
    }
  });

  test("--no-compress: identity; --compress-min-size: smaller files identity, larger compressed", async () => {
    const off = await startCli(["--port", "0", "--root", root, "--log", "off", "--no-compress"]);
    try {
      const res = await get(new URL("/app.js", off.url));
      expect(res.headers.get("content-encoding")).toBeNull();
      expect(res.headers.get("vary")).toBeNull();
      expect(await res.text()).toBe(text);
    } finally {
      off.kill();
      await off.exited;
    }
    const min = await startCli(["--port", "0", "--root", root, "--log", "off", "--compress-min-size", "2000"]);
    try {
      expect((await get(new URL("/tiny.js", min.url))).headers.get("content-encoding")).toBeNull();
      expect((await get(new URL("/app.js", min.url))).headers.get("content-encoding")).toBe("gzip");
    } finally {
      min.kill();
      await min.exited;
    }
  });
});

describe("access log", () => {
  const lines = (path: string) => (existsSync(path) ? readFileSync(path, "utf8").split("\n").filter((l) => l !== "") : []);

  test("--log json to --log-file: one JSON object a line with method, target, status, bytes and ms", async () => {
    const dir = tempDir();
    const log = join(dir, "access.log");
    const cli = await startCli(["--port", "0", "--root", root, "--log", "json", "--log-file", log]);
    try {
      expect(await (await fetch(new URL("/a.txt?q=1", cli.url))).text()).toBe("hi\n");
      expect((await fetch(new URL("/missing", cli.url), { method: "HEAD" })).status).toBe(404);
      await fetch(new URL("/sub/b.txt", cli.url), { headers: { "user-agent": "deploy-test", referer: "http://r/" } }).then((r) => r.text());
      // The log is written in batches, at least once a second.
      const got = await pollUntil(() => (lines(log).length >= 3 ? lines(log) : null), 5000, "three log lines");
      const entries = got.map((l) => JSON.parse(l));
      for (const e of entries) {
        expect(typeof e.method).toBe("string");
        expect(typeof e.target).toBe("string");
        expect(typeof e.status).toBe("number");
        expect(typeof e.bytes).toBe("number");
        expect(typeof e.ms).toBe("number");
        expect(e.ms).toBeGreaterThanOrEqual(0);
        expect(e.ms).toBeLessThan(5000);
        expect(e.remote).toBe("127.0.0.1");
        expect(Number.isNaN(Date.parse(e.time))).toBe(false);
      }
      expect(entries[0]).toMatchObject({ method: "GET", target: "/a.txt?q=1", status: 200, bytes: 3, version: "HTTP/1.1" });
      expect(entries[1]).toMatchObject({ method: "HEAD", target: "/missing", status: 404 });
      expect(entries[2]).toMatchObject({ method: "GET", target: "/sub/b.txt", status: 200, bytes: 4, userAgent: "deploy-test", referer: "http://r/" });
      // Nothing went to stdout.
      expect(cli.stdout()).toBe("");
    } finally {
      cli.kill();
      await cli.exited;
    }
  });

  test("SIGHUP reopens the log file: after a rename, new lines go to a new file at the original path", async () => {
    const dir = tempDir();
    const log = join(dir, "access.log");
    const rotated = join(dir, "access.log.1");
    const cli = await startCli(["--port", "0", "--root", root, "--log", "json", "--log-file", log]);
    try {
      await fetch(new URL("/a.txt?before", cli.url)).then((r) => r.text());
      await pollUntil(() => lines(log).length >= 1, 5000, "the first line");
      renameSync(log, rotated);
      cli.kill("SIGHUP");
      // The reopen creates the file at the original path.
      await pollUntil(() => existsSync(log), 5000, "the new log file");
      await fetch(new URL("/a.txt?after", cli.url)).then((r) => r.text());
      const fresh = await pollUntil(() => (lines(log).length >= 1 ? lines(log) : null), 5000, "a line in the new file");
      expect(fresh.map((l) => JSON.parse(l).target)).toEqual(["/a.txt?after"]);
      expect(lines(rotated).map((l) => JSON.parse(l).target)).toEqual(["/a.txt?before"]);
      // Still alive after the HUP.
      expect(cli.exitCode()).toBeNull();
    } finally {
      cli.kill();
      await cli.exited;
    }
  });

  test("--log common: the Common Log Format line shape", async () => {
    const log = join(tempDir(), "common.log");
    const cli = await startCli(["--port", "0", "--root", root, "--log", "common", "--log-file", log]);
    try {
      await fetch(new URL("/a.txt", cli.url)).then((r) => r.text());
      await fetch(new URL("/nope", cli.url)).then((r) => r.text());
      const got = await pollUntil(() => (lines(log).length >= 2 ? lines(log) : null), 5000, "two log lines");
      const stamp = String.raw`\[\d{2}/(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)/\d{4}:\d{2}:\d{2}:\d{2} \+0000\]`;
      expect(got[0]).toMatch(new RegExp(`^127\\.0\\.0\\.1 - - ${stamp} "GET /a\\.txt HTTP/1\\.1" 200 3$`));
      expect(got[1]).toMatch(new RegExp(`^127\\.0\\.0\\.1 - - ${stamp} "GET /nope HTTP/1\\.1" 404 \\d+$`));
    } finally {
      cli.kill();
      await cli.exited;
    }
  });

  test("--log combined adds the referer and user agent, quoted", async () => {
    const log = join(tempDir(), "combined.log");
    const cli = await startCli(["--port", "0", "--root", root, "--log", "combined", "--log-file", log]);
    try {
      await fetch(new URL("/a.txt", cli.url), { headers: { "user-agent": 'evil"agent', referer: "http://ref/" } }).then((r) => r.text());
      const [line] = await pollUntil(() => (lines(log).length >= 1 ? lines(log) : null), 5000, "a log line");
      expect(line).toMatch(/^127\.0\.0\.1 - - \[[^\]]+\] "GET \/a\.txt HTTP\/1\.1" 200 3 "http:\/\/ref\/" "evil\\x22agent"$/);
    } finally {
      cli.kill();
      await cli.exited;
    }
  });

  test("the default log goes to stdout in common format", async () => {
    const cli = await startCli(["--port", "0", "--root", root]);
    try {
      await fetch(new URL("/a.txt", cli.url)).then((r) => r.text());
      await pollUntil(() => cli.stdout().includes('"GET /a.txt HTTP/1.1" 200 3'), 5000, "the log line on stdout");
    } finally {
      cli.kill();
      await cli.exited;
    }
  });

  test("--log off writes nothing", async () => {
    const log = join(tempDir(), "off.log");
    const cli = await startCli(["--port", "0", "--root", root, "--log", "off", "--log-file", log]);
    try {
      await fetch(new URL("/a.txt", cli.url)).then((r) => r.text());
    } finally {
      cli.kill();
      await cli.exited;
    }
    expect(lines(log)).toEqual([]);
    expect(cli.stdout()).toBe("");
  });

  test("the last lines are flushed on SIGTERM", async () => {
    const log = join(tempDir(), "final.log");
    const cli = await startCli(["--port", "0", "--root", root, "--log", "json", "--log-file", log]);
    await fetch(new URL("/a.txt?last", cli.url)).then((r) => r.text());
    cli.kill("SIGTERM");
    expect(await cli.exited).toBe(0);
    expect(lines(log).map((l) => JSON.parse(l).target)).toEqual(["/a.txt?last"]);
  });
});

describe("--app", () => {
  test("routes from the app module answer before the static files", async () => {
    const app = join(tempDir(), "routes-app.ts");
    writeFileSync(app, `export default { routes: { "/api/ping": () => new Response("pong") } };\n`);
    const cli = await startCli(["--port", "0", "--root", root, "--log", "off", "--app", app]);
    try {
      expect(await (await fetch(new URL("/api/ping", cli.url))).text()).toBe("pong");
      expect(await (await fetch(new URL("/a.txt", cli.url))).text()).toBe("hi\n");
    } finally {
      cli.kill();
      await cli.exited;
    }
  });

  test("the module's Bun.serve options are honoured; flags win; what is not supported is named", async () => {
    const free = freePort();
    const app = join(tempDir(), "options-app.ts");
    writeFileSync(
      app,
      `export default { port: ${free}, maxRequestBodySize: 5, idleTimeout: 30, lowMemoryMode: true, fetch: async (req) => new Response("got " + (await req.text())) };\n`,
    );
    const cli = await startCli(["--root", root, "--log", "off", "--app", app]);
    try {
      expect(cli.port).toBe(free);
      expect(await (await fetch(new URL("/x", cli.url), { method: "POST", body: "12345" })).text()).toBe("got 12345");
      expect((await fetch(new URL("/x", cli.url), { method: "POST", body: "123456" })).status).toBe(413);
      expect(cli.stderr()).toContain("bunhttp: app option `lowMemoryMode` is not supported; ignored\n");
    } finally {
      cli.kill();
      await cli.exited;
    }
    const flagged = await startCli(["--port", "0", "--max-body", "100", "--root", root, "--log", "off", "--app", app]);
    try {
      expect(flagged.port).not.toBe(free);
      expect((await fetch(new URL("/x", flagged.url), { method: "POST", body: "123456" })).status).toBe(200);
    } finally {
      flagged.kill();
      await flagged.exited;
    }
  });

  test("a missing app module: exit 1, one line", async () => {
    const r = await runCli(["--port", "0", "--root", root, "--app", join(root, "nope.ts")]);
    expectOneLineError(r, "app module not found");
  });

  test("an app's fetch gets the requests that no file answers", async () => {
    const app = join(tempDir(), "fetch-app.ts");
    writeFileSync(app, `export default { fetch: (req) => new Response("app:" + req.method + " " + new URL(req.url).pathname) };\n`);
    const cli = await startCli(["--port", "0", "--root", root, "--log", "off", "--app", app]);
    try {
      expect(await (await fetch(new URL("/a.txt", cli.url))).text()).toBe("hi\n");
      expect(await (await fetch(new URL("/x", cli.url))).text()).toBe("app:GET /x");
      expect(await (await fetch(new URL("/x", cli.url), { method: "POST", body: "1" })).text()).toBe("app:POST /x");
    } finally {
      cli.kill();
      await cli.exited;
    }
  });
});

describe("the banner and --open", () => {
  test("--host 0.0.0.0: each address on the network is listed beside the local one", async () => {
    const { networkInterfaces } = await import("node:os");
    const cli = await startCli(["--port", "0", "--host", "0.0.0.0", "--log", "off", root]);
    try {
      const listed = [...cli.stderr().matchAll(/on the network at (\S+)/g)].map((m) => m[1]!);
      const want = Object.values(networkInterfaces())
        .flatMap((l) => l ?? [])
        .filter((a) => !a.internal && a.family === "IPv4")
        .map((a) => `http://${a.address}:${cli.port}/`);
      expect(listed.sort()).toEqual(want.sort());
      for (const url of listed) expect((await fetch(new URL("/a.txt", url))).status).toBe(200);
    } finally {
      cli.kill();
    }
  });

  test("--open starts the browser opener with the server's URL", async () => {
    const bin = tempDir();
    const seen = join(bin, "opened.txt");
    writeFileSync(join(bin, "xdg-open"), `#!/bin/sh\necho "$@" > ${seen}\n`, { mode: 0o755 });
    const cli = await startCli(["--port", "0", "--log", "off", "--open", root], { PATH: `${bin}:${process.env.PATH}` });
    try {
      await pollUntil(() => existsSync(seen) && readFileSync(seen, "utf8").trim() !== "", 5000);
      expect(readFileSync(seen, "utf8").trim()).toBe(cli.url.href);
    } finally {
      cli.kill();
    }
  });
});

describe("the installed command", () => {
  // What `bun link` and `npm install -g <checkout>` make: a `bunhttp` on the PATH that is a symlink to
  // the entry file, run by the kernel through its #! line (so the file must be executable in git).
  test("a bunhttp symlink to src/index.ts runs as a program", async () => {
    const bin = tempDir();
    symlinkSync(join(REPO, "src/index.ts"), join(bin, "bunhttp"));
    const { code, stdout } = await run(["bunhttp", "--help"], { env: { PATH: `${bin}:${process.env.PATH}` } });
    expect(code).toBe(0);
    expect(stdout).toContain("Usage: bunhttp [options] [directory]");
  });
});
