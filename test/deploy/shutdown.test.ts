// Graceful shutdown of the real CLI: SIGTERM stops accepting, closes idle connections at once, lets
// downloads in flight finish and exits 0; --shutdown-timeout bounds how long that may take.
import type { Socket } from "bun";
import { afterAll, expect, test } from "bun:test";
import { closeSync, ftruncateSync, openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RawClient } from "../helpers/raw-client.ts";
import { pollUntil } from "../helpers/poll.ts";
import { canConnect, exitWithin, killAll, removeTemps, startCli, tempDir } from "./helpers.ts";

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

/**
 * A download that counts bytes instead of keeping them (a 128 MiB buffer built chunk by chunk would
 * be quadratic), and that can stop reading (pause) so the server's writes back up.
 */
class Download {
  head = "";
  contentLength = -1;
  bodyBytes = 0;
  closed = false;
  nonZero = 0;
  private headBuf = "";
  private socket!: Socket<undefined>;

  static async start(port: number, path: string): Promise<Download> {
    const d = new Download();
    d.socket = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        data: (_s, chunk: Uint8Array) => d.onData(chunk),
        close: () => void (d.closed = true),
        end: () => void (d.closed = true),
        error: () => void (d.closed = true),
      },
    });
    d.socket.write(`GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`);
    return d;
  }

  private onData(chunk: Uint8Array): void {
    let body = chunk;
    if (this.contentLength < 0) {
      this.headBuf += new TextDecoder("latin1").decode(chunk);
      const end = this.headBuf.indexOf("\r\n\r\n");
      if (end < 0) return;
      this.head = this.headBuf.slice(0, end);
      const m = /\r\ncontent-length: *(\d+)/i.exec(this.head);
      this.contentLength = m ? Number(m[1]) : 0;
      body = chunk.subarray(chunk.length - (this.headBuf.length - end - 4));
    }
    this.bodyBytes += body.length;
    if (this.stopAt >= 0 && this.bodyBytes >= this.stopAt) {
      this.stopAt = -1;
      this.socket.pause();
    }
    // The file is sparse: every byte is zero. Check a few per chunk.
    if (body.length > 0 && (body[0] !== 0 || body[body.length - 1] !== 0)) this.nonZero++;
  }

  get done(): boolean {
    return this.contentLength >= 0 && this.bodyBytes >= this.contentLength;
  }
  /** Once this many body bytes are in, stop reading (-1: no such mark). */
  private stopAt = -1;
  pause(): void {
    this.socket.pause();
  }
  /** Reads about `n` more bytes, then pauses again (by bytes, not time: loopback is fast). */
  async readMore(n: number): Promise<void> {
    const target = this.bodyBytes + n;
    this.stopAt = target;
    this.socket.resume();
    await pollUntil(() => this.bodyBytes >= target || this.closed, 5000, "more bytes of the download");
  }
  resume(): void {
    this.socket.resume();
  }
  close(): void {
    this.socket.end();
  }
}

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
    expect(idle.closed).toBe(false);

    // A download that has started and then stalls: the server's send buffer fills up.
    download = await Download.start(port, "/big.bin");
    await pollUntil(() => download!.bodyBytes > 0, 5000, "the download to start");
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
    await pollUntil(() => download!.done || download!.closed, 15_000, "the download to finish");
    await pollUntil(() => download!.closed, 5000, "the server to close the download");
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
    stuck = await Download.start(cli.port, "/big.bin");
    await pollUntil(() => stuck!.bodyBytes > 0, 5000, "the download to start");
    stuck.pause(); // and never resume
    cli.kill("SIGTERM");
    const t0 = Date.now();
    const code = await exitWithin(cli.exited, 3000);
    const took = Date.now() - t0;
    expect(code).toBe(0);
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
