// The proxy streams: a 1 GiB upload and a 1 GiB download through it cost the server (in a child
// process, its RSS sampled throughout) less than 100 MiB, and a client that reads nothing stalls the
// upstream instead of filling the server's memory. The upstream is a counting backend in this process
// (upstreams.ts BulkBackend); the clients are raw sockets.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Socket } from "bun";
import { killAll, rssOf, sampleRss, type ServerChild, startServerChild } from "../helpers/child.ts";
import { Download } from "../helpers/download.ts";
import { poll, pollUntil, Wakeup } from "../helpers/poll.ts";
import { BulkBackend } from "./upstreams.ts";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const BOUND = 100 * MiB;

let backend: BulkBackend;
let child: ServerChild;

beforeAll(async () => {
  backend = BulkBackend.start();
  child = await startServerChild("", { proxy: { "/up": backend.url }, maxBody: 2 * GiB });
});

afterAll(async () => {
  await killAll();
  backend?.stop();
});

const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;

/**
 * POSTs `total` bytes of zeros to `path` as fast as the server takes them (drain-driven writes),
 * then reads the response to the close: its status and body.
 */
async function upload(port: number, path: string, total: number, ms: number): Promise<{ status: number; body: string }> {
  const piece = new Uint8Array(256 * 1024);
  const wake = new Wakeup();
  let received = "";
  let closed = false;
  let left = total;
  let tail: Uint8Array | null = null;
  const pump = (s: Socket<undefined>) => {
    for (;;) {
      let bytes = tail;
      if (bytes === null) {
        if (left === 0) return;
        bytes = left >= piece.length ? piece : piece.subarray(0, left);
        left -= bytes.length;
      }
      const n = s.write(bytes, 0, bytes.length);
      if (n < bytes.length) {
        tail = bytes.subarray(Math.max(0, n));
        return;
      }
      tail = null;
    }
  };
  const socket = await Bun.connect<undefined>({
    hostname: "127.0.0.1",
    port,
    socket: {
      binaryType: "uint8array",
      data(_s, chunk: Uint8Array) {
        received += new TextDecoder("latin1").decode(chunk);
        wake.fire();
      },
      drain: (s) => pump(s),
      close() {
        closed = true;
        wake.fire();
      },
      error() {
        closed = true;
        wake.fire();
      },
    },
  });
  socket.write(`POST ${path} HTTP/1.1\r\nHost: t\r\nContent-Length: ${total}\r\nConnection: close\r\n\r\n`);
  pump(socket);
  if ((await poll(() => closed, ms, { wake })) === null) {
    socket.terminate();
    throw new Error(`the upload did not finish within ${ms} ms (${total - left} of ${total} bytes written)`);
  }
  const headEnd = received.indexOf("\r\n\r\n");
  return { status: Number(received.slice(9, 12)), body: headEnd < 0 ? "" : received.slice(headEnd + 4) };
}

test("a 1 GiB upload through the proxy: the upstream gets every byte, the server's RSS grows < 100 MiB", async () => {
  const rss = sampleRss(child.pid);
  let res: { status: number; body: string };
  try {
    res = await upload(child.port, "/up/upload", GiB, 45_000);
  } finally {
    rss.stop();
  }
  console.log(`1 GiB upload: server RSS ${mib(rss.before)} before, ${mib(rss.peak)} peak`);
  expect(res.status).toBe(200);
  expect(res.body).toBe(`${GiB}`);
  expect(rss.peak - rss.before).toBeLessThan(BOUND);
}, 60_000);

for (const [kind, path] of [
  ["Content-Length", `/up/download/${GiB}`],
  ["chunked", `/up/download/chunked/${GiB}`],
] as const) {
  test(`a 1 GiB download through the proxy (${kind} upstream): every byte arrives, the server's RSS grows < 100 MiB`, async () => {
    const rss = sampleRss(child.pid);
    let size: number;
    let d: Download;
    try {
      d = await Download.start(child.port, path);
      size = await d.finished(45_000);
    } finally {
      rss.stop();
    }
    console.log(`1 GiB ${kind} download: server RSS ${mib(rss.before)} before, ${mib(rss.peak)} peak`);
    expect(d.status).toBe(200);
    expect(size).toBe(GiB);
    expect(d.nonZero).toBe(0);
    expect(rss.peak - rss.before).toBeLessThan(BOUND);
  }, 60_000);
}

test("a client that reads nothing: the upstream is paused, the server's RSS stays put, and the upstream goes when the client does", async () => {
  const before = rssOf(child.pid);
  const sentBefore = backend.sent;
  const openBefore = backend.open;
  const d = await Download.start(child.port, `/up/download/${GiB}`, { paused: true });
  // The upstream fills the socket buffers and the proxy's bounded queue, then stalls: what it has
  // sent stops moving (five samples in a row within 64 KiB), or 10 s pass.
  let last = -1;
  let stable = 0;
  await poll(
    () => {
      const sent = backend.sent;
      stable = sent > sentBefore && sent - last < 64 * 1024 ? stable + 1 : 0;
      last = sent;
      return stable >= 5;
    },
    10_000,
    { every: 100 },
  );
  const stalledAt = backend.sent - sentBefore;
  const rssStalled = rssOf(child.pid);
  await Bun.sleep(500);
  console.log(`paused client: upstream sent ${mib(stalledAt)} before stalling; server RSS ${mib(before)} → ${mib(rssOf(child.pid))}`);
  // Socket buffers on both sides and the proxy's 64 KiB queue: far from the 1 GiB on offer.
  expect(stalledAt).toBeLessThan(64 * MiB);
  expect(backend.sent - sentBefore - stalledAt).toBeLessThan(MiB);
  expect(rssOf(child.pid) - rssStalled).toBeLessThan(4 * MiB);
  expect(rssOf(child.pid) - before).toBeLessThan(BOUND);
  // The client goes away: the proxy closes the upstream connection.
  d.client.reset();
  await pollUntil(() => backend.open <= openBefore, 5000, "the upstream connection to close", { wake: backend.wake });
}, 30_000);
