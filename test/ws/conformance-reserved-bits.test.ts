// Conformance, Autobahn group 3 (reserved bits): with no extension negotiated, a frame with any RSV bit
// set (RSV = 1 … 7, on text, binary, ping, pong, close and continuation frames) fails the connection
// with 1002 (RFC 6455 §5.2); what came before it is still answered, and nothing after it is (no pong
// for a following ping).
import { expect, test } from "bun:test";
import { echoServerForFile, expectCloseAfter, type FrameSpec, OP, pattern, RSV1, type SendOptions, WsRaw } from "../helpers/ws-raw.ts";

const server = echoServerForFile();

const ALONE: [string, FrameSpec[]][] = [
  ["3.1 a text message with RSV = 1", [{ opcode: OP.TEXT, payload: "Hello, world!", rsv: 1 }]],
  ["3.5 a binary message with RSV = 5", [{ opcode: OP.BINARY, payload: pattern(8), rsv: 5 }]],
  ["3.6 a ping with RSV = 6 (no pong)", [{ opcode: OP.PING, payload: "ping", rsv: 6 }]],
  ["3.7 a close with RSV = 7 (not a clean 1000)", [{ opcode: OP.CLOSE, payload: new Uint8Array([0x03, 0xe8]), rsv: 7 }]],
  [
    "RSV = 2 on a continuation frame",
    [
      { opcode: OP.TEXT, payload: "frag", fin: false },
      { opcode: OP.CONT, payload: "ment", rsv: 2 },
    ],
  ],
  ...[1, 2, 3, 4, 5, 6, 7].map((rsv): [string, FrameSpec[]] => [`RSV = ${rsv} on a pong`, [{ opcode: OP.PONG, rsv }]]),
];
for (const [name, frames] of ALONE) {
  test(`${name} fails with 1002`, () => expectCloseAfter(server.port, frames, 1002));
}

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
