// One writev for the corked bytes and a payload (src/server/writev.ts, Output.sendAfterCorked): over
// real TCP, with more than the kernel takes at once, every byte arrives in order whether the kernel
// stops inside the corked part or inside the payload, the rest goes out on `drain`, and a write to
// a peer that has gone returns an error instead of killing the process (Bun ignores SIGPIPE).
import { expect, test } from "bun:test";
import type { Socket } from "bun";
import { Budget } from "../../src/server/budget.ts";
import { Output, QUIET_OWNER } from "../../src/server/output.ts";
import { UNAVAILABLE, writeTwo } from "../../src/server/writev.ts";

function pattern(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
}

/** A server that corks `head`, then sendAfterCorked(body); resolves with what a client received. */
async function roundTrip(head: Uint8Array, body: Uint8Array): Promise<{ got: Uint8Array; usedWritev: boolean; total: number; left: number }> {
  let output: Output | null = null;
  let usedWritev = false;
  let left = 0;
  const listener = Bun.listen<undefined>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(s: Socket<undefined>) {
        output = new Output(s as Socket<unknown>, new Budget(1 << 30, 1 << 30), QUIET_OWNER);
        const fd = (s as unknown as { fd?: number }).fd;
        if (typeof fd === "number") output.rawFd = fd;
        usedWritev = output.rawFd >= 0;
        output.cork().bytes(head);
        output.sendAfterCorked(body);
        left = output.queued; // what the kernel did not take at once
        if (output.queued === 0) s.end();
      },
      drain(s) {
        output!.drain();
        if (output!.queued === 0) s.end();
      },
      data() {},
    },
  });
  const parts: Uint8Array[] = [];
  const done = Promise.withResolvers<void>();
  await Bun.connect({
    hostname: "127.0.0.1",
    port: listener.port,
    socket: {
      data(_s, d) {
        parts.push(new Uint8Array(d));
      },
      close() {
        done.resolve();
      },
      end(s) {
        s.end();
      },
    },
  });
  await done.promise;
  listener.stop(true);
  return { got: new Uint8Array(Buffer.concat(parts)), usedWritev, total: output!.total, left };
}

test("the kernel stops inside the payload: the rest goes on drain, every byte in order", async () => {
  const head = pattern(10, 1);
  const body = pattern(32 << 20, 2); // more than loopback's socket buffers take at once
  const { got, usedWritev, total, left } = await roundTrip(head, body);
  expect(usedWritev).toBe(true);
  expect(left).toBeGreaterThan(0);
  expect(left).toBeLessThan(body.length);
  expect(got.length).toBe(head.length + body.length);
  expect(Buffer.from(got).equals(Buffer.concat([head, body]))).toBe(true);
  expect(total).toBe(head.length + body.length);
}, 20_000);

test("the kernel stops inside the corked part: its tail, then the payload", async () => {
  const head = pattern(32 << 20, 3);
  const body = pattern(100_000, 4);
  const { got, total, left } = await roundTrip(head, body);
  expect(left).toBeGreaterThan(body.length);
  expect(Buffer.from(got).equals(Buffer.concat([head, body]))).toBe(true);
  expect(total).toBe(head.length + body.length);
}, 20_000);

test("a writev to a peer that has gone returns -1, and the process lives on", async () => {
  let fd = -1;
  const accepted = Promise.withResolvers<void>();
  const listener = Bun.listen<undefined>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(s) {
        fd = (s as unknown as { fd?: number }).fd ?? -1;
        accepted.resolve();
      },
      data() {},
    },
  });
  const client = await Bun.connect({ hostname: "127.0.0.1", port: listener.port, socket: { data() {} } });
  await accepted.promise;
  client.terminate(); // a reset: the next writes fail (EPIPE, ECONNRESET)
  await Bun.sleep(50);
  const results = [];
  for (let i = 0; i < 3; i++) results.push(writeTwo(fd, new Uint8Array(10), 10, new Uint8Array(1 << 20)));
  listener.stop(true);
  if (results[0] === UNAVAILABLE) return; // (no writev here: nothing to check)
  expect(results.at(-1)).toBe(-1);
});
