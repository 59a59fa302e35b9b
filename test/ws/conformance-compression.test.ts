// Conformance, Autobahn groups 12 and 13 (permessage-deflate, RFC 7692): the server negotiates the
// offers it can honour (server_no_context_takeover, client_no_context_takeover, *_max_window_bits) and
// declines malformed ones with a plain 101; compressed messages, whole or fragmented, come back intact
// in both directions (this side inflates with node:zlib, keeping only the window the server declared); the
// RFC's own example payloads decode; ws.send(m, true) compresses only when negotiated, ws.send(m) never;
// RSV1 on a continuation or control frame, or without the extension, fails with 1002; a message that
// inflates past maxPayloadLength fails with 1009.
import { afterAll, describe, expect, test } from "bun:test";
import { bytesOf, type Deflate, type EchoServer, fragmentsOf, hex, OP, pattern, RSV1, serveEcho, WsRaw } from "../helpers/ws-raw.ts";

const KiB = 1024;
const LIMIT = 64 * KiB;

/** Echoes with compression, except text starting "plain:" (sent with ws.send(m), no flag). */
const echoApp = {
  perMessageDeflate: true,
  message(ws: { send(m: string | Uint8Array, compress?: boolean): number }, m: string | Uint8Array) {
    ws.send(m, !(typeof m === "string" && m.startsWith("plain:")));
  },
};

const server: EchoServer = serveEcho(echoApp);
const limited: EchoServer = serveEcho({ ...echoApp, maxPayloadLength: LIMIT });
const plainServer: EchoServer = serveEcho({}, { compress: true }); // no perMessageDeflate, but asks to compress
afterAll(async () => {
  await server.stop();
  await limited.stop();
  await plainServer.stop();
});

// Whether the server lets the client keep its LZ77 window between messages when not asked otherwise
// (RFC 7692 §7.1.1.2 lets a server force client_no_context_takeover, as Bun does).
const probe = await WsRaw.connect(server.port, { extensions: "permessage-deflate" });
const clientContextAllowed = probe.deflate !== null && !probe.deflate.clientNoContextTakeover;
probe.close();

/** Text that compresses as JSON does, deterministic. */
function jsonText(n: number, seed: number): string {
  let s = "";
  let x = seed * 2654435761;
  while (s.length < n) {
    x = (x * 1103515245 + 12345) >>> 0;
    s += JSON.stringify({ id: x % 10000, name: `user-${x % 977}`, tags: ["alpha", "beta", "gamma"].slice(x % 3), ok: (x & 1) === 0, score: (x % 1000) / 10 }) + ",";
  }
  return s.slice(0, n);
}

/** Bytes that compress only partly: a repeating pattern with noise. */
function noisyBytes(n: number, seed: number): Uint8Array {
  const out = pattern(n, seed);
  let x = seed + 1;
  for (let i = 0; i < n; i += 3) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** Reads the echo of `sent`; `compressed`: whether it must come compressed (an empty echo may go either way). */
async function expectEcho(ws: WsRaw, sent: string | Uint8Array, compressed = true): Promise<void> {
  const m = await ws.nextMessage();
  // Compressing nothing gains nothing; Bun sends empty messages plain even when asked to compress.
  if (sent.length > 0) expect(m.compressed).toBe(compressed);
  if (m.compressed) {
    // §7.2.1: the sender removes the 00 00 ff ff the sync flush ends with.
    expect(m.wire.subarray(-4)).not.toEqual(new Uint8Array([0, 0, 0xff, 0xff]));
  }
  if (typeof sent === "string") {
    expect(m.opcode).toBe(OP.TEXT);
    expect(m.text() === sent).toBe(true);
  } else {
    expect(m.opcode).toBe(OP.BINARY);
    expect(Buffer.compare(m.data, sent)).toBe(0);
  }
}

describe("negotiation", () => {
  /** A window size the answer may carry: absent, or 8 … `max`. */
  const expectBits = (bits: number | undefined, max: number) => {
    if (bits !== undefined) expect(bits >= 8 && bits <= max).toBe(true);
  };
  // [what is checked, the offer, the check of the answer]; an accepted offer then carries compressed
  // messages both ways, which ws-raw compresses and inflates by the parameters the server answered.
  const ACCEPTED: [string, string, (d: Deflate | null, ws: WsRaw) => void][] = [
    [
      "a plain offer is accepted, with only parameters a response may carry",
      "permessage-deflate",
      (d) => {
        expect(d).not.toBeNull();
        // §7.1.2.2: client_max_window_bits may only be answered if it was offered.
        expect(d!.clientMaxWindowBits).toBeUndefined();
        expectBits(d!.serverMaxWindowBits, 15);
      },
    ],
    ["server_no_context_takeover asked for is granted", "permessage-deflate; server_no_context_takeover", (d) => expect(d?.serverNoContextTakeover).toBe(true)],
    ["client_no_context_takeover offered is accepted", "permessage-deflate; client_no_context_takeover", (d) => expect(d).not.toBeNull()],
    [
      "client_max_window_bits with no value is accepted; an answer, if any, is 8 … 15",
      "permessage-deflate; client_max_window_bits",
      (d) => {
        expect(d).not.toBeNull();
        expectBits(d!.clientMaxWindowBits, 15);
      },
    ],
    [
      "client_max_window_bits=9 is accepted; an answer, if any, is at most 9 (and ws-raw keeps to it)",
      "permessage-deflate; client_max_window_bits=9",
      (d) => {
        expect(d).not.toBeNull();
        expectBits(d!.clientMaxWindowBits, 9);
      },
    ],
    [
      "server_max_window_bits=10 is declined, or granted with at most 10",
      "permessage-deflate; server_max_window_bits=10",
      (d, ws) => {
        if (d === null) expect(ws.response.header("sec-websocket-extensions")).toBeUndefined();
        else expectBits(d.serverMaxWindowBits ?? 99, 10);
      },
    ],
  ];
  for (const [name, offer, check] of ACCEPTED) {
    test(name, async () => {
      using ws = await WsRaw.connect(server.port, { extensions: offer });
      check(ws.deflate, ws);
      for (let i = 0; ws.deflate && i < 3; i++) {
        const t = jsonText(5000, i);
        await ws.sendMessage(t, { compress: true });
        await expectEcho(ws, t);
      }
      await ws.closeCleanly();
    });
  }

  const MALFORMED = [
    "permessage-deflate; server_max_window_bits=7",
    "permessage-deflate; server_max_window_bits=16",
    "permessage-deflate; server_max_window_bits=abc",
    "permessage-deflate; server_max_window_bits",
    "permessage-deflate; client_max_window_bits=16",
    "permessage-deflate; client_max_window_bits=0",
    "permessage-deflate; unknown_parameter",
    "permessage-deflate; server_no_context_takeover=1",
    "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
    "permessage-deflate; client_max_window_bits=10; client_max_window_bits=11",
  ];
  for (const offer of MALFORMED) {
    test(`the malformed offer "${offer}" is declined with a plain 101`, async () => {
      using ws = await WsRaw.connect(server.port, { extensions: offer });
      expect(ws.response.header("sec-websocket-extensions")).toBeUndefined();
      // With nothing negotiated, RSV1 is a protocol error again.
      await ws.send({ opcode: OP.TEXT, rsv: RSV1, payload: hex("f248cdc9c90700") });
      await ws.expectFail(1002);
    });
  }

  test("of several offers, the first acceptable one is taken", async () => {
    using ws = await WsRaw.connect(server.port, {
      extensions: "permessage-deflate; server_max_window_bits=7, permessage-deflate; server_no_context_takeover, permessage-deflate",
    });
    expect(ws.deflate?.serverNoContextTakeover).toBe(true);
    await ws.closeCleanly();
  });

  test("an unknown extension is ignored", async () => {
    using ws = await WsRaw.connect(server.port, { extensions: "x-webkit-deflate-frame" });
    expect(ws.response.header("sec-websocket-extensions")).toBeUndefined();
    await ws.closeCleanly();
  });

  test("a server without perMessageDeflate accepts no offer, and ws.send(m, true) sends plain frames", async () => {
    using ws = await WsRaw.connect(plainServer.port, { extensions: "permessage-deflate; client_max_window_bits" });
    expect(ws.response.header("sec-websocket-extensions")).toBeUndefined();
    // ws-raw fails on RSV1 when nothing was negotiated, so the echo being read proves it plain.
    await ws.send({ opcode: OP.TEXT, payload: "hello" });
    await expectEcho(ws, "hello", false);
    await ws.send({ opcode: OP.TEXT, rsv: RSV1, payload: hex("f248cdc9c90700") });
    await ws.expectFail(1002);
  });
});

describe("messages", () => {
  test("ws.send(m, true) compresses and ws.send(m) does not", async () => {
    using ws = await WsRaw.connect(server.port, { extensions: "permessage-deflate" });
    const t = jsonText(3000, 5);
    await ws.sendMessage(t, { compress: true });
    await expectEcho(ws, t, true);
    await ws.sendMessage(`plain:${t}`, { compress: true });
    await expectEcho(ws, `plain:${t}`, false);
    await ws.closeCleanly();
  });

  test("uncompressed client messages are fine on a compressed connection", async () => {
    using ws = await WsRaw.connect(server.port, { extensions: "permessage-deflate" });
    await ws.sendMessage("not compressed");
    await expectEcho(ws, "not compressed");
    const b = noisyBytes(1000, 1);
    await ws.sendMessage(b);
    await expectEcho(ws, b);
    await ws.closeCleanly();
  });

  test("compressed binary, and compressed text fragmented, RSV1 on the first fragment only", async () => {
    using ws = await WsRaw.connect(server.port, { extensions: "permessage-deflate" });
    const b = noisyBytes(50000, 2);
    await ws.sendMessage(b, { compress: true });
    await expectEcho(ws, b);
    const t = jsonText(50000, 6);
    await ws.sendMessage(t, { compress: true, fragmentSize: 256 });
    await expectEcho(ws, t);
    await ws.sendMessage(t, { compress: true, fragmentSize: 1, chop: 7 });
    await expectEcho(ws, t);
    await ws.closeCleanly();
  });

  test("compressed text keeps a leading U+FEFF (a BOM), whole and fragmented", async () => {
    using ws = await WsRaw.connect(server.port, { extensions: "permessage-deflate" });
    const t = `\ufeff${jsonText(500, 40)}`;
    await ws.sendMessage(t, { compress: true });
    await expectEcho(ws, t);
    await ws.sendMessage(t, { compress: true, fragmentSize: 20 });
    await expectEcho(ws, t);
    await ws.closeCleanly();
  });

  test("a compressed message whose last fragment is empty", async () => {
    using ws = await WsRaw.connect(server.port, { extensions: "permessage-deflate" });
    const t = jsonText(1000, 7);
    const frames = fragmentsOf(OP.TEXT, ws.compress(bytesOf(t)), 100, RSV1);
    frames[frames.length - 1]!.fin = false;
    frames.push({ opcode: OP.CONT, payload: new Uint8Array(0) });
    await ws.send(frames);
    await expectEcho(ws, t);
    await ws.closeCleanly();
  });

  test.if(clientContextAllowed)("the client's context is kept between messages when not negotiated away", async () => {
    using ws = await WsRaw.connect(server.port, { extensions: "permessage-deflate" });
    const t = jsonText(4000, 8);
    const sizes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const c = ws.compress(bytesOf(t));
      sizes.push(c.length);
      await ws.send({ opcode: OP.TEXT, rsv: RSV1, payload: c });
      await expectEcho(ws, t);
    }
    // The repeats are mostly back-references into the previous copy, so the server must have kept it.
    expect(sizes[1]!).toBeLessThan(sizes[0]! / 4);
    await ws.closeCleanly();
  });

  describe("RFC 7692 §7.2.3 example payloads", () => {
    const EXAMPLES: [string, string][] = [
      ["7.2.3.1 'Hello' compressed", "f248cdc9c90700"],
      ["7.2.3.3 a DEFLATE block with no compression", "000500faff48656c6c6f00"],
      ["7.2.3.4 a DEFLATE block with BFINAL set to 1", "f348cdc9c9070000"],
      ["7.2.3.5 two DEFLATE blocks in one message", "f248050000 00ffff cac9c90700"],
    ];
    for (const [name, payload] of EXAMPLES) {
      test(`${name} is read as "Hello"`, async () => {
        using ws = await WsRaw.connect(server.port, { extensions: "permessage-deflate; client_no_context_takeover" });
        await ws.send({ opcode: OP.TEXT, rsv: RSV1, payload: hex(payload) });
        await expectEcho(ws, "Hello");
        await ws.closeCleanly();
      });
    }

    test.if(clientContextAllowed)("7.2.3.2 a second 'Hello' that refers to the first", async () => {
      using ws = await WsRaw.connect(server.port, { extensions: "permessage-deflate" });
      await ws.send({ opcode: OP.TEXT, rsv: RSV1, payload: hex("f248cdc9c90700") });
      await expectEcho(ws, "Hello");
      await ws.send({ opcode: OP.TEXT, rsv: RSV1, payload: hex("f200110000") });
      await expectEcho(ws, "Hello");
      await ws.closeCleanly();
    });

    test("7.2.3.6 an empty fragment (a single 0x00) ends a compressed message", async () => {
      using ws = await WsRaw.connect(server.port, { extensions: "permessage-deflate; client_no_context_takeover" });
      // Only the message's last tail is removed: the first fragment keeps its flush's 00 00 ff ff.
      await ws.send([
        { opcode: OP.TEXT, rsv: RSV1, fin: false, payload: hex("f248cdc9c90700 0000ffff") },
        { opcode: OP.CONT, payload: hex("00") },
      ]);
      await expectEcho(ws, "Hello");
      await ws.closeCleanly();
    });
  });

  describe("empty and final blocks", () => {
    test("an empty compressed message (payload 00) and an empty payload with RSV1 are empty messages", async () => {
      using ws = await WsRaw.connect(server.port, { extensions: "permessage-deflate; client_no_context_takeover" });
      await ws.send({ opcode: OP.TEXT, rsv: RSV1, payload: ws.compress(new Uint8Array(0)) });
      await expectEcho(ws, "");
      await ws.send({ opcode: OP.BINARY, rsv: RSV1, payload: new Uint8Array(0) });
      await expectEcho(ws, new Uint8Array(0));
      await ws.closeCleanly();
    });

    test("messages ending in a BFINAL block (Z_FINISH), one after another, and an empty one (03 00)", async () => {
      using ws = await WsRaw.connect(server.port, { extensions: "permessage-deflate; client_no_context_takeover" });
      for (let i = 0; i < 3; i++) {
        const t = jsonText(3000, 10 + i);
        await ws.sendMessage(t, { compress: true, final: true });
        await expectEcho(ws, t);
      }
      await ws.send({ opcode: OP.TEXT, rsv: RSV1, payload: hex("0300") });
      await expectEcho(ws, "");
      const t = jsonText(100, 20);
      await ws.sendMessage(t, { compress: true });
      await expectEcho(ws, t);
      await ws.closeCleanly();
    });

    test("a payload that keeps its 00 00 ff ff tail (two empty blocks after the append) is read", async () => {
      using ws = await WsRaw.connect(server.port, { extensions: "permessage-deflate; client_no_context_takeover" });
      const t = jsonText(500, 21);
      await ws.sendMessage(t, { compress: true, keepTail: true });
      await expectEcho(ws, t);
      await ws.closeCleanly();
    });

    test("the server's empty messages, text and binary, compressed", async () => {
      using ws = await WsRaw.connect(server.port, { extensions: "permessage-deflate" });
      await ws.sendMessage("");
      await expectEcho(ws, "");
      await ws.sendMessage(new Uint8Array(0));
      await expectEcho(ws, new Uint8Array(0));
      await ws.closeCleanly();
    });
  });

  describe("errors", () => {
    test("RSV1 on a continuation frame fails with 1002", async () => {
      using ws = await WsRaw.connect(server.port, { extensions: "permessage-deflate" });
      const c = ws.compress(bytesOf(jsonText(1000, 30)));
      await ws.send([
        { opcode: OP.TEXT, rsv: RSV1, fin: false, payload: c.subarray(0, 10) },
        { opcode: OP.CONT, rsv: RSV1, payload: c.subarray(10) },
      ]);
      await ws.expectFail(1002);
    });

    test("RSV1 on a continuation of an uncompressed message fails with 1002", async () => {
      using ws = await WsRaw.connect(server.port, { extensions: "permessage-deflate" });
      await ws.send([
        { opcode: OP.TEXT, fin: false, payload: "abc" },
        { opcode: OP.CONT, rsv: RSV1, payload: "def" },
      ]);
      await ws.expectFail(1002);
    });

    for (const opcode of [OP.PING, OP.PONG, OP.CLOSE]) {
      test(`RSV1 on a control frame (opcode ${opcode}) fails with 1002`, async () => {
        using ws = await WsRaw.connect(server.port, { extensions: "permessage-deflate" });
        await ws.send({ opcode, rsv: RSV1, payload: opcode === OP.CLOSE ? hex("03e8") : "x" });
        await ws.expectFail(1002);
      });
    }

    test("RSV2 and RSV3 stay errors with permessage-deflate", async () => {
      using ws = await WsRaw.connect(server.port, { extensions: "permessage-deflate" });
      await ws.send({ opcode: OP.TEXT, rsv: RSV1 | 2, payload: ws.compress(bytesOf("hi")) });
      await ws.expectFail(1002);
    });

    test("compressed text that inflates to invalid UTF-8 fails with 1007", async () => {
      using ws = await WsRaw.connect(server.port, { extensions: "permessage-deflate; client_no_context_takeover" });
      await ws.send({ opcode: OP.TEXT, rsv: RSV1, payload: ws.compress(hex("68656c6c6f eda080 776f726c64")) });
      await ws.expectFail(1007);
    });

    test("compressed, fragmented text that inflates to invalid UTF-8 fails with 1007", async () => {
      using ws = await WsRaw.connect(server.port, { extensions: "permessage-deflate; client_no_context_takeover" });
      const bad = new Uint8Array([...bytesOf(jsonText(3000, 31)), 0xf4, 0x90, 0x80, 0x80, ...bytesOf("tail")]);
      await ws.send(fragmentsOf(OP.TEXT, ws.compress(bad), 50, RSV1));
      await ws.expectFail(1007);
    });

    test("compressed fragments that inflate past maxPayloadLength together fail with 1009", async () => {
      using ws = await WsRaw.connect(limited.port, { extensions: "permessage-deflate; client_no_context_takeover" });
      // Each fragment inflates to under the limit; the message as a whole does not.
      const c = ws.compress(new Uint8Array(4 * LIMIT));
      await ws.send(fragmentsOf(OP.BINARY, c, Math.ceil(c.length / 8), RSV1));
      await ws.expectFail(1009);
    });

    test("data that is not DEFLATE fails the connection (1002 or 1007) and TCP closes", async () => {
      using ws = await WsRaw.connect(server.port, { extensions: "permessage-deflate" });
      await ws.send({ opcode: OP.BINARY, rsv: RSV1, payload: hex("ffffffffffff") });
      const f = await ws.nextFrame();
      expect(f.opcode).toBe(OP.CLOSE);
      expect([1002, 1007]).toContain((f.payload[0]! << 8) | f.payload[1]!);
      await ws.expectTcpClose();
    });

    test("a small message that inflates past maxPayloadLength fails with 1009", async () => {
      using ws = await WsRaw.connect(limited.port, { extensions: "permessage-deflate; client_no_context_takeover" });
      const ok = new Uint8Array(LIMIT);
      await ws.sendMessage(ok, { compress: true });
      await expectEcho(ws, ok);
      const bomb = ws.compress(new Uint8Array(16 * LIMIT));
      expect(bomb.length).toBeLessThan(LIMIT / 8);
      await ws.send({ opcode: OP.BINARY, rsv: RSV1, payload: bomb });
      await ws.expectFail(1009);
    });
  });
});

// 13.x: Autobahn's offer matrix. Each connection exchanges messages of 16 B … 128 KiB, text and binary,
// whole and auto-fragmented, both ways compressed; what the server granted must match what was asked.
describe("13.x offers × message sizes", () => {
  const OFFERS: [string, string][] = [
    ["13.1 default offer", "permessage-deflate; client_max_window_bits"],
    ["13.2 server_no_context_takeover", "permessage-deflate; server_no_context_takeover; client_max_window_bits"],
    ["13.3 server_max_window_bits=9", "permessage-deflate; server_max_window_bits=9; client_max_window_bits"],
    ["13.4 server_max_window_bits=15", "permessage-deflate; server_max_window_bits=15; client_max_window_bits"],
    ["13.5 no context takeover and 9 bits", "permessage-deflate; server_no_context_takeover; server_max_window_bits=9; client_max_window_bits"],
    ["13.6 no context takeover and 15 bits", "permessage-deflate; server_no_context_takeover; server_max_window_bits=15; client_max_window_bits"],
    [
      "13.7 three offers, the strictest first",
      "permessage-deflate; server_no_context_takeover; server_max_window_bits=9, permessage-deflate; server_no_context_takeover, permessage-deflate",
    ],
    ["client_no_context_takeover and client_max_window_bits=9", "permessage-deflate; client_no_context_takeover; client_max_window_bits=9"],
  ];
  const SIZES = [16, 64, 256, 1024, 4096, 8192, 16384, 32768, 65536, 131072];

  for (const [name, offer] of OFFERS) {
    test(name, async () => {
      using ws = await WsRaw.connect(server.port, { extensions: offer });
      const d = ws.deflate;
      if (d) {
        const first = offer.split(",")[0]!;
        if (!offer.includes(",")) {
          if (first.includes("server_no_context_takeover")) expect(d.serverNoContextTakeover).toBe(true);
          const asked = /server_max_window_bits=(\d+)/.exec(first);
          if (asked) expect(d.serverMaxWindowBits ?? 15).toBeLessThanOrEqual(Number(asked[1]));
        }
      } else {
        // Declining is allowed (§7.1.1.2): then everything is plain.
        expect(ws.response.header("sec-websocket-extensions")).toBeUndefined();
      }
      let i = 0;
      for (const size of SIZES) {
        for (const frag of [0, 256, 4096]) {
          if (frag >= size) continue;
          const data: string | Uint8Array = i % 2 ? noisyBytes(size, i) : jsonText(size, i);
          i++;
          await ws.sendMessage(data, { compress: d !== null, fragmentSize: frag || undefined });
          await expectEcho(ws, data, d !== null);
        }
      }
      await ws.closeCleanly();
    });
  }
});
