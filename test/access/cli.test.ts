// The access flags on the real command line: --cors, --cors-origin (implying --cors), --auth from a
// flag or BUNHTTP_AUTH, --auth-file, and their start-up errors (one line, exit 1).
import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { toServeOptions } from "../../src/cli.ts";
import { helpText, loadSettings } from "../../src/config.ts";
import { killAll, runCli, startCli } from "../helpers/child.ts";
import { removeTemps, tempDir } from "../deploy/helpers.ts";

afterAll(async () => {
  await killAll();
  removeTemps();
});

const root = tempDir("bunhttp-access-cli-");
writeFileSync(join(root, "a.txt"), "hi\n");

function expectOneLineError(r: { code: number; stdout: string; stderr: string }, contains: string): void {
  expect(r.code).toBe(1);
  expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
  expect(r.stderr).toStartWith("bunhttp: ");
  expect(r.stderr).toContain(contains);
  expect(r.stderr).not.toMatch(/\n\s+at |\.ts:\d+/);
}

describe("settings", () => {
  test("flags, environment and config keys", () => {
    const s = loadSettings(["--cors", "--cors-origin", "https://a.example", "--auth-file", "users"], { BUNHTTP_AUTH: "alice:pw" });
    expect([s.cors, s.corsOrigin, s.auth, s.authFile]).toEqual([true, "https://a.example", "alice:pw", "users"]);
    expect(loadSettings([], {}).cors).toBe(false);
    expect(helpText()).toContain("BUNHTTP_AUTH=user:password");
  });
});

describe("errors", () => {
  test("an htpasswd line of another hash kind names the file and line", async () => {
    const file = join(root, "users");
    writeFileSync(file, `# team\ndave:$apr1$r31.....$HqJZimcKQFAMYayBlzkrA/\n`);
    expectOneLineError(await runCli(["--port", "0", "--root", root, "--auth-file", file]), `${file}:2: the hash for "dave" is Apache MD5 ($apr1$)`);
  });

  test("a missing auth file, --auth without a colon, a bad origin", async () => {
    expectOneLineError(await runCli(["--port", "0", "--root", root, "--auth-file", join(root, "nope")]), "cannot read auth file");
    expectOneLineError(await runCli(["--port", "0", "--root", root, "--auth", "alice"]), "--auth must be user:password");
    expectOneLineError(await runCli(["--port", "0", "--root", root, "--cors-origin", "https://a.example/app"]), "--cors-origin: CORS origin");
  });

  test("a user both in the file and given by --auth; a bad file under --workers (the worker says it)", async () => {
    const file = join(root, "users-alice");
    writeFileSync(file, `alice:${Bun.password.hashSync("pw", { algorithm: "bcrypt", cost: 4 })}\n`);
    expectOneLineError(await runCli(["--port", "0", "--root", root, "--auth-file", file, "--auth", "alice:x"]), `user "alice" is in ${file}`);
    const bad = join(root, "users-bad");
    writeFileSync(bad, "dave:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n");
    const port = String(20_000 + Math.floor(Math.random() * 20_000));
    expectOneLineError(await runCli(["--port", port, "--root", root, "--workers", "2", "--auth-file", bad]), `${bad}:1: `);
  });

  test("the file is read once, by serve(): making the options does not read it", async () => {
    const missing = join(root, "not-yet");
    const opts = await toServeOptions(loadSettings(["--root", root, "--auth-file", missing], {}), false);
    expect(opts.auth).toEqual({ credentials: undefined, file: missing });
  });
});

describe("running", () => {
  test("--cors-origin alone turns CORS on; BUNHTTP_AUTH keeps the password off the command line", async () => {
    const cli = await startCli(["--port", "0", "--root", root, "--log", "off", "--cors-origin", "http://a.example", "--health", "/hz"], {
      BUNHTTP_AUTH: "alice:pw",
    });
    try {
      const denied = await fetch(new URL("/a.txt", cli.url), { headers: { Origin: "http://a.example" } });
      expect(denied.status).toBe(401);
      expect(denied.headers.get("access-control-allow-origin")).toBe("http://a.example");
      const ok = await fetch(new URL("/a.txt", cli.url), { headers: { Origin: "http://a.example", Authorization: `Basic ${btoa("alice:pw")}` } });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toBe("hi\n");
      expect(ok.headers.get("vary")).toContain("Origin");
      expect((await fetch(new URL("/hz", cli.url))).status).toBe(200);
    } finally {
      cli.kill();
      await cli.exited;
    }
  });

  test("--cors: * on every response", async () => {
    const cli = await startCli(["--port", "0", "--root", root, "--log", "off", "--cors"]);
    try {
      const res = await fetch(new URL("/a.txt", cli.url));
      expect(res.headers.get("access-control-allow-origin")).toBe("*");
    } finally {
      cli.kill();
      await cli.exited;
    }
  });
});
