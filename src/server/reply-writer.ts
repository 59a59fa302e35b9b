// Writes a handler's Reply on its connection: the head (response-head.ts decides the framing), then
// the body into the cork buffer, by reference, or as a ResponseStream; a stream of unknown length
// sends its first piece as soon as it exists. The connection's side of it is ReplyTarget.
import { type AddedFields, addedLines, addedLinesRaw } from "../http/added-fields.ts";
import { FRAMING, type HeadInput, INVALID_HEAD, writeResponseHead } from "../http/response-head.ts";
import { TEXT_PLAIN_TYPE } from "../http/response.ts";
import { getDateLine } from "../http/date.ts";
import { type BodySource, StreamSource } from "./body.ts";
import type { Output } from "./output.ts";
import { disposeResult, INTERNAL_ERROR, type Reply } from "./reply.ts";
import { ResponseStream, settlesSoon, type StreamOwner } from "./response-stream.ts";

/** What the writer needs from the connection it writes on. */
export interface ReplyTarget extends StreamOwner {
  readonly output: Output;
  /** The request's HTTP minor version. */
  readonly minor: number;
  /** Lines every response to the current request carries (ServerRequest.addedFields), or null. */
  readonly addedFields: AddedFields | null;
  /** Request-body bytes are still to come from the socket. */
  readonly bodyArriving: boolean;
  readonly isHead: boolean;
  /** Whether the connection stays open after this response; the framing may turn it off. */
  keepAlive: boolean;
  /** The connection's clock (ms), refreshed after a wait. */
  now: number;
  /** The request being answered, to tell later whether it still is (isCurrent). */
  readonly currentRequest: unknown;
  isCurrent(req: unknown): boolean;
  /**
   * The head is due: a request body still arriving is dropped from here on, or the head says
   * `Connection: close`. `ifUnread` (a stream of unknown length, which may be reading it: an echo):
   * dropped only if nothing has read it yet.
   */
  settleUnreadBody(ifUnread: boolean): void;
  headWritten(status: number): void;
  /** The head was not written after all: another response takes its place. */
  abortResponse(): void;
  /** The whole response is written (or corked). */
  finishResponse(status: number, bytes: number): void;
  /**
   * A stream of unknown length waits for its first pieces (null: no longer): the connection cancels
   * it should the client go away meanwhile.
   */
  streamStarting(source: BodySource | null): void;
  /** The body goes on as a stream. */
  streamResponse(stream: ResponseStream): void;
  /** A 101 was written: the protocol takes over. */
  switchProtocols(reply: Reply): void;
  /** After a wait: run the connection on. */
  resumeAfter(): void;
}

/** Bodies larger than this are written by reference instead of being copied into the cork buffer. */
const COPY_LIMIT = 64 * 1024;
/**
 * Whole pre-encoded responses above this go out by reference (one write, no copy); below, a copy into
 * the cork buffer lets pipelined responses share one write.
 */
const RAW_COPY_LIMIT = 16 * 1024;

const textEncoder = new TextEncoder();
const INVALID_HEADER: Reply = { status: 500, headers: TEXT_PLAIN_TYPE, body: "500 Internal Server Error: invalid header\n" };
const HEAD_INPUT: HeadInput = {
  status: 200,
  headers: undefined,
  length: 0,
  defaultType: undefined,
  minor: 1,
  keepAlive: true,
  dateLine: new Uint8Array(0),
  upgrade: false,
  headWithoutBody: false,
  added: null,
};

/** Serialises a response head and body into the cork buffer (or a stream), then moves on. */
export function writeReply(t: ReplyTarget, reply: Reply): void {
  const raw = reply.raw;
  if (raw !== undefined || reply.writeRaw !== undefined) {
    t.settleUnreadBody(false); // (again below if this reply is not sent raw: it is idempotent)
    // (CORS off, this and writeHead cost a response the getter and two null tests; no allocation)
    const added = t.addedFields;
    if (added !== null && raw !== undefined && raw.length <= RAW_COPY_LIMIT && t.keepAlive && t.minor === 1 && !t.isHead) {
      // The added lines go right after the status line (the order of fields means nothing, RFC 9110
      // §5.3). Other whole responses with fields to add are made from their parts, as for HEAD.
      const out = t.output.cork();
      const lines = addedLinesRaw(added, raw);
      const eol = raw.indexOf(10) + 1; // after the status line's LF
      out.bytes(raw.subarray(0, eol));
      if (lines !== null) out.bytes(lines);
      out.bytes(raw.subarray(eol));
      t.finishResponse(reply.status ?? 200, reply.length ?? (reply.body instanceof Uint8Array ? reply.body.length : raw.length));
      return;
    }
    if (t.keepAlive && t.minor === 1 && !t.isHead && added === null) {
      if (raw === undefined) {
        reply.writeRaw!(t.output.cork());
        t.finishResponse(reply.status ?? 200, reply.length ?? 0);
        return;
      }
      if (raw.length <= RAW_COPY_LIMIT) t.output.cork().bytes(raw);
      else t.output.sendWhole(raw, reply.rawSlot ?? null); // large: by reference (or sendfile), after what is corked
      t.finishResponse(reply.status ?? 200, reply.length ?? (reply.body instanceof Uint8Array ? reply.body.length : raw.length));
      return;
    }
  }
  const status = reply.status ?? 200;
  if (!(Number.isInteger(status) && status >= 100 && status <= 999) || (status < 200 && (status !== 101 || reply.upgrade === undefined))) {
    // 1xx cannot be a final response (but 101 with a protocol to switch to), and anything outside
    // 100-999 is not a status at all.
    console.error(`handler returned invalid status ${status}`);
    disposeResult(reply);
    writeReply(t, INTERNAL_ERROR);
    return;
  }
  if (status === 101 && t.bodyArriving) {
    // The rest of the request body would reach the new protocol as its data.
    console.error("handler switched protocols before the request body was complete: 500 instead");
    disposeResult(reply);
    writeReply(t, INTERNAL_ERROR);
    return;
  }

  let body = reply.body ?? null;
  if (status === 205 && body !== null) {
    // A 205 has no content (RFC 9110 §15.3.6): Bun.serve drops the body and says Content-Length: 0.
    disposeResult(reply);
    body = null;
  }
  let bytes: Uint8Array | null = null;
  let text: string | null = null;
  let source: BodySource | null = null;
  let length = -1;
  if (body !== null) {
    if (typeof body === "string") {
      // Encoded straight into the cork buffer below; only its length is needed here.
      text = body;
      length = Buffer.byteLength(body, "utf8");
    } else if (body instanceof Uint8Array) {
      bytes = body;
    } else if (body instanceof ArrayBuffer) {
      bytes = new Uint8Array(body);
    } else if (body instanceof ReadableStream) {
      source = new StreamSource(body);
    } else if (body instanceof Blob) {
      source = new StreamSource(body.stream());
      length = body.size;
    } else {
      source = body;
      length = reply.length ?? -1;
    }
    if (bytes !== null) length = bytes.length;
  } else {
    // No body: Content-Length: 0, never an open-ended chunked stream; but a HEAD may say what its
    // GET would carry (a proxied HEAD: the upstream's length, or -1 for chunked).
    length = t.isHead && reply.length !== undefined ? reply.length : 0;
  }

  if (source !== null && length < 0 && status >= 200 && status !== 204 && status !== 304) {
    // A stream of unknown length: its framing waits for its first piece (startStream). HEAD too, so it
    // gets the Content-Length a GET would (RFC 9110 §9.3.2), though no body. Its request body is
    // settled when the head is due (streamHead).
    startStream(t, reply, status, source);
    return;
  }
  // Only a stream of unknown length may still be reading the request body when its head is due; a
  // source of known length (a file, a Blob) is settled like a whole body.
  t.settleUnreadBody(false);
  const framing = writeHead(t, reply, status, length, reply.body == null);
  if (framing === INVALID_HEAD) {
    source?.close();
    disposeResult(reply);
    writeReply(t, INVALID_HEADER);
    return;
  }
  if (status === 101) {
    t.switchProtocols(reply);
    return;
  }
  if (framing === FRAMING.NONE || t.isHead || (source === null && bytes === null && text === null)) {
    source?.close();
    t.finishResponse(status, 0);
    return;
  }
  if (text !== null) {
    if (length <= COPY_LIMIT) t.output.cork().utf8(text);
    else t.output.send(textEncoder.encode(text));
    t.finishResponse(status, length);
    return;
  }
  if (bytes !== null) {
    if (bytes.length <= COPY_LIMIT) t.output.cork().bytes(bytes);
    else t.output.send(bytes);
    t.finishResponse(status, bytes.length);
    return;
  }
  // A body of known length from a source: the head goes now, the body as the socket takes it, held to
  // the length the head promised (a Blob's size can be stale: a file rewritten since).
  t.streamResponse(new ResponseStream(t, source, framing === FRAMING.CHUNKED, [], null, framing === FRAMING.LENGTH ? length : -1));
}

/** Writes the head into the cork buffer; returns its framing (or INVALID_HEAD, nothing written). */
function writeHead(t: ReplyTarget, reply: Reply, status: number, length: number, noBody = false): number {
  t.headWritten(status);
  const h = HEAD_INPUT;
  h.status = status;
  h.headers = reply.headers;
  h.length = length;
  h.defaultType = reply.defaultType;
  h.minor = t.minor;
  h.keepAlive = t.keepAlive;
  h.dateLine = getDateLine(t.now);
  h.upgrade = status === 101;
  h.headWithoutBody = noBody && t.isHead;
  const added = t.addedFields;
  h.added = added === null ? null : addedLines(added, reply.headers);
  const framing = writeResponseHead(t.output.cork(), h);
  h.headers = undefined;
  h.added = null;
  if (framing === FRAMING.CLOSE) t.keepAlive = false;
  return framing;
}

/** What a stream of unknown length may gather before its head: more and it goes out chunked. */
const GATHER_LIMIT = 64 * 1024;
const GATHER_PIECES = 16;

/**
 * A stream of unknown length. Its first piece goes out as soon as it exists. Pieces that follow at
 * once (their reads settle within microtasks: a Blob, a string, pieces enqueued together) are
 * gathered, up to 64 KiB; if the stream ends among them it is whole and gets a Content-Length, as
 * under Bun.serve; else the head says chunked and what was gathered goes first.
 */
function startStream(t: ReplyTarget, reply: Reply, status: number, source: BodySource): void {
  const req = t.currentRequest;
  const refused = (err: unknown) => (t.isCurrent(req) ? streamRefused(t, err, source) : source.close());
  const gathered: Uint8Array[] = [];
  let bytes = 0;
  t.streamStarting(source);
  const next = (): void => {
    const read = source.read();
    const p = read instanceof Promise ? read : Promise.resolve(read);
    if (gathered.length === 0) {
      p.then(onPiece, refused); // the first piece: however long it takes
      return;
    }
    settlesSoon(p).then((soon) => {
      if (!t.isCurrent(req)) source.close();
      else if (soon === undefined) streamHead(t, reply, status, source, -1, gathered, p);
      else onPiece(soon.value);
    }, refused);
  };
  const onPiece = (piece: Uint8Array | null): void => {
    if (!t.isCurrent(req)) return source.close();
    if (piece === null) return streamHead(t, reply, status, source, bytes, gathered, null);
    gathered.push(piece);
    bytes += piece.length;
    if (bytes >= GATHER_LIMIT || gathered.length >= GATHER_PIECES) return streamHead(t, reply, status, source, -1, gathered, null);
    next();
  };
  next();
}

function streamHead(
  t: ReplyTarget,
  reply: Reply,
  status: number,
  source: BodySource,
  length: number,
  ahead: Uint8Array[],
  pending: Promise<Uint8Array | null> | null,
): void {
  t.now = Date.now();
  t.streamStarting(null);
  t.settleUnreadBody(true);
  const framing = writeHead(t, reply, status, length);
  if (framing === INVALID_HEAD) {
    source.close();
    pending?.catch(() => {});
    t.abortResponse();
    writeReply(t, INVALID_HEADER);
  } else if (length >= 0 || t.isHead) {
    // Whole: sent with Content-Length (HEAD: the head alone, whichever the framing).
    if (!t.isHead) for (const piece of ahead) t.output.cork().bytes(piece);
    source.close();
    pending?.catch(() => {});
    t.finishResponse(status, t.isHead ? 0 : length);
  } else {
    t.streamResponse(new ResponseStream(t, source, framing === FRAMING.CHUNKED, ahead, pending));
  }
  t.resumeAfter();
}

/** The stream failed before its head was written: a 500 can still be sent. */
function streamRefused(t: ReplyTarget, err: unknown, source: BodySource): void {
  t.streamStarting(null);
  source.close();
  console.error("response stream failed:", err);
  t.abortResponse();
  t.now = Date.now();
  writeReply(t, INTERNAL_ERROR);
  t.resumeAfter();
}
