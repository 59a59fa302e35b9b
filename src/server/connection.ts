// One state machine per socket: parse → dispatch → write queue → keep-alive (RFC 9112 §9).
//
// Every entry point (data, drain, an async handler settling, a timer) ends in flush(), so all the
// responses one read produced leave in one socket write. socket.write() drops what the kernel does
// not take (../shared/BUN-NOTES.md): the unsent tail is queued and resumed on drain.
import type { Socket } from "bun";
import { type BodySink, ChunkedDecoder, type ChunkedLimits } from "../http/chunked.ts";
import { copyBytes, CR, LF } from "../http/chars.ts";
import { errorResponseBytes, errorStatus, HTTP_ERROR, type HttpErrorCode } from "../http/errors.ts";
import { RequestHead } from "../http/head.ts";
import { FAILED, INCOMPLETE, METHOD, type ParserLimits, parseRequestHead } from "../http/parser.ts";
import { CONTINUE_100, CRLF, LAST_CHUNK, OutBuffer, TEXT_PLAIN_TYPE } from "../http/response.ts";
import { FRAMING, type HeadInput, INVALID_HEAD, writeResponseHead } from "../http/response-head.ts";
import { getDateLine } from "../http/date.ts";
import { type BodySource, FileSource, readResponse, StreamSource } from "./body.ts";
import { PROXY_INCOMPLETE, PROXY_INVALID, parseProxyHeader, type TrustFn } from "./proxy.ts";
import { BYTES_REPLY, disposeResult, type HandlerResult, INTERNAL_ERROR, NOT_FOUND, type Reply, TEXT_REPLY } from "./reply.ts";
import { ServerRequest } from "./request.ts";

export interface ConnectionOptions extends ParserLimits, ChunkedLimits {
  headerTimeout: number;
  bodyTimeout: number;
  idleTimeout: number;
  sendTimeout: number;
}

export interface ServerContext {
  readonly options: ConnectionOptions;
  readonly connections: Set<Connection>;
  /** Milliseconds, refreshed by the server's sweep timer and at each read. */
  now: number;
  dispatch(req: ServerRequest): HandlerResult | Promise<HandlerResult>;
  /** Turns a thrown error into a response (500 unless an error hook says otherwise). */
  failure(err: unknown, req: ServerRequest): HandlerResult | Promise<HandlerResult>;
  log(req: ServerRequest | null, status: number, bytes: number, remote: string, ms: number): void;
  readonly logging: boolean;
  /** Expect a PROXY protocol header before the first request. */
  readonly proxyProtocol: boolean;
  /** Which peers' forwarding headers count (null: none). */
  readonly trust: TrustFn | null;
}

const STATE = {
  HEAD: 0,
  BODY: 1,
  HANDLING: 2,
  /** After a response that ends the connection: input is read and dropped until the close. */
  CLOSING: 3,
  CLOSED: 4,
} as const;

const TIMER = { NONE: 0, IDLE: 1, HEADER: 2, BODY: 3, SEND: 4, LINGER: 5 } as const;

/** Queue this much unsent output and we stop reading from the client (and stop running its requests). */
const HIGH_WATER = 1024 * 1024;
/** Bodies larger than this are written by reference instead of being copied into the cork buffer. */
const COPY_LIMIT = 64 * 1024;
/**
 * Whole pre-encoded responses above this go out by reference (one write, no copy); below, a copy into
 * the cork buffer lets pipelined responses share one write.
 */
const RAW_COPY_LIMIT = 16 * 1024;
/** Bytes per second a body must average once it has taken longer than bodyTimeout (slow-POST guard). */
const MIN_BODY_RATE = 1024;
/** After a refused request, how long to keep reading (and dropping) so the client sees our answer. */
const LINGER_MS = 2000;

/** All responses produced inside one callback collect here, then leave in one write. */
const cork = new OutBuffer(256 * 1024);
const textEncoder = new TextEncoder();

export class Connection implements BodySink {
  state: number = STATE.HEAD;
  readonly head = new RequestHead();

  // Unparsed input kept across reads. Bytes before `inEnd` are never overwritten in place, because
  // requests may still point into them: the one being handled, and the header fields of fetch's
  // Requests even after their response (RequestHead.detachFields). Growth allocates a new array.
  private input: Uint8Array | null = null;
  private inStart = 0;
  private inEnd = 0;
  /** How far past inStart we already know the head does not end (slowloris: no rescans). */
  private scanned = 0;

  // The body being received.
  private bodyStartedAt = 0;
  private bodyReceived = 0;
  private bodyRemaining = 0;
  private body: Uint8Array | null = null;
  private bodyLen = 0;
  private chunked: ChunkedDecoder | null = null;

  // Output not yet taken by the kernel: queue[0] from queueOffset on, then the rest.
  private queue: Uint8Array[] = [];
  private queueOffset = 0;
  private queuedBytes = 0;
  private source: BodySource | null = null;
  private sourceChunked = false;
  private pumping = false;
  private streamStatus = 200;
  private inputPaused = false;
  private peerEnded = false;
  /** The server is stopping: finish what is in progress, keep nothing alive. */
  private draining = false;
  private lingerOnClose = false;
  /** Bytes handed to the socket (or its queue) so far: tells whether a response has started to leave. */
  private bytesOut = 0;

  // Timeouts: one deadline at a time, checked by the server's sweep.
  deadline = 0;
  private timer: number = TIMER.NONE;

  // For the access log of the request being answered.
  private keepAlive = true;
  private isHead = false;
  private bytesSent = 0;
  private current: ServerRequest | null = null;

  constructor(
    readonly socket: Socket<Connection>,
    private readonly ctx: ServerContext,
  ) {
    this.awaitingProxy = ctx.proxyProtocol;
    this.setTimer(TIMER.IDLE, ctx.options.headerTimeout);
  }

  // The peer, read when first asked (Bun's getters cost microseconds: getpeername and a new string per
  // call), or set from a PROXY header.
  #remoteAddress: string | undefined;
  #remotePort = -1;
  get remoteAddress(): string {
    return (this.#remoteAddress ??= this.socket.remoteAddress ?? "");
  }
  get remotePort(): number {
    if (this.#remotePort < 0) this.#remotePort = this.socket.remotePort ?? 0;
    return this.#remotePort;
  }
  private awaitingProxy: boolean;
  /** When the request being answered was dispatched (for the access log), ms. */
  private startedAt = 0;

  // ---- input ----------------------------------------------------------------------------------

  onData(chunk: Uint8Array): void {
    if (this.state === STATE.CLOSED) return;
    if (this.state === STATE.CLOSING) return; // lingering: drop
    this.ctx.now = Date.now();
    if (this.awaitingProxy) {
      this.readProxyHeader(chunk);
      return;
    }
    if (this.input === null) {
      this.drive(chunk, 0, chunk.length);
    } else {
      this.append(chunk);
      // A client that keeps sending while its request is handled is not read further for now.
      if (this.state === STATE.HANDLING && this.inEnd - this.inStart > this.ctx.options.maxHeaderSize) {
        this.pauseInput();
      }
      this.drive(this.input!, this.inStart, this.inEnd);
    }
    this.flush();
  }

  /** The PROXY protocol header comes first; a connection without a valid one is closed unanswered. */
  private readProxyHeader(chunk: Uint8Array): void {
    if (this.input === null) this.keep(chunk, 0, chunk.length);
    else this.append(chunk);
    const buf = this.input!;
    const r = parseProxyHeader(buf, this.inStart, this.inEnd);
    if (r === PROXY_INCOMPLETE) {
      if (this.timer !== TIMER.HEADER) this.setTimer(TIMER.HEADER, this.ctx.options.headerTimeout);
      return;
    }
    if (r === PROXY_INVALID || typeof r === "number") {
      this.destroy();
      return;
    }
    this.awaitingProxy = false;
    if (r.address !== null) {
      this.#remoteAddress = r.address;
      this.#remotePort = r.port;
    }
    const from = this.inStart + r.length;
    const end = this.inEnd;
    this.input = null;
    this.setTimer(TIMER.IDLE, this.ctx.options.idleTimeout);
    if (from < end) {
      this.drive(buf, from, end);
      this.flush();
    }
  }

  /** The client half-closed: answer what it sent, then close. */
  onEnd(): void {
    this.peerEnded = true;
    if (this.state === STATE.CLOSING || (this.state === STATE.HEAD && this.input === null && this.queuedBytes === 0)) {
      this.destroy();
      return;
    }
    if (this.state === STATE.HEAD && this.input === null) {
      this.closeWhenFlushed();
      this.flush();
    } else if (this.state === STATE.HEAD || this.state === STATE.BODY) {
      // A request cut off by the client's FIN can never complete: close, as nginx does.
      this.destroy();
    }
    // HANDLING: the response goes out; requests already received are still answered (startRequest
    // turns keep-alive off for each), and resumeInput closes once the input runs out.
  }

  private append(chunk: Uint8Array): void {
    const live = this.inEnd - this.inStart;
    const input = this.input!;
    if (this.inEnd + chunk.length <= input.length) {
      input.set(chunk, this.inEnd);
      this.inEnd += chunk.length;
      return;
    }
    let cap = Math.max(4096, input.length);
    while (cap < live + chunk.length) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(input.subarray(this.inStart, this.inEnd), 0);
    next.set(chunk, live);
    this.input = next;
    this.inStart = 0;
    this.inEnd = live + chunk.length;
  }

  /** Keeps [pos, end) of buf for the next read. */
  private keep(buf: Uint8Array, pos: number, end: number): void {
    if (pos >= end) {
      this.input = null;
      this.inStart = this.inEnd = 0;
      return;
    }
    if (buf === this.input) {
      this.inStart = pos;
      return;
    }
    const n = end - pos;
    const store = new Uint8Array(Math.max(4096, n * 2));
    copyBytes(buf, pos, end, store, 0);
    this.input = store;
    this.inStart = 0;
    this.inEnd = n;
  }

  /** Runs every complete request in [pos, end), in order, until input runs out or we must wait. */
  private drive(buf: Uint8Array, pos: number, end: number): void {
    const opts = this.ctx.options;
    while (pos < end) {
      if (this.state === STATE.HEAD) {
        // Responses still in the cork buffer count too: one read of pipelined requests must not build
        // an unbounded answer for a client that reads nothing.
        if (cork.len > HIGH_WATER) this.flush();
        if (this.queuedBytes > HIGH_WATER) {
          // The client is not reading its responses: stop taking requests from it until it does.
          this.pauseInput();
          break;
        }
        if (this.scanned > 0 && !this.headMayBeComplete(buf, pos, end)) break;
        const n = parseRequestHead(buf, pos, end, this.head, opts);
        if (n === INCOMPLETE) {
          this.scanned = end - pos;
          if (this.timer !== TIMER.HEADER) this.setTimer(TIMER.HEADER, opts.headerTimeout);
          break;
        }
        this.scanned = 0;
        if (n === FAILED) {
          this.refuse(this.head.error as HttpErrorCode);
          pos = end;
          break;
        }
        pos += n;
        this.startRequest();
        const state = this.state as number; // startRequest moved it on
        if (state === STATE.BODY && this.head.expectContinue && pos === end && this.head.minor === 1) {
          // RFC 9110 §10.1.1: the client waits for this before sending the body. A request refused
          // before this point (413) got its final status instead.
          cork.bytes(CONTINUE_100);
        }
        if (state !== STATE.BODY) {
          if (state === STATE.HEAD) this.dispatch(null);
          continue;
        }
      }
      if (this.state === STATE.BODY) {
        pos = this.readBody(buf, pos, end);
        if (this.state === STATE.BODY) break; // needs more bytes (or failed → CLOSING)
        continue;
      }
      break; // HANDLING or CLOSING
    }
    if (this.state === STATE.CLOSING || this.state === STATE.CLOSED) {
      this.input = null;
      return;
    }
    this.keep(buf, pos, end);
    // Pipelined requests armed the header timer for the bytes after them; if none are left, the
    // connection is idle now (else an idle connection would be cut at headerTimeout, not idleTimeout).
    if (this.state === STATE.HEAD && this.input === null && this.timer === TIMER.HEADER) {
      this.setTimer(TIMER.IDLE, this.ctx.options.idleTimeout);
    }
  }

  /**
   * Slowloris guard: after an incomplete head, only re-parse once the new bytes hold a line end that
   * could finish the head (LF after an empty line, or the first LF of the request line), or the limit.
   */
  private headMayBeComplete(buf: Uint8Array, pos: number, end: number): boolean {
    const from = pos + Math.max(this.scanned, 1);
    if (end - pos > this.ctx.options.maxHeaderSize) return true;
    let i = from;
    for (;;) {
      i = buf.indexOf(LF, i);
      if (i < 0 || i >= end) {
        this.scanned = end - pos;
        return false;
      }
      // A blank line ends the head; the request line's end lets a bad request line fail early; a bare
      // LF fails at once.
      if (buf[i - 1] !== CR || buf[i - 2] === LF || buf.lastIndexOf(LF, i - 1) < pos) return true;
      i++;
    }
  }

  private startRequest(): void {
    const head = this.head;
    const opts = this.ctx.options;
    this.keepAlive = head.keepAlive && !this.peerEnded && !this.draining;
    this.isHead = head.method === METHOD.HEAD;
    this.bytesSent = 0;
    this.body = null;
    this.bodyLen = 0;
    if (!head.hasBody) {
      this.state = STATE.HEAD;
      return;
    }
    if (head.contentLength > opts.maxBody) {
      // Refused before any body byte is read; with Expect: 100-continue, the client never sends it.
      this.refuse(HTTP_ERROR.BODY_TOO_LARGE);
      return;
    }
    this.state = STATE.BODY;
    this.bodyStartedAt = this.ctx.now;
    this.bodyReceived = 0;
    this.setTimer(TIMER.BODY, opts.bodyTimeout);
    if (head.chunked) {
      if (this.chunked === null) this.chunked = new ChunkedDecoder(opts);
      else this.chunked.reset(opts);
    } else {
      this.bodyRemaining = head.contentLength;
    }
  }

  /** Consumes body bytes from [pos, end); returns the new position. */
  private readBody(buf: Uint8Array, pos: number, end: number): number {
    const head = this.head;
    if (pos >= end) return pos;
    // Slow POST: bodyTimeout bounds each pause; past it, the body must also average MIN_BODY_RATE.
    this.bodyReceived += end - pos;
    const elapsed = this.ctx.now - this.bodyStartedAt;
    if (elapsed > this.ctx.options.bodyTimeout && this.bodyReceived * 1000 < elapsed * MIN_BODY_RATE) {
      this.refuse(HTTP_ERROR.BODY_TOO_SLOW);
      return end;
    }
    this.setTimer(TIMER.BODY, this.ctx.options.bodyTimeout);
    if (!head.chunked) {
      const n = Math.min(this.bodyRemaining, end - pos);
      if (this.body === null && n === this.bodyRemaining) {
        // The whole body is in this buffer: one copy of just it (cheaper than a view of a fresh chunk).
        this.body = new Uint8Array(n);
        copyBytes(buf, pos, pos + n, this.body, 0);
        this.bodyLen = n;
      } else {
        this.onBodyData(buf, pos, pos + n);
      }
      this.bodyRemaining -= n;
      pos += n;
      if (this.bodyRemaining === 0) this.dispatch(this.bodyLen === this.body!.length ? this.body : this.body!.subarray(0, this.bodyLen));
      return pos;
    }
    const dec = this.chunked!;
    const n = dec.decode(buf, pos, end, this);
    if (n === FAILED) {
      this.refuse(dec.error as HttpErrorCode);
      return end;
    }
    pos += n;
    if (dec.done) this.dispatch(this.body === null ? new Uint8Array(0) : this.body.subarray(0, this.bodyLen));
    return pos;
  }

  onBodyData(buf: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (n === 0) return;
    if (this.body === null || this.bodyLen + n > this.body.length) {
      const want = this.head.chunked ? Math.max(16 * 1024, (this.bodyLen + n) * 2) : this.head.contentLength;
      const next = new Uint8Array(Math.min(Math.max(want, this.bodyLen + n), this.ctx.options.maxBody));
      if (this.body !== null) next.set(this.body.subarray(0, this.bodyLen), 0);
      this.body = next;
    }
    copyBytes(buf, start, end, this.body, this.bodyLen);
    this.bodyLen += n;
  }

  // ---- dispatch -------------------------------------------------------------------------------

  private dispatch(body: Uint8Array | null): void {
    const head = this.head;
    const req = new ServerRequest(head, body, this, this.ctx.trust);
    this.current = req;
    if (this.ctx.logging) this.startedAt = performance.now();
    this.state = STATE.HANDLING;
    this.setTimer(TIMER.NONE, 0); // no timer cuts off a handler that is still working
    let result: HandlerResult | Promise<HandlerResult>;
    try {
      result = this.ctx.dispatch(req);
    } catch (err) {
      result = this.fail(err, req);
      if (result instanceof Promise) {
        this.settle(result, req, true);
        return;
      }
    }
    if (result instanceof Promise) {
      this.settle(result, req);
      return;
    }
    this.respond(result);
  }

  private fail(err: unknown, req: ServerRequest): HandlerResult | Promise<HandlerResult> {
    try {
      return this.ctx.failure(err, req);
    } catch (again) {
      console.error(again);
      return INTERNAL_ERROR;
    }
  }

  /**
   * Waits for a handler's promise (or a Response's body), then responds and goes on. A rejection goes
   * to the error hook once; if what the hook gives rejects too, a plain 500.
   */
  private settle(result: HandlerResult | Promise<HandlerResult>, req: ServerRequest, failed = false): void {
    if (this.state === STATE.CLOSED) {
      // The client went away while the handler worked: release what its answer holds.
      if (result instanceof Promise) result.then(disposeResult, () => {});
      else disposeResult(result);
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (r) => this.settle(r, req, failed),
        (err) => this.settle(failed ? INTERNAL_ERROR : this.fail(err, req), req, true),
      );
      return;
    }
    this.respond(result);
    this.flush();
    this.resumeInput();
  }

  /**
   * Writes the handler's result, then goes on to the next request unless we must wait. A result that
   * cannot be written (a bad header value, a locked stream) becomes a 500 while nothing of it has left;
   * after that, the connection is cut.
   */
  private respond(result: HandlerResult): void {
    const mark = cork.len;
    const sent = this.bytesOut;
    try {
      this.respondWith(result);
    } catch (err) {
      console.error("cannot send the handler's response:", err);
      disposeResult(result);
      if (this.state === STATE.HANDLING && this.source === null && this.bytesOut === sent && cork.len >= mark) {
        cork.len = mark;
        this.writeReply(INTERNAL_ERROR);
      } else {
        this.destroy();
      }
    }
  }

  private respondWith(result: HandlerResult): void {
    if (result instanceof Response) {
      const reply = readResponse(result);
      if (reply instanceof Promise) this.settle(reply, this.current!);
      else this.writeReply(reply);
      return;
    }
    if (result === null || result === undefined) {
      this.writeReply(NOT_FOUND);
    } else if (typeof result === "string") {
      // One reused Reply: writeReply reads it and keeps nothing of it.
      TEXT_REPLY.body = result;
      this.writeReply(TEXT_REPLY);
      TEXT_REPLY.body = null;
    } else if (result instanceof Uint8Array) {
      BYTES_REPLY.body = result;
      this.writeReply(BYTES_REPLY);
      BYTES_REPLY.body = null;
    } else {
      this.writeReply(result);
    }
  }

  private finishRequest(status: number): void {
    if (this.ctx.logging) {
      this.ctx.log(this.current, status, this.bytesSent, this.remoteAddress, performance.now() - this.startedAt);
    }
    this.current = null;
    if (this.state === STATE.CLOSING || this.state === STATE.CLOSED) return;
    if (!this.keepAlive) {
      this.closeWhenFlushed();
      return;
    }
    this.state = STATE.HEAD;
    if (this.input === null) this.setTimer(TIMER.IDLE, this.ctx.options.idleTimeout);
    else this.setTimer(TIMER.HEADER, this.ctx.options.headerTimeout);
  }

  // ---- output ---------------------------------------------------------------------------------

  /** Serialises a response head and body into the cork buffer (or a stream), then moves on. */
  writeReply(reply: Reply): void {
    const raw = reply.raw;
    if (raw !== undefined && this.keepAlive && this.head.minor === 1 && !this.isHead) {
      const out = cork;
      if (raw.length <= RAW_COPY_LIMIT) out.bytes(raw);
      else {
        // Large: by reference. Anything already corked goes first to keep the order.
        this.flush();
        this.send(raw);
      }
      this.bytesSent = reply.body instanceof Uint8Array ? reply.body.length : raw.length;
      this.finishRequest(reply.status ?? 200);
      return;
    }
    const status = reply.status ?? 200;
    if (!(Number.isInteger(status) && status >= 200 && status <= 999)) {
      // 1xx cannot be a final response, and anything outside 100-999 is not a status at all.
      console.error(`handler returned invalid status ${status}`);
      disposeResult(reply);
      this.writeReply(INTERNAL_ERROR);
      return;
    }
    const body = reply.body ?? null;
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
      length = 0; // no body: Content-Length: 0, never an open-ended chunked stream
    }
    const out = cork;
    const h = HEAD_INPUT;
    h.status = status;
    h.headers = reply.headers;
    h.length = length;
    h.defaultType = reply.defaultType;
    h.minor = this.head.minor;
    h.keepAlive = this.keepAlive;
    h.dateLine = getDateLine(this.ctx.now);
    const framing = writeResponseHead(out, h);
    h.headers = undefined;
    if (framing === INVALID_HEAD) {
      if (source !== null) source.close();
      disposeResult(reply);
      this.writeReply(INVALID_HEADER);
      return;
    }
    const chunked = framing === FRAMING.CHUNKED;
    if (framing === FRAMING.CLOSE) this.keepAlive = false;
    this.bytesSent = 0;

    if (framing === FRAMING.NONE || this.isHead || (source === null && bytes === null && text === null)) {
      if (source !== null) source.close();
      this.finishRequest(status);
      return;
    }
    if (text !== null) {
      this.bytesSent = length;
      if (length <= COPY_LIMIT) out.utf8(text);
      else {
        this.flush();
        this.send(textEncoder.encode(text));
      }
      this.finishRequest(status);
      return;
    }
    if (bytes !== null) {
      this.bytesSent = bytes.length;
      if (bytes.length <= COPY_LIMIT) out.bytes(bytes);
      else {
        this.flush();
        this.send(bytes);
      }
      this.finishRequest(status);
      return;
    }
    // Streamed body: the head goes now, the body as the socket takes it.
    this.source = source;
    this.sourceChunked = chunked;
    this.streamStatus = status;
    this.state = STATE.HANDLING;
    this.flush();
    this.pump();
  }

  /** Moves body pieces from the source to the socket while the socket keeps up. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      // Bounded per turn so one fast download cannot hold the event loop: 16 pieces, then yield.
      for (let turn = 0; this.source !== null && this.queuedBytes === 0 && this.state !== STATE.CLOSED; turn++) {
        if (turn === 16) {
          setImmediate(() => {
            this.pump();
            this.flush();
          });
          break;
        }
        const piece = this.source.read();
        if (piece instanceof Promise) {
          piece.then(
            (p) => {
              this.pumping = false;
              this.onPiece(p);
              if (this.source !== null && this.queuedBytes === 0) this.pump();
              this.flush();
            },
            (err) => {
              this.pumping = false;
              this.abortStream(err);
            },
          );
          return;
        }
        this.onPiece(piece);
      }
    } catch (err) {
      this.pumping = false;
      this.abortStream(err);
      return;
    }
    this.pumping = false;
  }

  private onPiece(piece: Uint8Array | null): void {
    if (this.state === STATE.CLOSED || this.source === null) return;
    if (piece === null) {
      this.source = null;
      if (this.sourceChunked) cork.bytes(LAST_CHUNK);
      this.finishRequest(this.streamStatus);
      this.flush();
      this.resumeInput();
      return;
    }
    this.bytesSent += piece.length;
    if (this.sourceChunked) {
      cork.latin1(piece.length.toString(16));
      cork.bytes(CRLF);
      cork.bytes(piece);
      cork.bytes(CRLF);
      this.flush();
    } else {
      this.send(piece);
      if (this.queuedBytes === 0 && this.source instanceof FileSource) this.source.recycle(piece);
    }
  }

  private abortStream(err: unknown): void {
    // The head is out; the only honest signal left is to cut the connection.
    if (this.ctx.logging) console.error("response stream failed:", err);
    this.destroy();
  }

  /** Writes bytes that are not in the cork buffer (kept by reference if the kernel does not take them). */
  private send(bytes: Uint8Array): void {
    this.bytesOut += bytes.length;
    if (this.queuedBytes > 0) {
      this.queue.push(bytes);
      this.queuedBytes += bytes.length;
      return;
    }
    const n = this.socket.write(bytes, 0, bytes.length);
    if (n < bytes.length) this.enqueue(n < 0 ? bytes : bytes.subarray(n));
  }

  private enqueue(bytes: Uint8Array): void {
    this.queue.push(bytes);
    this.queuedBytes += bytes.length;
    this.setTimer(TIMER.SEND, this.ctx.options.sendTimeout);
  }

  /** Sends what the cork buffer holds: one write for everything this callback produced. */
  flush(): void {
    const out = cork;
    if (out.len === 0) return;
    if (this.state === STATE.CLOSED) {
      out.reset();
      return;
    }
    this.bytesOut += out.len;
    if (this.queuedBytes > 0) {
      const copy = out.take();
      this.queue.push(copy);
      this.queuedBytes += copy.length;
    } else {
      const n = this.socket.write(out.buf, 0, out.len);
      if (n < out.len) this.enqueue(out.buf.slice(n < 0 ? 0 : n, out.len));
      out.reset();
    }
    out.shrink();
    if (this.queuedBytes === 0) this.afterFlushed();
  }

  onDrain(): void {
    if (this.state === STATE.CLOSED) return;
    this.ctx.now = Date.now();
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      const len = head.length - this.queueOffset;
      const n = this.socket.write(head, this.queueOffset, len);
      if (n < 0) return;
      this.queuedBytes -= n;
      if (n < len) {
        this.queueOffset += n;
        this.setTimer(TIMER.SEND, this.ctx.options.sendTimeout); // progress: the client is reading
        return;
      }
      this.queue.shift();
      this.queueOffset = 0;
    }
    if (this.timer === TIMER.SEND) this.rearmTimer();
    this.afterFlushed();
    if (this.source !== null) {
      this.pump();
      this.flush();
    }
    this.resumeInput();
  }

  /** The timer for the state we are in, once the send timer is no longer needed. */
  private rearmTimer(): void {
    if (this.state === STATE.HEAD) {
      if (this.input === null) this.setTimer(TIMER.IDLE, this.ctx.options.idleTimeout);
      else this.setTimer(TIMER.HEADER, this.ctx.options.headerTimeout);
    } else if (this.state === STATE.BODY) {
      this.setTimer(TIMER.BODY, this.ctx.options.bodyTimeout);
    } else {
      this.setTimer(TIMER.NONE, 0); // HANDLING: a handler or a stream at work; CLOSING: afterFlushed
    }
  }

  private afterFlushed(): void {
    if (this.state === STATE.CLOSING && this.source === null && this.queuedBytes === 0 && this.timer !== TIMER.LINGER) {
      this.endNow();
    }
  }

  /** Everything is sent: close, lingering first only when the client may still be sending. */
  private endNow(): void {
    if (this.lingerOnClose) this.linger();
    else this.destroy();
  }

  private pauseInput(): void {
    if (this.inputPaused) return;
    this.inputPaused = true;
    this.socket.pause();
  }

  /** After a handler settles or output drains: take up buffered requests again. */
  private resumeInput(): void {
    if (this.state !== STATE.HEAD && this.state !== STATE.BODY) return;
    if (this.queuedBytes > HIGH_WATER) return;
    if (this.inputPaused) {
      this.inputPaused = false;
      this.socket.resume();
    }
    if (this.input !== null && this.inStart < this.inEnd && this.state === STATE.HEAD) {
      this.drive(this.input, this.inStart, this.inEnd);
      this.flush();
    } else if (this.peerEnded && this.state === STATE.HEAD && this.input === null) {
      this.closeWhenFlushed();
      this.flush();
    }
  }

  // ---- ending ---------------------------------------------------------------------------------

  /** Answers a request we will not process with a ready-made error response, then closes. */
  refuse(code: HttpErrorCode): void {
    if (this.state === STATE.CLOSING || this.state === STATE.CLOSED) return;
    const status = errorStatus(code);
    const bytes = errorResponseBytes(code);
    cork.bytes(bytes);
    this.bytesSent = bytes.length;
    this.keepAlive = false;
    this.source?.close();
    this.source = null;
    if (this.ctx.logging) this.ctx.log(this.current ?? null, status, bytes.length, this.remoteAddress, 0);
    this.current = null;
    this.closeWhenFlushed(true);
  }

  /**
   * Closes once the output is sent. `linger`: the client may still be sending (a refused request, or
   * bytes after the last request we answer), so half-close and drain first.
   */
  private closeWhenFlushed(linger = false): void {
    this.lingerOnClose = linger || (this.input !== null && this.inEnd > this.inStart);
    this.state = STATE.CLOSING;
    this.input = null;
    this.setTimer(TIMER.NONE, 0);
    if (this.queuedBytes === 0 && cork.len === 0) this.endNow();
  }

  /**
   * Half-close and keep reading for a moment before closing: closing with unread input makes the
   * kernel send RST, which can destroy the response before the client reads it (nginx: lingering_close).
   */
  private linger(): void {
    if (this.peerEnded) {
      this.destroy();
      return;
    }
    this.setTimer(TIMER.LINGER, LINGER_MS);
    try {
      this.socket.shutdown(); // FIN; we still read (and drop) until the client closes or the linger ends
    } catch {
      this.destroy();
    }
  }

  /** For a stopping server: close now if nothing is in progress, else after the current response. */
  closeWhenIdle(): void {
    this.draining = true;
    this.keepAlive = false;
    // Between requests: close once what is queued has gone (at once if nothing is).
    if (this.state === STATE.HEAD && this.input === null) this.closeWhenFlushed();
  }

  destroy(): void {
    if (this.state === STATE.CLOSED) return;
    this.state = STATE.CLOSED;
    this.release();
    this.socket.end();
  }

  /** The socket is gone (either side): free what this connection holds. */
  onClose(): void {
    if (this.state !== STATE.CLOSED) this.state = STATE.CLOSED;
    this.release();
  }

  private release(): void {
    this.ctx.connections.delete(this);
    this.source?.close();
    this.source = null;
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.input = null;
    this.body = null;
    this.deadline = 0;
  }

  // ---- timers ---------------------------------------------------------------------------------

  private setTimer(kind: number, ms: number): void {
    this.timer = kind;
    this.deadline = kind === TIMER.NONE ? 0 : this.ctx.now + ms;
  }

  /** Called by the server's sweep when `deadline` has passed. */
  onTimeout(): void {
    switch (this.timer) {
      case TIMER.HEADER:
        // Bytes of a request arrived but not all of it: tell the client why (nginx closes silently).
        if (this.input !== null) {
          this.refuse(HTTP_ERROR.HEADER_TIMEOUT);
          this.flush();
        } else this.destroy();
        return;
      case TIMER.BODY:
        this.refuse(HTTP_ERROR.BODY_TIMEOUT);
        this.flush();
        return;
      default:
        // IDLE, SEND (client stopped reading), LINGER: just close.
        this.destroy();
    }
  }
}


const HEAD_INPUT: HeadInput = {
  status: 200,
  headers: undefined,
  length: 0,
  defaultType: undefined,
  minor: 1,
  keepAlive: true,
  dateLine: new Uint8Array(0),
};
const INVALID_HEADER: Reply = { status: 500, headers: TEXT_PLAIN_TYPE, body: "500 Internal Server Error: invalid header\n" };
