// A connection's Output over a fake socket that takes only what its "kernel" has room for: nothing
// the socket did not take is lost, the order is kept, and the budget counts what waits.
import { describe, expect, test } from "bun:test";
import type { Socket } from "bun";
import { Budget } from "../../src/server/budget.ts";
import { corkedLength } from "../../src/server/cork.ts";
import { Output, QUIET_OWNER } from "../../src/server/output.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Takes at most `room` bytes per write (then 0 until more room is given), -1 once closed. */
class FakeSocket {
  taken: number[] = [];
  writes = 0;
  closed = false;
  constructor(public room = Infinity) {}
  write(buf: Uint8Array, offset: number, length: number): number {
    this.writes++;
    if (this.closed) return -1;
    const n = Math.min(length, this.room);
    for (let i = 0; i < n; i++) this.taken.push(buf[offset + i]!);
    this.room -= n;
    return n;
  }
  get text(): string {
    return dec.decode(new Uint8Array(this.taken));
  }
}

function make(room = Infinity) {
  const socket = new FakeSocket(room);
  const budget = new Budget(1 << 20, 1 << 20);
  let empty = 0;
  const output = new Output(socket as unknown as Socket<unknown>, budget, { ...QUIET_OWNER, outputEmptied: () => void empty++ });
  return { socket, budget, output, empties: () => empty };
}

describe("Output", () => {
  test("everything corked in a callback leaves in one write", () => {
    const { socket, output, empties } = make();
    output.cork().bytes(enc.encode("one "));
    output.cork().bytes(enc.encode("two "));
    output.cork().utf8("three");
    expect(output.pending).toBe(13);
    output.flush();
    expect(socket.writes).toBe(1);
    expect(socket.text).toBe("one two three");
    expect(output.total).toBe(13);
    expect(output.pending).toBe(0);
    expect(empties()).toBe(1);
  });

  test("flush with nothing corked writes nothing", () => {
    const { socket, output } = make();
    output.flush();
    expect(socket.writes).toBe(0);
  });

  test("what the kernel does not take is queued, counted, and sent on drain, in order", () => {
    const { socket, output, budget, empties } = make(5);
    output.cork().bytes(enc.encode("hello world"));
    output.flush();
    expect(socket.text).toBe("hello");
    expect(output.queued).toBe(6);
    expect(budget.outputQueued).toBe(6);
    expect(budget.sending).toBe(1);
    expect(empties()).toBe(0);
    // Later output waits behind the queue, however much room there is.
    socket.room = 100;
    output.cork().bytes(enc.encode("!"));
    output.flush();
    expect(socket.text).toBe("hello");
    expect(output.queued).toBe(7);
    expect(output.drain()).toBe(7);
    expect(socket.text).toBe("hello world!");
    expect(output.queued).toBe(0);
    expect(budget.outputQueued).toBe(0);
    expect(budget.sending).toBe(0);
  });

  test("a queued copy does not change when the cork buffer is used again", () => {
    const { socket, output } = make(2);
    output.cork().bytes(enc.encode("abcdef"));
    output.flush();
    output.cork().bytes(enc.encode("XYZ"));
    output.flush();
    socket.room = Infinity;
    output.drain();
    expect(socket.text).toBe("abcdefXYZ");
  });

  test("drain across several partial writes", () => {
    const { socket, output } = make(1);
    const bytes = enc.encode("0123456789");
    output.send(bytes);
    for (let i = 0; i < 20 && output.queued > 0; i++) {
      socket.room = 3;
      output.drain();
    }
    expect(socket.text).toBe("0123456789");
    expect(output.queued).toBe(0);
  });

  test("send() goes after what is corked", () => {
    const { socket, output } = make();
    output.cork().bytes(enc.encode("head "));
    output.send(enc.encode("body"));
    expect(socket.text).toBe("head body");
    expect(corkedLength(output)).toBe(0);
    expect(output.total).toBe(9);
  });

  test("send() of bytes the kernel takes only in part keeps the rest by reference", () => {
    const { socket, output } = make(3);
    output.send(enc.encode("abcdef"));
    expect(output.queued).toBe(3);
    output.send(enc.encode("gh"));
    expect(output.queued).toBe(5);
    socket.room = Infinity;
    output.drain();
    expect(socket.text).toBe("abcdefgh");
  });

  test("a socket closed under us (-1): nothing is queued, and the connection is told at once", () => {
    const socket = new FakeSocket(Infinity);
    const budget = new Budget(1 << 20, 1 << 20);
    let broken = 0;
    const output = new Output(socket as unknown as Socket<unknown>, budget, { ...QUIET_OWNER, outputBroken: () => void broken++ });
    socket.closed = true;
    output.cork().bytes(enc.encode("lost"));
    output.flush();
    expect(broken).toBe(1); // a paused socket hears of the close only this way
    expect(output.queued).toBe(0);
    output.send(enc.encode("more"));
    expect(broken).toBe(2);
    output.close();
    expect(budget.outputQueued).toBe(0);
    expect(budget.sending).toBe(0);
  });

  test("close() drops the queue and the cork, and later output goes nowhere", () => {
    const { socket, output, budget } = make(2);
    output.send(enc.encode("queued"));
    output.cork().bytes(enc.encode("corked"));
    output.close();
    expect(output.queued).toBe(0);
    expect(corkedLength(output)).toBe(0);
    expect(budget.outputQueued).toBe(0);
    expect(budget.sending).toBe(0);
    socket.room = Infinity;
    output.cork().bytes(enc.encode("late"));
    output.flush();
    output.send(enc.encode("later"));
    expect(socket.text).toBe("qu");
  });

  test("two outputs sharing the cork buffer: taking it sends the other's bytes first", () => {
    const a = make();
    const b = make();
    a.output.cork().bytes(enc.encode("for a"));
    b.output.cork().bytes(enc.encode("for b"));
    expect(a.socket.text).toBe("for a");
    expect(b.socket.text).toBe("");
    b.output.flush();
    expect(b.socket.text).toBe("for b");
    expect(a.socket.writes).toBe(1);
  });
});
