// The shared cork buffer: one owner at a time, and a new owner first makes the old one send.
import { describe, expect, test } from "bun:test";
import { type CorkOwner, corkedBy, corkedLength, corkFor, uncorked } from "../../src/server/cork.ts";

const dec = new TextDecoder();
const enc = new TextEncoder();

/** An owner that, like Output, sends what it corked when asked, and records it. */
class FakeOwner implements CorkOwner {
  sent: string[] = [];
  /** Who held the buffer while uncork ran. */
  ownedDuringUncork: boolean[] = [];
  constructor(readonly name: string) {}
  uncork(): void {
    const out = corkedBy(this);
    this.ownedDuringUncork.push(out !== null);
    if (out !== null) this.sent.push(dec.decode(out.buf.subarray(0, out.len)));
    uncorked(this);
  }
}

/** An owner that does not release the buffer in uncork (a careless one). */
class LazyOwner implements CorkOwner {
  calls = 0;
  uncork(): void {
    this.calls++;
  }
}

describe("cork buffer", () => {
  test("corkFor gives the owner an empty buffer", () => {
    const a = new FakeOwner("a");
    const out = corkFor(a);
    expect(out.len).toBe(0);
    expect(corkedBy(a)).toBeNull(); // held, but empty
    expect(corkedLength(a)).toBe(0);
    uncorked(a);
  });

  test("the same owner keeps its bytes across corkFor calls", () => {
    const a = new FakeOwner("a");
    corkFor(a).bytes(enc.encode("one "));
    corkFor(a).bytes(enc.encode("two"));
    expect(corkedLength(a)).toBe(7);
    expect(dec.decode(corkedBy(a)!.buf.subarray(0, 7))).toBe("one two");
    expect(a.sent).toEqual([]);
    uncorked(a);
  });

  test("another owner taking the buffer makes the first send first, while it still owns it", () => {
    const a = new FakeOwner("a");
    const b = new FakeOwner("b");
    corkFor(a).bytes(enc.encode("from a"));
    const out = corkFor(b);
    expect(a.sent).toEqual(["from a"]);
    expect(a.ownedDuringUncork).toEqual([true]);
    // b starts empty: nothing of a's is left in it.
    expect(out.len).toBe(0);
    expect(corkedLength(a)).toBe(0);
    expect(corkedBy(a)).toBeNull();
    out.bytes(enc.encode("from b"));
    expect(corkedLength(b)).toBe(6);
    expect(dec.decode(corkedBy(b)!.buf.subarray(0, 6))).toBe("from b");
    uncorked(b);
  });

  test("an owner with nothing corked is not asked to send", () => {
    const a = new FakeOwner("a");
    const b = new FakeOwner("b");
    corkFor(a);
    corkFor(b);
    expect(a.ownedDuringUncork).toEqual([]);
    uncorked(b);
  });

  test("bytes are not lost or doubled when an owner does not release in uncork", () => {
    const lazy = new LazyOwner();
    const b = new FakeOwner("b");
    corkFor(lazy).bytes(enc.encode("stale"));
    const out = corkFor(b);
    expect(lazy.calls).toBe(1);
    expect(out.len).toBe(0);
    expect(corkedLength(lazy)).toBe(0);
    uncorked(b);
  });

  test("uncorked by a non-owner changes nothing", () => {
    const a = new FakeOwner("a");
    const b = new FakeOwner("b");
    corkFor(a).bytes(enc.encode("keep"));
    uncorked(b);
    expect(corkedLength(a)).toBe(4);
    expect(corkedLength(b)).toBe(0);
    expect(corkedBy(b)).toBeNull();
    uncorked(a);
    expect(corkedLength(a)).toBe(0);
  });

  test("after uncorked the buffer is free: the next owner does not make the old one send", () => {
    const a = new FakeOwner("a");
    const b = new FakeOwner("b");
    corkFor(a).bytes(enc.encode("x"));
    uncorked(a);
    corkFor(b).bytes(enc.encode("y"));
    expect(a.sent).toEqual([]);
    expect(corkedLength(b)).toBe(1);
    uncorked(b);
  });

  test("a burst grows the buffer; uncorked gives the memory back", () => {
    const a = new FakeOwner("a");
    const out = corkFor(a);
    out.bytes(new Uint8Array(4 * 1024 * 1024));
    expect(corkedLength(a)).toBe(4 * 1024 * 1024);
    expect(out.buf.length).toBeGreaterThanOrEqual(4 * 1024 * 1024);
    uncorked(a);
    expect(corkFor(a).buf.length).toBeLessThan(1024 * 1024);
    uncorked(a);
  });

  test("three owners in turn: each sends its own bytes once, in order", () => {
    const owners = [new FakeOwner("a"), new FakeOwner("b"), new FakeOwner("c")];
    for (let round = 0; round < 2; round++) {
      for (const o of owners) corkFor(o).bytes(enc.encode(`${o.name}${round}`));
    }
    owners[2]!.uncork();
    expect(owners.map((o) => o.sent)).toEqual([
      ["a0", "a1"],
      ["b0", "b1"],
      ["c0", "c1"],
    ]);
  });
});
