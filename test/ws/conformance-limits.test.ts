// Conformance, Autobahn group 9 (limits and performance, bounded): large text and binary messages up to
// the default maxPayloadLength (16 MiB) come back intact, whole, in fragments of 64 B … 4 MiB, and in
// TCP chops; many small messages come back in order. Above maxPayloadLength the connection fails with
// 1009, as soon as the header (or the fragment that crosses the limit) says so.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { pollUntil } from "../helpers/poll.ts";
import { asciiText, type EchoServer, encodeFrame, fragmentsOf, OP, pattern, serveEcho, WsRaw } from "../helpers/ws-raw.ts";

const KiB = 1024;
const MiB = 1024 * KiB;
const LIMIT = 64 * KiB;

let big: EchoServer; // Bun's defaults: maxPayloadLength 16 MiB
let small: EchoServer; // maxPayloadLength 64 KiB
beforeAll(() => {
  big = serveEcho();
  small = serveEcho({ maxPayloadLength: LIMIT });
});
afterAll(async () => {
  await big.stop();
  await small.stop();
});

async function expectEcho(ws: WsRaw, sent: string | Uint8Array, ms = 10000): Promise<void> {
  const m = await ws.nextMessage(ms);
  if (typeof sent === "string") {
    expect(m.opcode).toBe(OP.TEXT);
    expect(m.data.length).toBe(sent.length);
    expect(m.text() === sent).toBe(true);
  } else {
    expect(m.opcode).toBe(OP.BINARY);
    expect(m.data.length).toBe(sent.length);
    expect(Buffer.compare(m.data, sent)).toBe(0);
  }
}

describe("9.1 / 9.2 large messages in one frame", () => {
  for (const size of [64 * KiB, 256 * KiB, 1 * MiB, 4 * MiB, 16 * MiB]) {
    for (const binary of [false, true]) {
      test(`${binary ? "binary" : "text"}, ${size / KiB} KiB`, async () => {
        using ws = await WsRaw.connect(big.port);
        const data = binary ? pattern(size) : asciiText(size);
        await ws.send({ opcode: binary ? OP.BINARY : OP.TEXT, payload: data });
        await expectEcho(ws, data);
        await ws.closeCleanly();
      }, 20000);
    }
  }
});

describe("9.3 / 9.4 a 4 MiB message in fragments", () => {
  const text = asciiText(4 * MiB);
  const binary = pattern(4 * MiB);
  for (const size of [64, 256, KiB, 4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB, MiB, 4 * MiB]) {
    test(`of ${size >= KiB ? `${size / KiB} KiB` : `${size} B`}, text then binary`, async () => {
      using ws = await WsRaw.connect(big.port);
      await ws.send(fragmentsOf(OP.TEXT, text, size));
      await expectEcho(ws, text);
      await ws.send(fragmentsOf(OP.BINARY, binary, size));
      await expectEcho(ws, binary);
      await ws.closeCleanly();
    }, 20000);
  }
});

describe("9.5 / 9.6 a 1 MiB message in TCP chops", () => {
  for (const chop of [64, 128, 256, 512, 1024, 2048]) {
    test(`of ${chop} bytes, text then binary`, async () => {
      using ws = await WsRaw.connect(big.port);
      const text = asciiText(MiB);
      await ws.send({ opcode: OP.TEXT, payload: text }, { chop });
      await expectEcho(ws, text);
      const bin = pattern(MiB, chop);
      await ws.send({ opcode: OP.BINARY, payload: bin }, { chop });
      await expectEcho(ws, bin);
      await ws.closeCleanly();
    }, 20000);
  }
});

describe("9.7 / 9.8 many small messages", () => {
  test("10,000 small text messages in one write come back in order", async () => {
    using ws = await WsRaw.connect(big.port);
    const msgs = Array.from({ length: 10000 }, (_, i) => `m${i}`);
    await ws.send(msgs.map((payload) => ({ opcode: OP.TEXT, payload })));
    for (const m of msgs) expect((await ws.nextMessage()).text()).toBe(m);
    await ws.closeCleanly();
  }, 20000);

  test("1,000 binary messages of 0 … 999 bytes, each echoed before the next is sent", async () => {
    using ws = await WsRaw.connect(big.port);
    for (let i = 0; i < 1000; i++) {
      const data = pattern(i, i);
      await ws.send({ opcode: OP.BINARY, payload: data });
      const m = await ws.nextMessage();
      expect(m.data.length).toBe(i);
      if (Buffer.compare(m.data, data) !== 0) throw new Error(`message ${i} came back changed`);
    }
    await ws.closeCleanly();
  }, 20000);
});

describe("maxPayloadLength", () => {
  test("a message of exactly maxPayloadLength is echoed, whole and in fragments", async () => {
    using ws = await WsRaw.connect(small.port);
    const data = pattern(LIMIT);
    await ws.send({ opcode: OP.BINARY, payload: data });
    await expectEcho(ws, data);
    const text = asciiText(LIMIT);
    await ws.send(fragmentsOf(OP.TEXT, text, 10000));
    await expectEcho(ws, text);
    await ws.closeCleanly();
  });

  test("one byte more, in one frame, fails with 1009", async () => {
    using ws = await WsRaw.connect(small.port);
    await ws.send({ opcode: OP.BINARY, payload: pattern(LIMIT + 1) });
    await ws.expectFail(1009);
  });

  test("a frame header declaring more than the limit fails with 1009 before any payload is sent", async () => {
    using ws = await WsRaw.connect(small.port);
    await ws.send({ opcode: OP.TEXT, declaredLength: LIMIT + 1 });
    await ws.expectFail(1009);
  });

  test("a header declaring 2^62 bytes fails with 1009 at once", async () => {
    using ws = await WsRaw.connect(big.port);
    const frame = encodeFrame({ opcode: OP.BINARY, declaredLength: 0, lengthBits: 64 });
    frame[2] = 0x40; // 2^62 in the 64-bit length
    await ws.send(frame);
    await ws.expectFail(1009);
  });

  test("a header declaring the default limit plus one fails with 1009 at once", async () => {
    using ws = await WsRaw.connect(big.port);
    await ws.send({ opcode: OP.BINARY, declaredLength: 16 * MiB + 1 });
    await ws.expectFail(1009);
  });

  test("a 64-bit length with its top bit set fails the connection (1002, or 1009 as too big)", async () => {
    using ws = await WsRaw.connect(big.port);
    const frame = encodeFrame({ opcode: OP.BINARY, declaredLength: 0, lengthBits: 64 });
    frame[2] = 0x80;
    await ws.send(frame);
    const f = await ws.nextFrame();
    expect(f.opcode).toBe(OP.CLOSE);
    expect([1002, 1009]).toContain((f.payload[0]! << 8) | f.payload[1]!);
    await ws.expectTcpClose();
  });

  test("fragments that add up past the limit fail with 1009 before the message ends", async () => {
    using ws = await WsRaw.connect(small.port);
    const frames = fragmentsOf(OP.BINARY, pattern(4 * LIMIT), 30000);
    // Three fragments cross 64 KiB; the final one is never sent.
    await ws.send(frames.slice(0, 3));
    await ws.expectFail(1009);
  });

  test("a fragmented text total past the limit fails with 1009 (not 1007, not echoed)", async () => {
    using ws = await WsRaw.connect(small.port);
    await ws.send(fragmentsOf(OP.TEXT, asciiText(LIMIT + 10), 1000));
    await ws.expectFail(1009);
  });

  test("pings between the fragments do not count toward the message's size", async () => {
    using ws = await WsRaw.connect(small.port);
    const data = pattern(LIMIT);
    const frames = fragmentsOf(OP.BINARY, data, LIMIT / 4);
    await ws.send([frames[0]!, { opcode: OP.PING, payload: pattern(125) }, frames[1]!, frames[2]!, { opcode: OP.PING, payload: pattern(125) }, frames[3]!]);
    for (let i = 0; i < 2; i++) expect((await ws.nextFrame()).opcode).toBe(OP.PONG);
    await expectEcho(ws, data);
    await ws.closeCleanly();
  });

  test("a 125-byte ping is answered even when maxPayloadLength is smaller", async () => {
    await using tiny = serveEcho({ maxPayloadLength: 100 });
    using ws = await WsRaw.connect(tiny.port);
    await ws.send({ opcode: OP.PING, payload: pattern(125) });
    const f = await ws.nextFrame();
    expect(f.opcode).toBe(OP.PONG);
    expect(f.payload).toEqual(pattern(125));
    await ws.closeCleanly();
  });

  test("many messages each under the limit are fine: the limit is per message", async () => {
    using ws = await WsRaw.connect(small.port);
    const data = pattern(LIMIT - 1);
    await ws.send(Array.from({ length: 20 }, () => ({ opcode: OP.BINARY, payload: data })));
    for (let i = 0; i < 20; i++) await expectEcho(ws, data);
    await ws.closeCleanly();
  });
});

describe("a client that stops reading", () => {
  test("echoes queued behind a reader that paused all arrive, in order and intact, when it reads again", async () => {
    let handled = 0;
    await using app = serveEcho({
      message(ws: { send(m: string | Uint8Array): number }, m: string | Uint8Array) {
        ws.send(m);
        handled++;
      },
    });
    using ws = await WsRaw.connect(app.port);
    ws.raw.pause();
    const sent = Array.from({ length: 8 }, (_, i) => (i % 2 ? pattern(MiB, i) : asciiText(MiB - i)));
    await ws.send(sent.map((d) => ({ opcode: typeof d === "string" ? OP.TEXT : OP.BINARY, payload: d })));
    // 8 MiB of echoes is far more than the socket buffers hold: most wait in the server.
    await pollUntil(() => handled === sent.length, 10000, "the server to take every message");
    ws.raw.resume();
    for (const d of sent) await expectEcho(ws, d);
    await ws.closeCleanly();
  }, 20000);

  test("a ping sent while the server's output is backed up is answered once it drains", async () => {
    const pinged = Promise.withResolvers<void>();
    await using app = serveEcho({ ping: () => pinged.resolve() });
    using ws = await WsRaw.connect(app.port);
    ws.raw.pause();
    const data = pattern(4 * MiB);
    await ws.send([{ opcode: OP.BINARY, payload: data }, { opcode: OP.PING, payload: "behind" }]);
    // The server has read the ping, with the 4 MiB echo still waiting on us.
    await pinged.promise;
    ws.raw.resume();
    // Either order is allowed; the frames must be whole.
    const first = await ws.nextFrame();
    const second = await ws.nextFrame();
    const [echo, pong] = first.opcode === OP.PONG ? [second, first] : [first, second];
    expect(pong.opcode).toBe(OP.PONG);
    expect(pong.payload).toEqual(new TextEncoder().encode("behind"));
    expect(echo.opcode).toBe(OP.BINARY);
    expect(Buffer.compare(echo.payload, data)).toBe(0);
    await ws.closeCleanly();
  }, 20000);
});
