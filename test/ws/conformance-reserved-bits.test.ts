// Conformance, Autobahn group 3 (reserved bits): with no extension negotiated, a frame with any RSV bit
// set (RSV = 1 … 7, on text, binary, ping and close frames) fails the connection with 1002 (RFC 6455
// §5.2); what came before it is still answered, and nothing after it is (no pong for a following ping).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { type EchoServer, type FrameSpec, OP, pattern, RSV1, serveEcho, type SendOptions, WsRaw } from "../helpers/ws-raw.ts";

let server: EchoServer;
beforeAll(() => {
  server = serveEcho();
});
afterAll(() => server.stop());

test("3.1 a text message with RSV = 1 fails with 1002", async () => {
  using ws = await WsRaw.connect(server.port);
  await ws.send({ opcode: OP.TEXT, payload: "Hello, world!", rsv: 1 });
  await ws.expectFail(1002);
});

// 3.2 – 3.4: a good message, then the bad one, then a ping that must not be answered.
const AFTER_GOOD: [string, number, SendOptions][] = [
  ["3.2 RSV = 2", 2, {}],
  ["3.3 RSV = 3, frame by frame", 3, { perFrame: true }],
  ["3.4 RSV = 4 (RSV1, with no permessage-deflate), byte by byte", RSV1, { chop: 1 }],
];
for (const [name, rsv, how] of AFTER_GOOD) {
  test(`${name}: the echo of the message before, then 1002, and no pong`, async () => {
    using ws = await WsRaw.connect(server.port);
    const frames: FrameSpec[] = [
      { opcode: OP.TEXT, payload: "Hello, world!" },
      { opcode: OP.TEXT, payload: "Hello, world!", rsv },
      { opcode: OP.PING, payload: "ping" },
    ];
    await ws.send(frames, how);
    expect((await ws.nextMessage()).text()).toBe("Hello, world!");
    await ws.expectFail(1002);
  });
}

test("3.5 a binary message with RSV = 5 fails with 1002", async () => {
  using ws = await WsRaw.connect(server.port);
  await ws.send({ opcode: OP.BINARY, payload: pattern(8), rsv: 5 });
  await ws.expectFail(1002);
});

test("3.6 a ping with RSV = 6 fails with 1002 (no pong)", async () => {
  using ws = await WsRaw.connect(server.port);
  await ws.send({ opcode: OP.PING, payload: "ping", rsv: 6 });
  await ws.expectFail(1002);
});

test("3.7 a close with RSV = 7 fails with 1002 (not a clean 1000)", async () => {
  using ws = await WsRaw.connect(server.port);
  await ws.send({ opcode: OP.CLOSE, payload: new Uint8Array([0x03, 0xe8]), rsv: 7 });
  await ws.expectFail(1002);
});

test("RSV bits on a continuation frame fail with 1002", async () => {
  using ws = await WsRaw.connect(server.port);
  await ws.send([
    { opcode: OP.TEXT, payload: "frag", fin: false },
    { opcode: OP.CONT, payload: "ment", rsv: 2 },
  ]);
  await ws.expectFail(1002);
});

for (const rsv of [1, 2, 3, 4, 5, 6, 7]) {
  test(`RSV = ${rsv} on a pong fails with 1002`, async () => {
    using ws = await WsRaw.connect(server.port);
    await ws.send({ opcode: OP.PONG, rsv });
    await ws.expectFail(1002);
  });
}
