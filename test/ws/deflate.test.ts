// permessage-deflate (src/ws/deflate.ts): the negotiation of an offer, table-driven (RFC 7692 §7.1),
// and a message's inflation: a sync-flushed message, one ending in a final block, what follows such a
// block (inflated in turn, or refused when it is not DEFLATE), data that is not DEFLATE, the size limit.
import { describe, expect, test } from "bun:test";
import zlib from "node:zlib";
import { deflateMessage, inflateMessage, negotiateDeflate } from "../../src/ws/deflate.ts";

const BOTH = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";

describe("negotiation", () => {
  const cases: [string | undefined, string | null][] = [
    [undefined, null],
    ["", null],
    ["x-webkit-deflate-frame", null],
    ["permessage-deflate", BOTH],
    ["PerMessage-Deflate", BOTH],
    ["permessage-deflate; client_max_window_bits", BOTH],
    ["permessage-deflate; client_max_window_bits=10", BOTH],
    ["permessage-deflate; server_no_context_takeover; client_no_context_takeover", BOTH],
    ["permessage-deflate; server_max_window_bits=10", `${BOTH}; server_max_window_bits=10`],
    ['permessage-deflate; server_max_window_bits="12"', `${BOTH}; server_max_window_bits=12`],
    ["permessage-deflate; server_max_window_bits=8", `${BOTH}; server_max_window_bits=8`],
    // Declined offers (§7.1): an unknown parameter, a repeated one, a bad value, a value where none goes.
    ["permessage-deflate; foo", null],
    ["permessage-deflate; server_no_context_takeover; server_no_context_takeover", null],
    ["permessage-deflate; server_max_window_bits=16", null],
    ["permessage-deflate; server_max_window_bits=7", null],
    ["permessage-deflate; server_max_window_bits", null],
    ["permessage-deflate; client_max_window_bits=0", null],
    ["permessage-deflate; server_no_context_takeover=1", null],
    ["permessage-deflate;", null],
    // The first acceptable offer of several wins.
    ["permessage-deflate; foo, permessage-deflate; server_max_window_bits=9", `${BOTH}; server_max_window_bits=9`],
    ["x-other, permessage-deflate", BOTH],
  ];
  for (const [offer, response] of cases) {
    test(`${JSON.stringify(offer)} → ${JSON.stringify(response)}`, () => {
      expect(negotiateDeflate(offer)?.response ?? null).toBe(response);
    });
  }

  test("a window of 8 bits, which zlib cannot make, sends messages uncompressed", () => {
    const params = negotiateDeflate("permessage-deflate; server_max_window_bits=8")!;
    expect(deflateMessage(new Uint8Array(100), params)).toBeNull();
  });
});

describe("a message inflated", () => {
  const text = new TextEncoder().encode("hello hello hello hello, deflate me ".repeat(20));
  const full = negotiateDeflate("permessage-deflate")!;

  test("what we deflate (sync flush, tail removed) inflates back", () => {
    const d = deflateMessage(text, full)!;
    expect(d.subarray(d.length - 4)).not.toEqual(Uint8Array.from([0, 0, 0xff, 0xff]));
    expect(inflateMessage(d, 1 << 20)).toEqual(new Uint8Array(text));
  });

  test("a message ending in a final block (BFINAL, §7.2.3.4) inflates", () => {
    expect(inflateMessage(zlib.deflateRawSync(text), 1 << 20)).toEqual(new Uint8Array(text));
  });

  test("RFC 7692 §7.2.3.4: a final block holding 'Hello', then the first octet of an empty block", () => {
    const payload = Uint8Array.from([0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00]);
    expect(new TextDecoder().decode(inflateMessage(payload, 100) as Uint8Array)).toBe("Hello");
  });

  test("after a final block, what follows is inflated too: more DEFLATE is read, other bytes refused", () => {
    const more = Buffer.concat([zlib.deflateRawSync(text), zlib.deflateRawSync(text)]);
    expect(inflateMessage(more, 1 << 20)).toEqual(new Uint8Array(Buffer.concat([text, text])));
    const junk = Buffer.concat([zlib.deflateRawSync(text), Buffer.from([1, 2, 3, 4, 5])]);
    expect(inflateMessage(junk, 1 << 20)).toBeNull();
  });

  test("data that is not DEFLATE is refused", () => {
    expect(inflateMessage(Uint8Array.from([0xff, 0xff, 0xff]), 1 << 20)).toBeNull();
  });

  test("an empty message: one empty stored block", () => {
    expect(inflateMessage(Uint8Array.from([0x00]), 10)).toEqual(new Uint8Array(0));
  });

  test("past the size limit: 'big', however small the compressed bytes", () => {
    const bomb = deflateMessage(new Uint8Array(1 << 20), full)!;
    expect(bomb.length).toBeLessThan(2000);
    expect(inflateMessage(bomb, 64 * 1024)).toBe("big");
  });
});
