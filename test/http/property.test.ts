// Property tests: random and mutated input never breaks the parsers' contracts; generated valid messages round-trip.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { ChunkedDecoder, type ChunkedLimits, DEFAULT_CHUNKED_LIMITS } from "../../src/http/chunked.ts";
import { RequestHead } from "../../src/http/head.ts";
import { DEFAULT_PARSER_LIMITS, METHOD, type ParserLimits } from "../../src/http/parser.ts";
import {
  type ChunkedOutcome,
  checkHead,
  decodePieces,
  fromLatin1,
  guarded,
  type HeadFields,
  type HeadOutcome,
  latin1,
  POISONS,
  parseOnce,
  poisoned,
} from "../helpers/split.ts";

// Seeded through FC_SEED when reproducing a failure; the default run is random each time.
const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined;
const params = (numRuns: number): fc.Parameters<unknown> => (SEED === undefined ? { numRuns } : { numRuns, seed: SEED });

const SMALL: ParserLimits = { maxRequestLine: 64, maxHeaderSize: 256, maxHeaders: 4 };
const TINY: ParserLimits = { maxRequestLine: 16, maxHeaderSize: 40, maxHeaders: 2 };
const PARSER_LIMITS = [DEFAULT_PARSER_LIMITS, SMALL, TINY] as const;
const CHUNKED_SMALL: ChunkedLimits = { maxBody: 64, maxChunkLine: 12, maxTrailerSize: 24 };

const chars = (from: number, to: number, except = ""): string[] => {
  const out: string[] = [];
  for (let c = from; c <= to; c++) if (!except.includes(String.fromCharCode(c))) out.push(String.fromCharCode(c));
  return out;
};
const TCHARS = [..."!#$%&'*+-.^_`|~", ...chars(48, 57), ...chars(65, 90), ...chars(97, 122)];
const VCHARS = chars(0x21, 0x7e);
const OBS_TEXT = chars(0x80, 0xff);

const str = (unit: fc.Arbitrary<string>, minLength: number, maxLength: number): fc.Arbitrary<string> =>
  fc.string({ unit, minLength, maxLength });
const token = (min: number, max: number): fc.Arbitrary<string> => str(fc.constantFrom(...TCHARS), min, max);
const ows = str(fc.constantFrom(" ", "\t"), 0, 3);
/** A field value as the parser returns it: field-vchars, with SP/HTAB runs only between them. */
const fieldValue = fc
  .array(
    fc.tuple(
      str(fc.oneof({ arbitrary: fc.constantFrom(...VCHARS), weight: 4 }, { arbitrary: fc.constantFrom(...OBS_TEXT), weight: 1 }), 1, 8),
      str(fc.constantFrom(" ", "\t"), 1, 2),
    ),
    { maxLength: 4 },
  )
  .map((words) => words.map(([w, sep], i) => (i === 0 ? w : sep + w)).join(""));
const pick = <T>(...values: T[]): fc.Arbitrary<T> => fc.constantFrom(...values);

/** Checks the head contract for `bytes` at a few cut points, in poison, through a guarded view. */
function checkHeadCuts(bytes: Uint8Array, cuts: number[], limits: ParserLimits): HeadOutcome {
  const n = bytes.length;
  const head = new RequestHead();
  const whole = parseOnce(bytes, 0, n, head, limits, true, "whole");
  if (whole.kind === "failed") expect(whole.error).toBeString();
  for (const [j, raw] of cuts.entries()) {
    const k = n === 0 ? 0 : raw % (n + 1);
    const poison = POISONS[j % POISONS.length]!;
    const buf = poisoned(bytes.subarray(0, k), 5, k + 12, poison);
    const bad: number[] = [];
    const hi = Math.min(5 + k, 5 + limits.maxHeaderSize);
    const got = parseOnce(guarded(buf, 5, hi, bad), 5, 5 + k, head, limits, false, `prefix ${k}`);
    expect(bad).toEqual([]);
    if (got.kind !== "incomplete" || k === n) {
      expect(got.kind).toBe(whole.kind);
      if (got.kind === "ok" && whole.kind === "ok") {
        expect(got.consumed).toBe(whole.consumed);
        expect(got.layout).toEqual(whole.layout);
      } else {
        expect(got).toEqual(whole);
      }
    }
  }
  return whole;
}

// ---------------------------------------------------------------------------------------------------------------
// Valid request generator

/** A request's bytes, and what the parser must make of them (HeadFields, but for the method code). */
type GeneratedRequest = Omit<HeadFields, "methodCode" | "minor"> & { raw: string; minor: 0 | 1 };

/** Target bytes: VCHAR but '#', which starts a fragment and is refused (the table rows cover it). */
const TARGET_CHARS = chars(0x21, 0x7e, "#");
const PATH_CHARS = chars(0x21, 0x7e, "#?");
const originTarget = fc
  .tuple(str(fc.constantFrom(...PATH_CHARS), 0, 30), fc.option(str(fc.constantFrom(...TARGET_CHARS), 0, 20)))
  .map(([p, q]) => ({ target: `/${p}${q === null ? "" : `?${q}`}`, path: `/${p}`, query: q ?? "" }));
const absoluteTarget = fc
  .tuple(
    pick("http", "HTTPS", "svn+ssh", "a1.b-c"),
    str(fc.constantFrom(...chars(97, 122), ...chars(48, 57), ".", "-", ":", "@"), 1, 15),
    fc.option(str(fc.constantFrom(...PATH_CHARS), 0, 20)),
    fc.option(str(fc.constantFrom(...TARGET_CHARS), 0, 10)),
  )
  .map(([scheme, host, p, q]) => {
    const path = p === null ? "" : `/${p}`;
    return { target: `${scheme}://${host}${path}${q === null ? "" : `?${q}`}`, path: path || "/", query: q ?? "" };
  });

type Field = [name: string, value: string, before: string, after: string, key: number];
const field = (name: fc.Arbitrary<string>, value: fc.Arbitrary<string>): fc.Arbitrary<Field> =>
  fc.tuple(name, value, ows, ows, fc.nat());

const CONNECTION_TOKENS = ["close", "Close", "keep-alive", "Keep-Alive", "upgrade", "closed", "x"] as const;

const validRequest: fc.Arbitrary<GeneratedRequest> = fc
  .record({
    // CONNECT takes authority-form only (RFC 9112 §3.2.3): its own table rows cover it.
    method: fc.oneof(pick("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE"), token(1, 10)).filter((m) => m !== "CONNECT"),
    target: fc.oneof({ arbitrary: originTarget, weight: 4 }, { arbitrary: absoluteTarget, weight: 1 }),
    minor: pick<0 | 1>(0, 1),
    // The digit sent for a 1.1 request: HTTP/1.2 to HTTP/1.9 are read as 1.1 (RFC 9110 §2.5).
    sentMinor: fc.oneof({ arbitrary: fc.constant(1), weight: 3 }, { arbitrary: fc.integer({ min: 2, max: 9 }), weight: 1 }),
    leading: fc.nat(2),
    plain: fc.array(field(token(1, 12).map((t) => `X-${t}`), fieldValue), { maxLength: 8 }),
    // Host = reg-name [ ":" port ] (invalid values are table rows: they must get 400).
    host: fc.option(
      field(
        pick("Host", "host", "HOST"),
        fc
          .tuple(str(fc.constantFrom(...chars(97, 122), ".", "-"), 0, 20), fc.option(fc.integer({ min: 0, max: 65535 }), { nil: undefined }))
          .map(([name, port]) => (port === undefined ? name : `${name}:${port}`)),
      ),
      { nil: undefined },
    ),
    contentLength: fc.option(fc.tuple(fc.integer({ min: 0, max: 999_999_999_999 }), fc.nat(3), fc.nat()), { nil: undefined }),
    chunked: fc.option(fc.tuple(pick("chunked", "Chunked", "CHUNKED"), fc.nat()), { nil: undefined }),
    connection: fc.option(fc.tuple(fc.array(pick(...CONNECTION_TOKENS), { minLength: 1, maxLength: 3 }), pick(",", ", ", " ,\t"), fc.nat()), {
      nil: undefined,
    }),
    expect: fc.option(fc.tuple(pick("100-continue", "100-CONTINUE", "200-ok"), fc.nat()), { nil: undefined }),
  })
  .map((g): GeneratedRequest => {
    const fields: Field[] = [...g.plain];
    // RFC 9112 §3.2: HTTP/1.1 needs exactly one Host.
    const host = g.host ?? (g.minor === 1 ? (["Host", "h", "", "", 0] as Field) : undefined);
    if (host) fields.push(host);
    let contentLength = -1;
    let chunked = false;
    if (g.chunked && g.minor === 1) {
      chunked = true;
      fields.push(["Transfer-Encoding", g.chunked[0], " ", "", g.chunked[1]]);
    } else if (g.contentLength) {
      const [value, zeros, key] = g.contentLength;
      const digits = String(value);
      contentLength = value;
      fields.push(["Content-Length", "0".repeat(Math.min(zeros, 15 - digits.length)) + digits, "", " ", key]);
    }
    let keepAlive = g.minor === 1;
    if (g.connection) {
      const [tokens, sep, key] = g.connection;
      const lower = tokens.map((t) => t.toLowerCase());
      const close = lower.includes("close");
      keepAlive = g.minor === 1 ? !close : lower.includes("keep-alive") && !close;
      fields.push(["Connection", tokens.join(sep), "", "", key]);
    }
    if (g.expect) fields.push(["Expect", g.expect[0], " ", "\t", g.expect[1]]);
    fields.sort((a, b) => a[4] - b[4]);

    const leading = "\r\n".repeat(g.leading);
    const line = `${g.method} ${g.target.target} HTTP/1.${g.minor === 0 ? 0 : g.sentMinor}\r\n`;
    const raw = leading + line + fields.map(([n, v, b, a]) => `${n}:${b}${v}${a}\r\n`).join("") + "\r\n";
    return {
      raw,
      method: g.method,
      target: g.target.target,
      path: g.target.path,
      query: g.target.query,
      minor: g.minor,
      headers: fields.map(([n, v]) => [n, v]),
      contentLength,
      chunked,
      keepAlive,
      expectContinue: g.expect !== undefined && g.expect[0].toLowerCase() === "100-continue",
      headStart: leading.length,
    };
  });

const METHOD_CODES: Record<string, number> = METHOD;

// ---------------------------------------------------------------------------------------------------------------

describe("parseRequestHead properties", () => {
  const VOCAB = [
    "GET", "OPTIONS", "CONNECT", " ", "  ", "/", "/a?b", "#", "*", "http://h", "HTTP/1.1", "HTTP/1.0", "HTTP/1.2", "HTTP/2.0", "\r\n",
    "\r\n\r\n", "\r", "\n", "\t", "\0", "\x7f", "\xff", "Host: a", "Host", ":", ",", "0", "Content-Length: 5",
    "Content-Length:", "Transfer-Encoding: chunked", "Transfer-Encoding: gzip", "Connection: close", "Expect: 100-continue",
  ];
  const LINES = ["", "GET / HTTP/1.1\r\n", "POST /x?y HTTP/1.0\r\n", "OPTIONS * HTTP/1.1\r\n", "\r\nGET http://h HTTP/1.1\r\n"];
  const FIELDS = ["Host: a\r\n", "Content-Length: 5\r\n", "Transfer-Encoding: chunked\r\n", "Connection: close\r\n", "\r\n"];
  // Mostly a plausible start, so the soup reaches the field and framing checks rather than dying on byte 0.
  const soup = fc
    .tuple(
      fc.constantFrom(...LINES),
      fc.array(fc.oneof(fc.constantFrom(...VOCAB, ...FIELDS), fc.uint8Array({ maxLength: 6 }).map(fromLatin1)), { maxLength: 30 }),
    )
    .map(([line, parts]) => latin1(line + parts.join("")));

  test("random bytes: never throws, a valid result, the same at three cut points", () => {
    fc.assert(
      fc.property(
        fc.oneof({ arbitrary: fc.uint8Array({ maxLength: 300 }), weight: 1 }, { arbitrary: soup, weight: 3 }),
        fc.array(fc.nat(), { minLength: 3, maxLength: 3 }),
        fc.constantFrom(...PARSER_LIMITS),
        (bytes, cuts, limits) => {
          checkHeadCuts(bytes, cuts, limits);
        },
      ),
      params(2000),
    );
  });

  test("mutated valid requests: every delivery mode agrees (full harness)", () => {
    const mutation = fc.record({
      kind: pick("insert", "delete", "replace"),
      at: fc.nat(),
      byte: fc.oneof(pick(13, 10, 32, 9, 0, 58, 44, 59, 127, 255, 47, 63), fc.integer({ min: 0, max: 255 })),
    });
    fc.assert(
      fc.property(validRequest, fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.constantFrom(...PARSER_LIMITS), (req, muts, limits) => {
        const bytes = [...latin1(req.raw)];
        for (const m of muts) {
          const at = m.at % (bytes.length + (m.kind === "insert" ? 1 : 0));
          if (m.kind === "insert") bytes.splice(at, 0, m.byte);
          else if (bytes.length === 0) continue;
          else if (m.kind === "delete") bytes.splice(at, 1);
          else bytes[at] = m.byte;
        }
        const out = checkHead(Uint8Array.from(bytes), limits);
        expect(["incomplete", "failed", "ok"]).toContain(out.kind);
      }),
      params(200),
    );
  });

  test("generated valid requests parse back to the same fields", () => {
    fc.assert(
      fc.property(validRequest, fc.uint8Array({ maxLength: 12 }), fc.array(fc.nat(), { minLength: 3, maxLength: 3 }), (req, tail, cuts) => {
        const bytes = latin1(req.raw + fromLatin1(tail));
        const out = checkHeadCuts(bytes, cuts, DEFAULT_PARSER_LIMITS);
        if (out.kind !== "ok") throw new Error(`${JSON.stringify(req.raw)} gave ${JSON.stringify(out)}`);
        expect(out.consumed).toBe(req.raw.length);
        const { methodCode, ...fields } = out.fields!;
        expect(fields).toEqual({
          method: req.method,
          target: req.target,
          path: req.path,
          query: req.query,
          minor: req.minor,
          headers: req.headers,
          contentLength: req.contentLength,
          chunked: req.chunked,
          keepAlive: req.keepAlive,
          expectContinue: req.expectContinue,
          headStart: req.headStart,
        });
        expect(methodCode).toBe(Object.hasOwn(METHOD_CODES, req.method) ? METHOD_CODES[req.method]! : METHOD.OTHER);
      }),
      params(600),
    );
  });

  test("generated valid requests pass the full harness", () => {
    fc.assert(
      fc.property(validRequest, (req) => {
        expect(checkHead(req.raw).kind).toBe("ok");
      }),
      params(60),
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Chunked encoder for the round trip

const bws = str(fc.constantFrom(" ", "\t"), 0, 2);
const quoted = str(
  fc.oneof(
    { arbitrary: fc.constantFrom(...chars(0x20, 0x7e, '"\\'), "\t", ...OBS_TEXT.slice(0, 8)), weight: 6 },
    { arbitrary: fc.constantFrom(...VCHARS).map((c) => `\\${c}`), weight: 1 },
  ),
  0,
  10,
).map((s) => `"${s}"`);
const chunkExt = fc
  .array(fc.tuple(bws, bws, token(1, 8), fc.option(fc.tuple(bws, bws, fc.oneof(token(1, 8), quoted)))), { maxLength: 3 })
  .map((exts) =>
    exts.map(([b1, b2, name, v]) => `${b1};${b2}${name}${v === null ? "" : `${v[0]}=${v[1]}${v[2]}`}`).join(""),
  );
const trailers = fc.array(fc.tuple(token(1, 10).map((t) => `T-${t}`), ows, fieldValue, ows), { maxLength: 3 });

interface ChunkLineStyle {
  zeros: number;
  upper: boolean;
  ext: string;
}
const lineStyle: fc.Arbitrary<ChunkLineStyle> = fc.record({ zeros: fc.nat(3), upper: fc.boolean(), ext: chunkExt });

function encodeChunked(
  body: Uint8Array,
  bounds: number[],
  styles: ChunkLineStyle[],
  trailerFields: [string, string, string, string][],
): string {
  const cuts = [...new Set(bounds.map((b) => (body.length === 0 ? 0 : b % body.length)).filter((b) => b > 0))].sort(
    (a, b) => a - b,
  );
  const edges = [0, ...cuts, body.length];
  const style = (i: number): ChunkLineStyle => styles[i % Math.max(styles.length, 1)] ?? { zeros: 0, upper: false, ext: "" };
  const sizeLine = (size: number, s: ChunkLineStyle): string => {
    const hex = size.toString(16);
    return `${"0".repeat(s.zeros)}${s.upper ? hex.toUpperCase() : hex}${s.ext}\r\n`;
  };
  let out = "";
  for (let i = 0; i + 1 < edges.length; i++) {
    const size = edges[i + 1]! - edges[i]!;
    if (size === 0) continue;
    out += sizeLine(size, style(i)) + fromLatin1(body.subarray(edges[i]!, edges[i + 1]!)) + "\r\n";
  }
  out += sizeLine(0, style(edges.length));
  for (const [name, b, value, a] of trailerFields) out += `${name}:${b}${value}${a}\r\n`;
  return `${out}\r\n`;
}

function sortedCuts(raw: number[], n: number): number[] {
  return [...new Set(raw.map((c) => (n <= 1 ? 0 : (c % (n - 1)) + 1)).filter((c) => c > 0 && c < n))].sort((a, b) => a - b);
}

describe("ChunkedDecoder properties", () => {
  test("any body, chunked any way, with extensions and trailers, decodes back however it is split", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 400 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.array(lineStyle, { maxLength: 4 }),
        trailers,
        fc.uint8Array({ maxLength: 10 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (body, bounds, styles, trailerFields, tail, rawCuts) => {
          const encoded = encodeChunked(body, bounds, styles, trailerFields);
          const input = latin1(encoded + fromLatin1(tail));
          const expected: ChunkedOutcome = {
            consumed: encoded.length,
            done: true,
            error: null,
            errorOffset: -1,
            body: fromLatin1(body),
            received: body.length,
          };
          expect(decodePieces(new ChunkedDecoder(), input, [], "whole")).toEqual(expected);
          expect(decodePieces(new ChunkedDecoder(), input, sortedCuts(rawCuts, input.length), "cut")).toEqual(expected);
        },
      ),
      params(300),
    );
  });

  test("one-byte pieces of a generated body", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 60 }), fc.array(fc.nat(), { maxLength: 4 }), fc.array(lineStyle, { maxLength: 2 }), trailers, (body, bounds, styles, t) => {
        const input = latin1(encodeChunked(body, bounds, styles, t));
        const every = Array.from({ length: Math.max(input.length - 1, 0) }, (_, i) => i + 1);
        const got = decodePieces(new ChunkedDecoder(), input, every, "byte by byte");
        expect(got).toMatchObject({ consumed: input.length, done: true, error: null, body: fromLatin1(body) });
      }),
      params(200),
    );
  });

  test("random bytes: never throws, and the outcome does not depend on the cuts", () => {
    const VOCAB = ["0", "5", "a", "F", "\r\n", "\r", "\n", ";", "=", '"', " ", "\t", "hello", "X: y", ":", "\0", "\xff", "0\r\n\r\n"];
    const soup = fc
      .array(fc.oneof(fc.constantFrom(...VOCAB), fc.uint8Array({ maxLength: 4 }).map(fromLatin1)), { maxLength: 40 })
      .map((parts) => latin1(parts.join("")));
    fc.assert(
      fc.property(
        fc.oneof(fc.uint8Array({ maxLength: 200 }), soup),
        fc.array(fc.nat(), { maxLength: 5 }),
        fc.constantFrom(DEFAULT_CHUNKED_LIMITS, CHUNKED_SMALL),
        (bytes, rawCuts, limits) => {
          const whole = decodePieces(new ChunkedDecoder(limits), bytes, [], "whole");
          const cut = decodePieces(new ChunkedDecoder(limits), bytes, sortedCuts(rawCuts, bytes.length), "cut");
          expect(cut).toEqual(whole);
          if (whole.error === null) expect(whole.consumed === bytes.length || whole.done).toBe(true);
        },
      ),
      params(2000),
    );
  });
});
