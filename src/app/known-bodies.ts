// Responses whose body is already whole in memory (a string, bytes, JSON), so the writer can take it
// at once instead of reading the body's ReadableStream: that read costs about 3 µs and a promise per
// response, which is most of what a `fetch` handler costs us beyond Bun.serve.
//
// Bun gives no way to ask a Response what its body is without consuming it (`Bun.isBodyStreaming`
// was proposed in oven-sh/bun#24725 and closed), and consuming a live stream to find out would buffer
// it whole. So we watch Responses being made: `trackResponses()` replaces the global `Response` with
// a constructor that makes the very same native Response and notes, in a hidden field, the ones
// built from a string, bytes, a Blob (files among them: file-bodies.ts) or a value Bun turns into
// text (a number, a plain object); `Response.json` and `Response.prototype.clone` are wrapped the
// same way (a clone of a known body is known). Everything else (streams, forms, Responses from
// `fetch()`) is unknown and keeps the stream path, so a wrong guess is impossible: only a body we saw
// being given is ever taken this way. Knowing the body also gives the Content-Type Bun.serve infers
// for it, which its headers do not hold: text/plain for strings, application/octet-stream for bytes.
//
// What stays the same for application code: `new Response(...)` gives a native Response with the
// native prototype; `instanceof Response`, `res.constructor === Response`, subclasses
// (`class X extends Response`), `Response.json/redirect/error` and calling without `new` (TypeError)
// all behave as before. What differs: `Response.toString()` shows this function, not native code.
import { OCTET_STREAM_TYPE } from "../http/response.ts";
import { trackDirectStreams, untrackDirectStreams } from "./direct-streams.ts";
import { blobTypeLine, filePart, type FilePart, trackFiles, untrackFiles } from "./file-bodies.ts";
import { hiddenField } from "./hidden-field.ts";

/** A body we saw as bytes (a copy Bun made at construction; we read it back with `bytes()`). */
const BYTES = 1;
/** A body we know is text but do not hold (Response.json): read back with `text()`. */
const TEXT = 2;
/** A string body we have sent: used up, as Bun.serve leaves it (the native object cannot tell). */
const SENT = 3;

/** A known body: the string itself, one of the kinds above, or the Blob given. */
type Kind = string | typeof BYTES | typeof TEXT | typeof SENT | Blob;

const known = hiddenField<Response, Kind>();
let native: typeof Response | null = null;
let nativeClone: typeof Response.prototype.clone | null = null;

/**
 * Whether Bun makes text of this body (ToString, as for a USVString): anything that is not one of
 * the body types it takes as they are, nor an async iterable (which it streams).
 */
function isStringified(body: unknown): boolean {
  const t = typeof body;
  if (t === "number" || t === "boolean" || t === "bigint") return true;
  if (t !== "object" || body === null) return false;
  return !(
    body instanceof ReadableStream ||
    body instanceof FormData ||
    body instanceof URLSearchParams ||
    Symbol.asyncIterator in (body as object)
  );
}

/**
 * Replaces globalThis.Response (once per process) so that string, byte, Blob and text bodies are
 * noted; also notes files (file-bodies.ts) and direct streams (direct-streams.ts).
 */
export function trackResponses(): void {
  if (native !== null) return;
  trackFiles();
  trackDirectStreams();
  const Native = globalThis.Response;
  native = Native;
  const nativeJson = Native.json;
  const nativeCloneFn = Native.prototype.clone;
  nativeClone = nativeCloneFn;

  function Response(this: unknown, body?: ConstructorParameters<typeof globalThis.Response>[0], init?: ResponseInit): globalThis.Response {
    if (new.target === undefined) return (Native as unknown as (b?: unknown, i?: unknown) => globalThis.Response)(body, init);
    // `new Response(res.body, res)`, as Hono does to add headers after the fact: Bun takes the body of
    // `res` back from its stream, so when that body was known and untouched, the new one is known too.
    // A Blob body comes back as that Blob (its type kept); a string or bytes as bytes of no type.
    let rewrapped: Kind | undefined;
    if (body instanceof ReadableStream && init instanceof Native) {
      const kind = known.get(init);
      if (kind !== undefined && kind !== SENT && !init.bodyUsed && init.body === body) rewrapped = kind instanceof Blob ? kind : BYTES;
    }
    const res: globalThis.Response =
      new.target === Response ? new Native(body, init) : Reflect.construct(Native, [body, init], new.target);
    if (typeof body === "string") known.set(res, body);
    else if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) known.set(res, BYTES);
    else if (rewrapped !== undefined) known.set(res, rewrapped);
    else if (body instanceof Blob) known.set(res, body);
    else if (isStringified(body)) known.set(res, TEXT);
    return res;
  }
  Object.setPrototypeOf(Response, Native); // `extends` and inherited statics keep working
  for (const name of ["error", "redirect"] as const) {
    // own properties, as on the native class (Object.getOwnPropertyNames(Response) lists them)
    Object.defineProperty(Response, name, { ...Object.getOwnPropertyDescriptor(Native, name)! });
  }
  Object.defineProperty(Response, "prototype", { value: Native.prototype, writable: false });
  Object.defineProperty(Response, "length", { value: Native.length });
  function json(data: unknown, init?: ResponseInit): globalThis.Response {
    const res = nativeJson.call(Native, data, init);
    known.set(res, TEXT);
    return res;
  }
  Object.defineProperty(json, "length", { value: nativeJson.length });
  Object.defineProperty(Response, "json", { value: json, writable: true, configurable: true });
  Object.defineProperty(Native.prototype, "constructor", { value: Response, writable: true, configurable: true });
  // A clone of a known body is the same body: Bun.serve infers the same Content-Type for it.
  const cloneKnown = function clone(this: globalThis.Response): globalThis.Response {
    const copy = nativeCloneFn.call(this);
    const kind = known.get(this);
    if (kind !== undefined && kind !== SENT) known.set(copy, kind);
    return copy;
  };
  Native.prototype.clone = cloneKnown; // writable, not configurable
  Object.defineProperty(globalThis, "Response", { value: Response, writable: true, enumerable: true, configurable: true });
}

/** Undoes trackResponses() (for tests). */
export function untrackResponses(): void {
  if (native === null) return;
  untrackFiles();
  untrackDirectStreams();
  Object.defineProperty(native.prototype, "constructor", { value: native, writable: true, configurable: true });
  native.prototype.clone = nativeClone!;
  Object.defineProperty(globalThis, "Response", { value: native, writable: true, enumerable: true, configurable: true });
  native = null;
}

const encoder = new TextEncoder();
/** What Bun.serve sends for a string body without Content-Type (and the Fetch standard gives it). */
const STRING_TYPE = encoder.encode("Content-Type: text/plain;charset=utf-8\r\n");
/** What Bun.serve sends for a bytes body without Content-Type. */
const BYTES_TYPE = OCTET_STREAM_TYPE;

/**
 * Takes the body of a Response we saw being made with a string, bytes, a Blob or text, if nobody
 * has read it since (the string itself, the bytes, the Blob, or a promise of them should Bun ever
 * answer later), with the Content-Type line Bun.serve would send for it when the Response has none.
 * Otherwise undefined, and the caller reads the body's stream. Like reading it, this uses the body
 * up: a second time throws.
 */
export function knownBody(
  res: Response,
): { body: string | Uint8Array | Blob | Promise<string | Uint8Array>; type: Uint8Array | undefined } | undefined {
  const kind = known.get(res);
  if (kind === undefined || res.bodyUsed) return undefined;
  if (kind === SENT) throw new TypeError("Response body already used: a Response can be sent once");
  if (typeof kind === "string") {
    known.set(res, SENT);
    return { body: kind, type: STRING_TYPE };
  }
  if (kind instanceof Blob) {
    known.set(res, SENT);
    return { body: kind, type: blobTypeLine(kind, STRING_TYPE) };
  }
  const p: Promise<string | Uint8Array> = kind === BYTES ? res.bytes() : res.text();
  const body = Bun.peek.status(p) === "fulfilled" ? (Bun.peek(p) as string | Uint8Array) : p;
  return { body, type: kind === BYTES ? BYTES_TYPE : STRING_TYPE };
}

/** The file (or part of one) a known Response body is, if it is one and still unsent. */
export function knownFile(res: Response): FilePart | undefined {
  const kind = known.get(res);
  return kind instanceof Blob ? filePart(kind) : undefined;
}
