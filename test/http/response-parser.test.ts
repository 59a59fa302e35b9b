// Response heads as an upstream sends them (src/http/response-parser.ts), table-driven: every case is
// parsed whole, at every prefix (a prefix gives INCOMPLETE or exactly the whole input's answer),
// followed by more bytes (the body, the next response), and from inside buffers of poison bytes with
// every read outside the window recorded.
import { describe, expect, test } from "bun:test";
import { errorName } from "../../src/http/errors.ts";
import { BODY, DEFAULT_RESPONSE_LIMITS, FAILED, INCOMPLETE, parseResponseHead, ResponseHead, type ResponseLimits } from "../../src/http/response-parser.ts";
import { guarded, latin1, POISONS, poisoned } from "../helpers/split.ts";

interface Outcome {
  result: "ok" | "incomplete" | string; // an error name when failed
  at?: number; // where the error was found, relative to the start
  bytes?: number;
  status?: number;
  minor?: number;
  reason?: string;
  framing?: number;
  contentLength?: number;
  keepAlive?: boolean;
  fields?: [string, string][];
}

interface Options {
  head?: boolean;
  connect?: boolean;
  limits?: ResponseLimits;
}

/** `real`: the bytes behind a guarded view (strings are decoded from them). */
function run(buf: Uint8Array, start: number, end: number, o: Options = {}, real: Uint8Array = buf): Outcome {
  const h = new ResponseHead();
  const n = parseResponseHead(buf, start, end, h, o.head ?? false, o.connect ?? false, o.limits ?? DEFAULT_RESPONSE_LIMITS);
  if (h.buf === buf) h.buf = real;
  if (n === INCOMPLETE) return { result: "incomplete" };
  if (n === FAILED) return { result: errorName(h.error as never), at: h.errorOffset - start };
  const fields: [string, string][] = [];
  for (let i = 0; i < h.headerCount; i++) fields.push([h.nameAt(i), h.valueAt(i)]);
  return {
    result: "ok",
    bytes: n,
    status: h.status,
    minor: h.minor,
    reason: h.reason,
    framing: h.framing,
    contentLength: h.contentLength,
    keepAlive: h.keepAlive,
    fields,
  };
}

/** Every delivery of `raw` gives `whole`'s outcome; returns it. */
function everyWay(raw: string, o: Options = {}): Outcome {
  const bytes = latin1(raw);
  const whole = run(bytes, 0, bytes.length, o);
  // Prefixes: INCOMPLETE, or the very same answer (a failure found early is the same failure).
  for (let k = 0; k < bytes.length; k++) {
    const r = run(bytes, 0, k, o);
    if (r.result === "incomplete") continue;
    if (whole.result === "ok") throw new Error(`prefix ${k} of a good head gave ${JSON.stringify(r)}`);
    expect(r).toEqual(whole);
  }
  // More bytes after it change nothing that was decided.
  if (whole.result !== "incomplete") {
    const more = latin1(`${raw}HTTP/1.1 200 OK\r\n\r\nbody`);
    expect(run(more, 0, more.length, o)).toEqual(whole);
  }
  // Inside poison, with every read outside the window recorded.
  for (const poison of POISONS) {
    const at = 7;
    const buf = poisoned(bytes, at, bytes.length + 23, poison);
    const bad: number[] = [];
    const r = run(guarded(buf, at, at + bytes.length, bad), at, at + bytes.length, o, buf);
    expect(r).toEqual(whole);
    expect(bad).toEqual([]);
  }
  return whole;
}

const ok = (raw: string, o: Options = {}) => {
  const r = everyWay(raw, o);
  expect(r.result).toBe("ok");
  expect(r.bytes).toBe(raw.length);
  return r;
};
const bad = (raw: string, error: string, o: Options = {}) => {
  const r = everyWay(raw, o);
  expect(r.result).toBe(error);
  return r;
};

describe("status line", () => {
  test.each([
    ["HTTP/1.1 200 OK\r\n\r\n", 200, 1, "OK"],
    ["HTTP/1.0 404 Not Found\r\n\r\n", 404, 0, "Not Found"],
    ["HTTP/1.1 204 \r\n\r\n", 204, 1, ""],
    ["HTTP/1.1 204\r\n\r\n", 204, 1, ""], // no SP before an empty reason: accepted
    ["HTTP/1.1 500 Internal\tServer  Error \r\n\r\n", 500, 1, "Internal\tServer  Error "],
    ["HTTP/1.1 200 caf\xe9\r\n\r\n", 200, 1, "caf\xe9"], // obs-text in the reason
    ["HTTP/1.2 200 OK\r\n\r\n", 200, 1, "OK"], // a higher 1.x minor is read as 1.1
    ["HTTP/1.1 100 Continue\r\n\r\n", 100, 1, "Continue"],
    ["HTTP/1.1 599 X\r\n\r\n", 599, 1, "X"],
  ])("%p → %d", (raw, status, minor, reason) => {
    const r = ok(raw);
    expect(r.status).toBe(status);
    expect(r.minor).toBe(minor);
    expect(r.reason).toBe(reason);
  });

  test.each([
    ["garbage\r\n\r\n", "INVALID_STATUS_LINE"], // nginx passes this through as HTTP/0.9
    ["<html>hello</html>", "INVALID_STATUS_LINE"],
    ["HTTP/2.0 200 OK\r\n\r\n", "INVALID_STATUS_LINE"],
    ["HTTP/0.9 200 OK\r\n\r\n", "INVALID_STATUS_LINE"],
    ["http/1.1 200 OK\r\n\r\n", "INVALID_STATUS_LINE"],
    ["HTTP/1.1  200 OK\r\n\r\n", "INVALID_STATUS_LINE"],
    ["HTTP/1.1 20 OK\r\n\r\n", "INVALID_STATUS_LINE"],
    ["HTTP/1.1 2000 OK\r\n\r\n", "INVALID_STATUS_LINE"],
    ["HTTP/1.1 099 X\r\n\r\n", "INVALID_STATUS_LINE"],
    ["HTTP/1.1 600 X\r\n\r\n", "INVALID_STATUS_LINE"],
    ["HTTP/1.1 2x0 OK\r\n\r\n", "INVALID_STATUS_LINE"],
    ["HTTP/1.1 200 O\x01K\r\n\r\n", "INVALID_STATUS_LINE"],
    ["HTTP/1.1 200 OK\n\r\n", "BARE_LF"],
    ["HTTP/1.1 200\n\r\n", "BARE_LF"],
    ["HTTP/1.1 200 OK\rX\r\n", "BARE_CR"],
    ["HTTP/1.1 200 OK\r\n", "incomplete"],
  ])("%p → %s", (raw, error) => {
    bad(raw, error);
  });
});

describe("fields, as strict as in requests", () => {
  test("names and values kept as sent, OWS trimmed, several Set-Cookie apart", () => {
    const r = ok("HTTP/1.1 200 OK\r\nContent-Type:  text/plain \r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\nX-Empty:\r\nContent-Length: 5\r\n\r\n");
    expect(r.fields).toEqual([
      ["Content-Type", "text/plain"],
      ["Set-Cookie", "a=1"],
      ["set-cookie", "b=2"],
      ["X-Empty", ""],
      ["Content-Length", "5"],
    ]);
  });

  test.each([
    ["HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", "OBS_FOLD"],
    ["HTTP/1.1 200 OK\r\n X: a\r\n\r\n", "OBS_FOLD"],
    ["HTTP/1.1 200 OK\r\nX : a\r\n\r\n", "WHITESPACE_BEFORE_COLON"],
    ["HTTP/1.1 200 OK\r\n: a\r\n\r\n", "INVALID_HEADER_NAME"],
    ["HTTP/1.1 200 OK\r\nX(y): a\r\n\r\n", "INVALID_HEADER_NAME"],
    ["HTTP/1.1 200 OK\r\nX: a\x00b\r\n\r\n", "INVALID_HEADER_VALUE"],
    ["HTTP/1.1 200 OK\r\nX: a\nY: b\r\n\r\n", "BARE_LF"],
    ["HTTP/1.1 200 OK\r\nX: a\rY: b\r\n\r\n", "BARE_CR"],
    ["HTTP/1.1 200 OK\r\n\n", "BARE_LF"],
  ])("%p → %s", (raw, error) => {
    bad(raw, error);
  });

  test("limits: too large a head, too many fields", () => {
    const limits = { maxHeaderSize: 64, maxHeaders: 2 };
    bad(`HTTP/1.1 200 OK\r\nX: ${"a".repeat(80)}\r\n\r\n`, "HEADERS_TOO_LARGE", { limits });
    bad("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", "TOO_MANY_HEADERS", { limits });
    ok("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\n\r\n", { limits });
  });

  test("a head with more fields than the first table holds grows it", () => {
    const lines = Array.from({ length: 60 }, (_, i) => `X-${i}: ${i}\r\n`).join("");
    const r = ok(`HTTP/1.1 200 OK\r\n${lines}\r\n`);
    expect(r.fields!.length).toBe(60);
    expect(r.fields![59]).toEqual(["X-59", "59"]);
  });
});

describe("framing (RFC 9112 §6.3)", () => {
  test.each([
    ["Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n", {}, BODY.LENGTH, 42, true],
    ["Content-Length: 0", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", {}, BODY.LENGTH, 0, true],
    ["repeated, equal", "HTTP/1.1 200 OK\r\nContent-Length: 7\r\nContent-Length: 7\r\n\r\n", {}, BODY.LENGTH, 7, true],
    ["chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", {}, BODY.CHUNKED, -1, true],
    ["Chunked, any case", "HTTP/1.1 200 OK\r\ntransfer-encoding: Chunked\r\n\r\n", {}, BODY.CHUNKED, -1, true],
    ["neither: until close", "HTTP/1.1 200 OK\r\n\r\n", {}, BODY.UNTIL_CLOSE, -1, false],
    ["HTTP/1.0 with a length", "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\n", {}, BODY.LENGTH, 3, false],
    ["HTTP/1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\n", {}, BODY.LENGTH, 3, true],
    ["Connection: close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\n", {}, BODY.LENGTH, 3, false],
    ["204: none, whatever it says", "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", {}, BODY.NONE, -1, true],
    ["304: none", "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n", {}, BODY.NONE, -1, true],
    ["1xx: none", "HTTP/1.1 100 Continue\r\n\r\n", {}, BODY.NONE, -1, true],
    ["to HEAD: none", "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", { head: true }, BODY.NONE, -1, true],
    ["to HEAD, chunked: none", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", { head: true }, BODY.NONE, -1, true],
  ])("%s", (_name, raw, o, framing, length, keepAlive) => {
    const r = ok(raw, o as Options);
    expect(r.framing).toBe(framing);
    expect(r.contentLength).toBe(length);
    expect(r.keepAlive).toBe(keepAlive);
  });

  test.each([
    // Stricter than nginx, which lets the last of two Content-Lengths win.
    ["two different Content-Lengths", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", "CONFLICTING_CONTENT_LENGTH"],
    ["a list in Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n", "INVALID_CONTENT_LENGTH"],
    ["a signed Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n", "INVALID_CONTENT_LENGTH"],
    ["an empty Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n", "INVALID_CONTENT_LENGTH"],
    ["an overflowing Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 9999999999999999\r\n\r\n", "INVALID_CONTENT_LENGTH"],
    ["CL and TE together", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", "TRANSFER_ENCODING_WITH_CONTENT_LENGTH"],
    ["TE and CL together", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", "TRANSFER_ENCODING_WITH_CONTENT_LENGTH"],
    ["TE in HTTP/1.0", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "TRANSFER_ENCODING_ON_HTTP10"],
    ["chunked twice", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", "INVALID_TRANSFER_ENCODING"],
    ["chunked on two lines", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", "INVALID_TRANSFER_ENCODING"],
    ["a coding we cannot decode", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "UNSUPPORTED_TRANSFER_CODING"],
    ["gzip alone (would be close-delimited)", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "UNSUPPORTED_TRANSFER_CODING"],
    ["an empty Transfer-Encoding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: \r\n\r\n", "INVALID_TRANSFER_ENCODING"],
    ["a 2xx to CONNECT (a tunnel)", "HTTP/1.1 200 OK\r\n\r\n", "UNSUPPORTED_FRAMING"],
  ])("%s → %s", (name, raw, error) => {
    bad(raw, error, name.includes("CONNECT") ? { connect: true } : {});
  });

  test("a refused CONNECT (4xx) is an ordinary response", () => {
    const r = ok("HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\n", { connect: true });
    expect(r.framing).toBe(BODY.LENGTH);
  });
});

test("ResponseHead.header finds a field by its lower-case name", () => {
  const bytes = latin1("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-A: 1\r\n\r\n");
  const h = new ResponseHead();
  expect(parseResponseHead(bytes, 0, bytes.length, h)).toBe(bytes.length);
  expect(h.header("content-type")).toBe("text/html");
  expect(h.header("x-a")).toBe("1");
  expect(h.header("x-b")).toBeUndefined();
});
