// WebSocket through the real CLI: `--app` with a module exporting Bun.serve's `{ fetch, websocket }`
// (test/ws/fixtures/echo-app.ts), started as a child process, alone and as two workers. A Bun WebSocket
// client echoes text (with upgrade()'s data) and binary through it; static files still answer beside it.
import { afterAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { killAll, startCli } from "../helpers/child.ts";
import { connectWs, patternBytes, within } from "../helpers/ws-client.ts";
import { freePort, removeTemps, tempDir } from "../deploy/helpers.ts";

const APP = join(import.meta.dir, "fixtures", "echo-app.ts");
const root = tempDir();
writeFileSync(join(root, "a.txt"), "static\n");

afterAll(async () => {
  await killAll();
  removeTemps();
});

async function echoThrough(port: number, who: string): Promise<void> {
  const c = await connectWs(`ws://127.0.0.1:${port}/ws?who=${who}`);
  c.socket.send("hello");
  expect(await c.next()).toBe(`${who}@/ws: hello`);
  await c.echo(patternBytes(70_000), 10_000);
  c.socket.close(1000);
  expect((await within(c.closed, 5000, "the close")).code).toBe(1000);
}

test("--app with { fetch, websocket }: a Bun WebSocket echoes through it", async () => {
  const cli = await startCli(["--port", "0", "--root", root, "--log", "off", "--app", APP]);
  try {
    await echoThrough(cli.port, "ada");
    expect(await (await fetch(new URL("/a.txt", cli.url))).text()).toBe("static\n");
    expect(await (await fetch(new URL("/other", cli.url))).text()).toBe("app: /other");
    expect(cli.stderr()).not.toContain("not supported");
  } finally {
    cli.kill();
    await cli.exited;
  }
}, 30_000);

test("--app with two workers: 20 clients at once, each echoes", async () => {
  const port = String(freePort()); // workers share a fixed port (SO_REUSEPORT)
  const cli = await startCli(["--port", port, "--root", root, "--log", "off", "--workers", "2", "--app", APP], {}, 20_000);
  try {
    await Promise.all(Array.from({ length: 20 }, (_, i) => echoThrough(cli.port, `w${i}`)));
  } finally {
    cli.kill();
    await cli.exited;
  }
}, 40_000);
