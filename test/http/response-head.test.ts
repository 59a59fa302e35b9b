// The pure head writer: framing (RFC 9112 §6), our framing fields over the handler's, Date/Server,
// the default type, and refusing fields that would split the response. One row per case.
import { describe, expect, test } from "bun:test";
import { OutBuffer } from "../../src/http/response.ts";
import {
  chooseFraming,
  FRAMING,
  type Framing,
  type HeadInput,
  INVALID_HEAD,
  writeResponseHead,
} from "../../src/http/response-head.ts";

const enc = new TextEncoder();
const DATE = enc.encode("Date: Thu, 01 Jan 2026 00:00:00 GMT\r\n");
const TYPE = enc.encode("Content-Type: application/octet-stream\r\n");

function input(over: Partial<HeadInput>): HeadInput {
  return {
    status: 200,
    headers: undefined,
    length: 0,
    defaultType: undefined,
    minor: 1,
    keepAlive: true,
    dateLine: DATE,
    upgrade: false,
    headWithoutBody: false,
    ...over,
  };
}

interface Written {
  framing: Framing | typeof INVALID_HEAD;
  text: string;
  statusLine: string;
  /** Lower-cased name → every value, in order. */
  fields: Map<string, string[]>;
  lines: string[];
}

function write(over: Partial<HeadInput>): Written {
  const out = new OutBuffer(64);
  const framing = writeResponseHead(out, input(over));
  const text = out.buf.toString("latin1", 0, out.len);
  const lines = text.split("\r\n");
  const fields = new Map<string, string[]>();
  for (const line of lines.slice(1)) {
    if (line === "") continue;
    const i = line.indexOf(": ");
    const name = line.slice(0, i).toLowerCase();
    fields.set(name, [...(fields.get(name) ?? []), line.slice(i + 2)]);
  }
  return { framing, text, statusLine: lines[0]!, fields, lines };
}

describe("chooseFraming", () => {
  const rows: [string, number, number, number, Framing][] = [
    ["100 Continue", 100, -1, 1, FRAMING.NONE],
    ["101 with a length", 101, 10, 1, FRAMING.NONE],
    ["103 Early Hints", 103, -1, 0, FRAMING.NONE],
    ["204, length known", 204, 5, 1, FRAMING.NONE],
    ["204, length unknown", 204, -1, 0, FRAMING.NONE],
    ["304, length known", 304, 100, 1, FRAMING.NONE],
    ["200, length known, 1.1", 200, 5, 1, FRAMING.LENGTH],
    ["200, length 0", 200, 0, 1, FRAMING.LENGTH],
    ["200, length known, 1.0", 200, 5, 0, FRAMING.LENGTH],
    ["200, unknown, 1.1", 200, -1, 1, FRAMING.CHUNKED],
    ["200, unknown, 1.0", 200, -1, 0, FRAMING.CLOSE],
    ["404, unknown, 1.1", 404, -1, 1, FRAMING.CHUNKED],
    ["205, length known", 205, 0, 1, FRAMING.LENGTH],
  ];
  for (const [name, status, length, minor, framing] of rows) {
    test(name, () => expect(chooseFraming(status, length, minor)).toBe(framing));
  }
});

interface Row {
  name: string;
  in: Partial<HeadInput>;
  framing: Framing | typeof INVALID_HEAD;
  status?: string;
  /** Fields that must appear, exactly these values in this order. */
  has?: Record<string, string[]>;
  /** Fields that must not appear. */
  lacks?: string[];
}

const invalid = (name: string, headers: HeadInput["headers"]): Row => ({ name, in: { length: 0, headers }, framing: INVALID_HEAD });

const ROWS: Row[] = [
  // --- statuses -------------------------------------------------------------------------------------------------
  {
    name: "200 with a length: Content-Length, no Connection on 1.1 keep-alive",
    in: { length: 5 },
    framing: FRAMING.LENGTH,
    status: "HTTP/1.1 200 OK",
    has: { "content-length": ["5"], server: ["bunhttp"], date: ["Thu, 01 Jan 2026 00:00:00 GMT"] },
    lacks: ["connection", "transfer-encoding"],
  },
  {
    name: "200 with length 0 says Content-Length: 0",
    in: { length: 0 },
    framing: FRAMING.LENGTH,
    has: { "content-length": ["0"] },
    lacks: ["transfer-encoding"],
  },
  {
    name: "200 of unknown length on 1.1 is chunked",
    in: { length: -1 },
    framing: FRAMING.CHUNKED,
    has: { "transfer-encoding": ["chunked"] },
    lacks: ["content-length", "connection"],
  },
  {
    name: "1xx carries no framing fields",
    in: { status: 103, length: -1, headers: [["Link", "</a.css>; rel=preload"]] },
    framing: FRAMING.NONE,
    has: { link: ["</a.css>; rel=preload"] },
    lacks: ["content-length", "transfer-encoding"],
  },
  {
    name: "101 upgrade: Connection: Upgrade, no framing, Upgrade kept",
    in: { status: 101, length: 0, upgrade: true, headers: [["Upgrade", "websocket"]] },
    framing: FRAMING.NONE,
    status: "HTTP/1.1 101 Switching Protocols",
    has: { connection: ["Upgrade"], upgrade: ["websocket"] },
    lacks: ["content-length", "transfer-encoding"],
  },
  {
    name: "101 upgrade wins over keepAlive false",
    in: { status: 101, length: 0, upgrade: true, keepAlive: false },
    framing: FRAMING.NONE,
    has: { connection: ["Upgrade"] },
  },
  {
    name: "204 with a known length carries no Content-Length",
    in: { status: 204, length: 12 },
    framing: FRAMING.NONE,
    status: "HTTP/1.1 204 No Content",
    lacks: ["content-length", "transfer-encoding"],
  },
  {
    name: "204 drops a Content-Length the handler declared",
    in: { status: 204, length: 0, headers: [["Content-Length", "12"]] },
    framing: FRAMING.NONE,
    lacks: ["content-length"],
  },
  {
    name: "304 keeps a declared Content-Length (RFC 9110 §8.6)",
    in: { status: 304, length: 0, headers: [["ETag", '"x"'], ["Content-Length", "1234"]] },
    framing: FRAMING.NONE,
    status: "HTTP/1.1 304 Not Modified",
    has: { "content-length": ["1234"], etag: ['"x"'] },
    lacks: ["transfer-encoding"],
  },
  {
    name: "304 without a declared Content-Length has none",
    in: { status: 304, length: 0, headers: [["ETag", '"x"']] },
    framing: FRAMING.NONE,
    lacks: ["content-length"],
  },
  {
    name: "HEAD without a body keeps a declared Content-Length (what GET would get)",
    in: { status: 200, length: 0, headWithoutBody: true, headers: [["Content-Length", "999"]] },
    framing: FRAMING.LENGTH,
    has: { "content-length": ["999"] },
  },
  {
    name: "a declared Content-Length is not kept when there is a body or it is not a HEAD",
    in: { status: 200, length: 0, headers: [["Content-Length", "999"]] },
    framing: FRAMING.LENGTH,
    has: { "content-length": ["0"] },
  },
  {
    name: "304 ignores a declared Content-Length that is not a number",
    in: { status: 304, length: 0, headers: [["Content-Length", "12abc"]] },
    framing: FRAMING.NONE,
    lacks: ["content-length"],
  },

  // --- versions and keep-alive ----------------------------------------------------------------------------------
  {
    name: "1.0 with unknown length: close-delimited, Connection: close",
    in: { minor: 0, length: -1 },
    framing: FRAMING.CLOSE,
    has: { connection: ["close"] },
    lacks: ["transfer-encoding", "content-length"],
  },
  {
    name: "1.0 with unknown length and keepAlive: still close",
    in: { minor: 0, length: -1, keepAlive: true },
    framing: FRAMING.CLOSE,
    has: { connection: ["close"] },
  },
  {
    name: "1.0 keep-alive with a length: Connection: keep-alive",
    in: { minor: 0, length: 3, keepAlive: true },
    framing: FRAMING.LENGTH,
    has: { connection: ["keep-alive"], "content-length": ["3"] },
  },
  {
    name: "1.0 without keep-alive: Connection: close",
    in: { minor: 0, length: 3, keepAlive: false },
    framing: FRAMING.LENGTH,
    has: { connection: ["close"] },
  },
  {
    name: "1.1 with keepAlive false: Connection: close",
    in: { length: 3, keepAlive: false },
    framing: FRAMING.LENGTH,
    has: { connection: ["close"] },
  },
  {
    name: "1.1 chunked with keepAlive false: chunked and Connection: close",
    in: { length: -1, keepAlive: false },
    framing: FRAMING.CHUNKED,
    has: { connection: ["close"], "transfer-encoding": ["chunked"] },
  },
  {
    name: "the status line says HTTP/1.1 also to a 1.0 client",
    in: { minor: 0, length: 0 },
    framing: FRAMING.LENGTH,
    status: "HTTP/1.1 200 OK",
  },

  // --- the handler's framing fields are ours --------------------------------------------------------------------
  {
    name: "handler Content-Length, Transfer-Encoding, Connection, Keep-Alive are dropped",
    in: {
      length: 5,
      headers: [
        ["Content-Length", "999"],
        ["Transfer-Encoding", "gzip, chunked"],
        ["Connection", "close"],
        ["Keep-Alive", "timeout=5"],
        ["X-Kept", "yes"],
      ],
    },
    framing: FRAMING.LENGTH,
    has: { "content-length": ["5"], "x-kept": ["yes"] },
    lacks: ["transfer-encoding", "connection", "keep-alive"],
  },
  {
    name: "framing fields are dropped whatever their case",
    in: { length: -1, headers: { "CONTENT-LENGTH": "9", "transfer-encoding": "identity", CONNECTION: "upgrade", "keep-ALIVE": "x" } },
    framing: FRAMING.CHUNKED,
    has: { "transfer-encoding": ["chunked"] },
    lacks: ["content-length", "connection", "keep-alive"],
  },
  {
    name: "a handler Content-Length never replaces the real one",
    in: { length: 2, headers: [["content-length", "200"]] },
    framing: FRAMING.LENGTH,
    has: { "content-length": ["2"] },
  },

  // --- Date and Server ------------------------------------------------------------------------------------------
  {
    name: "a handler Date is kept and ours left out",
    in: { length: 0, headers: [["Date", "Mon, 02 Feb 2026 10:00:00 GMT"]] },
    framing: FRAMING.LENGTH,
    has: { date: ["Mon, 02 Feb 2026 10:00:00 GMT"], server: ["bunhttp"] },
  },
  {
    name: "a handler Server is kept and ours left out",
    in: { length: 0, headers: { server: "other/1.0" } },
    framing: FRAMING.LENGTH,
    has: { server: ["other/1.0"], date: ["Thu, 01 Jan 2026 00:00:00 GMT"] },
  },

  // --- the default type -----------------------------------------------------------------------------------------
  {
    name: "defaultType when no Content-Type",
    in: { length: 4, defaultType: TYPE },
    framing: FRAMING.LENGTH,
    has: { "content-type": ["application/octet-stream"] },
  },
  {
    name: "defaultType on a stream of unknown length",
    in: { length: -1, defaultType: TYPE },
    framing: FRAMING.CHUNKED,
    has: { "content-type": ["application/octet-stream"] },
  },
  {
    name: "no defaultType when the handler set a Content-Type",
    in: { length: 4, defaultType: TYPE, headers: [["content-type", "text/html"]] },
    framing: FRAMING.LENGTH,
    has: { "content-type": ["text/html"] },
  },
  { name: "no defaultType on 204", in: { status: 204, length: 4, defaultType: TYPE }, framing: FRAMING.NONE, lacks: ["content-type"] },
  { name: "no defaultType on 304", in: { status: 304, length: 4, defaultType: TYPE }, framing: FRAMING.NONE, lacks: ["content-type"] },
  { name: "no defaultType on an empty body", in: { length: 0, defaultType: TYPE }, framing: FRAMING.LENGTH, lacks: ["content-type"] },

  // --- values that would split the response ---------------------------------------------------------------------
  invalid("CR LF in a value", [["X-A", "a\r\nInjected: 1"]]),
  invalid("bare LF in a value", [["X-A", "a\nb"]]),
  invalid("bare CR in a value", [["X-A", "a\rb"]]),
  invalid("NUL in a value", [["X-A", "a\0b"]]),
  invalid("U+010D in a value (its low byte is CR)", [["X-A", "a\u010d\u010aInjected: 1"]]),
  invalid("an emoji in a value", { "X-A": "hi \u{1f600}" }),
  invalid("CR LF in a name", [["X-A\r\nInjected", "1"]]),
  invalid("a space in a name", [["X A", "1"]]),
  invalid("an empty name", [["", "1"]]),
  invalid("CR LF in one value of an array", { "Set-Cookie": ["a=1", "b=2\r\nX: y"] }),
  invalid("CR LF in a dropped framing field is refused too", [["Connection", "close\r\nX: y"]]),
  {
    name: "Latin-1 obs-text and HTAB are allowed",
    in: { length: 0, headers: [["X-A", "caf\u00e9\tok"]] },
    framing: FRAMING.LENGTH,
    has: { "x-a": ["caf\u00e9\tok"] },
  },

  // --- header forms ---------------------------------------------------------------------------------------------
  {
    name: "array form keeps order and repeats",
    in: { length: 0, headers: [["X-A", "1"], ["X-B", "2"], ["X-A", "3"]] },
    framing: FRAMING.LENGTH,
    has: { "x-a": ["1", "3"], "x-b": ["2"] },
  },
  {
    name: "record form: an array value is one line per value",
    in: { length: 0, headers: { "Set-Cookie": ["a=1", "b=2"], "X-One": "1" } },
    framing: FRAMING.LENGTH,
    has: { "set-cookie": ["a=1", "b=2"], "x-one": ["1"] },
  },
  {
    name: "record form: a number value",
    in: { length: 0, headers: { "X-Count": 42 } },
    framing: FRAMING.LENGTH,
    has: { "x-count": ["42"] },
  },
  {
    name: "Headers object: Set-Cookie stays separate lines, other repeats joined",
    in: {
      length: 0,
      headers: (() => {
        const h = new Headers();
        h.append("Set-Cookie", "a=1; Path=/");
        h.append("Set-Cookie", "b=2");
        h.append("X-Many", "1");
        h.append("X-Many", "2");
        h.set("Content-Length", "77");
        return h;
      })(),
    },
    framing: FRAMING.LENGTH,
    has: { "set-cookie": ["a=1; Path=/", "b=2"], "x-many": ["1, 2"], "content-length": ["0"] },
  },
  {
    name: "an empty Headers object",
    in: { length: 1, headers: new Headers() },
    framing: FRAMING.LENGTH,
    has: { "content-length": ["1"] },
  },
  {
    name: "pre-encoded header bytes are copied as they are",
    in: { length: 1, headers: enc.encode("X-Pre: 1\r\n") },
    framing: FRAMING.LENGTH,
    has: { "x-pre": ["1"], "content-length": ["1"] },
  },
];

describe("writeResponseHead", () => {
  for (const row of ROWS) {
    test(row.name, () => {
      const w = write(row.in);
      expect(w.framing).toBe(row.framing);
      if (row.framing === INVALID_HEAD) {
        expect(w.text).toBe("");
        return;
      }
      expect(w.text.endsWith("\r\n\r\n")).toBe(true);
      // Exactly one blank line: the end of the head.
      expect(w.text.indexOf("\r\n\r\n")).toBe(w.text.length - 4);
      if (row.status !== undefined) expect(w.statusLine).toBe(row.status);
      for (const [name, values] of Object.entries(row.has ?? {})) expect(w.fields.get(name)).toEqual(values);
      for (const name of row.lacks ?? []) expect(w.fields.get(name)).toBeUndefined();
      // Ours are never doubled.
      expect(w.fields.get("date")?.length).toBe(1);
      expect(w.fields.get("server")?.length).toBe(1);
      expect(w.fields.get("connection")?.length ?? 0).toBeLessThanOrEqual(1);
      expect(w.fields.get("content-length")?.length ?? 0).toBeLessThanOrEqual(1);
    });
  }

  test("INVALID_HEAD leaves the buffer as it was, bytes before the head included", () => {
    const out = new OutBuffer(16);
    const before = enc.encode("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    out.bytes(before);
    // Enough good fields first that the buffer grows before the bad one is seen.
    const headers: [string, string][] = [];
    for (let i = 0; i < 100; i++) headers.push([`X-Field-${i}`, "v".repeat(50)]);
    headers.push(["X-Bad", "a\r\nb"]);
    expect(writeResponseHead(out, input({ headers, length: 0 }))).toBe(INVALID_HEAD);
    expect(out.len).toBe(before.length);
    expect(out.buf.subarray(0, out.len)).toEqual(Buffer.from(before));
  });

  test("a head written after an earlier one appends to it", () => {
    const out = new OutBuffer(16);
    writeResponseHead(out, input({ length: 0 }));
    const first = out.len;
    writeResponseHead(out, input({ status: 404, length: 0 }));
    expect(out.buf.toString("latin1", first, out.len).startsWith("HTTP/1.1 404 Not Found\r\n")).toBe(true);
  });

  test("a 304 after one with a declared length does not inherit it", () => {
    write({ status: 304, length: 0, headers: [["Content-Length", "55"]] });
    expect(write({ status: 304, length: 0 }).fields.get("content-length")).toBeUndefined();
  });

  test("keys added to Object.prototype are not written", () => {
    const proto = Object.prototype as Record<string, unknown>;
    proto["X-Polluted"] = "yes";
    try {
      const w = write({ length: 0, headers: { "X-Own": "1" } });
      expect(w.framing).toBe(FRAMING.LENGTH);
      expect(w.fields.get("x-own")).toEqual(["1"]);
      expect(w.fields.get("x-polluted")).toBeUndefined();
    } finally {
      delete proto["X-Polluted"];
    }
  });

  test("a polluted prototype cannot turn on Content-Length or Connection", () => {
    const proto = Object.prototype as Record<string, unknown>;
    proto["Connection"] = "close";
    proto["Transfer-Encoding"] = "chunked";
    try {
      const w = write({ length: -1, headers: {} });
      expect(w.fields.get("transfer-encoding")).toEqual(["chunked"]);
      expect(w.fields.get("connection")).toBeUndefined();
    } finally {
      delete proto["Connection"];
      delete proto["Transfer-Encoding"];
    }
  });

  test("an unknown status gets Bun's reason, and one outside 100-999 throws", () => {
    expect(write({ status: 599, length: 0 }).statusLine).toBe("HTTP/1.1 599 HM");
    expect(write({ status: 103, length: 0 }).statusLine).toBe("HTTP/1.1 103 Early Hints");
    expect(() => write({ status: 1000, length: 0 })).toThrow(RangeError);
  });
});
