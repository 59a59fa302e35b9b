// Conformance, Autobahn group 4 (opcodes): a frame with a reserved opcode, non-control (3 – 7) or
// control (11 – 15), with or without a payload, fails the connection with 1002 (RFC 6455 §5.2); a message
// before it is still echoed, and a ping after it gets no pong.
import { expect, test } from "bun:test";
import { echoServerForFile, expectCloseAfter, type FrameSpec, OP, pattern, WsRaw } from "../helpers/ws-raw.ts";

const server = echoServerForFile();

// [Autobahn case, opcode, payload, a good message first (and a ping after)]
const CASES: [string, number, boolean, boolean][] = [
  ["4.1.1", 3, false, false],
  ["4.1.2", 4, true, false],
  ["4.1.3", 5, false, true],
  ["4.1.4", 6, true, true],
  ["4.1.5", 7, true, true],
  ["4.2.1", 11, false, false],
  ["4.2.2", 12, true, false],
  ["4.2.3", 13, false, true],
  ["4.2.4", 14, true, true],
  ["4.2.5", 15, true, true],
];

for (const [name, opcode, withPayload, between] of CASES) {
  const what = `${name} opcode ${opcode}${withPayload ? " with a payload" : ""}${between ? ", after a message and before a ping" : ""}`;
  test(`${what} fails with 1002`, async () => {
    using ws = await WsRaw.connect(server.port);
    const bad = { opcode, payload: withPayload ? pattern(5) : new Uint8Array(0) };
    if (between) {
      await ws.send([{ opcode: OP.TEXT, payload: "Hello, world!" }, bad, { opcode: OP.PING, payload: "ping" }]);
      expect((await ws.nextMessage()).text()).toBe("Hello, world!");
    } else {
      await ws.send(bad);
    }
    await ws.expectFail(1002);
  });
}

const MORE: [string, FrameSpec[]][] = [
  [
    "a reserved opcode in the middle of a fragmented message",
    [
      { opcode: OP.TEXT, payload: "frag", fin: false },
      { opcode: 3, payload: "x", fin: false },
      { opcode: OP.CONT, payload: "ment" },
    ],
  ],
  ["a reserved control opcode with FIN clear", [{ opcode: 11, fin: false }]],
];
for (const [name, frames] of MORE) {
  test(`${name} fails with 1002`, () => expectCloseAfter(server.port, frames, 1002));
}
