// Files above the memory cache's size limit go out by sendfile(2) over plain TCP (src/server/sendfile.ts,
// Output.sendFile, FileSource.sendTo): every byte arrives in order, for a whole file, a range and a
// second request on the same connection, also when the kernel fills and Bun is made to watch for
// drain; a file that shrinks while it is being sent cuts the connection rather than sending less
// than its Content-Length; HEAD sends no body; a fast download leaves
// room for other connections; `sendfile: false` writes instead.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { serve, type Server } from "../../src/serve.ts";
import type { Socket } from "bun";
import { Budget } from "../../src/server/budget.ts";
import { Output, QUIET_OWNER } from "../../src/server/output.ts";
import { NO_SENDFILE, sendfileSent } from "../../src/server/sendfile.ts";
import { RawClient } from "../helpers/raw-client.ts";
import { GET, HEAD } from "../helpers/wire.ts";
import { tempDir } from "../deploy/helpers.ts";

const MiB = 1024 * 1024;
let server: Server;
let root: string;
const big = Uint8Array.from({ length: 8 * MiB }, (_, i) => (i * 7 + (i >> 13)) & 0xff);

beforeAll(() => {
  root = tempDir("bunhttp-sendfile-");
  writeFileSync(join(root, "big.bin"), big);
  server = serve({ port: 0, hostname: "127.0.0.1", root, log: "off" });
});
afterAll(() => server.stop(true));


test("an 8 MiB file (over the 1 MiB cache limit) arrives whole, by sendfile; then a second one on the connection", async () => {
  const before = sendfileSent.bytes;
  const shortBefore = sendfileSent.short;
  const c = await RawClient.connect(server.port);
  await c.send(GET("/big.bin") + GET("/big.bin"));
  for (let i = 0; i < 2; i++) {
    const res = await c.response(10_000);
    expect(res.status).toBe(200);
    expect(res.header("content-length")).toBe(String(big.length));
    expect(Buffer.from(res.body).equals(Buffer.from(big))).toBe(true);
  }
  c.close();
  expect(sendfileSent.bytes - before).toBeGreaterThanOrEqual(big.length); // most of both, if not all
  // 16 MiB is more than loopback's buffers hold: the kernel stopped taking, and drain brought the rest.
  expect(sendfileSent.short - shortBefore).toBeGreaterThan(0);
});

test("a range from inside the file: exactly those bytes", async () => {
  const c = await RawClient.connect(server.port);
  await c.send(GET("/big.bin", "Range: bytes=1000001-5000000\r\n"));
  const res = await c.response(10_000);
  expect(res.status).toBe(206);
  expect(Buffer.from(res.body).equals(Buffer.from(big.subarray(1000001, 5000001)))).toBe(true);
  c.close();
});

test("HEAD: the length, no body, and the connection goes on", async () => {
  const c = await RawClient.connect(server.port);
  await c.send(HEAD("/big.bin") + GET("/missing"));
  const head = await c.response();
  expect(head.header("content-length")).toBe(String(big.length));
  expect(head.body.length).toBe(0);
  expect((await c.response()).status).toBe(404);
  c.close();
});

test("a fast download does not hold the loop: small requests on another connection answer meanwhile", async () => {
  const name = "huge.bin";
  const size = 1024 * MiB;
  writeFileSync(join(root, name), "");
  truncateSync(join(root, name), size); // sparse: zeros, from the page cache at once
  writeFileSync(join(root, "small.txt"), "small");
  const c = await RawClient.connect(server.port, { keep: false });
  await c.send(GET(`/${name}`));
  await c.until(() => c.received > 4 * MiB, 10_000, "the first MiBs");
  const small = await RawClient.connect(server.port);
  let worst = 0;
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    await small.send(GET("/small.txt"));
    expect((await small.response()).text()).toBe("small");
    worst = Math.max(worst, performance.now() - t0);
  }
  const during = c.received;
  small.close();
  c.close();
  expect(during).toBeLessThan(size); // the download was still going on
  expect(worst).toBeLessThan(500);
});

test("sendfile: false reads and writes the file instead, byte-exact", async () => {
  // (Other files' servers in this process may be using sendfile meanwhile: the Output says it.)
  const output = new Output({} as Socket<unknown>, new Budget(1 << 20, 1 << 20), QUIET_OWNER);
  output.rawFd = 1_000_000;
  expect(output.sendFile(0, 0, 1)).toBe(NO_SENDFILE);
  const off = serve({ port: 0, hostname: "127.0.0.1", root, log: "off", sendfile: false });
  try {
    const c = await RawClient.connect(off.port);
    await c.send(GET("/big.bin"));
    const res = await c.response(10_000);
    expect(Buffer.from(res.body).equals(Buffer.from(big))).toBe(true);
    c.close();
  } finally {
    await off.stop(true);
  }
});

test("the file shrinks while it is sent: the connection is cut, short of the Content-Length", async () => {
  const name = "shrinks.bin";
  const size = 64 * MiB; // more than loopback's buffers hold, so the server waits on drain
  writeFileSync(join(root, name), "");
  truncateSync(join(root, name), size); // sparse: zeros
  const c = await RawClient.connect(server.port, { keep: false });
  await c.send(GET(`/${name}`));
  await c.until(() => c.received > MiB, 10_000, "the first MiB");
  c.pause();
  truncateSync(join(root, name), 2 * MiB);
  c.resume();
  await c.closedByServer(10_000);
  expect(c.received).toBeLessThan(size);
});
