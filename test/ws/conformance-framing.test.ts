// Conformance, Autobahn group 1 (framing): text and binary messages at every length-encoding boundary
// (7-bit, 16-bit, 64-bit) come back unchanged, whole, in 997-byte chops, and byte by byte across the
// length field; frames pipelined in one write come back in order; an unmasked client frame fails the
// connection with 1002 (RFC 6455 §5.1). Every server frame is checked for well-formedness by ws-raw.
import { describe, expect, test } from "bun:test";
import { asciiText, echoServerForFile, encodeFrame, OP, pattern, WsRaw } from "../helpers/ws-raw.ts";

const server = echoServerForFile();

const LENGTHS = [0, 1, 125, 126, 127, 128, 65535, 65536];

async function echoOnce(data: string | Uint8Array, chop?: number): Promise<void> {
  using ws = await WsRaw.connect(server.port);
  const binary = typeof data !== "string";
  await ws.send({ opcode: binary ? OP.BINARY : OP.TEXT, payload: data }, { chop });
  const m = await ws.nextMessage();
  expect(m.opcode).toBe(binary ? OP.BINARY : OP.TEXT);
  expect(m.frames).toBe(1);
  if (binary) expect(m.data).toEqual(data as Uint8Array);
  else expect(m.text()).toBe(data as string);
  await ws.closeCleanly();
}

describe("1.1 text messages", () => {
  for (const n of LENGTHS) test(`length ${n}`, () => echoOnce(asciiText(n)));
  test("length 65536 in 997-byte chops", () => echoOnce(asciiText(65536), 997));
});

describe("1.2 binary messages", () => {
  for (const n of LENGTHS) test(`length ${n}`, () => echoOnce(pattern(n)));
  test("length 65536 in 997-byte chops", () => echoOnce(pattern(65536), 997));
});

describe("headers split anywhere", () => {
  // The 16- and 64-bit length fields and the mask key arrive one byte at a time.
  for (const n of [5, 300, 70000]) {
    test(`a ${n}-byte frame's header byte by byte`, async () => {
      using ws = await WsRaw.connect(server.port);
      const payload = pattern(n, 7);
      const bytes = encodeFrame({ opcode: OP.BINARY, payload });
      const headLen = bytes.length - n;
      await ws.send(bytes.subarray(0, headLen), { chop: 1 });
      await ws.send(bytes.subarray(headLen));
      expect((await ws.nextMessage()).data).toEqual(payload);
      await ws.closeCleanly();
    });
  }
});

test("frames pipelined in one write are answered in order", async () => {
  using ws = await WsRaw.connect(server.port);
  const sent = Array.from({ length: 50 }, (_, i) => (i % 2 ? pattern(i * 40, i) : `message ${i} ${asciiText(i * 3)}`));
  await ws.send(sent.map((d) => ({ opcode: typeof d === "string" ? OP.TEXT : OP.BINARY, payload: d })));
  for (const d of sent) {
    const m = await ws.nextMessage();
    if (typeof d === "string") expect(m.text()).toBe(d);
    else expect(m.data).toEqual(d);
  }
  await ws.closeCleanly();
});

test("small and large messages and a ping, pipelined, come back in order and intact", async () => {
  // Small frames and large ones (which may leave by a different path) must not overtake each other.
  using ws = await WsRaw.connect(server.port);
  const sent: (string | Uint8Array)[] = ["a", pattern(20000, 1), "b", asciiText(100000), pattern(10, 2), pattern(16384, 3), "c".repeat(16384), "d"];
  const frames = sent.map((d) => ({ opcode: typeof d === "string" ? OP.TEXT : OP.BINARY, payload: d }));
  await ws.send([...frames.slice(0, 4), { opcode: OP.PING, payload: "mid" }, ...frames.slice(4)]);
  // The pong may come anywhere (a server may put control frames first), but only between frames.
  let pongs = 0;
  const got: Uint8Array[] = [];
  let parts: Uint8Array[] = [];
  while (got.length < sent.length) {
    const f = await ws.nextFrame();
    if (f.opcode === OP.PONG) {
      pongs++;
      expect(f.payload).toEqual(new TextEncoder().encode("mid"));
      continue;
    }
    parts.push(f.payload);
    if (f.fin) {
      got.push(Buffer.concat(parts));
      parts = [];
    }
  }
  expect(pongs).toBe(1);
  for (const [i, d] of sent.entries()) expect(got[i]).toEqual(typeof d === "string" ? new TextEncoder().encode(d) : d);
  await ws.closeCleanly();
});

test("an unmasked client frame fails the connection with 1002", async () => {
  using ws = await WsRaw.connect(server.port);
  await ws.send({ opcode: OP.TEXT, payload: "hello", mask: false });
  await ws.expectFail(1002);
});

test("an unmasked frame after a good one: the echo, then 1002", async () => {
  using ws = await WsRaw.connect(server.port);
  await ws.send([
    { opcode: OP.TEXT, payload: "first" },
    { opcode: OP.BINARY, payload: pattern(10), mask: false },
  ]);
  expect((await ws.nextMessage()).text()).toBe("first");
  await ws.expectFail(1002);
});

test("a masking key of zeros is still a masked frame", async () => {
  using ws = await WsRaw.connect(server.port);
  await ws.send({ opcode: OP.TEXT, payload: "zero key", mask: new Uint8Array(4) });
  expect((await ws.nextMessage()).text()).toBe("zero key");
  await ws.closeCleanly();
});
