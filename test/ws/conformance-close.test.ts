// Conformance, Autobahn group 7 (close handling): the server answers a close frame with a close and then
// closes TCP (RFC 6455 §5.5.1, §7.1.1), and ignores anything sent after the close; close codes are
// checked against §7.4 (the registered ones and 3000 – 4999 are accepted; 0 – 999, 1004 – 1006, 1015,
// unassigned 1xxx, 2xxx and 5000+ fail with 1002), a close payload of one byte or over 125 bytes fails
// with 1002, and a reason that is not UTF-8 fails with 1007. The app's close handler sees the code and
// reason the client sent, and a close started by the app (ws.close) completes.
import { expect, test } from "bun:test";
import { closePayload, echoServerForFile, expectCloseAfter, fragments, type FrameSpec, hex, OP, pattern, serveEcho, WsRaw } from "../helpers/ws-raw.ts";

const server = echoServerForFile();

test("7.1.1 a message, then a close: the echo, then a clean close", async () => {
  using ws = await WsRaw.connect(server.port);
  await ws.send({ opcode: OP.TEXT, payload: "Hello World!" });
  expect((await ws.nextMessage()).text()).toBe("Hello World!");
  await ws.closeCleanly(1000);
});

const CLOSE_1000: FrameSpec = { opcode: OP.CLOSE, payload: closePayload(1000) };
const closeWith = (code: number, reason: string | Uint8Array = ""): FrameSpec => ({ opcode: OP.CLOSE, payload: closePayload(code, reason) });
const [FRAG1, FRAG2] = fragments(OP.TEXT, "fragment1fragment2", [9, 9]) as [FrameSpec, FrameSpec];

// Frames sent, and the close that must come back (first, with nothing after it: expectClose fails on
// any byte after the server's close frame, so what followed the client's close went unanswered).
const CLOSES: [string, FrameSpec[], number][] = [
  ["7.1.2 two close frames: one answer, the second ignored", [CLOSE_1000, CLOSE_1000], 1000],
  ["7.1.3 a ping after the close: no pong", [CLOSE_1000, { opcode: OP.PING, payload: "after close" }], 1000],
  ["7.1.4 a text message after the close: not echoed", [CLOSE_1000, { opcode: OP.TEXT, payload: "after close" }], 1000],
  ["7.1.5 a fragment, a close, then the rest: nothing echoed", [FRAG1, CLOSE_1000, FRAG2], 1000],
  ["twenty messages after the close: none echoed", [CLOSE_1000, ...Array.from({ length: 20 }, (_, i) => ({ opcode: OP.TEXT, payload: `late ${i}` }))], 1000],
  ["an invalid close code in the middle of a fragmented message", [FRAG1, closeWith(1005), FRAG2], 1002],
  ["7.3.2 a close with a 1-byte payload", [{ opcode: OP.CLOSE, payload: new Uint8Array([0x03]) }], 1002],
  ["7.3.4 a close with a code and a reason", [closeWith(1000, "Hello World!")], 1000],
  ["7.3.5 a close with the longest reason (123 bytes)", [closeWith(1000, "*".repeat(123))], 1000],
  ["7.3.6 a close with a 124-byte reason (a 126-byte control frame)", [closeWith(1000, "*".repeat(124))], 1002],
  ["7.5.1 a close reason that is not UTF-8", [closeWith(1000, hex("cebae1bdb9cf83cebcceb5 eda080 656469746564"))], 1007],
  ["a close reason cut inside a code point", [closeWith(1000, hex("61 e282"))], 1007],
  ["a close with a valid multi-byte UTF-8 reason", [closeWith(1000, "κόσμε 𤭢")], 1000],
  // 7.9 and 7.13: codes no endpoint may send (§7.4.1, §7.4.2): 1004 – 1006 and 1015 are reserved, the
  // rest of 0 – 2999 is unassigned or for the protocol's future use, and nothing above 4999 exists.
  ...[0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535].map((code): [string, FrameSpec[], number] => [`7.9 close code ${code}`, [closeWith(code)], 1002]),
];
for (const [name, frames, code] of CLOSES) {
  test(`${name}: close ${code}, then TCP closes`, () => expectCloseAfter(server.port, frames, code));
}

test("7.1.6 a 256 KiB message, a close, then a ping: whatever comes is the echo, then the close", async () => {
  using ws = await WsRaw.connect(server.port);
  const big = pattern(256 * 1024);
  await ws.send([
    { opcode: OP.BINARY, payload: big },
    { opcode: OP.CLOSE, payload: closePayload(1000) },
    { opcode: OP.PING, payload: "after close" },
  ]);
  const first = await ws.nextFrame();
  // The echo may be cut off by the close (Autobahn leaves this to the implementation), but no pong.
  if (first.opcode === OP.BINARY) {
    expect(first.payload).toEqual(big);
  } else {
    expect(first.opcode).toBe(OP.CLOSE);
    ws.frames.unshift(first);
  }
  await ws.expectClose(1000);
});

test("7.3.1 a close with no payload is answered with a close (1000 or empty) and TCP closes", async () => {
  using ws = await WsRaw.connect(server.port);
  await ws.sendClose();
  const f = await ws.nextFrame();
  expect(f.opcode).toBe(OP.CLOSE);
  expect([0, 2]).toContain(f.payload.length);
  if (f.payload.length === 2) expect((f.payload[0]! << 8) | f.payload[1]!).toBe(1000);
  await ws.expectTcpClose();
});

test("7.3.3 a close with a code only: a clean close", async () => {
  using ws = await WsRaw.connect(server.port);
  await ws.closeCleanly(1000);
});

// 7.7: codes a peer may send; the server answers with 1000 or the same code.
const VALID_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999];
for (const code of VALID_CODES) {
  test(`7.7 close code ${code} is accepted: answered with 1000 or ${code}, then TCP closes`, async () => {
    using ws = await WsRaw.connect(server.port);
    await ws.closeCleanly(code);
  });
}

for (const reason of ["bye now", "\ufeffbye, with a leading U+FEFF", "κόσμε"]) {
  test(`the app's close handler gets the client's code and reason: ${JSON.stringify(reason)}`, async () => {
    const seen = Promise.withResolvers<[number, string]>();
    await using app = serveEcho({ close: (_ws: unknown, code: number, reason: string) => seen.resolve([code, reason]) });
    using ws = await WsRaw.connect(app.port);
    await ws.sendClose(3001, reason);
    await ws.expectClose(3001);
    expect(await seen.promise).toEqual([3001, reason]);
  });
}

test("a close the app starts (ws.close(4000, reason)) reaches the client, and TCP closes after the reply", async () => {
  await using app = serveEcho({
    message(ws: { close(code: number, reason: string): void }, m: string) {
      if (m === "close me") ws.close(4000, "as asked");
    },
  });
  using ws = await WsRaw.connect(app.port);
  await ws.send({ opcode: OP.TEXT, payload: "close me" });
  const close = await ws.expectClose(4000, { reply: true });
  expect(close.reason).toBe("as asked");
});

test("after its own close, the server ignores messages and answers the client's close by closing TCP", async () => {
  await using app = serveEcho({
    message(ws: { close(code: number, reason: string): void; send(m: string): void }, m: string) {
      if (m === "close me") ws.close(1000, "");
    },
  });
  using ws = await WsRaw.connect(app.port);
  await ws.send({ opcode: OP.TEXT, payload: "close me" });
  const f = await ws.nextFrame();
  expect(f.opcode).toBe(OP.CLOSE);
  await ws.send({ opcode: OP.TEXT, payload: "not to be echoed" });
  await ws.sendClose(1000);
  await ws.expectTcpClose();
  expect(ws.frames.length).toBe(0);
});

test("a close reason the app makes too long is cut to fit a control frame, on a character boundary", async () => {
  await using app = serveEcho({ message: (ws: { close(code: number, reason: string): void }) => ws.close(4001, "é".repeat(100)) });
  using ws = await WsRaw.connect(app.port);
  await ws.send({ opcode: OP.TEXT, payload: "close" });
  // ws-raw fails on a control frame over 125 bytes or a reason that is not UTF-8.
  const close = await ws.expectClose(4001, { reply: true });
  expect(close.reason).toBe("é".repeat(close.reason.length));
  expect(new TextEncoder().encode(close.reason).length).toBeLessThanOrEqual(123);
});

// The server takes the close (or the bad frame) while most of a 4 MiB echo still waits on the client:
// the echo must still go out whole, then the close frame, then the TCP close.
const BEHIND: [string, FrameSpec, number][] = [
  ["a close", CLOSE_1000, 1000],
  ["a protocol error", { opcode: 3, payload: "reserved opcode" }, 1002],
];
for (const [name, last, code] of BEHIND) {
  test(`${name} behind a backed-up echo: the whole echo, then close ${code}, then TCP closes`, async () => {
    const closed = Promise.withResolvers<void>();
    await using app = serveEcho({ close: () => closed.resolve() });
    using ws = await WsRaw.connect(app.port);
    ws.raw.pause();
    const big = pattern(4 * 1024 * 1024);
    await ws.send([{ opcode: OP.BINARY, payload: big }, last]);
    await closed.promise;
    ws.raw.resume();
    const echo = await ws.nextMessage();
    expect(Buffer.compare(echo.data, big)).toBe(0);
    await ws.expectClose(code);
  });
}
