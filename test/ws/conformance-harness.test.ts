// The conformance client checks itself: a scripted fake server (Bun.listen) answers the handshake and
// then sends chosen bytes, so every check ws-raw makes on server output is seen to catch what it should
// (a masked frame, stray RSV bits, a reserved opcode, a long or fragmented control frame, a non-minimal
// length, a continuation with nothing to continue, bytes after the close, a bad close payload, text that
// is not UTF-8) and to decode good frames of every length form, whole or one byte per read.
import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { constants, deflateRawSync } from "node:zlib";
import { hex, OP, pattern, WsRaw } from "../helpers/ws-raw.ts";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
let script: { bytes: Uint8Array; extensions?: string; byteByByte?: boolean } = { bytes: new Uint8Array(0) };

const fake = Bun.listen<{ head: string }>({
  hostname: "127.0.0.1",
  port: 0,
  socket: {
    open(s) {
      s.data = { head: "" };
    },
    async data(s, chunk) {
      s.data.head += new TextDecoder().decode(chunk);
      if (!s.data.head.includes("\r\n\r\n")) return;
      const key = /sec-websocket-key: *(\S+)/i.exec(s.data.head)![1]!;
      const accept = createHash("sha1").update(key + GUID).digest("base64");
      const ext = script.extensions ? `Sec-WebSocket-Extensions: ${script.extensions}\r\n` : "";
      s.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n${ext}\r\n`);
      const { bytes, byteByByte } = script;
      if (!byteByByte) {
        s.write(bytes);
        return;
      }
      for (let i = 0; i < bytes.length; i++) {
        await new Promise((r) => setImmediate(r));
        s.write(bytes.subarray(i, i + 1));
      }
    },
  },
});
afterAll(() => fake.stop(true));


/** A server frame, unmasked, with the minimal length form. */
function serverFrame(opcode: number, payload: Uint8Array, fin = true, rsv = 0): Uint8Array {
  const n = payload.length;
  const head = n < 126 ? [n] : n < 65536 ? [126, n >> 8, n & 0xff] : [127, 0, 0, 0, 0, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
  return new Uint8Array([(fin ? 0x80 : 0) | (rsv << 4) | opcode, ...head, ...payload]);
}

async function connectTo(bytes: Uint8Array, options: { extensions?: string; byteByByte?: boolean } = {}): Promise<WsRaw> {
  script = { bytes, ...options };
  return WsRaw.connect(fake.port);
}

describe("good frames decode", () => {
  for (const byteByByte of [false, true]) {
    test(`every length form${byteByByte ? ", one byte per read" : ""}`, async () => {
      const sizes = byteByByte ? [0, 125, 126, 300] : [0, 1, 125, 126, 65535, 65536, 70000];
      const bytes = new Uint8Array(sizes.flatMap((n) => [...serverFrame(OP.BINARY, pattern(n, n))]));
      using ws = await connectTo(bytes, { byteByByte });
      for (const n of sizes) expect((await ws.nextMessage()).data).toEqual(pattern(n, n));
    });
  }

  test("a fragmented message with a ping between its fragments", async () => {
    const bytes = new Uint8Array([
      ...serverFrame(OP.TEXT, new TextEncoder().encode("frag"), false),
      ...serverFrame(OP.PING, hex("01")),
      ...serverFrame(OP.CONT, new TextEncoder().encode("ment")),
    ]);
    using ws = await connectTo(bytes);
    expect((await ws.nextFrame()).opcode).toBe(OP.TEXT);
    expect((await ws.nextFrame()).opcode).toBe(OP.PING);
    expect((await ws.nextFrame()).opcode).toBe(OP.CONT);
  });

  test("a close frame, then the server's TCP close, pass expectClose", async () => {
    using ws = await connectTo(serverFrame(OP.CLOSE, hex("03e9 6279 65")));
    // The fake never closes TCP by itself: expectClose must insist on it.
    await expect(ws.expectClose(1001, { ms: 200 })).rejects.toThrow(/did not close TCP/);
  });
});

describe("malformed server output is caught", () => {
  const BAD: [string, Uint8Array, RegExp, string?][] = [
    ["a masked frame", hex("81 85 00000000 6869212121"), /masked/],
    ["RSV1 with no extension", serverFrame(OP.TEXT, hex("68"), true, 4), /RSV/],
    ["RSV1 on a continuation, with deflate", new Uint8Array([...serverFrame(OP.TEXT, hex("f2"), false, 4), ...serverFrame(OP.CONT, hex("00"), true, 4)]), /RSV/, "permessage-deflate"],
    ["RSV1 on a ping, with deflate", serverFrame(OP.PING, hex(""), true, 4), /RSV/, "permessage-deflate"],
    ["a reserved opcode", serverFrame(3, hex("")), /reserved opcode/],
    ["a fragmented ping", serverFrame(OP.PING, hex("01"), false), /control frame/],
    ["a 126-byte ping", serverFrame(OP.PING, pattern(126)), /control frame/],
    ["a 5-byte length in 16 bits", hex("82 7e 0005 0102030405"), /not minimal/],
    ["a 200-byte length in 64 bits", new Uint8Array([0x82, 127, 0, 0, 0, 0, 0, 0, 0, 200, ...pattern(200)]), /not minimal/],
    ["a continuation with nothing to continue", serverFrame(OP.CONT, hex("00")), /no message to continue/],
    ["a text frame inside a fragmented message", new Uint8Array([...serverFrame(OP.TEXT, hex("61"), false), ...serverFrame(OP.TEXT, hex("62"))]), /inside a fragmented/],
  ];
  for (const [name, bytes, error, extensions] of BAD) {
    test(name, async () => {
      using ws = await connectTo(bytes, { extensions });
      const read = async () => {
        for (;;) await ws.nextFrame(1000);
      };
      await expect(read()).rejects.toThrow(error);
    });
  }

  test("bytes after the close frame", async () => {
    using ws = await connectTo(new Uint8Array([...serverFrame(OP.CLOSE, hex("03e8")), ...serverFrame(OP.TEXT, hex("61"))]));
    await expect(ws.expectClose(1000, { ms: 1000 })).rejects.toThrow(/after the close frame/);
  });

  test("a close with a 1-byte payload", async () => {
    using ws = await connectTo(serverFrame(OP.CLOSE, hex("03")));
    await expect(ws.expectClose(1000, { ms: 1000 })).rejects.toThrow(/1-byte/);
  });

  test("a close reason that is not UTF-8", async () => {
    using ws = await connectTo(serverFrame(OP.CLOSE, hex("03e8 ff")));
    await expect(ws.expectClose(1000, { ms: 1000 })).rejects.toThrow(/not UTF-8/);
  });

  test("a wrong close code", async () => {
    using ws = await connectTo(serverFrame(OP.CLOSE, hex("03e8")));
    await expect(ws.expectClose(1002, { ms: 1000 })).rejects.toThrow(/expected close code 1002, got 1000/);
  });

  test("a text message that is not UTF-8", async () => {
    using ws = await connectTo(serverFrame(OP.TEXT, hex("eda080")));
    await expect(ws.nextMessage(1000)).rejects.toThrow(/not UTF-8/);
  });

  test("a compressed message reaching back past the declared server window", async () => {
    // Message 1: 1000 bytes of noise. Message 2: its first 64 bytes, as a back-reference ~1000 bytes into
    // the shared window, which a server that declared server_max_window_bits=9 (512 bytes) must not make.
    // (zlib only catches references beyond the window it was given, so a reference inside one message
    // is not caught.)
    const noise = new Uint8Array(1000).map((_, i) => (i * 7919 + (i >> 3) * 104729) & 0xff);
    const strip = (c: Uint8Array) => c.subarray(0, c.length - 4);
    const first = strip(deflateRawSync(noise, { finishFlush: constants.Z_SYNC_FLUSH }));
    const second = strip(deflateRawSync(noise.subarray(0, 64), { dictionary: noise, finishFlush: constants.Z_SYNC_FLUSH }));
    for (const [bits, ok] of [[15, true], [9, false]] as const) {
      using ws = await connectTo(new Uint8Array([...serverFrame(OP.BINARY, first, true, 4), ...serverFrame(OP.BINARY, second, true, 4)]), {
        extensions: `permessage-deflate; server_max_window_bits=${bits}`,
      });
      expect((await ws.nextMessage()).data).toEqual(noise);
      if (ok) expect((await ws.nextMessage()).data).toEqual(noise.subarray(0, 64));
      else await expect(ws.nextMessage(1000)).rejects.toThrow(/distance/);
    }
  });
});
