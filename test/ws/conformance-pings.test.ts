// Conformance, Autobahn group 2 (pings and pongs): every ping is answered by a pong with the same
// payload (empty, text, non-UTF-8 bytes, the 125-byte maximum, sent whole or byte by byte, ten in a row);
// a ping of 126 bytes fails the connection with 1002 (RFC 6455 §5.5); unsolicited pongs get no answer.
import { expect, test } from "bun:test";
import { bytesOf, echoServerForFile, OP, pattern, WsRaw } from "../helpers/ws-raw.ts";

const server = echoServerForFile();

async function expectPong(ws: WsRaw, payload: Uint8Array): Promise<void> {
  const f = await ws.nextFrame();
  expect(f.opcode).toBe(OP.PONG);
  expect(f.payload).toEqual(payload);
}


const CASES: [string, Uint8Array][] = [
  ["2.1 an empty ping", new Uint8Array(0)],
  ["2.2 a ping with a small text payload", bytesOf("Hello, world!")],
  ["2.3 a ping with a binary (non UTF-8) payload", new Uint8Array([0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff])],
  ["2.4 a ping with 125 bytes", pattern(125)],
];
for (const [name, payload] of CASES) {
  test(`${name} gets a pong with the same payload`, async () => {
    using ws = await WsRaw.connect(server.port);
    await ws.send({ opcode: OP.PING, payload });
    await expectPong(ws, payload);
    await ws.closeCleanly();
  });
}

test("2.5 a ping with 126 bytes fails the connection with 1002", async () => {
  using ws = await WsRaw.connect(server.port);
  await ws.send({ opcode: OP.PING, payload: pattern(126) });
  await ws.expectFail(1002);
});

test("a ping declaring 126 bytes in the 16-bit form fails with 1002 before its payload arrives", async () => {
  using ws = await WsRaw.connect(server.port);
  await ws.send({ opcode: OP.PING, payload: new Uint8Array(0), declaredLength: 126 });
  await ws.expectFail(1002);
});

test("a ping with a non-minimal 16-bit length is answered or refused, not misread", async () => {
  // Non-minimal lengths are outside what we insist on; the server must either pong or fail with 1002.
  using ws = await WsRaw.connect(server.port);
  await ws.send({ opcode: OP.PING, payload: bytesOf("x"), lengthBits: 16 });
  const f = await ws.nextFrame();
  expect([OP.PONG, OP.CLOSE]).toContain(f.opcode as 8 | 10);
});

test("2.6 a 125-byte ping sent byte by byte gets its pong", async () => {
  using ws = await WsRaw.connect(server.port);
  const payload = pattern(125, 3);
  await ws.send({ opcode: OP.PING, payload }, { chop: 1 });
  await expectPong(ws, payload);
  await ws.closeCleanly();
});

test("2.7 / 2.8 unsolicited pongs get no answer", async () => {
  using ws = await WsRaw.connect(server.port);
  await ws.send([
    { opcode: OP.PONG },
    { opcode: OP.PONG, payload: bytesOf("unsolicited pong payload") },
    { opcode: OP.TEXT, payload: "after the pongs" },
  ]);
  // The first thing back is the echo: nothing answered the pongs.
  expect((await ws.nextMessage()).text()).toBe("after the pongs");
  await ws.closeCleanly();
});

test("2.9 an unsolicited pong, then a ping: only the ping is answered", async () => {
  using ws = await WsRaw.connect(server.port);
  await ws.send([
    { opcode: OP.PONG, payload: bytesOf("unsolicited pong payload") },
    { opcode: OP.PING, payload: bytesOf("ping payload") },
  ]);
  await expectPong(ws, bytesOf("ping payload"));
  await ws.closeCleanly();
});

for (const chop of [undefined, 1]) {
  test(`2.${chop ? 11 : 10} ten pings${chop ? " byte by byte" : ""} get ten pongs, in order`, async () => {
    using ws = await WsRaw.connect(server.port);
    const payloads = Array.from({ length: 10 }, (_, i) => bytesOf(`payload-${i}`));
    await ws.send(payloads.map((payload) => ({ opcode: OP.PING, payload })), { chop });
    for (const p of payloads) await expectPong(ws, p);
    await ws.closeCleanly();
  });
}

test("a thousand pings in one write get a thousand pongs, in order", async () => {
  using ws = await WsRaw.connect(server.port);
  const payloads = Array.from({ length: 1000 }, (_, i) => bytesOf(String(i)));
  await ws.send(payloads.map((payload) => ({ opcode: OP.PING, payload })));
  for (const p of payloads) await expectPong(ws, p);
  await ws.closeCleanly();
});

test("a 126-byte ping inside a fragmented message fails with 1002", async () => {
  using ws = await WsRaw.connect(server.port);
  await ws.send([
    { opcode: OP.TEXT, payload: "frag", fin: false },
    { opcode: OP.PING, payload: pattern(126) },
    { opcode: OP.CONT, payload: "ment" },
  ]);
  await ws.expectFail(1002);
});
