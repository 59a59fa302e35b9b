// Delivery harness: runs one raw request head or chunked body through every way a connection can hand it over.
//
// Every mode must give the same outcome as parsing the whole input once:
//   poisoned  the input sits inside a larger buffer full of poison bytes; only the window [start, end) is given
//   guarded   as poisoned, but every indexed read outside the allowed window is recorded and reported
//   extended  a finished result stays the same when more bytes follow (they belong to the next request)
//   prefix    the buffer grows one byte at a time and [0, k) is re-parsed, as a connection re-parses its input
//   split     the first part arrives alone, then the kept tail plus the second part are parsed again
import { ChunkedDecoder, type ChunkedLimits, DEFAULT_CHUNKED_LIMITS } from "../../src/http/chunked.ts";
import { errorName, errorStatus, type HttpErrorCode } from "../../src/http/errors.ts";
import { RequestHead } from "../../src/http/head.ts";
import { DEFAULT_PARSER_LIMITS, FAILED, INCOMPLETE, type ParserLimits, parseRequestHead } from "../../src/http/parser.ts";

/** Bytes of a string whose every char code is one byte (so "\xff" is obs-text, not UTF-8). */
export function latin1(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 255) throw new Error(`latin1: char ${c} at ${i} does not fit a byte`);
    out[i] = c;
  }
  return out;
}

export function toBytes(raw: string | Uint8Array): Uint8Array {
  return typeof raw === "string" ? latin1(raw) : raw;
}

export function fromLatin1(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

/** Patterns that would change the outcome if the parser looked at them: NUL, a blank line, a token byte, obs-text, a bare LF. */
export const POISONS: readonly Uint8Array[] = [latin1("\0"), latin1("\r\n\r\n"), latin1("A"), latin1("\xff"), latin1("\n")];

/** `raw` at offset `at` of a buffer of `total` bytes, the rest filled with the repeated poison pattern. */
export function poisoned(raw: Uint8Array, at: number, total: number, poison: Uint8Array): Uint8Array {
  const out = new Uint8Array(total);
  for (let i = 0; i < total; i++) out[i] = poison[i % poison.length]!;
  out.set(raw, at);
  return out;
}

/**
 * A view of `buf` that records every indexed read outside [lo, hi) into `bad`. Only indexing is checked;
 * other properties pass through, bound to the real array.
 */
export function guarded(buf: Uint8Array, lo: number, hi: number, bad: number[]): Uint8Array {
  return new Proxy(buf, {
    get(target, prop) {
      if (typeof prop === "string") {
        const c = prop.charCodeAt(0);
        if ((c >= 48 && c <= 57) || c === 45) {
          const i = Number(prop);
          if (Number.isInteger(i) && String(i) === prop) {
            if (i < lo || i >= hi) bad.push(i);
            return target[i];
          }
        }
      }
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

class HarnessError extends Error {}

function fail(mode: string, what: string, expected: unknown, actual: unknown): never {
  throw new HarnessError(
    `${mode}: ${what}\n  expected: ${JSON.stringify(expected)}\n  actual:   ${JSON.stringify(actual)}`,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Request heads

/** The strings a RequestHead gives for a successful parse. */
export interface HeadFields {
  method: string;
  methodCode: number;
  target: string;
  path: string;
  query: string;
  minor: number;
  headers: [string, string][];
  contentLength: number;
  chunked: boolean;
  keepAlive: boolean;
  expectContinue: boolean;
  /** Where the request line starts, relative to the window start (leading CRLFs skipped). */
  headStart: number;
}

export type HeadOutcome =
  | { kind: "incomplete" }
  | { kind: "failed"; error: string; status: number; offset: number }
  /** layout: every offset the head holds, relative to the window start, plus its flags. */
  | { kind: "ok"; consumed: number; layout: number[]; fields?: HeadFields };

function layoutOf(head: RequestHead, start: number): number[] {
  const rel = (x: number): number => (x < 0 ? x : x - start);
  const out = [
    rel(head.start),
    rel(head.end),
    head.method,
    rel(head.methodEnd),
    rel(head.targetStart),
    rel(head.targetEnd),
    rel(head.pathStart),
    rel(head.queryStart),
    head.minor,
    head.headerCount,
    head.contentLength,
    head.chunked ? 1 : 0,
    head.keepAlive ? 1 : 0,
    head.expectContinue ? 1 : 0,
  ];
  for (let i = 0; i < head.headerCount * 4; i++) out.push(rel(head.offsets[i]!));
  return out;
}

export function fieldsOf(head: RequestHead, start: number): HeadFields {
  return {
    method: head.methodName,
    methodCode: head.method,
    target: head.target,
    path: head.path,
    query: head.query,
    minor: head.minor,
    headers: head.entries(),
    contentLength: head.contentLength,
    chunked: head.chunked,
    keepAlive: head.keepAlive,
    expectContinue: head.expectContinue,
    headStart: head.start - start,
  };
}

/**
 * Parses [start, end) once and describes the outcome relative to `start`. With `withFields` the strings
 * are read too (not possible through a guarded view, whose reads are checked instead).
 */
export function parseOnce(
  buf: Uint8Array,
  start: number,
  end: number,
  head: RequestHead,
  limits: ParserLimits,
  withFields: boolean,
  mode = "parse",
): HeadOutcome {
  const n = parseRequestHead(buf, start, end, head, limits);
  if (n === INCOMPLETE) return { kind: "incomplete" };
  if (n === FAILED) {
    if (!head.error) fail(mode, "FAILED without head.error", "an HTTP_ERROR code", head.error);
    const code = head.error as HttpErrorCode;
    const name = errorName(code);
    if (name === undefined) fail(mode, "unknown error code", "a named HTTP_ERROR", code);
    return { kind: "failed", error: name, status: errorStatus(code), offset: head.errorOffset - start };
  }
  if (!Number.isInteger(n) || n <= 0) fail(mode, "return value", "INCOMPLETE, FAILED or > 0", n);
  if (n > end - start) fail(mode, "consumed more than the window", `<= ${end - start}`, n);
  if (head.error !== 0) fail(mode, "head.error after success", 0, head.error);
  if (head.end - start !== n) fail(mode, "head.end disagrees with the return value", n, head.end - start);
  const out: HeadOutcome = { kind: "ok", consumed: n, layout: layoutOf(head, start) };
  if (withFields) out.fields = fieldsOf(head, start);
  return out;
}

function sameOutcome(a: HeadOutcome, b: HeadOutcome): boolean {
  if (a.kind === "ok" && b.kind === "ok") {
    if (a.consumed !== b.consumed || !Bun.deepEquals(a.layout, b.layout)) return false;
    return a.fields === undefined || b.fields === undefined || Bun.deepEquals(a.fields, b.fields);
  }
  return Bun.deepEquals(a, b);
}

function expectSame(mode: string, whole: HeadOutcome, got: HeadOutcome): void {
  if (!sameOutcome(whole, got)) fail(mode, "outcome differs from the whole input's", whole, got);
}

function expectNoBadReads(mode: string, bad: number[], lo: number, hi: number): void {
  if (bad.length > 0) fail(mode, `read outside [${lo}, ${hi})`, [], [...new Set(bad)].slice(0, 8));
}

/** Inputs longer than this are cut at a sample of positions: every one would cost O(n²) guarded reads. */
const EVERY_CUT_UP_TO = 1500;

/**
 * Positions 1..n to cut at: all of them for short inputs; else both ends, the limit boundaries, and a
 * stride through the middle.
 */
export function cutPoints(n: number, edges: readonly number[]): number[] {
  if (n <= EVERY_CUT_UP_TO) return Array.from({ length: n }, (_, i) => i + 1);
  const set = new Set<number>();
  for (let k = 1; k <= 128; k++) set.add(k);
  for (let k = n - 128; k <= n; k++) set.add(k);
  for (let k = 129; k < n - 128; k += 61) set.add(k);
  for (const edge of edges) {
    for (let k = edge - 3; k <= edge + 3; k++) if (k >= 1 && k <= n) set.add(k);
  }
  return [...set].sort((a, b) => a - b);
}

/** The most bytes the parser may look at from `start`: the window, capped at the header-size limit. */
function readLimit(start: number, end: number, limits: ParserLimits): number {
  return Math.min(end, start + limits.maxHeaderSize);
}

/**
 * Runs `raw` through every delivery mode and checks they agree; returns the whole-input outcome (with
 * fields) for the caller's own expectations. Throws a HarnessError naming the first mode that disagrees.
 */
export function checkHead(raw: string | Uint8Array, limits: ParserLimits = DEFAULT_PARSER_LIMITS): HeadOutcome {
  const bytes = toBytes(raw);
  const n = bytes.length;
  const head = new RequestHead();

  // (a) whole, in a buffer of exactly its size.
  const whole = parseOnce(bytes.slice(), 0, n, head, limits, true, "whole");

  // (b) inside poison, plain and guarded; and extended past the end when the result is final.
  for (const poison of POISONS) {
    for (const pad of [1, 7]) {
      const total = pad + n + 11;
      const buf = poisoned(bytes, pad, total, poison);
      const mode = `poisoned(${JSON.stringify(fromLatin1(poison))}, at ${pad})`;
      expectSame(mode, whole, parseOnce(buf, pad, pad + n, new RequestHead(), limits, true, mode));

      const bad: number[] = [];
      const hi = readLimit(pad, pad + n, limits);
      const g = parseOnce(guarded(buf, pad, hi, bad), pad, pad + n, new RequestHead(), limits, false, `guarded ${mode}`);
      expectNoBadReads(`guarded ${mode}`, bad, pad, hi);
      expectSame(`guarded ${mode}`, whole, g);

      if (whole.kind !== "incomplete") {
        // Bytes after a finished head cannot change it (the input is a prefix of the longer one).
        const ext = parseOnce(buf, pad, total, head, limits, true, `extended ${mode}`);
        expectSame(`extended ${mode}`, whole, ext);
      }
    }
  }

  // (c) one byte at a time, re-parsing [0, k) of a growing buffer, with one RequestHead reused as a
  // connection does. Bytes not yet received are poison, and reads of them are reported.
  // Cut positions include the limits and where the whole input finished, so sampling (long inputs) keeps them.
  const final = whole.kind === "ok" ? whole.consumed : whole.kind === "failed" ? whole.offset : n;
  const cuts = cutPoints(n, [limits.maxRequestLine, limits.maxHeaderSize, final]);
  const pad = 3;
  const grow = poisoned(new Uint8Array(0), 0, pad + n + 8, POISONS[1]!);
  let firstFinal = -1;
  let filled = 0;
  for (const k of cuts) {
    while (filled < k) grow[pad + filled] = bytes[filled++]!;
    const bad: number[] = [];
    const hi = readLimit(pad, pad + k, limits);
    const mode = `prefix [0, ${k}) of ${n}`;
    const got = parseOnce(guarded(grow, pad, hi, bad), pad, pad + k, head, limits, false, mode);
    expectNoBadReads(mode, bad, pad, hi);
    if (got.kind === "incomplete") {
      if (firstFinal >= 0) fail(mode, "INCOMPLETE after a final result", whole, got);
      continue;
    }
    expectSame(mode, whole, got);
    if (firstFinal < 0) firstFinal = k;
  }
  if (whole.kind === "ok" && firstFinal !== whole.consumed) {
    // A head is complete exactly when its last byte (the blank line's LF) arrives, never earlier or later.
    fail("prefix", "first complete prefix", whole.consumed, firstFinal);
  }
  if (whole.kind === "failed" && (firstFinal < 0 || firstFinal < whole.offset)) {
    // A failure cannot be known before the byte it blames has arrived.
    fail("prefix", "first failing prefix comes before the blamed byte", `>= ${whole.offset}`, firstFinal);
  }

  // (d) split at every i: part one alone in its own buffer, then (as the connection keeps an incomplete
  // tail) part one copied to a new buffer at some offset with part two appended, parsed again.
  for (const i of cuts) {
    if (i === n) continue;
    const mode = `split at ${i}`;
    const first = bytes.slice(0, i);
    const bad: number[] = [];
    const hi = readLimit(0, i, limits);
    const a = parseOnce(guarded(first, 0, hi, bad), 0, i, head, limits, false, `${mode}, part one`);
    expectNoBadReads(`${mode}, part one`, bad, 0, hi);
    if (a.kind !== "incomplete") expectSame(`${mode}, part one`, whole, a);
    const off = i % 5;
    const kept = new Uint8Array(off + n * 2);
    kept.set(first, off);
    kept.set(bytes.subarray(i), off + i);
    expectSame(`${mode}, both parts`, whole, parseOnce(kept, off, off + n, head, limits, true, `${mode}, both parts`));
  }
  return whole;
}

// ---------------------------------------------------------------------------------------------------------------
// Chunked bodies

export interface ChunkedOutcome {
  /** Bytes of the input the decoder took; -1 after a failure (earlier calls may have taken some). */
  consumed: number;
  done: boolean;
  /** Error name, or null. */
  error: string | null;
  /** Offset of the error in the input stream, or -1. */
  errorOffset: number;
  /** Decoded data, as Latin-1 text so it compares and prints simply. */
  body: string;
  received: number;
}

/**
 * Feeds `raw` to `decoder` in pieces cut at `cuts` (sorted positions inside the input). Each piece sits
 * alone inside a poisoned, guarded buffer, as separate socket reads do.
 */
export function decodePieces(
  decoder: ChunkedDecoder,
  raw: Uint8Array,
  cuts: readonly number[],
  mode = "decode",
  poison: Uint8Array = POISONS[1]!,
): ChunkedOutcome {
  const bounds = [0, ...cuts, raw.length];
  const parts: string[] = [];
  let consumed = 0;
  let error: string | null = null;
  let errorOffset = -1;
  for (let j = 0; j + 1 < bounds.length; j++) {
    const from = bounds[j]!;
    const to = bounds[j + 1]!;
    if (to < from) fail(mode, "cuts must be sorted", "sorted", cuts);
    const pad = 2 + (j % 5);
    const len = to - from;
    const buf = poisoned(raw.subarray(from, to), pad, pad + len + 6, poison);
    const bad: number[] = [];
    const view = guarded(buf, pad, pad + len, bad);
    const wasDone = decoder.done;
    const sink = {
      onBodyData(b: Uint8Array, s: number, e: number): void {
        if (b !== view) fail(mode, "sink got another buffer", "the decoded buffer", "a different one");
        if (s < pad || e > pad + len || s > e) fail(mode, "data range outside the window", [pad, pad + len], [s, e]);
        for (let x = s; x < e; x++) parts.push(String.fromCharCode(buf[x]!));
      },
    };
    const n = decoder.decode(view, pad, pad + len, sink);
    expectNoBadReads(`${mode}, piece [${from}, ${to})`, bad, pad, pad + len);
    if (n === FAILED) {
      if (!decoder.error) fail(mode, "FAILED without decoder.error", "an HTTP_ERROR code", decoder.error);
      error = errorName(decoder.error as HttpErrorCode);
      if (error === undefined) fail(mode, "unknown error code", "a named HTTP_ERROR", decoder.error);
      errorOffset = from + (decoder.errorOffset - pad);
      break;
    }
    if (!Number.isInteger(n) || n < 0 || n > len) fail(mode, "return value", `0..${len}`, n);
    if (wasDone && n !== 0) fail(mode, "consumed bytes after done", 0, n);
    if (n < len && !decoder.done) fail(mode, "stopped early without being done", len, n);
    consumed += n;
    if (decoder.done) break;
  }
  const body = parts.join("");
  if (decoder.received !== body.length && error === null) {
    fail(mode, "decoder.received disagrees with the data handed over", body.length, decoder.received);
  }
  if (error !== null) return { consumed: -1, done: decoder.done, error, errorOffset, body, received: -1 };
  return { consumed, done: decoder.done, error, errorOffset, body, received: decoder.received };
}

function expectSameChunked(mode: string, whole: ChunkedOutcome, got: ChunkedOutcome): void {
  if (!Bun.deepEquals(whole, got)) fail(mode, "chunked outcome differs from the whole input's", whole, got);
}

/**
 * Decodes `raw` whole (with a reset, previously failed decoder), then byte by byte, then split in two at
 * every position (a sample of them for long inputs), under each poison for the whole case; checks all
 * agree and returns the whole outcome.
 */
export function checkChunked(raw: string | Uint8Array, limits: ChunkedLimits = DEFAULT_CHUNKED_LIMITS): ChunkedOutcome {
  const bytes = toBytes(raw);
  const n = bytes.length;

  // reset() must make a used decoder as good as new: dirty every counter (body, trailer bytes) and the
  // state, then fail it, before resetting.
  const reused = new ChunkedDecoder();
  const dirt = latin1(`5;ext=1\r\nhello\r\n0\r\nX-Dirty: ${"y".repeat(40)}\0`);
  if (reused.decode(dirt, 0, dirt.length, { onBodyData() {} }) !== FAILED) fail("reset", "dirtying input", "FAILED", "not");
  reused.reset(limits);
  const whole = decodePieces(reused, bytes, [], "whole after reset()");

  for (const poison of POISONS) {
    const mode = `whole in poison ${JSON.stringify(fromLatin1(poison))}`;
    expectSameChunked(mode, whole, decodePieces(new ChunkedDecoder(limits), bytes, [], mode, poison));
  }

  const every: number[] = [];
  for (let i = 1; i < n; i++) every.push(i);
  expectSameChunked("byte by byte", whole, decodePieces(new ChunkedDecoder(limits), bytes, every, "byte by byte"));

  for (const i of cutPoints(n, [limits.maxChunkLine, limits.maxTrailerSize])) {
    if (i === n) continue;
    const mode = `split at ${i}`;
    expectSameChunked(mode, whole, decodePieces(new ChunkedDecoder(limits), bytes, [i], mode));
  }
  return whole;
}
