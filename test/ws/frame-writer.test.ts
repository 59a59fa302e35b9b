// Server frames (src/ws/frame-writer.ts): text encoded straight into the buffer must get the shortest
// length form for its UTF-8 size, around every boundary (the 2-byte header guessed before encoding for
// short strings, 125/126, 65535/65536), with characters of 1 to 4 bytes; and close payloads.
import { expect, test } from "bun:test";
import { OutBuffer } from "../../src/http/response.ts";
import { closePayload, encodeFrame, writeFrame, writeTextFrame } from "../../src/ws/frame-writer.ts";

/** Reads one unmasked server frame: [first byte, payload], checking the length form is the shortest. */
function readFrame(bytes: Uint8Array): [number, Uint8Array] {
  const len7 = bytes[1]! & 0x7f;
  expect(bytes[1]! & 0x80).toBe(0); // servers do not mask
  let n = len7;
  let at = 2;
  if (len7 === 126) {
    n = (bytes[2]! << 8) | bytes[3]!;
    at = 4;
    expect(n).toBeGreaterThanOrEqual(126);
  } else if (len7 === 127) {
    n = Number(new DataView(bytes.buffer, bytes.byteOffset + 2, 8).getBigUint64(0));
    at = 10;
    expect(n).toBeGreaterThanOrEqual(65536);
  }
  expect(bytes.length).toBe(at + n);
  return [bytes[0]!, bytes.subarray(at)];
}

const cases: [string, string][] = [
  ["empty", ""],
  ["41 ASCII", "a".repeat(41)],
  ["41 two-byte chars (82 bytes)", "é".repeat(41)],
  ["41 three-byte chars (123 bytes)", "€".repeat(41)],
  ["42 three-byte chars (126 bytes: the 16-bit form)", "€".repeat(42)],
  ["125 ASCII", "a".repeat(125)],
  ["126 ASCII", "a".repeat(126)],
  ["emoji (surrogate pairs, 4 bytes each)", "🌍".repeat(40)],
  ["65535 bytes", "a".repeat(65535)],
  ["65536 bytes", "a".repeat(65536)],
  ["20000 three-byte chars (past the short-string count)", "€".repeat(20000)],
  ["mixed", `héllo 🌍 ${"x".repeat(200)} wörld`],
];

for (const [name, text] of cases) {
  test(`text frame: ${name}`, () => {
    const out = new OutBuffer(16);
    out.bytes(Uint8Array.from([0xaa])); // something before, as in a cork buffer
    const n = writeTextFrame(out, 0x81, text);
    const expected = Buffer.from(text, "utf8");
    expect(n).toBe(expected.length);
    expect(out.buf[0]).toBe(0xaa);
    const [b0, payload] = readFrame(out.buf.subarray(1, out.len));
    expect(b0).toBe(0x81);
    expect(Buffer.from(payload).equals(expected)).toBe(true);
  });
}

test("bytes frames: written into a buffer and encoded on their own are the same", () => {
  for (const size of [0, 125, 126, 65535, 65536]) {
    const payload = Uint8Array.from({ length: size }, (_, i) => i & 0xff);
    const out = new OutBuffer(16);
    writeFrame(out, 0x82, payload);
    const alone = encodeFrame(0x82, payload);
    expect(Buffer.from(out.buf.subarray(0, out.len)).equals(alone)).toBe(true);
    const [b0, p] = readFrame(alone);
    expect(b0).toBe(0x82);
    expect(Buffer.from(p).equals(payload)).toBe(true);
  }
});

test("close payloads: the code, then the reason cut to 123 bytes on a character boundary", () => {
  expect([...closePayload(1000, "")]).toEqual([0x03, 0xe8]);
  expect(closePayload(0, "ignored").length).toBe(0);
  const long = closePayload(4000, "é".repeat(100)); // 200 bytes of reason
  expect(long.length).toBeLessThanOrEqual(125);
  expect(new TextDecoder("utf-8", { fatal: true }).decode(long.subarray(2))).toBe("é".repeat(61));
});
