// RequestBody on its own: what goes in comes out once, in order, however copies and views interleave;
// the stream pulls one piece per read (backpressure) and reports room, first use and cancel.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { HttpException } from "../../src/server/http-exception.ts";
import { type BodyFeeder, RequestBody } from "../../src/server/request-body.ts";

const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined;
const params = (numRuns: number): fc.Parameters<unknown> => (SEED === undefined ? { numRuns } : { numRuns, seed: SEED });

function feeder() {
  const calls = { wanted: 0, room: 0, abandoned: 0 };
  const f: BodyFeeder = {
    onBodyWanted: () => void calls.wanted++,
    onBodyRoom: () => void calls.room++,
    onBodyAbandoned: () => void calls.abandoned++,
  };
  return { f, calls };
}

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (seed * 31 + i * 7) & 255);

async function drain(body: RequestBody): Promise<number[]> {
  const out: number[] = [];
  for (;;) {
    const p = await body.read();
    if (p === null) return out;
    out.push(...p);
  }
}

describe("pieces in, pieces out", () => {
  test("a copy, a view, then a copy: each byte once (the second copy starts a new piece)", async () => {
    const { f } = feeder();
    const body = new RequestBody(f, 1 << 20, 1 << 30);
    const src = bytes(40_000, 1);
    body.pushCopy(src, 0, 10);
    body.push(src.subarray(100, 20_100));
    body.pushCopy(src, 30_000, 30_005);
    body.end();
    const want = [...src.subarray(0, 10), ...src.subarray(100, 20_100), ...src.subarray(30_000, 30_005)];
    expect(body.buffered).toBe(want.length);
    expect(await drain(body)).toEqual(want);
  });

  test("consecutive small copies join into one piece; bytes handed out are never written again", async () => {
    const { f } = feeder();
    const body = new RequestBody(f, 1 << 20, 1 << 30);
    const src = bytes(1000, 2);
    body.pushCopy(src, 0, 300);
    body.pushCopy(src, 300, 700);
    const first = await body.read();
    expect([...first!]).toEqual([...src.subarray(0, 700)]);
    const kept = [...first!];
    body.pushCopy(src, 700, 1000);
    expect([...first!]).toEqual(kept);
    body.end();
    expect(await drain(body)).toEqual([...src.subarray(700, 1000)]);
  });

  test("any interleaving of copies (small and large), views and reads keeps the byte order", async () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("copy" as const), n: fc.oneof(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 20_000 })) }),
      fc.record({ kind: fc.constant("view" as const), n: fc.integer({ min: 1, max: 40_000 }) }),
      fc.record({ kind: fc.constant("read" as const), n: fc.constant(0) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
        const { f } = feeder();
        const body = new RequestBody(f, 1 << 30, 1 << 30);
        const want: number[] = [];
        const got: number[] = [];
        let seed = 0;
        for (const o of ops) {
          if (o.kind === "read") {
            if (body.buffered > 0) got.push(...(await body.read())!);
            continue;
          }
          const src = bytes(o.n + 64, ++seed);
          if (o.kind === "copy") body.pushCopy(src, 32, 32 + o.n);
          else body.push(src.subarray(32, 32 + o.n));
          want.push(...src.subarray(32, 32 + o.n));
          if (o.kind === "copy") src.fill(0); // a copy must not depend on its source afterwards
        }
        body.end();
        got.push(...(await drain(body)));
        expect(got).toEqual(want);
        expect(body.buffered).toBe(0);
      }),
      params(200),
    );
  });
});

describe("stream()", () => {
  test("one piece per read: the rest stays in the body, counted (so the connection stays paused)", async () => {
    const { f, calls } = feeder();
    const body = new RequestBody(f, 300, 1 << 30);
    for (let i = 0; i < 3; i++) body.push(bytes(100, i));
    const reader = body.stream().getReader();
    expect(body.used).toBe(false);
    const first = await reader.read();
    expect(first.value!.length).toBe(100);
    expect(body.used).toBe(true);
    expect(body.buffered).toBe(200); // the stream queued nothing ahead
    expect(calls.room).toBe(0); // 300 → 200: not under half yet
    await reader.read();
    expect(body.buffered).toBe(100);
    expect(calls.room).toBe(1); // under half: the connection may read on
    await reader.read();
    body.end();
    expect((await reader.read()).done).toBe(true);
  });

  test("a read with nothing held asks for the body once (100 Continue), then gets what is pushed", async () => {
    const { f, calls } = feeder();
    const body = new RequestBody(f, 1024, 1 << 30);
    const reader = body.stream().getReader();
    const pending = reader.read();
    await Bun.sleep(0);
    expect(calls.wanted).toBe(1);
    body.pushCopy(bytes(10, 3), 0, 10);
    expect([...(await pending).value!]).toEqual([...bytes(10, 3)]);
    const next = reader.read();
    body.end();
    expect((await next).done).toBe(true);
    expect(calls.wanted).toBe(1);
  });

  test("cancel tells the connection and drops what is held", async () => {
    const { f, calls } = feeder();
    const body = new RequestBody(f, 1024, 1 << 30);
    body.push(bytes(100, 4));
    await body.stream().cancel();
    expect(calls.abandoned).toBe(1);
    expect(body.buffered).toBe(0);
    expect(body.abandoned).toBe(true);
  });

  test("a failed body errors the stream", async () => {
    const { f } = feeder();
    const body = new RequestBody(f, 1024, 1 << 30);
    const reader = body.stream().getReader();
    const pending = reader.read();
    await Bun.sleep(0);
    body.fail(new HttpException(400, "cut off"));
    await expect(pending).rejects.toThrow("cut off");
  });
});

describe("all()", () => {
  test("joins the pieces; past the limit, a 413 and the rest is abandoned", async () => {
    const { f, calls } = feeder();
    const body = new RequestBody(f, 1 << 20, 250);
    body.push(bytes(100, 5));
    body.pushCopy(bytes(100, 6), 0, 100);
    body.end();
    expect([...(await body.all())]).toEqual([...bytes(100, 5), ...bytes(100, 6)]);

    const big = new RequestBody(f, 1 << 20, 250);
    big.push(bytes(200, 7));
    big.push(bytes(200, 8));
    const err = await big.all().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpException);
    expect((err as HttpException).status).toBe(413);
    expect(calls.abandoned).toBe(1);
  });
});
