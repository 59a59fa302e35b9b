// What crosses the proxy, as bytes: the request head sent upstream and the response fields sent back.
// Hop-by-hop fields never cross (RFC 9110 §7.6.1): Connection and every field it names, Keep-Alive,
// Proxy-Connection, TE, Trailer, Transfer-Encoding, Upgrade (but on a handshake), Proxy-Authorization
// and Proxy-Authenticate. Framing is ours on each side (Content-Length, chunked), and so are Date and
// Server on the way back (as nginx). Host goes up as the client sent it; X-Forwarded-For gets the peer
// appended, X-Forwarded-Proto and X-Forwarded-Host are set, and what a client sent of them (and of
// Forwarded) is kept only when the peer is a trusted proxy; Via gets us added (RFC 9110 §7.6.3). Field lines are copied in runs of the
// bytes received: the parsers checked them, and no string is made for a field that is passed on.
import { copyBytes, LOWER } from "../http/chars.ts";
import type { RequestHead } from "../http/head.ts";
import type { ResponseHead } from "../http/response-parser.ts";

const encoder = new TextEncoder();

/** What a field is to the proxy. */
const KIND = {
  PASS: 0,
  /** Hop by hop, or framing: never forwarded. */
  DROP: 1,
  X_FORWARDED_FOR: 2,
  X_FORWARDED_PROTO: 3,
  X_FORWARDED_HOST: 4,
  FORWARDED: 5,
  HOST: 6,
  UPGRADE: 7,
  CONNECTION: 8,
  VIA: 9,
} as const;

/** Names by length, each with its kind; both directions share the hop-by-hop ones. */
function table(entries: [string, number][]): [string, number][][] {
  const byLength: [string, number][][] = [];
  for (const e of entries) (byLength[e[0].length] ??= []).push(e);
  return byLength;
}
const HOP: [string, number][] = [
  ["connection", KIND.CONNECTION],
  ["keep-alive", KIND.DROP],
  ["proxy-connection", KIND.DROP],
  ["te", KIND.DROP],
  ["trailer", KIND.DROP],
  ["transfer-encoding", KIND.DROP],
  ["upgrade", KIND.UPGRADE],
  ["proxy-authorization", KIND.DROP],
  ["proxy-authenticate", KIND.DROP],
  ["content-length", KIND.DROP],
];
const REQUEST_NAMES = table([
  ...HOP,
  // We answer 100-continue ourselves, when the body is first read.
  ["expect", KIND.DROP],
  ["x-forwarded-for", KIND.X_FORWARDED_FOR],
  ["x-forwarded-proto", KIND.X_FORWARDED_PROTO],
  ["x-forwarded-host", KIND.X_FORWARDED_HOST],
  ["forwarded", KIND.FORWARDED],
  ["host", KIND.HOST],
  ["via", KIND.VIA],
]);
const RESPONSE_NAMES = table([...HOP, ["date", KIND.DROP], ["server", KIND.DROP]]);

function kindOf(names: [string, number][][], buf: Uint8Array, start: number, end: number): number {
  const candidates = names[end - start];
  if (candidates === undefined) return KIND.PASS;
  outer: for (let k = 0; k < candidates.length; k++) {
    const name = candidates[k]![0];
    for (let i = 0; i < name.length; i++) if (LOWER[buf[start + i]!] !== name.charCodeAt(i)) continue outer;
    return candidates[k]![1];
  }
  return KIND.PASS;
}

/** Fields named by Connection: [start, end) pairs of option tokens, in the head's buffer. */
const named: number[] = [];

/** Notes the tokens of a Connection value (comma-separated, optional whitespace) in `named`. */
function noteConnectionTokens(buf: Uint8Array, start: number, end: number): void {
  let p = start;
  while (p < end) {
    while (p < end && (buf[p] === 44 || buf[p] === 32 || buf[p] === 9)) p++;
    const s = p;
    while (p < end && buf[p] !== 44 && buf[p] !== 32 && buf[p] !== 9) p++;
    if (p > s) named.push(s, p);
  }
}

function isNamed(buf: Uint8Array, start: number, end: number): boolean {
  for (let k = 0; k < named.length; k += 2) {
    const s = named[k]!;
    if (named[k + 1]! - s !== end - start) continue;
    let same = true;
    for (let i = 0; i < end - start; i++) {
      if (LOWER[buf[s + i]!] !== LOWER[buf[start + i]!]) {
        same = false;
        break;
      }
    }
    if (same) return true;
  }
  return false;
}

/** Marks each field's kind in `kinds` (hop-by-hop ones named by Connection become DROP). */
function classify(names: [string, number][][], buf: Uint8Array, offsets: Int32Array, count: number, kinds: Uint8Array): void {
  named.length = 0;
  for (let i = 0; i < count; i++) {
    const o = i << 2;
    const kind = kindOf(names, buf, offsets[o]!, offsets[o + 1]!);
    kinds[i] = kind;
    if (kind === KIND.CONNECTION) noteConnectionTokens(buf, offsets[o + 2]!, offsets[o + 3]!);
  }
  if (named.length === 0) return;
  for (let i = 0; i < count; i++) {
    const o = i << 2;
    // (Upgrade is named on every handshake: it is dropped or kept as the exchange says.)
    if (kinds[i] === KIND.PASS && isNamed(buf, offsets[o]!, offsets[o + 1]!)) kinds[i] = KIND.DROP;
  }
}

let kinds = new Uint8Array(128);
function kindsFor(count: number): Uint8Array {
  if (kinds.length < count) kinds = new Uint8Array(count * 2);
  return kinds;
}

/**
 * Heads are written here, then copied out at their exact length with slice(): a subarray() would
 * make the engine materialize an ArrayBuffer for the view, which costs more than the copy.
 */
let scratch = new Uint8Array(16 * 1024);
function scratchFor(n: number): Uint8Array {
  if (scratch.length < n) scratch = new Uint8Array(Math.max(n, scratch.length * 2));
  return scratch;
}

/**
 * A field line runs from its name to the next field's name (or the head's blank line): the bytes
 * received, whitespace and CRLF included. Copies the kept lines, a run of neighbours at a time.
 */
function copyKept(buf: Uint8Array, offsets: Int32Array, count: number, kinds: Uint8Array, headEnd: number, out: Uint8Array, at: number): number {
  let runStart = -1;
  for (let i = 0; i <= count; i++) {
    const lineStart = i < count ? offsets[i << 2]! : headEnd - 2;
    const keep = i < count && kinds[i] === KIND.PASS;
    if (keep && runStart < 0) runStart = lineStart;
    else if (!keep && runStart >= 0) {
      copyBytes(buf, runStart, lineStart, out, at);
      at += lineStart - runStart;
      runStart = -1;
    }
  }
  return at;
}

function writeLatin1(out: Uint8Array, at: number, s: string): number {
  for (let i = 0; i < s.length; i++) out[at + i] = s.charCodeAt(i);
  return at + s.length;
}

export interface ForwardInput {
  /** The peer's address, for X-Forwarded-For. */
  peer: string;
  /** Whether the peer is a trusted proxy (--trust-proxy): its forwarding fields are kept. */
  trusted: boolean;
  /** "http" or "https": how the client reached us. */
  proto: string;
  /** Host for an HTTP/1.0 request that sent none: the upstream's authority. */
  fallbackHost: string;
  /** The body's framing upstream: its length, -1 for chunked, 0 for none. */
  bodyLength: number;
  /** The client sent `Content-Length: 0`: so do we (some upstreams want one on every POST). */
  explicitZero: boolean;
  /** A protocol-switch handshake (WebSocket): Upgrade and `Connection: upgrade` go up. */
  upgrade: boolean;
}

const HTTP11 = encoder.encode(" HTTP/1.1\r\n");
const XFF = encoder.encode("X-Forwarded-For: ");
const XFP = encoder.encode("X-Forwarded-Proto: ");
const XFH = encoder.encode("X-Forwarded-Host: ");
const HOST = encoder.encode("Host: ");
const CL = encoder.encode("Content-Length: ");
const TE_CHUNKED = encoder.encode("Transfer-Encoding: chunked\r\n");
const CONN_UPGRADE = encoder.encode("Connection: upgrade\r\n");
const UPGRADE = encoder.encode("Upgrade: ");
const COMMA_SP = encoder.encode(", ");
const VIA = encoder.encode("Via: ");
const VIA_11 = encoder.encode("1.1 bunhttp\r\n");
const VIA_10 = encoder.encode("1.0 bunhttp\r\n");

function put(out: Uint8Array, at: number, bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) out[at + i] = bytes[i]!;
  return at + bytes.length;
}

/** Appends `name: value` for the first field of `kind`, or the fields of it joined by ", ": the value bytes. */
function putValues(buf: Uint8Array, offsets: Int32Array, count: number, kinds: Uint8Array, kind: number, out: Uint8Array, at: number): number {
  let first = true;
  for (let i = 0; i < count; i++) {
    if (kinds[i] !== kind) continue;
    if (!first) at = put(out, at, COMMA_SP);
    const o = i << 2;
    copyBytes(buf, offsets[o + 2]!, offsets[o + 3]!, out, at);
    at += offsets[o + 3]! - offsets[o + 2]!;
    first = false;
  }
  return first ? -at - 1 : at;
}

/**
 * The request head for the upstream (request line, the fields that cross, ours, the framing), and
 * `body` after it when given, written at the start of scratchBytes(); returns their length. The
 * caller writes them to the socket from there: no array is made for them (see scratch).
 */
export function upstreamRequestHead(head: RequestHead, f: ForwardInput, body: Uint8Array | null = null): number {
  const buf = head.buf;
  const count = head.headerCount;
  const offsets = head.offsets;
  const k = kindsFor(count);
  classify(REQUEST_NAMES, buf, offsets, count, k);
  // Room: the head as received, twice (Host's value goes up twice: Host and X-Forwarded-Host), and
  // ours (the addresses, a Host for a request without one, the framing and fixed names).
  const size = head.end - head.start;
  const out = scratchFor(size * 2 + f.peer.length + f.proto.length + f.fallbackHost.length * 2 + 256 + (body?.length ?? 0));
  // Origin-form: the path and query as sent (absolute-form's authority is the Host below).
  copyBytes(buf, head.start, head.methodEnd + 1, out, 0);
  let at = head.methodEnd + 1 - head.start;
  if (head.pathStart === head.targetEnd || buf[head.pathStart] !== 47) out[at++] = 47; // "/"
  copyBytes(buf, head.pathStart, head.targetEnd, out, at);
  at += head.targetEnd - head.pathStart;
  at = put(out, at, HTTP11);
  at = copyKept(buf, offsets, count, k, head.end, out, at);
  // Host as sent; HTTP/1.0 may send none, HTTP/1.1 upstreams need one.
  at = put(out, at, HOST);
  const hostEnd = putValues(buf, offsets, count, k, KIND.HOST, out, at);
  at = hostEnd >= 0 ? hostEnd : writeLatin1(out, -hostEnd - 1, f.fallbackHost);
  out[at++] = 13;
  out[at++] = 10;
  at = put(out, at, XFF);
  if (f.trusted) {
    const end = putValues(buf, offsets, count, k, KIND.X_FORWARDED_FOR, out, at);
    at = end >= 0 ? put(out, end, COMMA_SP) : -end - 1;
  }
  at = writeLatin1(out, at, f.peer);
  out[at++] = 13;
  out[at++] = 10;
  at = put(out, at, XFP);
  const protoEnd = f.trusted ? putValues(buf, offsets, count, k, KIND.X_FORWARDED_PROTO, out, at) : -at - 1;
  at = protoEnd >= 0 ? protoEnd : writeLatin1(out, -protoEnd - 1, f.proto);
  out[at++] = 13;
  out[at++] = 10;
  at = put(out, at, XFH);
  let fhEnd = f.trusted ? putValues(buf, offsets, count, k, KIND.X_FORWARDED_HOST, out, at) : -at - 1;
  if (fhEnd < 0) fhEnd = putValues(buf, offsets, count, k, KIND.HOST, out, -fhEnd - 1);
  at = fhEnd >= 0 ? fhEnd : writeLatin1(out, -fhEnd - 1, f.fallbackHost);
  out[at++] = 13;
  out[at++] = 10;
  if (f.trusted && head.indexOf("forwarded") >= 0) {
    at = writeLatin1(out, at, "Forwarded: ");
    at = putValues(buf, offsets, count, k, KIND.FORWARDED, out, at);
    out[at++] = 13;
    out[at++] = 10;
  }
  // A gateway MUST add itself to Via in each request it forwards (RFC 9110 §7.6.3); nginx does not.
  at = put(out, at, VIA);
  const viaEnd = putValues(buf, offsets, count, k, KIND.VIA, out, at);
  at = viaEnd >= 0 ? put(out, viaEnd, COMMA_SP) : -viaEnd - 1;
  at = put(out, at, head.minor === 1 ? VIA_11 : VIA_10);
  if (f.upgrade) {
    at = put(out, at, CONN_UPGRADE);
    at = put(out, at, UPGRADE);
    const upEnd = putValues(buf, offsets, count, k, KIND.UPGRADE, out, at);
    at = upEnd >= 0 ? upEnd : -upEnd - 1;
    out[at++] = 13;
    out[at++] = 10;
  } else if (f.bodyLength > 0 || (f.bodyLength === 0 && f.explicitZero)) {
    at = put(out, at, CL);
    at = writeLatin1(out, at, `${f.bodyLength}`);
    out[at++] = 13;
    out[at++] = 10;
  } else if (f.bodyLength < 0) {
    at = put(out, at, TE_CHUNKED);
  }
  out[at++] = 13;
  out[at++] = 10;
  if (body !== null) {
    out.set(body, at);
    at += body.length;
  }
  return at;
}

/** Where upstreamRequestHead wrote (valid until its next call). */
export function scratchBytes(): Uint8Array {
  return scratch;
}

/**
 * The upstream response's fields that go back to the client, as pre-encoded lines (Reply.headers).
 * `upgrade`: a 101 keeps its Upgrade field.
 */
export function clientResponseFields(head: ResponseHead, upgrade: boolean): Uint8Array {
  const out = scratchFor(head.end - head.start);
  return out.slice(0, keptResponseFields(head, upgrade, out, 0));
}

/** Writes the fields that go back at `at` of `out` (room: the head's size); returns where they end. */
function keptResponseFields(head: ResponseHead, upgrade: boolean, out: Uint8Array, at: number): number {
  const buf = head.buf;
  const count = head.headerCount;
  const offsets = head.offsets;
  const k = kindsFor(count);
  classify(RESPONSE_NAMES, buf, offsets, count, k);
  if (upgrade) for (let i = 0; i < count; i++) if (k[i] === KIND.UPGRADE) k[i] = KIND.PASS;
  return copyKept(buf, offsets, count, k, head.end, out, at);
}
