// Conformance, Autobahn group 6 (UTF-8): text messages must be valid UTF-8 (RFC 6455 §8.1, RFC 3629).
// Valid text comes back unchanged whatever the fragmentation, even split inside a code point; invalid
// text (Markus Kuhn's decoder test cases: stray continuation bytes, lonely and truncated starts,
// impossible bytes, overlong forms, surrogates, code points past U+10FFFF) fails the connection with
// 1007, whole or one byte per fragment, and fast: as soon as the bad byte arrives, before the rest of the
// frame or message is sent.
import { describe, expect, test } from "bun:test";
import { concatBytes } from "../../src/http/chars.ts";
import { bytesOf, echoServerForFile, encodeFrame, fragments, fragmentsOf, type FrameSpec, hex, OP, type SendOptions, serveEcho, WsRaw } from "../helpers/ws-raw.ts";

const server = echoServerForFile();

const range = (from: number, to: number, after = "") => Array.from({ length: to - from + 1 }, (_, i) => (from + i).toString(16) + after).join("");

const KOSME = "ceba e1bdb9 cf83 cebc ceb5"; // κόσμε
const KOSME_CUTS = [0, 2, 5, 7, 9, 11]; // its code point boundaries

/** [group, hex bytes, valid] */
const SEQUENCES: [string, string, boolean][] = [
  ["some valid text", "68656c6c6f 24 776f726c64", true], // hello$world
  ["some valid text", "68656c6c6f c2a2 776f726c64", true],
  ["some valid text", "68656c6c6f e282ac 776f726c64", true],
  ["some valid text", "68656c6c6f f0a4ada2 776f726c64", true],
  ["some valid text", KOSME, true],
  ...Array.from({ length: 11 }, (_, i): [string, string, boolean] => ["prefixes of κόσμε", hex(KOSME).subarray(0, i + 1).toHex(), KOSME_CUTS.includes(i + 1)]),
  ["first sequence of each length", "00", true],
  ["first sequence of each length", "c280", true],
  ["first sequence of each length", "e0a080", true],
  ["first sequence of each length", "f0908080", true],
  ["5 and 6 byte forms", "f888808080", false],
  ["5 and 6 byte forms", "fc8480808080", false],
  ["last sequence of each length", "7f", true],
  ["last sequence of each length", "dfbf", true],
  ["last sequence of each length", "efbfbf", true],
  ["last sequence of each length", "f48fbfbf", true],
  ["past U+10FFFF", "f7bfbfbf", false],
  ["past U+10FFFF", "fbbfbfbfbf", false],
  ["past U+10FFFF", "fdbfbfbfbfbf", false],
  ["past U+10FFFF", "f4908080", false],
  ["other boundaries", "ed9fbf", true],
  ["other boundaries", "ee8080", true],
  ["other boundaries", "efbfbd", true],
  ["unexpected continuation bytes", "80", false],
  ["unexpected continuation bytes", "bf", false],
  ["unexpected continuation bytes", "80bf", false],
  ["unexpected continuation bytes", "80bf80", false],
  ["unexpected continuation bytes", "80bf80bf", false],
  ["unexpected continuation bytes", "80bf80bf80", false],
  ["unexpected continuation bytes", "80bf80bf80bf", false],
  ["unexpected continuation bytes", range(0x80, 0xbf), false],
  ["lonely start bytes, each before a space", range(0xc0, 0xdf, "20"), false],
  ["lonely start bytes, each before a space", range(0xe0, 0xef, "20"), false],
  ["lonely start bytes, each before a space", range(0xf0, 0xf7, "20"), false],
  ["lonely start bytes, each before a space", range(0xf8, 0xfb, "20"), false],
  ["lonely start bytes, each before a space", range(0xfc, 0xfd, "20"), false],
  ...["c0", "e080", "f08080", "f8808080", "fc80808080", "df", "efbf", "f7bfbf", "fbbfbfbf", "fdbfbfbfbf"].map(
    (h): [string, string, boolean] => ["last continuation byte missing", h, false],
  ),
  ["incomplete sequences one after another", "c0 e080 f08080 f8808080 fc80808080 df efbf f7bfbf fbbfbfbf fdbfbfbfbf", false],
  ["impossible bytes", "fe", false],
  ["impossible bytes", "ff", false],
  ["impossible bytes", "fefeffff", false],
  ...["c0af", "e080af", "f08080af", "f8808080af", "fc80808080af"].map((h): [string, string, boolean] => ["overlong '/'", h, false]),
  ...["c1bf", "e09fbf", "f08fbfbf", "f887bfbfbf", "fc83bfbfbfbf"].map((h): [string, string, boolean] => ["largest overlong forms", h, false]),
  ...["c080", "e08080", "f0808080", "f880808080", "fc8080808080"].map((h): [string, string, boolean] => ["overlong NUL", h, false]),
  ...["eda080", "edadbf", "edae80", "edafbf", "edb080", "edbe80", "edbfbf"].map((h): [string, string, boolean] => ["lone UTF-16 surrogates", h, false]),
  ...["eda080edb080", "eda080edbfbf", "edadbfedb080", "edadbfedbfbf", "edae80edb080", "edae80edbfbf", "edafbfedb080", "edafbfedbfbf"].map(
    (h): [string, string, boolean] => ["paired UTF-16 surrogates", h, false],
  ),
  ...["efbfbe", "efbfbf", "f09fbfbe", "f48fbfbe", "f48fbfbf", "f3bfbfbf"].map((h): [string, string, boolean] => ["noncharacters (valid UTF-8)", h, true]),
  ...["efbfb9", "efbfba", "efbfbb", "efbfbc", "efbfbd"].map((h): [string, string, boolean] => ["specials (valid UTF-8)", h, true]),
];

/** Ways to send one text message: [name, its frames, how the bytes are written]. */
const SHAPES: [string, (b: Uint8Array) => FrameSpec[], SendOptions][] = [
  ["6.2.1 in one frame", (b) => [{ opcode: OP.TEXT, payload: b }], {}],
  ["6.2.2 in two fragments cut on a code point boundary", (b) => fragments(OP.TEXT, b, [7, b.length]), {}],
  ["after an empty first fragment", (b) => fragments(OP.TEXT, b, [0, b.length]), {}],
  ["6.2.3 in one-byte fragments, cut inside code points", (b) => fragmentsOf(OP.TEXT, b, 1), {}],
  ["in one frame sent byte by byte", (b) => [{ opcode: OP.TEXT, payload: b }], { chop: 1 }],
];

const VALID = SEQUENCES.filter(([, , ok]) => ok);
const INVALID = SEQUENCES.filter(([, , ok]) => !ok);

describe("6.1 empty text", () => {
  const shapes: [string, number[], string][] = [
    ["6.1.1 an empty message", [0], ""],
    ["6.1.2 three empty fragments", [0, 0, 0], ""],
    ["6.1.3 empty, non-empty, empty fragments", [0, 6, 0], "middle"],
  ];
  for (const [name, sizes, text] of shapes) {
    test(`${name} is echoed`, async () => {
      using ws = await WsRaw.connect(server.port);
      await ws.send(fragments(OP.TEXT, text, sizes));
      const m = await ws.nextMessage();
      expect(m.opcode).toBe(OP.TEXT);
      expect(m.text()).toBe(text);
      await ws.closeCleanly();
    });
  }
});

describe("6.2 valid text, however fragmented", () => {
  for (const [name, shape, how] of SHAPES) {
    test(name, async () => {
      const text = "Hello-µ@ßöäüàá-UTF-8!! κόσμε 𤭢 €";
      using ws = await WsRaw.connect(server.port);
      await ws.send(shape(bytesOf(text)), how);
      expect((await ws.nextMessage()).text()).toBe(text);
      await ws.closeCleanly();
    });
  }

  test("every code point U+0000 … U+10FFFF (surrogates left out) in one message", async () => {
    using ws = await WsRaw.connect(server.port);
    let all = "";
    const chunk: number[] = [];
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      chunk.push(cp);
      if (chunk.length === 4096) {
        all += String.fromCodePoint(...chunk);
        chunk.length = 0;
      }
    }
    all += String.fromCodePoint(...chunk);
    const bytes = new TextEncoder().encode(all);
    await ws.send(fragmentsOf(OP.TEXT, bytes, 65537)); // fragments cut inside code points too
    const m = await ws.nextMessage(10000);
    expect(m.data.length).toBe(bytes.length);
    expect(m.text() === all).toBe(true);
    await ws.closeCleanly();
  }, 20000);
});

describe("6.3 – 6.23 decoder test cases", () => {
  test(`the ${VALID.length} valid sequences are echoed, whole and in one-byte fragments`, async () => {
    using ws = await WsRaw.connect(server.port);
    for (const [, h] of VALID) {
      const b = hex(h);
      await ws.send({ opcode: OP.TEXT, payload: b });
      await ws.send(fragmentsOf(OP.TEXT, b, 1));
      for (let i = 0; i < 2; i++) expect((await ws.nextMessage()).data).toEqual(b);
    }
    await ws.closeCleanly();
  });

  for (const [group, h] of INVALID) {
    for (const split of [false, true]) {
      test(`${group}: ${h}${split ? " in one-byte fragments" : ""} fails with 1007`, async () => {
        using ws = await WsRaw.connect(server.port);
        const b = hex(h);
        await ws.send(split ? fragmentsOf(OP.TEXT, b, 1) : { opcode: OP.TEXT, payload: b });
        await ws.expectFail(1007);
      });
    }
  }

  test("6.3.1 invalid text between valid text (κόσμε, a surrogate, 'edited') fails with 1007", async () => {
    using ws = await WsRaw.connect(server.port);
    await ws.send({ opcode: OP.TEXT, payload: concatBytes([hex(KOSME), hex("eda080"), bytesOf("edited")]) });
    await ws.expectFail(1007);
  });

  test("a code point cut by the end of the message (valid so far) fails with 1007", async () => {
    using ws = await WsRaw.connect(server.port);
    await ws.send(fragments(OP.TEXT, hex("68 69 e282"), [2, 1]));
    await ws.expectFail(1007);
  });
});

describe("6.4 fail fast", () => {
  const PART1 = hex(KOSME);
  const PART2 = hex("f4908080"); // U+110000 in UTF-8's form: out of range from its second byte
  const PART3 = bytesOf("edited");
  // The rest of the frame or message is never sent, so any 1007 at all proves the fail-fast: this is
  // only how long to wait for it (generous, for a loaded machine).
  const FAST = 10_000;

  for (const [name, part2] of [["6.4.1 the whole bad code point", PART2], ["6.4.2 only up to the bad byte", PART2.subarray(0, 2)]] as const) {
    test(`${name}, as the second of three fragments: 1007 before the third is sent`, async () => {
      using ws = await WsRaw.connect(server.port);
      await ws.send([{ opcode: OP.TEXT, payload: PART1, fin: false }, { opcode: OP.PING, payload: "still open?" }]);
      // The pong says the valid first fragment was taken without complaint.
      expect((await ws.nextFrame()).opcode).toBe(OP.PONG);
      await ws.send({ opcode: OP.CONT, payload: part2, fin: false });
      await ws.expectFail(1007, FAST);
    });
  }

  for (const [name, cut] of [["6.4.3 the whole bad code point", 4], ["6.4.4 only up to the bad byte", 2]] as const) {
    test(`${name}, in chops of one frame: 1007 before the frame is complete`, async () => {
      using ws = await WsRaw.connect(server.port);
      const frame = encodeFrame({ opcode: OP.TEXT, payload: concatBytes([PART1, PART2, PART3]) });
      const head = frame.length - PART1.length - PART2.length - PART3.length;
      await ws.send(frame.subarray(0, head + PART1.length));
      await ws.expectQuiet(100);
      await ws.send(frame.subarray(head + PART1.length, head + PART1.length + cut));
      await ws.expectFail(1007, FAST);
    });
  }

  test("an invalid byte early in a 1 MiB text frame: 1007 while the frame is still arriving", async () => {
    using ws = await WsRaw.connect(server.port);
    const payload = new TextEncoder().encode("a".repeat(1 << 20));
    payload[1000] = 0xff;
    const frame = encodeFrame({ opcode: OP.TEXT, payload });
    await ws.send(frame.subarray(0, 64 * 1024)); // less than a tenth of the frame, and never the rest
    await ws.expectFail(1007, FAST);
  });

  test("an invalid byte in the second of ten 64 KiB fragments: 1007 before the message ends", async () => {
    using ws = await WsRaw.connect(server.port);
    const payload = new TextEncoder().encode("b".repeat(10 * 65536));
    payload[65536 + 5] = 0xc0;
    const frames = fragmentsOf(OP.TEXT, payload, 65536);
    await ws.send(frames.slice(0, 3));
    await ws.expectFail(1007, FAST);
  });

  // Sequences already invalid at their last byte, sent in fragments that never end the message.
  const EARLY: [string, string][] = [
    ["a surrogate, at its second byte", "eda0"],
    ["an overlong 3-byte form, at its second byte", "e080"],
    ["an overlong 4-byte form, at its second byte", "f08f"],
    ["a start byte followed by ASCII", "c241"],
    ["a 3-byte start, one continuation, then ASCII", "e28241"],
    ["0xc0", "c0"],
    ["0xf5", "f5"],
    ["0xff", "ff"],
    ["a stray continuation", "80"],
  ];
  for (const [name, h] of EARLY) {
    test(`${name} (${h}), split across open fragments, fails at once`, async () => {
      using ws = await WsRaw.connect(server.port);
      const b = concatBytes([bytesOf("ok "), hex(h)]);
      const frames = fragmentsOf(OP.TEXT, b, 1).map((f) => ({ ...f, fin: false }));
      await ws.send(frames);
      await ws.expectFail(1007, FAST);
    });
  }
});

test("a code point split across fragments, with a ping between the halves, is echoed", async () => {
  using ws = await WsRaw.connect(server.port);
  await ws.send([
    { opcode: OP.TEXT, payload: hex("e282"), fin: false },
    { opcode: OP.PING, payload: "" },
    { opcode: OP.CONT, payload: hex("ac") },
  ]);
  expect((await ws.nextFrame()).opcode).toBe(OP.PONG);
  expect((await ws.nextMessage()).text()).toBe("€");
  await ws.closeCleanly();
});

test("binary messages are not checked for UTF-8", async () => {
  using ws = await WsRaw.connect(server.port);
  const b = hex("ff fe eda080 c0af 80");
  await ws.send({ opcode: OP.BINARY, payload: b });
  expect((await ws.nextMessage()).data).toEqual(b);
  await ws.closeCleanly();
});

describe("text is data, byte for byte", () => {
  const BOM = "\ufeff";
  for (const [name, shape, how] of SHAPES) {
    test(`a leading U+FEFF (a BOM) is kept: ${name}`, async () => {
      using ws = await WsRaw.connect(server.port);
      await ws.send(shape(bytesOf(`${BOM}hello ${BOM}`)), how);
      expect((await ws.nextMessage()).data).toEqual(hex("efbbbf 68656c6c6f20 efbbbf"));
      await ws.closeCleanly();
    });
  }

  test("a leading U+FEFF in a 1 MiB frame that arrives in pieces is kept", async () => {
    using ws = await WsRaw.connect(server.port);
    const text = BOM + "x".repeat(1 << 20);
    await ws.send({ opcode: OP.TEXT, payload: text }, { chop: 65536 });
    const m = await ws.nextMessage();
    expect(m.data.subarray(0, 4)).toEqual(hex("efbbbf78"));
    expect(m.data.length).toBe((1 << 20) + 3);
    await ws.closeCleanly();
  });

  test("a lone surrogate the app sends goes out as valid UTF-8 (U+FFFD)", async () => {
    await using app = serveEcho({ message: (ws: { send(m: string): number }) => ws.send("a\ud800b\udc00") });
    using ws = await WsRaw.connect(app.port);
    await ws.send({ opcode: OP.TEXT, payload: "go" });
    // nextMessage fails on a text message that is not UTF-8.
    expect((await ws.nextMessage()).text()).toBe("a\ufffdb\ufffd");
    await ws.closeCleanly();
  });
});
