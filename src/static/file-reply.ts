// A cached file's answer to one request: the variant for its Accept-Encoding (a sibling on disk, or
// one compressed in memory), then preconditions (304, 412), then Range (206 of the identity bytes,
// multipart/byteranges, 416), else the whole variant from memory or the file's descriptor.
import { FileSource } from "../server/body.ts";
import type { HandlerResult, Reply } from "../server/reply.ts";
import type { ServerRequest } from "../server/request.ts";
import { METHOD } from "../http/parser.ts";
import { evaluatePreconditions, ifRangeHolds } from "./conditional.ts";
import { ALL_CODINGS, IDENTITY, pickCoding, type Preferences, preferences, refusesIdentity } from "../compress/negotiate.ts";
import type { CompressedFiles } from "./compressed-files.ts";
import { etagMatches } from "./conditional.ts";
import { type Entry, fullResponse, type Variant, WHOLE_RESPONSE_LIMIT } from "./file-cache.ts";
import { openFile } from "./file-system.ts";
import { MultipartSource, multipartLength } from "./multipart.ts";
import { type ByteRange, contentRange, parseRange, RANGE_IGNORE, RANGE_UNSATISFIABLE } from "./range.ts";
import { FIELD, fieldValue, scanFields } from "./request-fields.ts";
import { isGetOrHead, notAllowed, textReply } from "./replies.ts";

const encoder = new TextEncoder();

/** A body that is over at once: HEAD of a file too large to keep, whose length is still announced. */
const emptySource = {
  read: () => null,
  close: () => {},
};

/**
 * The entry's answer: 200, 206, 304, 412 or 416. Another `status` (the 404 page's) is sent as it is,
 * without preconditions or ranges. `boundary` separates the parts of a multipart answer. `files`
 * compresses in memory (null: compression is off). A Promise when a compressed variant is on its
 * way and worth the wait (`waited`: this is the call after it).
 */
export function replyWithFile(
  req: ServerRequest,
  e: Entry,
  status: number,
  boundary: string,
  files: CompressedFiles | null,
  waited = false,
): HandlerResult | Promise<HandlerResult> {
  const head = req.head;
  const method = head.method;
  if (!isGetOrHead(method)) return notAllowed(method);
  scanFields(head);

  let v = e.identity;
  let prefs: Preferences | null = null;
  if (e.varies) {
    prefs = preferences(fieldValue(head, FIELD.ACCEPT_ENCODING));
    // A Range is served from the identity bytes, as Caddy does (nginx sends the whole gzip body with
    // 200), unless the client refuses identity: then the compressed body, whole.
    const ranged = status === 200 && method === METHOD.GET && fieldValue(head, FIELD.RANGE) !== undefined;
    if (!ranged || refusesIdentity(prefs)) {
      const chosen = chooseVariant(e, prefs, files, !waited);
      if (chosen instanceof Promise) {
        // A file answers a client that half-closed after asking, as it would without the wait.
        req.finishOnHalfClose = true;
        return chosen.then(() => replyWithFile(req, e, status, boundary, files, true));
      }
      if (chosen !== null) v = chosen;
    }
  }
  if (status === 200) {
    const ifNoneMatch = fieldValue(head, FIELD.IF_NONE_MATCH);
    const pre = evaluatePreconditions(
      {
        ifMatch: fieldValue(head, FIELD.IF_MATCH),
        ifNoneMatch,
        ifModifiedSince: fieldValue(head, FIELD.IF_MODIFIED_SINCE),
        ifUnmodifiedSince: fieldValue(head, FIELD.IF_UNMODIFIED_SINCE),
      },
      v,
      true, // only GET and HEAD get this far
    );
    if (pre === 304) return notModified(v, e);
    if (pre === 412) return textReply(412, "Precondition Failed", varyIf(e, []));
    if (ifNoneMatch !== undefined && prefs !== null) {
      // The client holds another variant it can use (a cache that stored both): 304 for that one.
      const held = heldVariant(e, v, ifNoneMatch, prefs);
      if (held !== null) return notModified(held, e);
    }
    // §14.2: Range is for GET only; with If-Range, only while the validator still matches.
    const range = fieldValue(head, FIELD.RANGE);
    if (range !== undefined && method === METHOD.GET && v.coding === null) {
      const ifRange = fieldValue(head, FIELD.IF_RANGE);
      // On a path whose answers vary, only the identity's strong ETag resumes (not a date); so too
      // for a transformed file, whose date is also the plain file's.
      if (ifRange === undefined || ifRangeHolds(ifRange, v.etag, v.mtimeMs, Date.now(), !e.varies && !e.transformed)) {
        const r = parseRange(range, v.size);
        if (r === RANGE_UNSATISFIABLE) {
          return textReply(416, "Range Not Satisfiable", varyIf(e, [["Content-Range", `bytes */${v.size}`]]));
        }
        if (r !== RANGE_IGNORE) return partial(e, v, r, boundary);
      }
    }
  }
  if (v.body !== null) {
    if (status !== 200) return { status, headers: v.head200, body: v.body };
    // A whole response is kept beside the bytes only while small (a large compressed variant would be
    // held twice, and copied again every second for its Date line).
    if (v.body.length > WHOLE_RESPONSE_LIMIT) return { status, headers: v.head200, body: v.body };
    const raw = fullResponse(v);
    return { status, headers: v.head200, body: v.body, raw, rawSlot: v.fullSlot };
  }
  if (method === METHOD.HEAD) return { status, headers: v.head200, body: emptySource, length: v.size };
  const fd = openFile(v.path);
  if (fd < 0) return textReply(404, "Not Found");
  return { status, headers: v.head200, body: new FileSource(fd, 0, v.size), length: v.size };
}

/** `fields`, with Vary when the path's answers vary by Accept-Encoding. */
function varyIf(e: Entry, fields: [string, string][]): [string, string][] {
  if (e.varies) fields.push(["Vary", "Accept-Encoding"]);
  return fields;
}

/** 304 carries the validators and the fields a 200 would have that affect caching (§15.4.5). */
function notModified(v: Variant, e: Entry): Reply {
  const headers: [string, string][] = [
    ["ETag", v.etag],
    ["Last-Modified", v.lastModified],
  ];
  if (e.cacheControl) headers.push(["Cache-Control", e.cacheControl]);
  if (e.varies) headers.push(["Vary", "Accept-Encoding"]);
  return { status: 304, headers };
}

/**
 * The variant to send for these preferences: a sibling on disk, or one compressed in memory (a
 * Promise while a small file's is being made). When the favourite is not ready, the best of those
 * that are; null for identity.
 */
function chooseVariant(e: Entry, prefs: Preferences, files: CompressedFiles | null, mayWait: boolean): Variant | Promise<void> | null {
  // A sibling on disk wins over its own coding made here; codings with no sibling are still made.
  const compress = e.compressible && files !== null;
  const c = pickCoding(prefs, e.siblings | (compress ? ALL_CODINGS : 0));
  if (c === IDENTITY) return null;
  const sibling = e.sibling[c];
  if (sibling !== undefined) return sibling;
  const made = files!.variant(e, c, mayWait);
  if (made !== null) return made;
  let ready = e.siblings;
  for (let k = 0; k < 3; k++) if (k !== c && e.made[k]?.variant) ready |= 1 << k;
  const other = pickCoding(prefs, ready);
  return other === IDENTITY ? null : (e.sibling[other] ?? e.made[other]!.variant);
}

/** Another variant the client accepts whose ETag is in If-None-Match, or null. */
function heldVariant(e: Entry, sent: Variant, ifNoneMatch: string, prefs: Preferences): Variant | null {
  const candidates: (Variant | null | undefined)[] = [...e.sibling, ...e.made.map((m) => m?.variant)];
  if (!refusesIdentity(prefs)) candidates.push(e.identity);
  for (let k = 0; k < candidates.length; k++) {
    const v = candidates[k];
    if (v == null || v === sent) continue;
    if (v.coding !== null && prefs.q[k % 3]! === 0) continue; // a coding the client does not take
    if (etagMatches(ifNoneMatch, v.etag, true)) return v;
  }
  return null;
}

/** 206: one range as it is (§14.4), several as multipart/byteranges (§14.6). */
function partial(e: Entry, v: Variant, ranges: ByteRange[], boundary: string): HandlerResult {
  if (ranges.length === 1) {
    const r = ranges[0]!;
    const headers = encoder.encode(`${v.headLines}Content-Range: ${contentRange(r, v.size)}\r\n`);
    const length = r.end - r.start + 1;
    if (v.body !== null) return { status: 206, headers, body: v.body.subarray(r.start, r.end + 1) };
    const fd = openFile(v.path);
    if (fd < 0) return textReply(404, "Not Found");
    return { status: 206, headers, body: new FileSource(fd, r.start, r.end + 1), length };
  }
  // Per-part headers carry the real type; the response's own is multipart.
  const lines = v.headLines.replace(/^Content-Type: [^\r]*\r\n/, "");
  const headers = encoder.encode(`${lines}Content-Type: multipart/byteranges; boundary=${boundary}\r\n`);
  const length = multipartLength(ranges, v.size, e.contentType, boundary);
  let fd = -1;
  if (v.body === null) {
    fd = openFile(v.path);
    if (fd < 0) return textReply(404, "Not Found");
  }
  return { status: 206, headers, body: new MultipartSource(v.body, fd, ranges, v.size, e.contentType, boundary), length };
}
