// Conformance, Autobahn group 7 (close handling): the server answers a close frame with a close and then
// closes TCP (RFC 6455 §5.5.1, §7.1.1), and ignores anything sent after the close; close codes are
// checked against §7.4 (the registered ones and 3000 – 4999 are accepted; 0 – 999, 1004 – 1006, 1015,
// unassigned 1xxx, 2xxx and 5000+ fail with 1002), a close payload of one byte or over 125 bytes fails
// with 1002, and a reason that is not UTF-8 fails with 1007. The app's close handler sees the code and
// reason the client sent, and a close started by the app (ws.close) completes.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { closePayload, type EchoServer, fragments, OP, pattern, serveEcho, WsRaw } from "../helpers/ws-raw.ts";

let server: EchoServer;
beforeAll(() => {
  server = serveEcho();
});
afterAll(() => server.stop());

test("7.1.1 a message, then a close: the echo, then a clean close", async () => {
  using ws = await WsRaw.connect(server.port);
  await ws.send({ opcode: OP.TEXT, payload: "Hello World!" });
  expect((await ws.nextMessage()).text()).toBe("Hello World!");
  await ws.closeCleanly(1000);
});

test("7.1.2 two close frames: one close answered, the second ignored", async () => {
  using ws = await WsRaw.connect(server.port);
  await ws.send([
    { opcode: OP.CLOSE, payload: closePayload(1000) },
    { opcode: OP.CLOSE, payload: closePayload(1000) },
  ]);
  // expectClose also fails if any byte follows the server's close frame.
  await ws.expectClose(1000);
});

test("7.1.3 a ping after the close: no pong", async () => {
  using ws = await WsRaw.connect(server.port);
  await ws.send([
    { opcode: OP.CLOSE, payload: closePayload(1000) },
    { opcode: OP.PING, payload: "after close" },
  ]);
  await ws.expectClose(1000);
});

test("7.1.4 a text message after the close: not echoed", async () => {
  using ws = await WsRaw.connect(server.port);
  await ws.send([
    { opcode: OP.CLOSE, payload: closePayload(1000) },
    { opcode: OP.TEXT, payload: "after close" },
  ]);
  await ws.expectClose(1000);
});

test("7.1.5 a fragment, a close, then the rest: a clean close, nothing echoed", async () => {
  using ws = await WsRaw.connect(server.port);
  const [a, b] = fragments(OP.TEXT, "fragment1fragment2", [9, 9]);
  await ws.send([a!, { opcode: OP.CLOSE, payload: closePayload(1000) }, b!]);
  await ws.expectClose(1000);
});

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

test("data the client sends after its close is not echoed, and TCP still closes", async () => {
  using ws = await WsRaw.connect(server.port);
  await ws.sendClose(1000);
  await ws.send(Array.from({ length: 20 }, (_, i) => ({ opcode: OP.TEXT, payload: `late ${i}` })));
  // The next frame must be the close, with nothing after it.
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

test("7.3.2 a close with a 1-byte payload fails with 1002", async () => {
  using ws = await WsRaw.connect(server.port);
  await ws.send({ opcode: OP.CLOSE, payload: new Uint8Array([0x03]) });
  await ws.expectFail(1002);
});

test("7.3.3 a close with a code only: a clean close", async () => {
  using ws = await WsRaw.connect(server.port);
  await ws.closeCleanly(1000);
});

test("7.3.4 a close with a code and a reason: a clean close", async () => {
  using ws = await WsRaw.connect(server.port);
  await ws.sendClose(1000, "Hello World!");
  await ws.expectClose(1000);
});

test("7.3.5 a close with the longest reason (123 bytes): a clean close", async () => {
  using ws = await WsRaw.connect(server.port);
  await ws.sendClose(1000, "*".repeat(123));
  await ws.expectClose(1000);
});

test("7.3.6 a close with a 124-byte reason (a 126-byte control frame) fails with 1002", async () => {
  using ws = await WsRaw.connect(server.port);
  await ws.sendClose(1000, "*".repeat(124));
  await ws.expectFail(1002);
});

test("7.5.1 a close reason that is not UTF-8 fails with 1007", async () => {
  using ws = await WsRaw.connect(server.port);
  await ws.sendClose(1000, new Uint8Array([0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80, 0x65, 0x64, 0x69, 0x74, 0x65, 0x64]));
  await ws.expectFail(1007);
});

test("a close reason cut inside a code point fails with 1007", async () => {
  using ws = await WsRaw.connect(server.port);
  await ws.sendClose(1000, new Uint8Array([0x61, 0xe2, 0x82]));
  await ws.expectFail(1007);
});

test("a close with a valid multi-byte UTF-8 reason: a clean close", async () => {
  using ws = await WsRaw.connect(server.port);
  await ws.sendClose(1000, "κόσμε 𤭢");
  await ws.expectClose(1000);
});

// 7.7: codes a peer may send; the server answers with 1000 or the same code.
const VALID_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999];
for (const code of VALID_CODES) {
  test(`7.7 close code ${code} is accepted: answered with 1000 or ${code}, then TCP closes`, async () => {
    using ws = await WsRaw.connect(server.port);
    await ws.closeCleanly(code);
  });
}

// 7.9 and 7.13: codes no endpoint may send (§7.4.1, §7.4.2): 1004 – 1006 and 1015 are reserved, the
// rest of 0 – 2999 is unassigned or for the protocol's future use, and nothing above 4999 exists.
const INVALID_CODES = [0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535];
for (const code of INVALID_CODES) {
  test(`7.9 close code ${code} fails with 1002`, async () => {
    using ws = await WsRaw.connect(server.port);
    await ws.sendClose(code);
    await ws.expectFail(1002);
  });
}

test("the app's close handler gets the client's code and reason", async () => {
  const seen = Promise.withResolvers<[number, string]>();
  await using app = serveEcho({ close: (_ws: unknown, code: number, reason: string) => seen.resolve([code, reason]) });
  using ws = await WsRaw.connect(app.port);
  await ws.sendClose(3001, "bye now");
  await ws.expectClose(3001);
  expect(await seen.promise).toEqual([3001, "bye now"]);
});

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
