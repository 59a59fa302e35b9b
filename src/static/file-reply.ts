// A cached file's answer to one request: the variant for its Accept-Encoding, then preconditions
// (304, 412), then Range (206, multipart/byteranges, 416), else the whole file from memory or its fd.
import { FileSource } from "../server/body.ts";
import type { HandlerResult, Reply } from "../server/reply.ts";
import type { ServerRequest } from "../server/request.ts";
import { METHOD } from "../http/parser.ts";
import { evaluatePreconditions, ifRangeHolds } from "./conditional.ts";
import { chooseCoding } from "./encoding.ts";
import { type Entry, fullResponse, type Variant } from "./file-cache.ts";
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
 * without preconditions or ranges. `boundary` separates the parts of a multipart answer.
 */
export function replyWithFile(req: ServerRequest, e: Entry, status: number, boundary: string): HandlerResult {
  const head = req.head;
  const method = head.method;
  if (!isGetOrHead(method)) return notAllowed(method);
  scanFields(head);

  let v = e.identity;
  if (e.encoded.length > 0) {
    const coding = chooseCoding(fieldValue(head, FIELD.ACCEPT_ENCODING), e.codings);
    if (coding !== null) v = e.encoded.find((x) => x.coding === coding)!;
  }
  if (status === 200) {
    const pre = evaluatePreconditions(
      {
        ifMatch: fieldValue(head, FIELD.IF_MATCH),
        ifNoneMatch: fieldValue(head, FIELD.IF_NONE_MATCH),
        ifModifiedSince: fieldValue(head, FIELD.IF_MODIFIED_SINCE),
        ifUnmodifiedSince: fieldValue(head, FIELD.IF_UNMODIFIED_SINCE),
      },
      v,
      true, // only GET and HEAD get this far
    );
    if (pre === 304) return notModified(v, e);
    if (pre === 412) return textReply(412, "Precondition Failed");
    // §14.2: Range is for GET only; with If-Range, only while the validator still matches.
    const range = fieldValue(head, FIELD.RANGE);
    if (range !== undefined && method === METHOD.GET) {
      const ifRange = fieldValue(head, FIELD.IF_RANGE);
      if (ifRange === undefined || ifRangeHolds(ifRange, v.etag, v.mtimeMs, Date.now())) {
        const r = parseRange(range, v.size);
        if (r === RANGE_UNSATISFIABLE) {
          return textReply(416, "Range Not Satisfiable", [["Content-Range", `bytes */${v.size}`]]);
        }
        if (r !== RANGE_IGNORE) return partial(e, v, r, boundary);
      }
    }
  }
  if (v.body !== null) {
    if (status !== 200) return { status, headers: v.head200, body: v.body };
    return { status, headers: v.head200, body: v.body, raw: fullResponse(v) };
  }
  if (method === METHOD.HEAD) return { status, headers: v.head200, body: emptySource, length: v.size };
  const fd = openFile(v.path);
  if (fd < 0) return textReply(404, "Not Found");
  return { status, headers: v.head200, body: new FileSource(fd, 0, v.size), length: v.size };
}

/** 304 carries the validators and the fields a 200 would have that affect caching (§15.4.5). */
function notModified(v: Variant, e: Entry): Reply {
  const headers: [string, string][] = [
    ["ETag", v.etag],
    ["Last-Modified", v.lastModified],
  ];
  if (e.cacheControl) headers.push(["Cache-Control", e.cacheControl]);
  if (e.encoded.length > 0) headers.push(["Vary", "Accept-Encoding"]);
  return { status: 304, headers };
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
