// Whole responses sent by sendfile(2) from a memfd (src/server/send-arena.ts, Output.sendWhole): a
// slot of the current second is sent from the arena, one of an earlier second is not, the arena is
// bounded, and over real TCP every byte arrives in order, also when the kernel takes only part of a
// response and the rest goes out on `drain`. End to end, a cached file's responses use it.
import { expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Socket } from "bun";
import { serve } from "../../src/serve.ts";
import { Budget } from "../../src/server/budget.ts";
import { Output, QUIET_OWNER } from "../../src/server/output.ts";
import { ARENA_LIMIT, arenaSends, NOT_IN_ARENA, placeInArena, sendFromArena } from "../../src/server/send-arena.ts";
import { tempDir } from "../deploy/helpers.ts";

function pattern(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
}

test("a slot is good for its second only; the arena holds ARENA_LIMIT bytes at most", () => {
  const a = placeInArena(pattern(1000, 1), "second A")!;
  expect(a).not.toBeNull();
  const b = placeInArena(pattern(500, 2), "second A")!;
  expect(b.generation).toBe(a.generation);
  expect(b.offset).toBe(a.offset + 1000);
  const c = placeInArena(pattern(10, 3), "second B")!;
  expect(c.generation).toBe(a.generation + 1);
  expect(c.offset).toBe(0);
  expect(sendFromArena(-1, a)).toBe(NOT_IN_ARENA); // stale: the caller writes instead
  const big = new Uint8Array(ARENA_LIMIT / 2 + 1);
  expect(placeInArena(big, "second B")).not.toBeNull();
  expect(placeInArena(big, "second B")).toBeNull(); // full for this second
  expect(placeInArena(big, "second C")).not.toBeNull(); // a new second, a new arena
});

test("sendWhole over TCP: 8 MiB, more than the kernel takes at once, arrives whole and in order", async () => {
  const body = pattern(8 << 20, 7);
  const slot = placeInArena(body, `test ${Math.random()}`);
  expect(slot).not.toBeNull();
  let left = -1;
  let output: Output | null = null;
  const listener = Bun.listen<undefined>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(s: Socket<undefined>) {
        output = new Output(s as Socket<unknown>, new Budget(1 << 30, 1 << 30), QUIET_OWNER);
        output.rawFd = (s as unknown as { fd: number }).fd;
        output.cork().bytes(new TextEncoder().encode("HEAD:"));
        output.sendWhole(body, slot);
        left = output.queued;
        if (output.queued === 0) s.end();
      },
      drain(s) {
        output!.drain();
        if (output!.queued === 0) s.end();
      },
      data() {},
    },
  });
  try {
    const parts: Uint8Array[] = [];
    await new Promise<void>((resolve, reject) => {
      Bun.connect({
        hostname: "127.0.0.1",
        port: listener.port,
        socket: { data: (_s, d) => void parts.push(new Uint8Array(d)), close: () => resolve(), error: (_s, e) => reject(e) },
      }).catch(reject);
    });
    const got = Buffer.concat(parts);
    expect(got.subarray(0, 5).toString()).toBe("HEAD:");
    expect(got.length).toBe(5 + body.length);
    expect(Buffer.from(got.subarray(5)).equals(Buffer.from(body))).toBe(true);
    expect(left).toBeGreaterThan(0); // the kernel stopped inside the arena's bytes: the rest was queued
    expect(output!.total).toBe(5 + body.length);
  } finally {
    listener.stop(true);
  }
});

test("a cached 40 KiB file, 300 responses pipelined to a client that reads late: all exact, from the arena", async () => {
  const root = tempDir();
  const file = pattern(40 * 1024, 9);
  writeFileSync(join(root, "f.bin"), file);
  const server = serve({ port: 0, hostname: "127.0.0.1", root, log: "off" } as never) as { port: number; stop(x?: boolean): Promise<void> };
  try {
    const n = 300;
    const req = "GET /f.bin HTTP/1.1\r\nHost: x\r\n\r\n".repeat(n);
    const chunks: Uint8Array[] = [];
    let sock: Socket<undefined> | null = null;
    const done = new Promise<void>((resolve, reject) => {
      Bun.connect<undefined>({
        hostname: "127.0.0.1",
        port: server.port,
        socket: {
          open(s) {
            sock = s;
            s.pause(); // read nothing at first: the server's writes fill the kernel's buffers
            s.write(req);
            setTimeout(() => s.resume(), 300);
          },
          data(s, d) {
            chunks.push(new Uint8Array(d));
            const text = Buffer.concat(chunks);
            if (text.length >= n * (file.length + 200) && count(text, "HTTP/1.1 200") >= n) s.end();
          },
          close: () => resolve(),
          error: (_s, e) => reject(e),
        },
      }).catch(reject);
      setTimeout(() => sock?.end(), 10_000);
    });
    const sendsBefore = arenaSends.count;
    await done;
    const all = Buffer.concat(chunks);
    let at = 0;
    for (let i = 0; i < n; i++) {
      const end = all.indexOf("\r\n\r\n", at);
      expect(end).toBeGreaterThan(0);
      const head = all.toString("latin1", at, end);
      expect(head).toStartWith("HTTP/1.1 200");
      expect(head).toContain(`Content-Length: ${file.length}`);
      expect(Buffer.from(all.subarray(end + 4, end + 4 + file.length)).equals(Buffer.from(file))).toBe(true);
      at = end + 4 + file.length;
    }
    expect(at).toBe(all.length);
    // Some left by sendfile (the first of each read; those behind a queue are written as before).
    if (process.platform === "linux") expect(arenaSends.count).toBeGreaterThan(sendsBefore);
  } finally {
    await server.stop(true);
  }
});

function count(buf: Buffer, s: string): number {
  let n = 0;
  for (let i = buf.indexOf(s); i >= 0; i = buf.indexOf(s, i + 1)) n++;
  return n;
}
