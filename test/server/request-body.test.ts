// RequestBody alone, with a fake connection behind it: order, room, the feeder's signals, the
// coalescing of small copies, the end and failure paths, and what the server budget counts.
import { describe, expect, test } from "bun:test";
import { Budget } from "../../src/server/budget.ts";
import { HttpException } from "../../src/server/http-exception.ts";
import { type BodyFeeder, RequestBody } from "../../src/server/request-body.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const bytes = (s: string) => enc.encode(s);

class FakeFeeder implements BodyFeeder {
  wanted = 0;
  room = 0;
  abandoned = 0;
  onBodyWanted(): void {
    this.wanted++;
  }
  onBodyRoom(): void {
    this.room++;
  }
  onBodyAbandoned(): void {
    this.abandoned++;
  }
}

function make(capacity = 1024, limit = 1 << 20, budget: Budget | null = null) {
  const feeder = new FakeFeeder();
  return { feeder, body: new RequestBody(feeder, capacity, limit, budget) };
}

async function readAll(body: RequestBody): Promise<string> {
  let s = "";
  for (;;) {
    const p = await body.read();
    if (p === null) return s;
    s += dec.decode(p);
  }
}

/** Whether `p` has settled after the microtasks queued so far have run. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 5; i++) await Promise.resolve();
  return done;
}

describe("order and room", () => {
  test("pieces come out in the order they were pushed, then null", async () => {
    const { body } = make();
    body.push(bytes("one,"));
    body.pushCopy(bytes("xxtwo,xx"), 2, 6);
    body.push(bytes("three"));
    body.end();
    expect(await readAll(body)).toBe("one,two,three");
    expect(await body.read()).toBeNull();
  });

  test("a read waiting for bytes gets the next push", async () => {
    const { body } = make();
    const p = body.read();
    expect(await settled(p)).toBe(false);
    body.push(bytes("late"));
    expect(dec.decode((await p)!)).toBe("late");
  });

  test("room and buffered follow pushes and reads; capacity is fixed", async () => {
    const { body } = make(100);
    expect(body.capacity).toBe(100);
    expect(body.room).toBe(100);
    body.push(new Uint8Array(30));
    body.pushCopy(new Uint8Array(50), 0, 20);
    expect(body.buffered).toBe(50);
    expect(body.room).toBe(50);
    await body.read();
    expect(body.buffered).toBe(20);
    expect(body.room).toBe(80);
  });

  test("empty pushes are ignored", async () => {
    const { body } = make();
    body.push(new Uint8Array(0));
    body.pushCopy(bytes("abc"), 1, 1);
    expect(body.buffered).toBe(0);
    body.end();
    expect(await body.read()).toBeNull();
  });

  test("pushes after end are ignored", async () => {
    const { body } = make();
    body.push(bytes("a"));
    body.end();
    body.push(bytes("b"));
    body.pushCopy(bytes("c"), 0, 1);
    expect(await readAll(body)).toBe("a");
  });

  test("a second concurrent reader is refused", async () => {
    const { body } = make();
    const first = body.read();
    await expect(body.read()).rejects.toThrow(TypeError);
    body.push(bytes("x"));
    expect(dec.decode((await first)!)).toBe("x");
  });
});

describe("feeder signals", () => {
  test("onBodyRoom when a read takes the body from at least half full to below half", async () => {
    const { body, feeder } = make(100);
    body.push(new Uint8Array(60));
    body.push(new Uint8Array(30));
    await body.read(); // 90 → 30
    expect(feeder.room).toBe(1);
    await body.read(); // 30 → 0: was below half already
    expect(feeder.room).toBe(1);
  });

  test("no onBodyRoom while the body stays above half", async () => {
    const { body, feeder } = make(100);
    body.push(new Uint8Array(10));
    body.push(new Uint8Array(80));
    await body.read(); // 90 → 80
    expect(feeder.room).toBe(0);
  });

  test("no onBodyRoom after the body ended (nothing more to read from the socket)", async () => {
    const { body, feeder } = make(100);
    body.push(new Uint8Array(90));
    body.end();
    await body.read();
    expect(feeder.room).toBe(0);
  });

  test("a read that must wait asks for room (the connection reads on)", async () => {
    const { body, feeder } = make(100);
    void body.read();
    expect(feeder.room).toBe(1);
  });

  test("onBodyWanted on the first read that waits, once", async () => {
    const { body, feeder } = make();
    expect(body.wanted).toBe(false);
    expect(body.used).toBe(false);
    const p = body.read();
    expect(feeder.wanted).toBe(1);
    expect(body.wanted).toBe(true);
    expect(body.used).toBe(true);
    body.push(bytes("a"));
    await p;
    const q = body.read();
    body.push(bytes("b"));
    await q;
    void body.read();
    expect(feeder.wanted).toBe(1);
  });

  test("a body that arrived whole never asks for bytes (no 100 Continue)", async () => {
    const feeder = new FakeFeeder();
    const body = RequestBody.whole(bytes("whole"), feeder);
    expect(body.wanted).toBe(true);
    expect(await readAll(body)).toBe("whole");
    expect(feeder.wanted).toBe(0);
  });

  test("cancel() before the end tells the connection the body is abandoned", () => {
    const { body, feeder } = make();
    body.push(bytes("held"));
    body.cancel();
    expect(feeder.abandoned).toBe(1);
    expect(body.abandoned).toBe(true);
    expect(body.buffered).toBe(0);
    body.cancel();
    expect(feeder.abandoned).toBe(1);
    body.push(bytes("more"));
    expect(body.buffered).toBe(0);
  });

  test("cancel() after the end is not an abandonment (nothing more to drop)", () => {
    const { body, feeder } = make();
    body.push(bytes("x"));
    body.end();
    body.cancel();
    expect(feeder.abandoned).toBe(0);
  });
});

describe("pushCopy coalescing", () => {
  test("10,000 one-byte copies come out as a few pieces, byte-exact", async () => {
    const { body } = make(1 << 20);
    const src = new Uint8Array(10_000).map((_, i) => (i * 31) & 255);
    for (let i = 0; i < src.length; i++) body.pushCopy(src, i, i + 1);
    body.end();
    const pieces: Uint8Array[] = [];
    for (let p = await body.read(); p !== null; p = await body.read()) pieces.push(p);
    expect(pieces.length).toBeLessThanOrEqual(2);
    expect(Buffer.concat(pieces)).toEqual(Buffer.from(src));
  });

  test("a copy does not keep the source: changing it afterwards changes nothing", async () => {
    const { body } = make();
    const src = bytes("abc");
    body.pushCopy(src, 0, 3);
    src.fill(0);
    body.end();
    expect(await readAll(body)).toBe("abc");
  });

  test("bytes handed out never change, however many copies follow", async () => {
    const { body } = make(1 << 20);
    const views: [Uint8Array, string][] = [];
    let k = 0;
    for (let round = 0; round < 200; round++) {
      for (let i = 0; i < 50; i++, k++) body.pushCopy(bytes(String.fromCharCode(65 + (k % 26))), 0, 1);
      const piece = (await body.read())!;
      views.push([piece, dec.decode(piece)]);
    }
    // More copies, into the same and into new blocks.
    for (let i = 0; i < 40_000; i++) body.pushCopy(bytes("z"), 0, 1);
    for (const [view, text] of views) expect(dec.decode(view)).toBe(text);
    expect(views.map(([, t]) => t).join("")).toBe(Array.from({ length: 10_000 }, (_, i) => String.fromCharCode(65 + (i % 26))).join(""));
  });

  test("a view read while small copies keep coming stays as it was", async () => {
    const { body } = make(1 << 20);
    body.pushCopy(bytes("first"), 0, 5);
    const first = (await body.read())!;
    body.pushCopy(bytes("second"), 0, 6);
    body.pushCopy(bytes("third"), 0, 5);
    expect(dec.decode(first)).toBe("first");
    const next = (await body.read())!;
    body.pushCopy(bytes("fourth"), 0, 6);
    expect(dec.decode(first)).toBe("first");
    expect(dec.decode(next)).toBe("secondthird");
  });

  test("small, large, small: each byte comes out once, in order", async () => {
    // A chunked upload of 5-byte, 20,000-byte and 5-byte chunks in one read does exactly this: the
    // large one goes in by push (a view), the small ones by pushCopy.
    const { body } = make(1 << 20);
    body.pushCopy(bytes("AAAAA"), 0, 5);
    body.push(new Uint8Array(20_000).fill(80));
    body.pushCopy(bytes("BBBBB"), 0, 5);
    body.end();
    const all = await body.all();
    expect(all.length).toBe(20_010);
    expect(dec.decode(all.subarray(0, 5))).toBe("AAAAA");
    expect(dec.decode(all.subarray(20_005))).toBe("BBBBB");
  });

  test("a copy larger than a block is one piece of its own", async () => {
    const { body } = make(1 << 20);
    const big = new Uint8Array(40_000).map((_, i) => i & 255);
    body.pushCopy(big, 0, big.length);
    body.end();
    const piece = (await body.read())!;
    expect(piece.length).toBe(40_000);
    expect(piece).toEqual(big);
    expect(piece.buffer).not.toBe(big.buffer);
  });
});

describe("end and failure", () => {
  test("end() resolves a waiting read with null", async () => {
    const { body } = make();
    const p = body.read();
    body.end();
    expect(await p).toBeNull();
    expect(body.ended).toBe(true);
  });

  test("end() with bytes held: they are read first", async () => {
    const { body } = make();
    body.push(bytes("left"));
    body.end();
    expect(dec.decode((await body.read())!)).toBe("left");
    expect(await body.read()).toBeNull();
  });

  test("fail() rejects a waiting read with its error", async () => {
    const { body } = make();
    const p = body.read();
    const err = new HttpException(400, "cut off");
    body.fail(err);
    await expect(p).rejects.toBe(err);
    await expect(body.read()).rejects.toBe(err);
    expect(body.ended).toBe(true);
  });

  test("fail() drops what is held", async () => {
    const { body } = make();
    body.push(bytes("held"));
    body.fail(new Error("gone"));
    expect(body.buffered).toBe(0);
    await expect(body.read()).rejects.toThrow("gone");
  });

  test("fail() after end() changes nothing", async () => {
    const { body } = make();
    body.push(bytes("ok"));
    body.end();
    body.fail(new Error("late"));
    expect(await readAll(body)).toBe("ok");
  });
});

describe("all()", () => {
  test("joins pieces that arrive over time", async () => {
    const { body } = make();
    const p = body.all();
    body.push(bytes("hello "));
    await Promise.resolve();
    body.pushCopy(bytes("world"), 0, 5);
    await Promise.resolve();
    body.push(bytes("!"));
    body.end();
    expect(dec.decode(await p)).toBe("hello world!");
  });

  test("joins a body of many pieces already held", async () => {
    const { body } = make(1 << 20);
    for (let i = 0; i < 100; i++) body.push(bytes(`${i % 10}`));
    body.end();
    expect(dec.decode(await body.all())).toBe("0123456789".repeat(10));
  });

  test("an empty body is an empty array", async () => {
    const { body } = make();
    body.end();
    expect((await body.all()).length).toBe(0);
  });

  test("past the limit while arriving: 413, and the rest is abandoned", async () => {
    const { body, feeder } = make(1 << 20, 10);
    const p = body.all();
    body.push(bytes("12345"));
    await Promise.resolve();
    body.push(bytes("678901"));
    const err = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpException);
    expect((err as HttpException).status).toBe(413);
    expect(feeder.abandoned).toBe(1);
  });

  test("past the limit when already whole: 413", async () => {
    const { body } = make(1 << 20, 4);
    body.push(bytes("12345"));
    body.end();
    const err = await body.all().catch((e: unknown) => e);
    expect((err as HttpException).status).toBe(413);
  });

  test("a lower limit passed to all() wins", async () => {
    const { body } = make(1 << 20, 1000);
    body.push(bytes("123456"));
    body.end();
    const err = await body.all(3).catch((e: unknown) => e);
    expect((err as HttpException).status).toBe(413);
  });

  test("exactly the limit is fine", async () => {
    const { body } = make(1 << 20, 6);
    const p = body.all();
    body.push(bytes("123"));
    await Promise.resolve();
    body.push(bytes("456"));
    body.end();
    expect(dec.decode(await p)).toBe("123456");
  });

  test("a failure while reading rejects all()", async () => {
    const { body } = make();
    const p = body.all();
    body.push(bytes("part"));
    await Promise.resolve();
    body.fail(new HttpException(408, "slow"));
    await expect(p).rejects.toBeInstanceOf(HttpException);
  });
});

describe("stream()", () => {
  test("for await reads every piece, then ends", async () => {
    const { body } = make();
    const stream = body.stream();
    expect(body.used).toBe(false); // making the stream is not reading it
    body.push(bytes("a"));
    const got: string[] = [];
    const done = (async () => {
      for await (const chunk of stream) got.push(dec.decode(chunk));
    })();
    await Promise.resolve();
    body.push(bytes("b"));
    await Promise.resolve();
    body.push(bytes("c"));
    body.end();
    await done;
    expect(got.join("")).toBe("abc");
    expect(body.used).toBe(true);
  });

  test("the same stream each time", () => {
    const { body } = make();
    expect(body.stream()).toBe(body.stream());
  });

  test("cancelling the stream abandons the body", async () => {
    const { body, feeder } = make();
    await body.stream().cancel();
    expect(feeder.abandoned).toBe(1);
  });

  test("a failure errors the stream", async () => {
    const { body } = make();
    const reader = body.stream().getReader();
    const p = reader.read();
    body.fail(new Error("broken"));
    await expect(p).rejects.toThrow("broken");
  });
});

describe("peekWhole()", () => {
  test("the one piece of an ended, unread body", () => {
    const piece = bytes("whole");
    const body = RequestBody.whole(piece, new FakeFeeder());
    expect(body.peekWhole()).toBe(piece);
  });

  test("an ended empty body peeks as empty", () => {
    const { body } = make();
    body.end();
    expect(body.peekWhole()?.length).toBe(0);
  });

  test("null while the body is still arriving", () => {
    const { body } = make();
    body.push(bytes("part"));
    expect(body.peekWhole()).toBeNull();
  });

  test("null for several pieces, after a read, after a stream was made, after a failure", async () => {
    const several = make().body;
    several.push(bytes("a"));
    several.push(bytes("b"));
    several.end();
    expect(several.peekWhole()).toBeNull();

    const read = make().body;
    read.push(bytes("a"));
    read.push(bytes("b"));
    read.end();
    await read.read();
    expect(read.peekWhole()).toBeNull();

    const streamed = RequestBody.whole(bytes("x"), new FakeFeeder());
    streamed.stream();
    expect(streamed.peekWhole()).toBeNull();

    const failed = make().body;
    failed.fail(new Error("x"));
    expect(failed.peekWhole()).toBeNull();
  });
});

describe("budget", () => {
  test("bodyHeld goes up on push and pushCopy, down on read", async () => {
    const budget = new Budget(1 << 20, 1 << 20);
    const { body } = make(1 << 20, 1 << 20, budget);
    body.push(new Uint8Array(100));
    body.pushCopy(new Uint8Array(50), 0, 50);
    body.pushCopy(new Uint8Array(50), 0, 25);
    expect(budget.bodyHeld).toBe(175);
    await body.read();
    expect(budget.bodyHeld).toBe(75);
    await body.read();
    expect(budget.bodyHeld).toBe(0);
  });

  test("a push straight to a waiting reader is never held", async () => {
    const budget = new Budget(1 << 20, 1 << 20);
    const { body } = make(1 << 20, 1 << 20, budget);
    const p = body.read();
    body.push(new Uint8Array(100));
    expect(budget.bodyHeld).toBe(0);
    await p;
    expect(budget.bodyHeld).toBe(0);
  });

  test("release, cancel, fail and all() give back what is held", async () => {
    const budget = new Budget(1 << 20, 1 << 20);
    const a = make(1 << 20, 1 << 20, budget).body;
    const b = make(1 << 20, 1 << 20, budget).body;
    const c = make(1 << 20, 1 << 20, budget).body;
    const d = make(1 << 20, 1 << 20, budget).body;
    const e = make(1 << 20, 1 << 20, budget).body;
    for (const body of [a, b, c, d, e]) body.push(new Uint8Array(10));
    expect(budget.bodyHeld).toBe(50);
    a.release();
    expect(budget.bodyHeld).toBe(40);
    b.cancel();
    expect(budget.bodyHeld).toBe(30);
    c.fail(new Error("x"));
    expect(budget.bodyHeld).toBe(20);
    d.end();
    await d.all();
    expect(budget.bodyHeld).toBe(10);
    e.pushCopy(new Uint8Array(5), 0, 5);
    e.end();
    await e.all();
    expect(budget.bodyHeld).toBe(0);
  });

  test("bytes dropped after release are not counted twice", () => {
    const budget = new Budget(1 << 20, 1 << 20);
    const { body } = make(1 << 20, 1 << 20, budget);
    body.push(new Uint8Array(10));
    body.release();
    body.release();
    expect(budget.bodyHeld).toBe(0);
  });
});
