// The WebSocket frame parser (src/ws/frame-parser.ts), table-driven: every case is parsed whole, one
// byte at a time, split at every position, and from inside a buffer of poison bytes at every 4-byte
// alignment (unmasking works a word at a time, and must not touch a byte outside its window). Plus a
// property test over random frame sequences and random splits.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { concatBytes } from "../../src/http/chars.ts";
import { FrameParser, type FrameSink, unmask } from "../../src/ws/frame-parser.ts";
import { encodeFrame, type FrameSpec } from "../helpers/ws-raw.ts";

/** A client frame of these tests (ws-raw.ts's encodeFrame writes it): its payload is bytes. */
type Frame = FrameSpec & { payload: Uint8Array };

const enc = new TextEncoder();

/** What a parse gave: each frame's head and its payload (pieces joined), and the error code. */
interface Outcome {
  frames: { fin: boolean; rsv: number; opcode: number; length: number; payload: number[] }[];
  error: number;
}

/** A sink that records, and can refuse a frame head (as the session does for sizes). */
function recorder(refuseOver = Infinity): { sink: FrameSink; out: Outcome } {
  const out: Outcome = { frames: [], error: 0 };
  let lastSeen = true;
  const sink: FrameSink = {
    frameHead(fin, rsv, opcode, length) {
      if (!lastSeen) throw new Error("a frame head before the last piece of the one before");
      lastSeen = false;
      if (length > refuseOver) return 1009;
      out.frames.push({ fin, rsv, opcode, length, payload: [] });
      return 0;
    },
    framePayload(buf, start, end, last) {
      if (start > end || end > buf.length) throw new Error(`bad window [${start}, ${end}) of ${buf.length}`);
      const f = out.frames[out.frames.length - 1]!;
      for (let i = start; i < end; i++) f.payload.push(buf[i]!);
      if (last) lastSeen = true;
      return 0;
    },
    // A whole frame in one call is the same as its head and its one piece (the outcome cannot tell).
    frame(fin, rsv, opcode, buf, start, end) {
      const err = sink.frameHead(fin, rsv, opcode, end - start);
      return err !== 0 ? err : sink.framePayload(buf, start, end, true);
    },
  };
  return { sink, out };
}

/** Feeds `chunks` (copies: the parser unmasks in place) to a fresh parser. */
function parseChunks(chunks: Uint8Array[], refuseOver?: number): Outcome {
  const p = new FrameParser();
  const { sink, out } = recorder(refuseOver);
  for (const c of chunks) {
    const err = p.feed(c, sink);
    if (err !== 0) {
      out.error = err;
      break;
    }
  }
  return out;
}

function copy(b: Uint8Array): Uint8Array {
  return new Uint8Array(b);
}

/** Every way of handing `input` over gives the outcome of parsing it whole. */
function checkAllDeliveries(input: Uint8Array, refuseOver?: number): Outcome {
  const whole = parseChunks([copy(input)], refuseOver);
  // One byte at a time.
  const bytes: Uint8Array[] = [];
  for (let i = 0; i < input.length; i++) bytes.push(input.slice(i, i + 1));
  expect(parseChunks(bytes, refuseOver)).toEqual(whole);
  // Split at every position (for large inputs: every position around the headers, and a sample of the rest).
  for (let k = 1; k < input.length; k++) {
    if (input.length > 4096 && k > 20 && k < input.length - 20 && k % 4099 !== 0) continue;
    expect(parseChunks([input.slice(0, k), input.slice(k)], refuseOver)).toEqual(whole);
  }
  // Inside poison, at each alignment; the poison must be untouched after.
  for (const at of [0, 1, 2, 3, 5]) {
    const big = new Uint8Array(input.length + at + 16).fill(0xa5);
    big.set(input, at);
    const view = big.subarray(at, at + input.length);
    expect(parseChunks([view], refuseOver)).toEqual(whole);
    for (let i = 0; i < at; i++) expect(big[i]).toBe(0xa5);
    for (let i = at + input.length; i < big.length; i++) expect(big[i]).toBe(0xa5);
  }
  return whole;
}

const text = (s: string) => enc.encode(s);
const bytesOf = (n: number, seed = 7) => Uint8Array.from({ length: n }, (_, i) => (i * seed + 3) & 0xff);

describe("frames that parse", () => {
  test("RFC 6455 §5.7: a masked 'Hello'", () => {
    const input = Uint8Array.from([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
    const out = checkAllDeliveries(input);
    expect(out.error).toBe(0);
    expect(out.frames).toEqual([{ fin: true, rsv: 0, opcode: 1, length: 5, payload: [...text("Hello")] }]);
  });

  const cases: [string, Frame[]][] = [
    ["an empty text frame", [{ opcode: 1, payload: new Uint8Array(0) }]],
    ["125 bytes (the largest 7-bit length)", [{ opcode: 2, payload: bytesOf(125) }]],
    ["126 bytes (16-bit length)", [{ opcode: 2, payload: bytesOf(126) }]],
    ["65535 bytes (the largest 16-bit length)", [{ opcode: 2, payload: bytesOf(65535) }]],
    ["65536 bytes (64-bit length)", [{ opcode: 2, payload: bytesOf(65536) }]],
    ["two frames in one read", [{ opcode: 1, payload: text("ab") }, { opcode: 2, payload: bytesOf(300) }]],
    ["a fragmented text message with a ping between", [
      { opcode: 1, fin: false, payload: text("Hel") },
      { opcode: 9, payload: text("p") },
      { opcode: 0, payload: text("lo") },
    ]],
    ["control frames: ping 125 bytes, pong, close with a code", [
      { opcode: 9, payload: bytesOf(125) },
      { opcode: 10, payload: new Uint8Array(0) },
      { opcode: 8, payload: Uint8Array.from([0x03, 0xe8, 0x62, 0x79, 0x65]) },
    ]],
    ["RSV bits are passed on (the session decides)", [{ opcode: 1, rsv: 4, payload: text("x") }, { opcode: 2, rsv: 3, payload: text("y") }]],
    ["a zero mask key", [{ opcode: 2, payload: bytesOf(200), mask: new Uint8Array(4) }]],
  ];
  for (const [name, frames] of cases) {
    test(name, () => {
      const input = concatBytes(frames.map((f) => encodeFrame(f)));
      const out = checkAllDeliveries(input);
      expect(out.error).toBe(0);
      expect(out.frames).toEqual(
        frames.map((f) => ({ fin: f.fin ?? true, rsv: f.rsv ?? 0, opcode: f.opcode, length: f.payload.length, payload: [...f.payload] })),
      );
    });
  }
});

describe("frames that fail the connection", () => {
  const cases: [string, Frame[], number, number][] = [
    // name, frames, close code, frames recorded before the error
    ["an unmasked client frame (§5.1)", [{ opcode: 1, payload: text("hi"), mask: false }], 1002, 0],
    ["an unmasked frame after a good one", [{ opcode: 1, payload: text("ok") }, { opcode: 1, payload: text("hi"), mask: false }], 1002, 1],
    ["a 16-bit length for 100 bytes (not minimal, §5.2)", [{ opcode: 2, payload: bytesOf(100), lengthBits: 16 }], 1002, 0],
    ["a 64-bit length for 1000 bytes (not minimal)", [{ opcode: 2, payload: bytesOf(1000), lengthBits: 64 }], 1002, 0],
    ["a 64-bit length with its top bit set", [{ opcode: 2, payload: new Uint8Array(0), lengthBits: 64, declaredLength: 2 ** 63 + 70000 }], 1002, 0],
    ["a ping of 126 bytes (§5.5)", [{ opcode: 9, payload: bytesOf(126) }], 1002, 0],
    ["a fragmented ping", [{ opcode: 9, fin: false, payload: text("a") }], 1002, 0],
    ["a fragmented close", [{ opcode: 8, fin: false, payload: new Uint8Array(0) }], 1002, 0],
    ["reserved opcode 3", [{ opcode: 3, payload: new Uint8Array(0) }], 1002, 0],
    ["reserved opcode 7", [{ opcode: 7, payload: text("x") }], 1002, 0],
    ["reserved control opcode 11", [{ opcode: 11, payload: new Uint8Array(0) }], 1002, 0],
    ["reserved control opcode 15", [{ opcode: 15, payload: new Uint8Array(0) }], 1002, 0],
  ];
  for (const [name, frames, code, before] of cases) {
    test(name, () => {
      const input = concatBytes(frames.map((f) => encodeFrame(f)));
      const out = checkAllDeliveries(input);
      expect(out.error).toBe(code);
      expect(out.frames.length).toBe(before);
    });
  }

  test("the sink's refusal stops the parse with its code", () => {
    const input = concatBytes([10, 200, 5].map((n) => encodeFrame({ opcode: 2, payload: bytesOf(n) })));
    const out = checkAllDeliveries(input, 100);
    expect(out.error).toBe(1009);
    expect(out.frames.map((f) => f.length)).toEqual([10]);
  });

  test("a huge 64-bit length reaches the sink (which refuses it) without overflowing", () => {
    const input = encodeFrame({ opcode: 2, payload: new Uint8Array(0), lengthBits: 64, declaredLength: 2 ** 40 });
    expect(parseChunks([input], 1 << 20).error).toBe(1009);
  });
});

describe("unmask", () => {
  test("word-at-a-time unmasking equals the byte loop at every offset, length and key phase", () => {
    const key = Uint8Array.from([0x11, 0x22, 0x44, 0x88]);
    for (const len of [0, 1, 3, 63, 64, 65, 67, 200, 1027]) {
      for (const off of [0, 1, 2, 3]) {
        for (let phase = 0; phase < 4; phase++) {
          const data = bytesOf(len + off + 8, 13);
          const expected = data.slice();
          for (let i = 0; i < len; i++) expected[off + i]! ^= key[(phase + i) & 3]!;
          const got = data.slice();
          unmask(got, off, off + len, key, phase);
          expect(got).toEqual(expected);
        }
      }
    }
  });
});

describe("property: random frame sequences, random splits", () => {
  const frameArb = fc.record({
    opcode: fc.constantFrom(0, 1, 2, 9, 10),
    fin: fc.boolean(),
    payload: fc.oneof(fc.uint8Array({ maxLength: 130 }), fc.uint8Array({ minLength: 60000, maxLength: 70000 })),
    key: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }),
  });
  test("the frames come out as they went in", () => {
    fc.assert(
      fc.property(fc.array(frameArb, { minLength: 1, maxLength: 6 }), fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 20 }), (frames, cuts) => {
        // Control frames must be final and short: make them so (the parser refuses the others).
        const fs = frames.map((f) => (f.opcode >= 8 ? { ...f, fin: true, payload: f.payload.subarray(0, 125) } : f));
        const input = concatBytes(fs.map((f) => encodeFrame({ ...f, mask: Uint8Array.from(f.key) })));
        const chunks: Uint8Array[] = [];
        let at = 0;
        for (let i = 0; at < input.length; i++) {
          const n = cuts[i % cuts.length]!;
          chunks.push(input.slice(at, at + n));
          at += n;
        }
        const out = parseChunks(chunks);
        expect(out.error).toBe(0);
        expect(out.frames).toEqual(fs.map((f) => ({ fin: f.fin, rsv: 0, opcode: f.opcode, length: f.payload.length, payload: [...f.payload] })));
      }),
      { numRuns: 150 },
    );
  });
});
