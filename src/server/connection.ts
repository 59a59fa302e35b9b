// One state machine per socket (RFC 9112 §9): read a head, dispatch it at once, feed its body to
// the handler as it arrives, write the response, go on to the next request, or close.
//
// Every entry point (data, drain, a handler settling, a body read, a timer) ends in drive(), which
// flushes the cork buffer, so all the responses one read produced leave in one write. Memory per
// connection is bounded by three caps: the unparsed head (maxHeaderSize), the request body waiting
// for its handler (bodyBufferSize: then the socket is paused, so TCP pushes back on the client), and
// the response bytes the kernel has not taken (outputHighWater: then requests wait unparsed).
//
// The per-request path stays here; the cold parts are plain functions beside it, taking the connection:
// connection-timers (its one timer), -reading (pause/resume, the PROXY header), -body (the request
// body's side), -close (how it ends) and -upgrade (after 101). Fields they share are marked @internal.
import type { Socket } from "bun";
import type { AddedFields } from "../http/added-fields.ts";
import { HTTP_ERROR, type HttpErrorCode } from "../http/errors.ts";
import { RequestHead } from "../http/head.ts";
import { FAILED, INCOMPLETE, METHOD, parseRequestHead } from "../http/parser.ts";
import type { BodySource } from "./body.ts";
import { BodyReceiver } from "./body-receiver.ts";
import type { BudgetWaiter } from "./budget.ts";
import { dropBody, feedBody, mustCloseForBody, sendContinue } from "./connection-body.ts";
import { abandonResponse, abortNow, closeIdle, closeWhenFlushed, endNow, handleEnd, refuseRequest, release, stopWhenIdle } from "./connection-close.ts";
import { readProxyHeader, shrinkReads, updateReading } from "./connection-reading.ts";
import { LINGER_BYTES, STATE, type State, TIMER, type Timer } from "./connection-state.ts";
import { armTimer, handleTimeout, setTimer } from "./connection-timers.ts";
import { upgradeConnection } from "./connection-upgrade.ts";
import { Input } from "./input.ts";
import { Output, type OutputOwner } from "./output.ts";
import { BYTES_REPLY, disposeResult, type HandlerResult, INTERNAL_ERROR, NOT_FOUND, PendingReply, type PendingTarget, type Reply, TEXT_REPLY } from "./reply.ts";
import { type ReplyTarget, writeReply } from "./reply-writer.ts";
import type { BodyFeeder } from "./request-body.ts";
import { ServerRequest } from "./request.ts";
import type { ResponseStream } from "./response-stream.ts";
import type { ServerContext } from "./server-context.ts";
import type { Protocol } from "./upgrade.ts";

/** Uploads at once that may keep the kernel's big (autotuned) receive buffers; later ones read small. */
const BIG_READ_UPLOADS = 16;

export class Connection implements BodyFeeder, ReplyTarget, BudgetWaiter, PendingTarget, OutputOwner {
  state: State = STATE.HEAD;
  readonly head = new RequestHead();
  readonly output: Output;

  /** @internal Unparsed input, kept across reads (input.ts). */
  readonly in = new Input();

  /** @internal The request body being received. */
  readonly rx: BodyReceiver;
  /** @internal `100 Continue` went out for this request. */
  continueSent = false;

  // The response.
  /** @internal The response's body, going out as a stream. */
  stream: ResponseStream | null = null;
  /** @internal A stream of unknown length waiting for its first pieces (reply-writer.ts startStream). */
  starting: BodySource | null = null;
  /** @internal The current response's head has been written: from here only a cut can replace it. */
  headSent = false;
  /** @internal Requests answered on this connection (a new one waits headerTimeout, not keepAliveTimeout). */
  answered = 0;
  keepAlive = true;
  isHead = false;
  /** @internal Bytes of the response being answered (for the log). */
  bytesSent = 0;
  /** @internal The request being answered (its handler works, or its response streams). */
  current: ServerRequest | null = null;
  /** @internal The last request answered whose response is still queued, not all sent. */
  unsent: ServerRequest | null = null;
  /** The status of the response being written (for the log when a stream ends). */
  private status = 200;
  /** @internal When the request being answered was dispatched (for the access log), ms. */
  startedAt = 0;

  /** @internal We paused the socket (updateReading). */
  paused = false;
  /** @internal The client half-closed (its FIN came). */
  peerEnded = false;
  /** @internal The server is stopping: finish what is in progress, keep nothing alive. */
  draining = false;
  /** @internal Once the output has gone, linger before closing (connection-close.ts closeWhenFlushed). */
  lingerOnClose = false;
  /** @internal release() has run. */
  releasedOnce = false;
  /** @internal Bytes read and dropped since the connection began to close. */
  lingered = 0;
  /** @internal The socket's receive buffer was made small (receive-buffer.ts). */
  smallReads = false;
  private driving = false;
  private again = false;
  /** @internal Who owns the socket after a 101 (connection-upgrade.ts). */
  protocol: Protocol | null = null;

  // Timeouts: one deadline at a time, checked by the server's sweep.
  deadline = 0;
  /** @internal The kind of `deadline` (connection-timers.ts). */
  timer: Timer = TIMER.NONE;
  /** @internal The kernel's unsent bytes at the last SEND timeout (-1: not looked yet, since the last drain). */
  unsentMark = -1;
  /** @internal handlerTimeout for the request being answered (server.timeout() may change it for that one). */
  waitTimeout = 0;

  constructor(
    readonly socket: Socket<Connection>,
    /** @internal */
    readonly ctx: ServerContext,
  ) {
    this.output = new Output(socket as Socket<unknown>, ctx.budget, this);
    if (ctx.plainTcp) {
      // Plain TCP: some writes go to the descriptor directly (writev, sendfile from the send arena).
      const fd = (socket as { fd?: number }).fd;
      if (typeof fd === "number" && fd >= 0) this.output.rawFd = fd;
      this.output.sendfile = ctx.sendfile;
    }
    this.rx = new BodyReceiver(ctx.budget);
    if (ctx.proxyProtocol) this.state = STATE.PROXY;
    armTimer(this);
  }

  // The peer, read when first asked (Bun's getters cost microseconds: getpeername and a new string per
  // call), or set from a PROXY header.
  /** @internal Set by readProxyHeader (connection-reading.ts); read through remoteAddress. */
  peerAddress: string | undefined;
  /** @internal As peerAddress; -1 until known. */
  peerPort = -1;
  get remoteAddress(): string {
    return (this.peerAddress ??= this.socket.remoteAddress ?? "");
  }
  get secure(): boolean {
    return !this.ctx.plainTcp;
  }
  get remotePort(): number {
    if (this.peerPort < 0) this.peerPort = this.socket.remotePort ?? 0;
    return this.peerPort;
  }

  get closed(): boolean {
    return this.state === STATE.CLOSED;
  }

  /** A request is being answered here (its handler works, or its response streams). */
  get busy(): boolean {
    return this.current !== null;
  }

  setWaitTimeout(ms: number): void {
    if (this.current === null) return;
    this.waitTimeout = ms;
    armTimer(this, TIMER.WAIT);
  }

  // ---- socket events --------------------------------------------------------------------------

  onData(chunk: Uint8Array): void {
    const state = this.state;
    if (state === STATE.CLOSED) return;
    this.ctx.now = Date.now();
    if (state === STATE.UPGRADED) {
      this.protocol!.onData(chunk);
      return;
    }
    if (state === STATE.CLOSING || state === STATE.LINGER) {
      // Dropped.
      this.lingered += chunk.length;
      if (state === STATE.LINGER && this.lingered >= LINGER_BYTES) updateReading(this);
      return;
    }
    this.in.append(chunk);
    if (state === STATE.PROXY) readProxyHeader(this);
    this.drive();
  }

  onDrain(): void {
    if (this.state === STATE.CLOSED) return;
    this.ctx.now = Date.now();
    const took = this.output.drain();
    if (this.state === STATE.UPGRADED) {
      if (took > 0) this.protocol!.onSent?.();
      if (this.output.queued === 0) this.protocol!.onDrain();
      return;
    }
    this.unsentMark = -1;
    if (this.output.stalled) {
      if (took > 0) armTimer(this, TIMER.SEND); // progress: the client is reading
      return;
    }
    // The kernel took everything: that is progress too, so whatever stalls next (the stream's next
    // piece) gets a whole sendTimeout, not what was left of the last one.
    if (this.timer === TIMER.SEND) setTimer(this, TIMER.NONE, 0);
    this.afterFlushed();
    this.stream?.pump();
    this.drive();
  }

  /** The client half-closed: answer what it sent, then close (connection-close.ts). */
  onEnd(): void {
    handleEnd(this);
  }

  /** The socket is gone (either side): free what this connection holds. */
  onClose(): void {
    if (this.state !== STATE.CLOSED) this.state = STATE.CLOSED;
    release(this);
  }

  /** Called by the server's sweep when `deadline` has passed (connection-timers.ts). */
  onTimeout(): void {
    handleTimeout(this);
  }

  /** The server's budgets have room again. */
  onBudget(): void {
    if (this.state === STATE.CLOSED || this.state === STATE.UPGRADED) return;
    this.ctx.now = Date.now();
    this.drive();
  }

  // ---- input ----------------------------------------------------------------------------------

  /**
   * Runs whatever the input and the state allow, then flushes, and sets reading and the timer for
   * where that left us. Re-entered (a handler reading its body inside dispatch), it only asks the
   * outer call for another pass. (@internal: the connection-* modules call it too.)
   */
  drive(): void {
    if (this.driving) {
      this.again = true;
      return;
    }
    this.driving = true;
    try {
      do {
        this.again = false;
        this.step();
      } while (this.again && this.state <= STATE.DISCARD);
    } finally {
      this.driving = false;
    }
    if (this.state === STATE.CLOSED) return;
    if (this.state <= STATE.DISCARD) this.in.trim();
    this.output.flush();
    updateReading(this);
    armTimer(this);
  }

  private step(): void {
    for (;;) {
      const state = this.state;
      if (state === STATE.HEAD) {
        if (this.in.start >= this.in.end) {
          if (this.peerEnded) closeWhenFlushed(this);
          return;
        }
        if (!this.nextRequest()) return;
      } else if ((state === STATE.ACTIVE || state === STATE.DISCARD) && this.rx.receiving) {
        if (this.in.start >= this.in.end || !feedBody(this)) return;
      } else {
        return;
      }
    }
  }

  /** Parses the next head and starts its request. False when it must wait (more bytes, or output). */
  private nextRequest(): boolean {
    if (this.outputBlocked()) return false;
    const opts = this.ctx.options;
    const buf = this.in.buf!;
    const pos = this.in.start;
    const end = this.in.end;
    // After the client's FIN, parse what is there at once: an incomplete head then closes (below).
    if (!this.peerEnded && !this.in.headMayBeComplete(opts.maxHeaderSize)) return false;
    const n = parseRequestHead(buf, pos, end, this.head, opts);
    if (n === INCOMPLETE) {
      this.in.scanned = end - pos;
      // Cut off by the client's FIN, it can never complete: close once the answers queued have gone
      // (empty lines between requests, RFC 9112 §2.2, are no request at all).
      if (this.peerEnded) closeWhenFlushed(this);
      return false;
    }
    this.in.scanned = 0;
    if (n === FAILED) {
      refuseRequest(this, this.head.error as HttpErrorCode);
      return false;
    }
    this.in.start = pos + n;
    this.startRequest();
    return true;
  }

  /**
   * Whether responses already produced hold too much output to take another request now: the client is
   * not reading them (or the server-wide budget is spent). Responses still in the cork buffer count
   * too, so one read of many pipelined requests cannot build an unbounded answer. (@internal:
   * updateReading asks it too.)
   */
  outputBlocked(): boolean {
    const out = this.output;
    const high = this.ctx.options.outputHighWater;
    if (out.pending > high) out.flush();
    if (out.queued > high) return true;
    const budget = this.ctx.budget;
    if (out.queued > 0 && budget.outputOver(out.queued)) {
      budget.wait(this);
      return true;
    }
    return false;
  }

  private startRequest(): void {
    const head = this.head;
    const opts = this.ctx.options;
    this.keepAlive = head.keepAlive && !this.peerEnded && !this.draining;
    this.isHead = head.method === METHOD.HEAD;
    this.bytesSent = 0;
    this.headSent = false;
    this.continueSent = false;
    this.waitTimeout = opts.handlerTimeout;
    this.state = STATE.ACTIVE;
    // A new request: its timers count from now. armTimer keeps a deadline while the kind stays the
    // same, so without this a connection busy with quick requests (IDLE, then IDLE again after each
    // answer) kept its first idle deadline and was cut keepAliveTimeout after its first response.
    // A stalled send keeps its deadline: answering more requests is no progress on it.
    if (this.timer !== TIMER.SEND) setTimer(this, TIMER.NONE, 0);
    if (head.contentLength > opts.maxBody) {
      // Refused before any body byte is read; with Expect: 100-continue, the client never sends it.
      refuseRequest(this, HTTP_ERROR.BODY_TOO_LARGE);
      return;
    }
    // A body's clock starts now (this may run from a promise callback, long after the last event).
    if (head.hasBody) this.ctx.now = Date.now();
    this.in.start = this.rx.start(head, this.in.buf, this.in.start, this.in.end, this, opts, this.ctx.now);
    // Past a few uploads at once, each reads in small pieces: a thousand must not each bring 512 KiB.
    if (this.rx.receiving && this.ctx.budget.receiving > BIG_READ_UPLOADS) shrinkReads(this);
    // What came with the head goes to the body first, so a handler that reads at once finds it.
    if (this.rx.receiving && this.in.start < this.in.end) feedBody(this);
    if (this.state === STATE.ACTIVE) this.dispatch();
  }

  // ---- what the body's reader tells us (connection-body.ts) ------------------------------------

  onBodyWanted(): void {
    sendContinue(this);
  }

  onBodyRoom(): void {
    if (this.rx.receiving && this.state !== STATE.CLOSED) {
      this.ctx.now = Date.now();
      this.drive();
    }
  }

  onBodyAbandoned(): void {
    dropBody(this);
  }

  // ---- dispatch -------------------------------------------------------------------------------

  private dispatch(): void {
    const req = new ServerRequest(this.head, this.rx.body, this, this.ctx.trust);
    this.current = req;
    if (this.ctx.logging) this.startedAt = performance.now();
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
    if (result instanceof Promise || result instanceof PendingReply) {
      if (this.peerEnded) {
        // Dispatched after the client's FIN (pipelined before it), and not answered at once.
        if (result instanceof Promise) result.then(disposeResult, () => {});
        else disposeResult(result);
        abandonResponse(this);
        return;
      }
      this.settle(result, req);
      return;
    }
    this.respond(result);
  }

  // A PendingReply's answer (settle() registered this connection with it).
  pendingSettled(req: unknown, result: HandlerResult): void {
    this.settle(result, req as ServerRequest);
  }
  pendingFailed(req: unknown, err: unknown): void {
    const r = req as ServerRequest;
    this.settle(this.current === r ? this.fail(err, r) : INTERNAL_ERROR, r, true);
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
    if (this.current !== req || this.state === STATE.CLOSED) {
      // The client went away, or the request was refused, while the handler worked: release its answer.
      if (result instanceof Promise) result.then(disposeResult, () => {});
      else disposeResult(result);
      return;
    }
    if (result instanceof PendingReply) {
      result.wait(this, req); // (back in pendingSettled or pendingFailed, with `failed` forgotten: a
      return; //              pending answer comes from a handler, never from the error hook)
    }
    if (result instanceof Promise) {
      result.then(
        (r) => this.settle(r, req, failed),
        (err) => this.settle(failed ? INTERNAL_ERROR : this.fail(err, req), req, true),
      );
      return;
    }
    this.ctx.now = Date.now();
    this.respond(result);
    this.drive();
  }

  /**
   * Writes the handler's result. A result that cannot be written (a bad header value, a locked stream)
   * becomes a 500 while nothing of it has left; after that, the connection is cut.
   */
  private respond(result: HandlerResult, filtered = false): void {
    const fixed = this.current?.fixedReply;
    if (fixed != null && result !== fixed) {
      disposeResult(result);
      result = fixed;
    }
    const out = this.output.cork();
    const mark = out.len;
    const sent = this.output.total;
    try {
      this.respondWith(result, filtered);
    } catch (err) {
      console.error("cannot send the handler's response:", err);
      disposeResult(result);
      if (this.state === STATE.ACTIVE && this.stream === null && this.output.total === sent && this.output.cork().len >= mark) {
        this.output.cork().len = mark;
        this.headSent = false;
        this.writeReply(INTERNAL_ERROR);
      } else {
        this.destroy();
      }
    }
  }

  private respondWith(result: HandlerResult, filtered: boolean): void {
    if (result instanceof Response) {
      const parts = this.ctx.readResponse(result);
      if (parts instanceof Promise) this.settle(parts, this.current!);
      else this.writeResult(parts, filtered);
      return;
    }
    if (result === null || result === undefined) {
      this.writeReply(NOT_FOUND);
    } else if (typeof result === "string") {
      // One reused Reply: writeReply reads it and keeps nothing of it.
      TEXT_REPLY.body = result;
      this.writeResult(TEXT_REPLY, filtered);
      TEXT_REPLY.body = null;
    } else if (result instanceof Uint8Array) {
      BYTES_REPLY.body = result;
      this.writeResult(BYTES_REPLY, filtered);
      BYTES_REPLY.body = null;
    } else if (result instanceof PendingReply) {
      this.settle(result, this.current!); // (settle waits for it; nothing brings one here today)
    } else {
      this.writeResult(result, filtered);
    }
  }

  /** Writes a handler's reply, through the context's filter unless it has been through it. */
  private writeResult(reply: Reply, filtered: boolean): void {
    const filter = this.ctx.filter;
    // A whole pre-encoded response (a cached file) is final: the hottest path does not even ask.
    if (filtered || filter === undefined || reply.raw !== undefined || reply.writeRaw !== undefined) {
      this.writeReply(reply);
      return;
    }
    const out = filter(reply, this.current!);
    if (!(out instanceof Promise)) {
      this.writeReply(out);
      return;
    }
    const req = this.current!;
    out.then(
      (r) => {
        if (this.current !== req || this.state === STATE.CLOSED) return disposeResult(r);
        this.ctx.now = Date.now();
        this.respond(r, true);
        this.drive();
      },
      (err) => this.settle(this.fail(err, req), req, true),
    );
  }

  /**
   * A body still arriving that the response will not read: dropped from here on if that is cheap,
   * else the response says `Connection: close`. `ifUnread`: only when nothing has read it yet (a
   * streamed response's head is due, and its stream may be reading the body: an echo).
   */
  settleUnreadBody(ifUnread: boolean): void {
    const rx = this.rx;
    if (!rx.receiving || rx.discarding) return;
    if (mustCloseForBody(this)) {
      // Too much to drop if the response does not read it all: say so now, not by a surprise close.
      this.keepAlive = false;
    } else if (!(ifUnread && rx.body!.used)) {
      rx.discard(); // drop the rest as it comes
    }
  }

  // ---- what the reply writer (reply-writer.ts) needs -----------------------------------------

  writeReply(reply: Reply): void {
    writeReply(this, reply);
  }
  get minor(): number {
    return this.head.minor;
  }
  get addedFields(): AddedFields | null {
    return this.current === null ? null : this.current.addedFields;
  }
  get bodyArriving(): boolean {
    return this.rx.receiving;
  }
  get currentRequest(): unknown {
    return this.current;
  }
  isCurrent(req: unknown): boolean {
    return this.current === req && this.state === STATE.ACTIVE;
  }
  get now(): number {
    return this.ctx.now;
  }
  set now(ms: number) {
    this.ctx.now = ms;
  }
  headWritten(status: number): void {
    this.status = status;
    this.headSent = true;
  }
  abortResponse(): void {
    this.headSent = false;
  }
  finishResponse(status: number, bytes: number): void {
    this.bytesSent = bytes;
    this.finishRequest(status);
  }
  streamStarting(source: BodySource | null): void {
    this.starting = source;
  }
  streamResponse(stream: ResponseStream): void {
    this.stream = stream;
    if (!stream.startsWithFile) this.output.flush(); // (else the stream's first write sends the head)
    stream.pump();
  }
  switchProtocols(reply: Reply): void {
    upgradeConnection(this, reply);
  }
  resumeAfter(): void {
    this.drive();
  }

  streamProgress(): void {
    if (this.timer === TIMER.WAIT) setTimer(this, TIMER.WAIT, this.waitTimeout);
  }

  streamEnded(bytes: number): void {
    this.stream = null;
    this.bytesSent = bytes;
    this.finishRequest(this.status);
    this.drive();
  }

  streamFailed(err: unknown): void {
    this.stream = null;
    if (this.ctx.logging) console.error("response stream failed:", err);
    this.destroy();
  }

  private finishRequest(status: number): void {
    if (this.ctx.logging) {
      this.ctx.log(this.current, status, this.bytesSent, this.remoteAddress, performance.now() - this.startedAt);
    }
    // Answered, but maybe not yet sent: a client that goes away before its last bytes leave is told
    // by the request's signal, as under Bun.serve.
    if (this.output.queued > 0) this.unsent = this.current;
    this.current = null;
    if (this.state !== STATE.ACTIVE) return;
    if (this.rx.receiving) {
      // The response is done and the body is still arriving: nobody will read it now.
      if (!this.keepAlive || mustCloseForBody(this)) {
        this.keepAlive = false;
        closeWhenFlushed(this, true);
        return;
      }
      this.rx.discard();
      this.state = STATE.DISCARD;
      return;
    }
    this.nextAfterResponse();
  }

  /** The response and its body are both done: the next request, or the close. (@internal: feedBody calls it.) */
  nextAfterResponse(): void {
    this.rx.clear();
    this.head.release(); // the next head brings its own bytes; an idle connection keeps none
    this.headSent = false;
    this.answered++;
    if (!this.keepAlive) {
      closeWhenFlushed(this);
      return;
    }
    this.state = STATE.HEAD;
  }

  // ---- ending (connection-close.ts) ------------------------------------------------------------

  private afterFlushed(): void {
    if (this.output.queued === 0) this.unsent = null;
    if (this.state === STATE.CLOSING && this.output.pending === 0) endNow(this);
  }

  // OutputOwner: what the output tells the connection.
  outputEmptied(): void {
    this.afterFlushed();
  }
  outputStalled(): void {
    armTimer(this);
  }
  outputBroken(): void {
    this.destroy();
  }

  /** Answers a request we will not process with a ready-made error response, then closes. */
  refuse(code: HttpErrorCode): void {
    refuseRequest(this, code);
  }

  /** For a stopping server: close now if nothing is in progress, else after the current response. */
  closeWhenIdle(): void {
    stopWhenIdle(this);
  }

  /** Closes now if the connection waits for a request (server.closeIdleConnections()). */
  closeIfIdle(): void {
    closeIdle(this);
  }

  /** For stop(true): closes now, letting an upgraded protocol write its last word first. */
  abort(): void {
    abortNow(this);
  }

  destroy(): void {
    if (this.state === STATE.CLOSED) return;
    this.state = STATE.CLOSED;
    release(this);
    this.socket.end();
  }

  // ---- reading and timers: one place each decides, from the state -------------------------------
  // (connection-reading.ts updateReading, connection-timers.ts armTimer)

  /** From now on the kernel queues little for this socket, so each read brings little (receive-buffer.ts). */
  readSmall(): void {
    shrinkReads(this);
  }
}

