// Graceful shutdown of the real CLI: SIGTERM stops accepting, closes idle connections at once, lets
// downloads in flight finish and exits 0; --shutdown-timeout bounds how long that may take.
import { afterAll, expect, test } from "bun:test";
import { closeSync, ftruncateSync, openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { exitWithin, killAll, startCli } from "../helpers/child.ts";
import { Download } from "../helpers/download.ts";
import { pollUntil } from "../helpers/poll.ts";
import { canConnect, RawClient } from "../helpers/raw-client.ts";
import { removeTemps, tempDir } from "./helpers.ts";

afterAll(async () => {
  await killAll();
  removeTemps();
});

const BIG = 128 * 1024 * 1024;
const root = tempDir();
writeFileSync(join(root, "a.txt"), "hi\n");
const fd = openSync(join(root, "big.bin"), "w");
ftruncateSync(fd, BIG); // sparse: no disk space, reads as zeros
closeSync(fd);

test("SIGTERM: refuse new connections, close idle ones at once, finish the slow download exactly, exit 0", async () => {
  const cli = await startCli(["--port", "0", "--root", root, "--log", "off", "--shutdown-timeout", "20000"]);
  const port = cli.port;
  let idle: RawClient | null = null;
  let download: Download | null = null;
  try {
    // An idle keep-alive connection: one request answered, then nothing.
    idle = await RawClient.connect(port);
    await idle.send("GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n");
    expect((await idle.response()).text()).toBe("hi\n");
    expect(idle.ended).toBe(false);

    // A download that has started and then stalls: the server's send buffer fills up.
    download = await Download.start(port, "/big.bin", { close: false });
    expect(await download.client.until(() => download!.bodyBytes > 0)).toBe(true);
    download.pause();
    expect(download.head).toStartWith("HTTP/1.1 200");
    expect(download.contentLength).toBe(BIG);
    // Far from done: the rest has to be sent after the SIGTERM.
    expect(download.bodyBytes).toBeLessThan(BIG / 2);

    cli.kill("SIGTERM");
    const signalledAt = Date.now();

    // The idle connection is closed at once.
    await idle.closedByServer(1000);
    const idleClosedAfter = Date.now() - signalledAt;
    expect(idleClosedAfter).toBeLessThan(1000);

    // New connections are refused soon after.
    await pollUntil(async () => !(await canConnect(port)), 2000, "new connections to be refused");

    // The server is still there, waiting for the download.
    expect(cli.exitCode()).toBeNull();

    // Read slowly for a while: a little at a time, and the bytes keep coming after the SIGTERM.
    const before = download.bodyBytes;
    for (let i = 0; i < 5; i++) {
      await download.readMore(256 * 1024);
      await Bun.sleep(40);
    }
    expect(download.bodyBytes).toBeGreaterThan(before);
    expect(cli.exitCode()).toBeNull();

    // Then read everything: exactly Content-Length bytes, and the server closes and exits 0.
    download.resume();
    expect(await download.client.until(() => download!.done || download!.client.ended, 15_000)).toBe(true);
    await download.client.closedByServer(5000);
    expect(download.bodyBytes).toBe(BIG);
    expect(download.nonZero).toBe(0);
    expect(await exitWithin(cli.exited, 5000)).toBe(0);
  } finally {
    idle?.close();
    download?.close();
    cli.kill("SIGKILL");
    await cli.exited;
  }
}, 25_000);

test("--shutdown-timeout 500: a client that never reads cannot hold the process; it exits 0 within ~2 s", async () => {
  const cli = await startCli(["--port", "0", "--root", root, "--log", "off", "--shutdown-timeout", "500"]);
  let stuck: Download | null = null;
  try {
    stuck = await Download.start(cli.port, "/big.bin", { close: false });
    expect(await stuck.client.until(() => stuck!.bodyBytes > 0)).toBe(true);
    stuck.pause(); // and never resume
    cli.kill("SIGTERM");
    const t0 = Date.now();
    const code = await exitWithin(cli.exited, 3000);
    const took = Date.now() - t0;
    expect(code).toBe(0);
    // The stuck client holds it for the whole timeout (a plain timer, not the sweep), then no longer.
    expect(took).toBeGreaterThanOrEqual(0.8 * 500);
    expect(took).toBeLessThan(2500);
    expect(stuck.bodyBytes).toBeLessThan(BIG);
  } finally {
    stuck?.close();
    cli.kill("SIGKILL");
    await cli.exited;
  }
});

test("SIGINT with nothing in flight exits 0 at once", async () => {
  const cli = await startCli(["--port", "0", "--root", root, "--log", "off"]);
  try {
    expect(await (await fetch(new URL("/a.txt", cli.url))).text()).toBe("hi\n");
    cli.kill("SIGINT");
    expect(await exitWithin(cli.exited, 2000)).toBe(0);
  } finally {
    cli.kill("SIGKILL");
    await cli.exited;
  }
});

test("Ctrl-C with a download in flight says what it waits for; a second Ctrl-C exits at once", async () => {
  const cli = await startCli(["--port", "0", "--root", root, "--log", "off", "--shutdown-timeout", "20000"]);
  let stuck: Download | null = null;
  try {
    stuck = await Download.start(cli.port, "/big.bin", { close: false });
    expect(await stuck.client.until(() => stuck!.bodyBytes > 0)).toBe(true);
    stuck.pause(); // and never resume: the 20 s timeout would hold the process
    cli.kill("SIGINT");
    await cli.until(() => cli.stderr().includes("stopping:"), 3000, "the stopping line");
    expect(cli.stderr()).toContain("bunhttp: stopping: waiting for 1 request in flight, up to 20 s (Ctrl-C again to stop at once)");
    expect(cli.dead).toBe(false);
    cli.kill("SIGINT");
    const t0 = Date.now();
    expect(await exitWithin(cli.exited, 2000)).toBe(130);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(cli.stderr()).toContain("bunhttp: stopped at once");
  } finally {
    stuck?.close();
    cli.kill("SIGKILL");
    await cli.exited;
  }
});
