// Conformance, Autobahn group 5 (fragmentation): control frames must not be fragmented; a fragmented
// text or binary message is reassembled whatever the TCP chops, with control frames allowed between its
// fragments (answered at once, before the message ends); a continuation with nothing to continue, or a
// new data frame inside a fragmented message, fails the connection with 1002 (RFC 6455 §5.4).
import { expect, test } from "bun:test";
import { bytesOf, echoServerForFile, expectCloseAfter, fragments, type FrameSpec, OP, pattern, type SendOptions, WsRaw } from "../helpers/ws-raw.ts";

const server = echoServerForFile();


for (const [n, opcode, name] of [[1, OP.PING, "ping"], [2, OP.PONG, "pong"]] as const) {
  test(`5.${n} a ${name} in two fragments fails with 1002`, () =>
    expectCloseAfter(
      server.port,
      [
        { opcode, payload: "frag", fin: false },
        { opcode: OP.CONT, payload: "ment" },
      ],
      1002,
    ));
}

const CHOPS: [string, SendOptions][] = [
  ["in one write", {}],
  ["frame by frame", { perFrame: true }],
  ["byte by byte", { chop: 1 }],
];

for (const [i, [how, opts]] of CHOPS.entries()) {
  test(`5.${3 + i} a text message in two fragments, ${how}, is echoed`, async () => {
    using ws = await WsRaw.connect(server.port);
    await ws.send(fragments(OP.TEXT, "fragment1fragment2", [9, 9]), opts);
    const m = await ws.nextMessage();
    expect(m.opcode).toBe(OP.TEXT);
    expect(m.text()).toBe("fragment1fragment2");
    await ws.closeCleanly();
  });
}

for (const [i, [how, opts]] of CHOPS.entries()) {
  test(`5.${6 + i} a ping between two text fragments, ${how}: the pong, then the echo`, async () => {
    using ws = await WsRaw.connect(server.port);
    const [a, b] = fragments(OP.TEXT, "fragment1fragment2", [9, 9]) as [FrameSpec, FrameSpec];
    await ws.send([a, { opcode: OP.PING, payload: "ping payload" }, b], opts);
    const pong = await ws.nextFrame();
    expect(pong.opcode).toBe(OP.PONG);
    expect(pong.payload).toEqual(bytesOf("ping payload"));
    expect((await ws.nextMessage()).text()).toBe("fragment1fragment2");
    await ws.closeCleanly();
  });
}

test("a binary message in many fragments, with a ping and an unsolicited pong among them", async () => {
  using ws = await WsRaw.connect(server.port);
  const data = pattern(1000);
  const frames = fragments(OP.BINARY, data, [1, 99, 0, 400, 500]);
  frames.splice(2, 0, { opcode: OP.PONG, payload: "p" });
  frames.splice(4, 0, { opcode: OP.PING, payload: "q" });
  await ws.send(frames);
  const pong = await ws.nextFrame();
  expect(pong.opcode).toBe(OP.PONG);
  expect(pong.payload).toEqual(bytesOf("q"));
  const m = await ws.nextMessage();
  expect(m.opcode).toBe(OP.BINARY);
  expect(m.data).toEqual(data);
  await ws.closeCleanly();
});

// 5.9 – 5.14: a continuation frame first, with nothing to continue, then a whole text message.
for (const fin of [true, false]) {
  for (const [i, [how, opts]] of CHOPS.entries()) {
    const n = (fin ? 9 : 12) + i;
    const frames: FrameSpec[] = [
      { opcode: OP.CONT, payload: "fragment1", fin },
      { opcode: OP.TEXT, payload: "fragment2" },
    ];
    test(`5.${n} a continuation (FIN ${fin}) with nothing to continue, ${how}, fails with 1002`, () =>
      expectCloseAfter(server.port, frames, 1002, { how: opts }));
  }
}

test("5.15 a message in two fragments, then a stray continuation: the echo, then 1002", async () => {
  using ws = await WsRaw.connect(server.port);
  await ws.send([
    ...fragments(OP.TEXT, "fragment1fragment2", [9, 9]),
    { opcode: OP.CONT, payload: "fragment3", fin: false },
    { opcode: OP.TEXT, payload: "fragment4" },
  ]);
  expect((await ws.nextMessage()).text()).toBe("fragment1fragment2");
  await ws.expectFail(1002);
});

const BAD_SEQUENCES: [string, FrameSpec[]][] = [
  ...([[16, false], [17, true]] as const).map(([n, fin]): [string, FrameSpec[]] => {
    const round: FrameSpec[] = [{ opcode: OP.CONT, payload: "fragment1", fin }, ...fragments(OP.TEXT, "fragment2fragment3", [9, 9])];
    return [`5.${n} a stray continuation (FIN ${fin}) before a fragmented message, twice`, [...round, ...round]];
  }),
  [
    "5.18 two text frames where the second should be a continuation",
    [
      { opcode: OP.TEXT, payload: "fragment1", fin: false },
      { opcode: OP.TEXT, payload: "fragment2" },
    ],
  ],
  [
    "a binary frame inside a fragmented text message",
    [
      { opcode: OP.TEXT, payload: "fragment1", fin: false },
      { opcode: OP.BINARY, payload: pattern(3) },
    ],
  ],
];
for (const [name, frames] of BAD_SEQUENCES) {
  test(`${name} fails with 1002 at once`, () => expectCloseAfter(server.port, frames, 1002));
}

for (const [n, opts] of [[19, {}], [20, { perFrame: true }]] as const) {
  test(`5.${n} pings in a message that arrives in pauses are answered before its last fragment is sent`, async () => {
    using ws = await WsRaw.connect(server.port);
    const parts = ["fragment1", "fragment2", "fragment3", "fragment4", "fragment5"];
    const frame = (i: number): FrameSpec => ({ opcode: i === 0 ? OP.TEXT : OP.CONT, payload: parts[i], fin: i === parts.length - 1 });
    await ws.send([frame(0), frame(1), { opcode: OP.PING, payload: "pongme 1!" }], opts);
    // The pong must come while the message is still open: nothing more is sent until it does.
    let f = await ws.nextFrame();
    expect(f.opcode).toBe(OP.PONG);
    expect(f.payload).toEqual(bytesOf("pongme 1!"));
    await ws.send([frame(2), frame(3), { opcode: OP.PING, payload: "pongme 2!" }], opts);
    f = await ws.nextFrame();
    expect(f.opcode).toBe(OP.PONG);
    expect(f.payload).toEqual(bytesOf("pongme 2!"));
    await ws.send(frame(4), opts);
    expect((await ws.nextMessage()).text()).toBe(parts.join(""));
    await ws.closeCleanly();
  });
}

test("a message of empty fragments only is echoed as an empty message", async () => {
  using ws = await WsRaw.connect(server.port);
  await ws.send(fragments(OP.BINARY, new Uint8Array(0), [0, 0, 0]));
  const m = await ws.nextMessage();
  expect(m.opcode).toBe(OP.BINARY);
  expect(m.data.length).toBe(0);
  await ws.closeCleanly();
});

test("two fragmented messages back to back are echoed separately", async () => {
  using ws = await WsRaw.connect(server.port);
  await ws.send([...fragments(OP.TEXT, "abcdef", [2, 2, 2]), ...fragments(OP.BINARY, pattern(6), [3, 3])]);
  expect((await ws.nextMessage()).text()).toBe("abcdef");
  const m = await ws.nextMessage();
  expect(m.opcode).toBe(OP.BINARY);
  expect(m.data).toEqual(pattern(6));
  await ws.closeCleanly();
});
