// SO_RCVBUF through bun:ffi: after shrinkReceiveBuffer, a paused socket's next reads are small, where
// without it the kernel queues (and Bun then reads) hundreds of KiB at once.
import { expect, test } from "bun:test";
import { shrinkReceiveBuffer } from "../../src/server/receive-buffer.ts";

/** The largest read a server socket sees of 4 MiB sent while it was paused for 200 ms. */
async function largestRead(shrink: boolean): Promise<{ largest: number; shrunk: boolean }> {
  let largest = 0;
  let got = 0;
  let shrunk = false;
  const total = 4 << 20;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const listener = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(s) {
        if (shrink) shrunk = shrinkReceiveBuffer((s as unknown as { fd: number }).fd);
        s.pause();
        setTimeout(() => s.resume(), 200);
      },
      data(_s, chunk) {
        largest = Math.max(largest, chunk.length);
        got += chunk.length;
        if (got >= total) done();
      },
    },
  });
  const block = new Uint8Array(256 * 1024);
  let sent = 0;
  const pump = (s: { write(b: Uint8Array, o: number, n: number): number; end(): void }) => {
    while (sent < total) {
      const want = Math.min(block.length, total - sent);
      const n = s.write(block, 0, want);
      sent += Math.max(0, n);
      if (n < want) return;
    }
  };
  const client = await Bun.connect({ hostname: "127.0.0.1", port: listener.port, socket: { data() {}, drain: (s) => pump(s), open: (s) => pump(s) } });
  await finished;
  client.end();
  listener.stop(true);
  return { largest, shrunk };
}

test.skipIf(process.platform !== "linux")("after SO_RCVBUF is made small, no read brings more than ~32 KiB", async () => {
  const small = await largestRead(true);
  expect(small.shrunk).toBe(true);
  expect(small.largest).toBeLessThanOrEqual(64 * 1024);
  const big = await largestRead(false);
  expect(big.largest).toBeGreaterThan(64 * 1024); // what it prevents: one read of all the kernel queued
});
