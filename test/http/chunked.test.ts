// Chunked decoder: one row per case; every row runs whole, in poison, byte by byte and split at every position.
import { describe, expect, test } from "bun:test";
import { ChunkedDecoder, type ChunkedLimits, DEFAULT_CHUNKED_LIMITS } from "../../src/http/chunked.ts";
import { errorStatus, HTTP_ERROR } from "../../src/http/errors.ts";
import { FAILED } from "../../src/http/parser.ts";
import { checkChunked, decodePieces, latin1 } from "../helpers/split.ts";

type ErrorName = keyof typeof HTTP_ERROR;

interface OkExpect {
  body: string;
  /** Default true. */
  done?: boolean;
  /** Default: the whole input. */
  consumed?: number;
}

interface ErrExpect {
  error: ErrorName;
  status: number;
  /** Offset of the byte blamed, in the input. */
  offset?: number;
  /** Data handed over before the failure; default "". */
  body?: string;
}

interface Row {
  name: string;
  raw: string;
  expect: OkExpect | ErrExpect;
  limits?: Partial<ChunkedLimits>;
}

const err = (error: ErrorName, offset?: number, body?: string): ErrExpect => ({
  error,
  status: errorStatus(HTTP_ERROR[error]),
  ...(offset === undefined ? {} : { offset }),
  ...(body === undefined ? {} : { body }),
});

const ALL_BYTES = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join("");

const ROWS: Row[] = [
  // --- well-formed ----------------------------------------------------------------------------------------------
  { name: "one chunk", raw: "5\r\nhello\r\n0\r\n\r\n", expect: { body: "hello" } },
  { name: "several chunks", raw: "3\r\nabc\r\n1\r\nd\r\n4\r\nefgh\r\n0\r\n\r\n", expect: { body: "abcdefgh" } },
  { name: "empty body", raw: "0\r\n\r\n", expect: { body: "" } },
  { name: "upper-case hex", raw: `1A\r\n${"x".repeat(26)}\r\n0\r\n\r\n`, expect: { body: "x".repeat(26) } },
  { name: "lower-case hex", raw: `1a\r\n${"y".repeat(26)}\r\n0\r\n\r\n`, expect: { body: "y".repeat(26) } },
  { name: "mixed-case hex", raw: `fF\r\n${"z".repeat(255)}\r\n0\r\n\r\n`, expect: { body: "z".repeat(255) } },
  { name: "leading zeros", raw: "0005\r\nhello\r\n0000\r\n\r\n", expect: { body: "hello" } },
  { name: "many leading zeros do not overflow", raw: `${"0".repeat(40)}3\r\nabc\r\n0\r\n\r\n`, expect: { body: "abc" } },
  { name: "CRLFs inside chunk data are data", raw: "4\r\n\r\n\r\n\r\n0\r\n\r\n", expect: { body: "\r\n\r\n" } },
  { name: "every byte value in chunk data", raw: `100\r\n${ALL_BYTES}\r\n0\r\n\r\n`, expect: { body: ALL_BYTES } },
  { name: "data that looks like a chunk header", raw: "a\r\n0\r\n\r\nGET /\r\n0\r\n\r\n", expect: { body: "0\r\n\r\nGET /" } },

  // --- extensions -----------------------------------------------------------------------------------------------
  { name: "extension without a value", raw: "5;name\r\nhello\r\n0\r\n\r\n", expect: { body: "hello" } },
  { name: "extensions with token and quoted values", raw: '5;a=b;c="quoted ; \\"value\\""\r\nhello\r\n0\r\n\r\n', expect: { body: "hello" } },
  { name: "BWS before ';'", raw: "5 \t ;a=1\r\nhello\r\n0\r\n\r\n", expect: { body: "hello" } },
  { name: "BWS after ';' and around '='", raw: "5; a = 1\r\nhello\r\n0\r\n\r\n", expect: { body: "hello" } },
  { name: "extension on the last chunk", raw: "5\r\nhello\r\n0;final=yes\r\n\r\n", expect: { body: "hello" } },
  { name: "obs-text in an extension", raw: "2;x=\xe9\xff\r\nhi\r\n0\r\n\r\n", expect: { body: "hi" } },
  { name: "size line exactly at maxChunkLine (CR included)", raw: `5;${"e".repeat(13)}\r\nhello\r\n0\r\n\r\n`, limits: { maxChunkLine: 16 }, expect: { body: "hello" } },
  { name: "extension one byte over maxChunkLine", raw: `5;${"e".repeat(14)}\r\nhello\r\n0\r\n\r\n`, limits: { maxChunkLine: 16 }, expect: err("CHUNK_EXTENSION_TOO_LARGE", 16) },
  { name: "long extension with the default limit", raw: `5;${"e".repeat(5000)}\r\nhello\r\n0\r\n\r\n`, expect: err("CHUNK_EXTENSION_TOO_LARGE", 4096) },
  { name: "BWS alone over maxChunkLine", raw: `5${" ".repeat(20)};a\r\nhello\r\n0\r\n\r\n`, limits: { maxChunkLine: 16 }, expect: err("CHUNK_EXTENSION_TOO_LARGE") },
  { name: "size digits over maxChunkLine", raw: "00005\r\nhello\r\n0\r\n\r\n", limits: { maxChunkLine: 4 }, expect: err("INVALID_CHUNK_SIZE", 4) },
  { name: "CTL in an extension", raw: "5;a\x01\r\nhello\r\n0\r\n\r\n", expect: err("INVALID_CHUNK_EXTENSION", 3) },
  { name: "NUL in an extension", raw: "5;a=\0\r\nhello\r\n0\r\n\r\n", expect: err("INVALID_CHUNK_EXTENSION", 4) },
  { name: "junk after BWS", raw: "5 x\r\nhello\r\n0\r\n\r\n", expect: err("INVALID_CHUNK_EXTENSION", 2) },
  { name: "BWS then CRLF without an extension", raw: "5 \r\nhello\r\n0\r\n\r\n", expect: err("INVALID_CHUNK_EXTENSION", 2) },

  // --- chunk sizes ----------------------------------------------------------------------------------------------
  { name: "size line with no digits", raw: "\r\nhello\r\n0\r\n\r\n", expect: err("INVALID_CHUNK_SIZE", 0) },
  { name: "extension with no size", raw: ";a=1\r\nhello\r\n0\r\n\r\n", expect: err("INVALID_CHUNK_SIZE", 0) },
  { name: "0x prefix", raw: "0x5\r\nhello\r\n0\r\n\r\n", expect: err("INVALID_CHUNK_SIZE", 1) },
  { name: "negative size", raw: "-1\r\nx\r\n0\r\n\r\n", expect: err("INVALID_CHUNK_SIZE", 0) },
  { name: "plus sign", raw: "+5\r\nhello\r\n0\r\n\r\n", expect: err("INVALID_CHUNK_SIZE", 0) },
  { name: "space inside the size", raw: "1 0\r\n0123456789abcdef\r\n0\r\n\r\n", expect: err("INVALID_CHUNK_SIZE", 2) },
  { name: "non-hex letter in the size", raw: "5g\r\nhello\r\n0\r\n\r\n", expect: err("INVALID_CHUNK_SIZE", 1) },
  { name: "leading space before the size", raw: " 5\r\nhello\r\n0\r\n\r\n", expect: err("INVALID_CHUNK_SIZE", 0) },
  { name: "size of 2^48 overflows", raw: "1000000000000\r\n", expect: err("INVALID_CHUNK_SIZE", 12) },
  { name: "size of 24 hex digits overflows", raw: `${"f".repeat(24)}\r\n`, limits: { maxBody: Number.MAX_SAFE_INTEGER }, expect: err("INVALID_CHUNK_SIZE", 12) },
  { name: "chunk over maxBody → 413", raw: "b\r\nhello world\r\n0\r\n\r\n", limits: { maxBody: 10 }, expect: err("BODY_TOO_LARGE", 1) },
  { name: "body exactly at maxBody", raw: "5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n", limits: { maxBody: 10 }, expect: { body: "helloworld" } },
  { name: "second chunk takes the body over maxBody → 413", raw: "5\r\nhello\r\n6\r\nworld!\r\n0\r\n\r\n", limits: { maxBody: 10 }, expect: err("BODY_TOO_LARGE", 11, "hello") },
  { name: "a large size with the default limit → 413", raw: "1000000\r\n", expect: err("BODY_TOO_LARGE", 7) },

  // --- chunk data framing ---------------------------------------------------------------------------------------
  { name: "data longer than its size", raw: "5\r\nhelloX\r\n0\r\n\r\n", expect: err("INVALID_CHUNK_DATA", 8, "hello") },
  { name: "CR after data not followed by LF", raw: "5\r\nhello\rX0\r\n\r\n", expect: err("INVALID_CHUNK_DATA", 9, "hello") },
  { name: "CR CR after data", raw: "5\r\nhello\r\r\n0\r\n\r\n", expect: err("INVALID_CHUNK_DATA", 9, "hello") },
  { name: "bare LF after data", raw: "5\r\nhello\n0\r\n\r\n", expect: err("INVALID_CHUNK_DATA", 8, "hello") },
  { name: "data shorter than its size eats the CRLF", raw: "6\r\nhello\r\n0\r\n\r\n", expect: err("INVALID_CHUNK_DATA", 9, "hello\r") },

  // --- line endings ---------------------------------------------------------------------------------------------
  { name: "bare LF after the size", raw: "5\nhello\r\n0\r\n\r\n", expect: err("BARE_LF", 1) },
  { name: "bare LF after an extension", raw: "5;x\nhello\r\n0\r\n\r\n", expect: err("BARE_LF", 3) },
  { name: "bare LF after the last chunk", raw: "0\n\r\n", expect: err("BARE_LF", 1) },
  { name: "bare LF as the final line", raw: "0\r\n\n", expect: err("BARE_LF", 3) },
  { name: "bare LF ending a trailer", raw: "0\r\nA: b\n\r\n", expect: err("BARE_LF", 7) },
  { name: "bare CR after the size", raw: "5\rhello\r\n0\r\n\r\n", expect: err("BARE_CR", 1) },
  { name: "bare CR after an extension", raw: "5;x\rhello\r\n0\r\n\r\n", expect: err("BARE_CR", 3) },
  { name: "bare CR as the final line", raw: "0\r\n\rX", expect: err("BARE_CR", 3) },
  { name: "bare CR ending a trailer", raw: "0\r\nA: b\rX\r\n\r\n", expect: err("BARE_CR", 7) },

  // --- trailers -------------------------------------------------------------------------------------------------
  { name: "trailers are accepted", raw: "3\r\nabc\r\n0\r\nExpires: never\r\nX-Sum:\tab c \r\n\r\n", expect: { body: "abc" } },
  { name: "trailer with obs-text and an empty value", raw: "0\r\nX-A: \xe9\xff\r\nX-B:\r\n\r\n", expect: { body: "" } },
  { name: "trailer obs-fold", raw: "0\r\nA: b\r\n c\r\n\r\n", expect: err("INVALID_TRAILER", 9) },
  { name: "trailer starting with whitespace", raw: "0\r\n A: b\r\n\r\n", expect: err("INVALID_TRAILER", 3) },
  { name: "trailer with a space in its name", raw: "0\r\nA B: c\r\n\r\n", expect: err("INVALID_TRAILER", 4) },
  { name: "trailer with whitespace before the colon", raw: "0\r\nAB : c\r\n\r\n", expect: err("INVALID_TRAILER", 5) },
  { name: "trailer with an empty name", raw: "0\r\n: c\r\n\r\n", expect: err("INVALID_TRAILER", 3) },
  { name: "trailer with DEL in its name", raw: "0\r\nA\x7f: c\r\n\r\n", expect: err("INVALID_TRAILER", 4) },
  { name: "trailer without a colon", raw: "0\r\nAbc\r\n\r\n", expect: err("INVALID_TRAILER", 6) },
  { name: "CTL in a trailer value", raw: "0\r\nA: b\0c\r\n\r\n", expect: err("INVALID_TRAILER", 7) },
  // The trailer section counts from after the last-chunk line through the final CRLF: 12 + 2 + 2 = 16.
  { name: "trailers exactly at maxTrailerSize", raw: `0\r\nX-Long: ${"v".repeat(4)}\r\n\r\n`, limits: { maxTrailerSize: 16 }, expect: { body: "" } },
  { name: "trailers one byte over maxTrailerSize → 431", raw: `0\r\nX-Long: ${"v".repeat(5)}\r\n\r\n`, limits: { maxTrailerSize: 16 }, expect: err("TRAILERS_TOO_LARGE", 19) },
  { name: "a long trailer over maxTrailerSize → 431", raw: `0\r\nX-Long: ${"v".repeat(20)}\r\n\r\n`, limits: { maxTrailerSize: 16 }, expect: err("TRAILERS_TOO_LARGE", 19) },
  { name: "short trailer lines: CRLFs count too → 431", raw: `0\r\n${"A:1\r\n".repeat(4)}\r\n`, limits: { maxTrailerSize: 16 }, expect: err("TRAILERS_TOO_LARGE", 19) },
  { name: "short trailer lines at maxTrailerSize", raw: `0\r\n${"A:1\r\n".repeat(3)}\r\n`, limits: { maxTrailerSize: 17 }, expect: { body: "" } },

  // --- where the body ends --------------------------------------------------------------------------------------
  { name: "the next request is not consumed", raw: "3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n", expect: { body: "abc", consumed: 13 } },
  { name: "an extra CRLF is not consumed", raw: "0\r\n\r\n\r\n", expect: { body: "", consumed: 5 } },
  { name: "junk after the end is not looked at", raw: "0\r\nT: 1\r\n\r\n\0\n\r", expect: { body: "", consumed: 11 } },
  { name: "incomplete inside data", raw: "5\r\nhel", expect: { body: "hel", done: false } },
  { name: "incomplete after the last chunk", raw: "5\r\nhello\r\n0\r\n", expect: { body: "hello", done: false } },
  { name: "incomplete before the final LF", raw: "0\r\nA: b\r\n\r", expect: { body: "", done: false } },
  { name: "incomplete inside a size", raw: "1", expect: { body: "", done: false } },
];

describe("ChunkedDecoder: table", () => {
  const names = new Set<string>();
  for (const row of ROWS) {
    if (names.has(row.name)) throw new Error(`duplicate row name: ${row.name}`);
    names.add(row.name);
    test(row.name, () => {
      const limits = { ...DEFAULT_CHUNKED_LIMITS, ...row.limits };
      const got = checkChunked(row.raw, limits);
      const e = row.expect;
      if ("error" in e) {
        expect(got.error).toBe(e.error);
        expect(errorStatus(HTTP_ERROR[e.error])).toBe(e.status);
        expect(got.done).toBe(false);
        expect(got.body).toBe(e.body ?? "");
        expect(got.errorOffset).toBeGreaterThanOrEqual(0);
        expect(got.errorOffset).toBeLessThan(row.raw.length);
        if (e.offset !== undefined) expect(got.errorOffset).toBe(e.offset);
      } else {
        expect(got.error).toBeNull();
        expect(got.body).toBe(e.body);
        expect(got.received).toBe(e.body.length);
        expect(got.done).toBe(e.done ?? true);
        expect(got.consumed).toBe(e.consumed ?? row.raw.length);
      }
    });
  }
});

describe("ChunkedDecoder: state", () => {
  const sink = { onBodyData() {} };

  test("reset() makes a finished decoder decode the next body", () => {
    const d = new ChunkedDecoder();
    const a = latin1("3\r\nabc\r\n0\r\n\r\n");
    expect(d.decode(a, 0, a.length, sink)).toBe(a.length);
    expect(d.done).toBe(true);
    expect(d.received).toBe(3);
    expect(d.decode(a, 0, a.length, sink)).toBe(0); // done: nothing more is taken
    d.reset();
    expect(d.done).toBe(false);
    expect(d.received).toBe(0);
    expect(decodePieces(d, latin1("2\r\nhi\r\n0\r\n\r\n"), [4])).toMatchObject({ body: "hi", done: true, error: null });
  });

  test("reset() clears an error and a half-read chunk", () => {
    const d = new ChunkedDecoder();
    expect(d.decode(latin1("5\r\nhe"), 0, 5, sink)).toBe(5);
    d.reset();
    expect(d.decode(latin1("zz"), 0, 2, sink)).toBe(FAILED);
    expect(d.error).toBe(HTTP_ERROR.INVALID_CHUNK_SIZE);
    expect(d.errorOffset).toBe(0);
    d.reset();
    expect(d.error).toBe(0);
    expect(d.errorOffset).toBe(-1);
    expect(decodePieces(d, latin1("1\r\nx\r\n0\r\n\r\n"), [])).toMatchObject({ body: "x", done: true, consumed: 11 });
  });

  test("reset() clears the trailer byte count and the body count", () => {
    const limits = { maxBody: 6, maxChunkLine: 16, maxTrailerSize: 20 };
    const raw = latin1("6\r\nsixsix\r\n0\r\nX-T: 0123456789\r\n\r\n"); // 16 + 2 + 2 trailer bytes
    const d = new ChunkedDecoder(limits);
    for (let round = 0; round < 3; round++) {
      expect(decodePieces(d, raw, [5, 20])).toMatchObject({ body: "sixsix", done: true, error: null });
      d.reset();
    }
  });

  test("reset(limits) applies new limits; reset() keeps the current ones", () => {
    const d = new ChunkedDecoder();
    const raw = latin1("b\r\nhello world\r\n0\r\n\r\n");
    d.reset({ ...DEFAULT_CHUNKED_LIMITS, maxBody: 10 });
    expect(decodePieces(d, raw, []).error).toBe("BODY_TOO_LARGE");
    d.reset();
    expect(decodePieces(d, raw, []).error).toBe("BODY_TOO_LARGE");
    d.reset(DEFAULT_CHUNKED_LIMITS);
    expect(decodePieces(d, raw, [])).toMatchObject({ body: "hello world", done: true });
  });

  test("a zero-length window consumes nothing", () => {
    const d = new ChunkedDecoder();
    expect(d.decode(latin1("5\r\n"), 1, 1, sink)).toBe(0);
    expect(d.done).toBe(false);
    expect(d.error).toBe(0);
  });
});
