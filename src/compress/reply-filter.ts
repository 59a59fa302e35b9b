// Compression of app responses: the engine's reply filter. A response of a compressible type, at
// least the minimum size, not excluded (204/206/304, `Cache-Control: no-transform`, an existing
// Content-Encoding or Content-Range) is compressed in the coding the client likes best: whole when
// its body is in memory (with Content-Length), streamed and chunked when it is not. Every such
// response says `Vary: Accept-Encoding`, identity ones included; a compressed one has its ETag made
// weak, as nginx does (the bytes differ, the meaning does not; a weak If-None-Match still matches),
// and a 304 naming a compressible type gets the Vary and ETag its 200 would have.
import { OCTET_STREAM_TYPE, TEXT_PLAIN_TYPE } from "../http/response.ts";
import { type BodySource, StreamSource } from "../server/body.ts";
import type { Reply } from "../server/reply.ts";
import type { ServerRequest } from "../server/request.ts";
import { compressAsync, compressSync, LEVEL } from "./codecs.ts";
import { isCompressibleType } from "./compressible.ts";
import { ALL_CODINGS, type Coding, CODINGS, IDENTITY, pickCoding, preferences } from "./negotiate.ts";
import { CompressingSource, streamSlotFree } from "./stream-compressor.ts";

/** Whole bodies up to this size are compressed on this thread (under ~0.3 ms); larger ones on the pool. */
const SYNC_LIMIT = 32 * 1024;

const encoder = new TextEncoder();
const lineTypes = new WeakMap<Uint8Array, string>([
  [TEXT_PLAIN_TYPE, "text/plain; charset=utf-8"],
  [OCTET_STREAM_TYPE, "application/octet-stream"],
]);

/**
 * Replies sent again and again unchanged (a Response given as a route value): what the filter makes
 * of them, by coding (index 3: identity), is kept, so each is compressed once, not per request.
 */
const constant = new WeakMap<Reply, (Reply | Promise<Reply> | undefined)[]>();

/** `reply` will be sent unchanged for every request: compress it once per coding. */
export function markConstant(reply: Reply): void {
  constant.set(reply, []);
}

export interface ReplyCompression {
  /** Smaller bodies are sent as they are. */
  minSize: number;
}

/** The fields of a reply the decision reads, lower-cased names. */
interface Fields {
  type: string | undefined;
  encoding: boolean;
  noTransform: boolean;
  range: boolean;
  /** Every field but Content-Length, ETag and Vary, which are remade. */
  rest: [string, string][];
  etag: string | undefined;
  vary: string[];
}

/** The reply to send instead of `reply` for `req` (the same one when nothing changes). */
export function compressReply(reply: Reply, req: ServerRequest, options: ReplyCompression): Reply | Promise<Reply> {
  const status = reply.status ?? 200;
  if (status === 304) return notModified(reply, req, options);
  if (status < 200 || status === 204 || status === 206 || reply.upgrade !== undefined) return reply;
  const body = reply.body;
  if (body == null || reply.raw !== undefined) return reply;
  let length: number;
  if (typeof body === "string") {
    // A string's UTF-8 length is at most 3 bytes a code unit: most small ones are known small at once.
    length = body.length * 3 < options.minSize ? 0 : Buffer.byteLength(body);
  } else if (body instanceof Uint8Array || body instanceof ArrayBuffer) length = body.byteLength;
  else if (body instanceof Blob) length = body.size;
  else length = reply.length ?? -1;
  if (length >= 0 && length < options.minSize) return reply;

  const headers = reply.headers;
  if (headers instanceof Uint8Array && !lineTypes.has(headers)) return reply; // pre-encoded: ours, final
  const fields = readFields(headers, reply.defaultType);
  if (!isCompressibleType(fields.type) || fields.encoding || fields.noTransform || fields.range) return reply;

  const coding = pickCoding(preferences(req.head.header("accept-encoding")), ALL_CODINGS);
  const kept = constant.get(reply);
  if (kept !== undefined && inMemory(body)) {
    const k = coding === IDENTITY ? 3 : coding;
    let made = kept[k];
    if (made === undefined) {
      made = whole(reply, fields, coding, body);
      kept[k] = made;
      if (made instanceof Promise) made.then((r) => (kept[k] = r), () => (kept[k] = undefined));
    }
    return made;
  }
  return whole(reply, fields, coding, body);
}

/** The reply in `coding` (IDENTITY: as it is, with Vary), once its type and size qualify. */
function whole(reply: Reply, fields: Fields, coding: Coding | typeof IDENTITY, body: NonNullable<Reply["body"]>): Reply | Promise<Reply> {
  if (coding === IDENTITY) return varied(reply, fields, null, body);
  if (inMemory(body)) {
    const bytes = typeof body === "string" ? encoder.encode(body) : body instanceof Uint8Array ? body : new Uint8Array(body);
    const smaller = (out: Uint8Array) => (out.length < bytes.length ? varied(reply, fields, coding, out) : varied(reply, fields, null, body));
    if (bytes.length <= SYNC_LIMIT) return smaller(compressSync(coding, LEVEL.FAST, bytes));
    return compressAsync(coding, LEVEL.FAST, bytes).then(smaller);
  }
  if (!streamSlotFree()) return varied(reply, fields, null, body);
  let source: BodySource;
  if (body instanceof ReadableStream) source = new StreamSource(body);
  else if (body instanceof Blob) source = new StreamSource(body.stream());
  else source = body;
  return varied(reply, fields, coding, new CompressingSource(source, coding));
}

/**
 * A 304 carries the Vary and ETag the 200 would have (RFC 9110 §15.4.5): when its fields name a
 * compressible type (a static route's do) and `length`, if given, is the 200's body length.
 */
function notModified(reply: Reply, req: ServerRequest, options: ReplyCompression): Reply {
  const headers = reply.headers;
  if (headers === undefined || headers instanceof Uint8Array) return reply;
  if (reply.length !== undefined && reply.length < options.minSize) return reply;
  const fields = readFields(headers, undefined);
  if (!isCompressibleType(fields.type) || fields.encoding || fields.noTransform) return reply;
  const coding = pickCoding(preferences(req.head.header("accept-encoding")), ALL_CODINGS);
  return { status: 304, headers: variedFields(fields, coding !== IDENTITY), body: null };
}

/** A body the reply holds whole in memory (compressed at once, not as a stream). */
function inMemory(body: NonNullable<Reply["body"]>): body is string | Uint8Array | ArrayBuffer {
  return typeof body === "string" || body instanceof Uint8Array || body instanceof ArrayBuffer;
}

/** The reply with Vary added, and when `coding` is given, that Content-Encoding and `body`. */
function varied(reply: Reply, f: Fields, coding: Coding | null, body: Reply["body"]): Reply {
  const headers = variedFields(f, coding !== null);
  // Identity: the body is the one given, and its length, if the reply said it, still holds.
  if (coding === null) return { status: reply.status, headers, body, length: reply.length };
  headers.push(["Content-Encoding", CODINGS[coding].name]);
  return { status: reply.status, headers, body };
}

/** The fields with Vary naming Accept-Encoding, and the ETag (made weak for `compressed` bytes). */
function variedFields(f: Fields, compressed: boolean): [string, string][] {
  const headers = f.rest;
  if (!f.vary.some((v) => v === "*" || v.toLowerCase() === "accept-encoding")) f.vary.push("Accept-Encoding");
  headers.push(["Vary", f.vary.join(", ")]);
  if (f.etag !== undefined) headers.push(["ETag", compressed && !f.etag.startsWith("W/") ? `W/${f.etag}` : f.etag]);
  return headers;
}

/** The reply's fields. */
function readFields(headers: Reply["headers"], defaultType: Uint8Array | undefined): Fields {
  const f: Fields = { type: undefined, encoding: false, noTransform: false, range: false, rest: [], etag: undefined, vary: [] };
  const take = (name: string, value: string) => {
    const lower = name.toLowerCase();
    switch (lower) {
      case "content-length":
        return;
      case "etag":
        f.etag = value;
        return;
      case "vary":
        for (const v of value.split(",")) if (v.trim() !== "") f.vary.push(v.trim()); // the app's spelling kept
        return;
      case "content-type":
        f.type = value;
        break;
      case "content-encoding":
        // identity (or nothing) is no coding: dropped, so a compressed reply names only its own.
        if (value.trim() === "" || value.trim().toLowerCase() === "identity") return;
        f.encoding = true;
        break;
      case "content-range":
        f.range = true;
        break;
      case "cache-control":
        if (/(?:^|[,\s])no-transform(?:$|[,\s])/i.test(value)) f.noTransform = true;
        break;
    }
    f.rest.push([name, value]);
  };
  if (headers === undefined) {
    // nothing
  } else if (headers instanceof Uint8Array) {
    f.type = lineTypes.get(headers);
    f.rest.push(["Content-Type", f.type!]);
  } else if (headers instanceof Headers) {
    for (const [name, value] of headers) take(name, value);
  } else if (Array.isArray(headers)) {
    for (const [name, value] of headers as readonly (readonly [string, string])[]) take(name, value);
  } else {
    for (const [name, value] of Object.entries(headers)) {
      if (Array.isArray(value)) for (const v of value) take(name, String(v));
      else take(name, String(value));
    }
  }
  if (f.type === undefined && defaultType !== undefined) {
    let type = lineTypes.get(defaultType);
    if (type === undefined) {
      // "Content-Type: …\r\n", as Bun.serve infers it for a body (a few distinct lines: remembered).
      type = new TextDecoder().decode(defaultType).slice("Content-Type: ".length).trim();
      lineTypes.set(defaultType, type);
    }
    f.type = type;
    f.rest.push(["Content-Type", type]);
  }
  return f;
}

