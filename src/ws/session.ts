// One WebSocket connection after the 101 (RFC 6455): frames in, messages to the handlers, frames
// out through the connection's cork buffer, the close handshake, backpressure, and the idle clock on
// the connection's one deadline. The public object the handlers see is server-websocket.ts.
import type { OutBuffer } from "../http/response.ts";
import type { Output } from "../server/output.ts";
import type { Protocol, UpgradedConnection } from "../server/upgrade.ts";
import { CLOSE, isValidCloseCode } from "./close-codes.ts";
import { type DeflateParams, deflateMessage, inflateMessage } from "./deflate.ts";
import { FrameParser, type FrameSink, OPCODE } from "./frame-parser.ts";
import { closePayload, encodeFrame, firstByte, writeFrame, writeHeader, writeTextFrame } from "./frame-writer.ts";
import type { WsSettings } from "./options.ts";
import { awaitFlush, type Batched, enterCallback, leaveCallback, sendSoon } from "./send-batch.ts";
import type { Subscriber } from "./topics.ts";

export const READY = { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 } as const;

/** Bun's send() results: the bytes sent, or these. */
export const SEND = { BACKPRESSURE: -1, DROPPED: 0 } as const;

export type BinaryType = "nodebuffer" | "arraybuffer" | "uint8array";

/** How long a close we sent waits for the peer's (then the connection is cut). */
const CLOSE_WAIT_MS = 5000;
/** Payloads from here up go out by reference after their header, not through the cork buffer. */
const LARGE_PAYLOAD = 16 * 1024;

const fatal = new TextDecoder("utf-8", { fatal: true });
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice(this: Uint8Array, s: number, e: number): string }).latin1Slice;
const EMPTY = new Uint8Array(0);
/** A sink's answer that ends the parse without an error (after the peer's close frame). */
const STOP = -1;

/** What the server keeps for all its sockets: settings, the open set, the topics. */
export interface WsContext {
  readonly settings: WsSettings;
  readonly open: Set<Session>;
  readonly topics: import("./topics.ts").Topics;
}

/** The handlers' view of a socket (server-websocket.ts), as the session calls them with it. */
type Facade = object;

export class Session implements Protocol, FrameSink, Subscriber, Batched {
  readyState: number = READY.OPEN;
  binaryType: BinaryType = "nodebuffer";
  /** The handlers' object; set right after construction. */
  ws!: Facade;
  readonly output: Output;
  readonly #parser = new FrameParser();
  /** The message being received: its opcode (0: none), whether compressed, its bytes so far. */
  #msgOp = 0;
  #msgCompressed = false;
  #msgBytes = 0;
  /** A message in pieces: bytes gathered (binary, compressed), or text decoded as it came. */
  #gathered: Uint8Array | null = null;
  #gatheredLen = 0;
  #textDecoder: TextDecoder | null = null;
  #text = "";
  /** The frame being received: its opcode, FIN, and whether a piece of it came yet. */
  #frameOp = 0;
  #frameFin = false;
  #framePieces = 0;
  /** A control frame's payload, gathered (at most 125 bytes). */
  #ctrl: Uint8Array | null = null;
  #ctrlLen = 0;
  /** The idle clock: when something last came in, and whether we pinged since. */
  #lastReceived: number;
  #pinged = false;
  /** Reading stopped: by us, while our output is over the backpressure limit; by ws.pause(). */
  #heldBack = false;
  userPaused = false;
  /** Frames published to this socket, waiting for the end of the batch (send-batch.ts). */
  #published: Uint8Array[] | null = null;
  #publishedBytes = 0;
  /** Topics this socket is in. */
  topics: Set<string> | null = null;
  #closeNotified = false;

  constructor(
    readonly conn: UpgradedConnection,
    readonly ctx: WsContext,
    readonly deflate: DeflateParams | null,
  ) {
    this.output = conn.output;
    this.#lastReceived = conn.now;
  }

  /** For topics: whether a frame compressed with the full window may go to this socket. */
  get compresses(): boolean {
    return this.deflate !== null && this.ctx.settings.compress && this.deflate.serverMaxWindowBits === 15;
  }

  /** After the 101: `open`, then the bytes that came with the handshake. */
  start(received: Uint8Array): void {
    this.ctx.open.add(this);
    this.#armIdle();
    enterCallback();
    try {
      this.#call(0, null, 0);
      if (received.length > 0 && this.readyState === READY.OPEN) this.#feed(received);
    } finally {
      leaveCallback();
    }
    this.#afterRead();
  }

  // ---- socket events (Protocol) -----------------------------------------------------------------

  onData(chunk: Uint8Array): void {
    this.#lastReceived = this.conn.now;
    enterCallback();
    try {
      this.#feed(chunk);
    } finally {
      leaveCallback();
    }
    this.#afterRead();
  }

  #feed(chunk: Uint8Array): void {
    if (this.readyState === READY.CLOSED) return;
    const err = this.#parser.feed(chunk, this);
    if (err > 0) this.fail(err); // (STOP: the close handshake ended; what follows is not read)
  }

  /** Our output over the limit: stop reading until it drains (the peer then feels TCP's backpressure). */
  #afterRead(): void {
    const limit = this.ctx.settings.backpressureLimit;
    if (limit > 0 && !this.#heldBack && this.output.queued > limit && this.readyState !== READY.CLOSED) {
      this.#heldBack = true;
      this.conn.pause();
    }
  }

  onDrain(): void {
    if (this.#heldBack) {
      this.#heldBack = false;
      if (!this.userPaused) this.conn.resume();
    }
    if (this.readyState !== READY.OPEN) return;
    enterCallback();
    try {
      this.#call(3, null, 0);
    } finally {
      leaveCallback();
    }
  }

  onEnd(): void {
    // The peer half-closed without a close frame (or after ours): nothing more will come.
    this.conn.destroy();
  }

  onClose(): void {
    this.readyState = READY.CLOSED;
    this.#notifyClose(CLOSE.ABNORMAL, "");
    this.#release();
  }

  onTimeout(): void {
    if (this.readyState !== READY.OPEN) {
      // Our close frame got no answer in time.
      this.conn.destroy();
      return;
    }
    const idle = this.ctx.settings.idleTimeout;
    const half = Math.floor(idle / 2);
    const quiet = this.conn.now - this.#lastReceived;
    if (this.userPaused) {
      // (The idle clock stops while the application holds reading back.)
      this.conn.setDeadline(half);
      return;
    }
    if (quiet < half) {
      this.#pinged = false;
      this.conn.setDeadline(half - quiet);
      return;
    }
    if (quiet < idle) {
      // Half the idle time without a byte: ask; a live peer's pong resets the clock.
      if (this.ctx.settings.sendPings && !this.#pinged) {
        this.#pinged = true;
        this.control(OPCODE.PING, EMPTY);
        sendSoon();
      }
      this.conn.setDeadline(idle - quiet);
      return;
    }
    this.terminate();
  }

  /** The server stops: close with 1001 (going away). */
  onShutdown(): void {
    this.close(CLOSE.GOING_AWAY, "");
    sendSoon();
  }

  #armIdle(): void {
    const idle = this.ctx.settings.idleTimeout;
    this.conn.setDeadline(idle > 0 ? Math.max(Math.floor(idle / 2), 1) : 0);
  }

  // ---- frames in (FrameSink) -----------------------------------------------------------------

  frameHead(fin: boolean, rsv: number, opcode: number, length: number): number {
    this.#frameOp = opcode;
    this.#frameFin = fin;
    this.#framePieces = 0;
    if (opcode >= 8) {
      if (rsv !== 0) return CLOSE.PROTOCOL_ERROR;
      this.#ctrlLen = 0;
      return 0;
    }
    if (opcode === OPCODE.CONTINUATION) {
      // A continuation continues something, and carries no RSV1 of its own (RFC 7692 §6.1).
      if (this.#msgOp === 0 || rsv !== 0) return CLOSE.PROTOCOL_ERROR;
    } else {
      if (this.#msgOp !== 0) return CLOSE.PROTOCOL_ERROR; // a new message inside a fragmented one
      if (rsv !== 0 && (rsv !== 4 || this.deflate === null)) return CLOSE.PROTOCOL_ERROR;
      this.#msgOp = opcode;
      this.#msgCompressed = rsv === 4;
      this.#msgBytes = 0;
    }
    if (this.#msgBytes + length > this.ctx.settings.maxPayloadLength) return CLOSE.MESSAGE_TOO_BIG;
    return 0;
  }

  framePayload(buf: Uint8Array, start: number, end: number, last: boolean): number {
    const op = this.#frameOp;
    if (op >= 8) {
      const n = end - start;
      if (n > 0) {
        const ctrl = (this.#ctrl ??= new Uint8Array(125));
        ctrl.set(buf.subarray(start, end), this.#ctrlLen);
        this.#ctrlLen += n;
      }
      if (!last) return 0;
      const payload = this.#ctrlLen === 0 ? EMPTY : this.#ctrl!.slice(0, this.#ctrlLen);
      return this.#onControl(op, payload);
    }
    const first = this.#framePieces++ === 0;
    this.#msgBytes += end - start;
    if (this.readyState !== READY.OPEN) {
      // After our close, data is read and dropped (RFC 6455 §1.4).
      if (last && this.#frameFin) this.#endMessage();
      return 0;
    }
    const msgOp = op === OPCODE.CONTINUATION ? this.#msgOp : op;
    if (last && this.#frameFin && first && this.#msgBytes === end - start) {
      // The whole message in one view of one chunk: no copy.
      const rsv = this.#msgCompressed ? 4 : 0;
      if (op === OPCODE.CONTINUATION) this.#endMessage(); // (after empty fragments)
      else this.#msgOp = 0;
      return this.#deliver(rsv, msgOp, buf, start, end);
    }
    if (msgOp === OPCODE.TEXT && !this.#msgCompressed) {
      // Text in pieces is decoded as it comes, so invalid UTF-8 fails at once (fail fast, §8.1).
      const dec = (this.#textDecoder ??= new TextDecoder("utf-8", { fatal: true }));
      try {
        this.#text += dec.decode(buf.subarray(start, end), { stream: true });
      } catch {
        return CLOSE.INVALID_PAYLOAD;
      }
    } else {
      this.#gather(buf, start, end);
    }
    if (!(last && this.#frameFin)) return 0;
    // The message is complete.
    const compressed = this.#msgCompressed;
    if (msgOp === OPCODE.TEXT && !compressed) {
      let text: string;
      try {
        text = this.#text + this.#textDecoder!.decode();
      } catch {
        return CLOSE.INVALID_PAYLOAD; // ends inside a character
      }
      this.#endMessage();
      this.#message(text);
      return 0;
    }
    const bytes = this.#gathered!.subarray(0, this.#gatheredLen);
    this.#endMessage();
    return this.#deliver(compressed ? 4 : 0, msgOp, bytes, 0, bytes.length);
  }

  #gather(buf: Uint8Array, start: number, end: number): void {
    const n = end - start;
    let g = this.#gathered;
    const need = this.#gatheredLen + n;
    if (g === null || g.length < need) {
      const next = new Uint8Array(Math.max(need, Math.min(g === null ? 4096 : g.length * 2, this.ctx.settings.maxPayloadLength)));
      if (g !== null) next.set(g.subarray(0, this.#gatheredLen));
      this.#gathered = g = next;
    }
    g.set(buf.subarray(start, end), this.#gatheredLen);
    this.#gatheredLen = need;
  }

  #endMessage(): void {
    this.#msgOp = 0;
    this.#msgCompressed = false;
    this.#msgBytes = 0;
    this.#gathered = null;
    this.#gatheredLen = 0;
    this.#textDecoder = null;
    this.#text = "";
  }

  /** A whole message's bytes: inflated if compressed, decoded if text, then to the handler. */
  #deliver(rsv: number, op: number, buf: Uint8Array, start: number, end: number): number {
    if (rsv !== 0) {
      const max = this.ctx.settings.maxPayloadLength;
      const inflated = inflateMessage(buf.subarray(start, end), max);
      if (inflated === "big" || (inflated !== null && inflated.length > max)) return CLOSE.MESSAGE_TOO_BIG;
      if (inflated === null) return CLOSE.INVALID_PAYLOAD;
      buf = inflated;
      start = 0;
      end = inflated.length;
    }
    if (op === OPCODE.TEXT) {
      const text = decodeText(buf, start, end);
      if (text === null) return CLOSE.INVALID_PAYLOAD;
      this.#message(text);
    } else {
      this.#message(this.#binary(buf, start, end));
    }
    return 0;
  }

  #message(message: string | Uint8Array | ArrayBuffer): void {
    this.#call(1, message, 0);
  }

  /** Bytes as the binaryType asks, always a copy (a view would keep the whole socket read alive). */
  #binary(buf: Uint8Array, start: number, end: number): Uint8Array | ArrayBuffer {
    switch (this.binaryType) {
      case "arraybuffer":
        return buf.buffer.slice(buf.byteOffset + start, buf.byteOffset + end) as ArrayBuffer;
      case "uint8array":
        return Uint8Array.prototype.slice.call(buf, start, end);
      default: {
        const b = Buffer.allocUnsafe(end - start);
        b.set(buf.subarray(start, end));
        return b;
      }
    }
  }

  #onControl(op: number, payload: Uint8Array): number {
    if (op === OPCODE.CLOSE) return this.#onCloseFrame(payload);
    if (this.readyState !== READY.OPEN) return 0;
    if (op === OPCODE.PING) {
      // Answered with the same data (§5.5.2), then told.
      this.control(OPCODE.PONG, payload);
      this.#call(4, this.#binary(payload, 0, payload.length), 0);
    } else {
      this.#pinged = false;
      this.#call(5, this.#binary(payload, 0, payload.length), 0);
    }
    return 0;
  }

  /** The peer's close: checked (§7.4, §5.5.1), answered if we have not closed yet, then TCP closes. */
  #onCloseFrame(p: Uint8Array): number {
    let code: number = CLOSE.NO_STATUS;
    let reason = "";
    if (p.length === 1) return CLOSE.PROTOCOL_ERROR;
    if (p.length >= 2) {
      code = (p[0]! << 8) | p[1]!;
      if (!isValidCloseCode(code)) return CLOSE.PROTOCOL_ERROR;
      const r = decodeText(p, 2, p.length);
      if (r === null) return CLOSE.INVALID_PAYLOAD;
      reason = r;
    }
    if (this.readyState === READY.OPEN) {
      // Echo the code (§5.5.1); none if none came.
      this.readyState = READY.CLOSING;
      this.control(OPCODE.CLOSE, code === CLOSE.NO_STATUS ? EMPTY : closePayload(code, ""));
    }
    this.#finish(code, reason);
    return STOP;
  }

  /** The close handshake is done (or failed): the handler hears, and TCP closes once our bytes leave. */
  #finish(code: number, reason: string): void {
    this.readyState = READY.CLOSED;
    this.#notifyClose(code, reason);
    this.#release();
    this.output.flush();
    this.conn.end();
  }

  /** Fails the connection (§7.1.7): a close frame with `code`, and the TCP close. */
  fail(code: number): void {
    if (this.readyState === READY.CLOSED) return;
    if (this.readyState === READY.OPEN) this.control(OPCODE.CLOSE, closePayload(code, ""));
    this.#finish(code, "");
  }

  // ---- frames out -----------------------------------------------------------------------------

  /**
   * Sends a data message (opcode TEXT or BINARY). Returns the bytes sent, -1 when they wait under
   * backpressure, 0 when dropped (over backpressureLimit, or closed).
   */
  send(opcode: number, data: string | Uint8Array, compress: boolean): number {
    if (this.readyState !== READY.OPEN) return SEND.DROPPED;
    if (this.#overLimit()) return SEND.DROPPED;
    if (compress && this.deflate !== null && this.ctx.settings.compress) {
      const bytes = typeof data === "string" ? Buffer.from(data) : data;
      const deflated = deflateMessage(bytes, this.deflate!);
      if (deflated !== null) {
        this.#writeBytes(firstByte(opcode, true), deflated, false);
        return this.#sent(bytes.length);
      }
      data = bytes;
    }
    if (typeof data === "string") {
      if (this.#published !== null) this.flushPublished();
      const n = writeTextFrame(this.output.cork(), firstByte(opcode, false), data);
      sendSoon();
      return this.#sent(n);
    }
    this.#writeBytes(firstByte(opcode, false), data, true);
    return this.#sent(data.length);
  }

  /** A control frame (ping, pong, close) with up to 125 bytes (longer payloads are cut). */
  control(opcode: number, payload: Uint8Array): number {
    if (this.readyState === READY.CLOSED) return SEND.DROPPED;
    const p = payload.length > 125 ? payload.subarray(0, 125) : payload;
    if (this.#published !== null) this.flushPublished();
    writeFrame(this.output.cork(), firstByte(opcode, false), p);
    sendSoon();
    return this.#sent(p.length);
  }

  /** Writes a frame: small ones through the cork buffer, large ones' payload by reference. */
  #writeBytes(b0: number, payload: Uint8Array, ownerMayChange: boolean): void {
    if (this.#published !== null) this.flushPublished();
    const out: OutBuffer = this.output.cork();
    if (payload.length < LARGE_PAYLOAD) {
      writeFrame(out, b0, payload);
      sendSoon();
      return;
    }
    writeHeader(out, b0, payload.length);
    this.output.send(payload, ownerMayChange);
  }

  #overLimit(): boolean {
    const limit = this.ctx.settings.backpressureLimit;
    if (limit === 0 || this.output.pending + this.#publishedBytes <= limit) return false;
    if (this.ctx.settings.closeOnBackpressureLimit) this.terminate();
    return true;
  }

  #sent(n: number): number {
    return this.output.queued > 0 ? SEND.BACKPRESSURE : n;
  }

  /** A frame published to this socket: it waits for the end of the batch. */
  queueFrame(frame: Uint8Array): boolean {
    if (this.readyState !== READY.OPEN || this.#overLimit()) return false;
    if (this.#published === null) {
      this.#published = [frame];
      awaitFlush(this);
    } else {
      this.#published.push(frame);
    }
    this.#publishedBytes += frame.length;
    return true;
  }

  flushPublished(): void {
    const frames = this.#published;
    if (frames === null) return;
    this.#published = null;
    this.#publishedBytes = 0;
    if (this.readyState === READY.CLOSED) return;
    if (frames.length === 1) {
      this.output.send(frames[0]!); // shared by every subscriber, and never changed: by reference
      return;
    }
    const out = this.output.cork();
    for (let i = 0; i < frames.length; i++) out.bytes(frames[i]!);
    sendSoon();
  }

  /** A frame for topics: encoded once by the publisher (opcode TEXT or BINARY). */
  static frameFor(opcode: number, payload: Uint8Array, compressed: boolean): Uint8Array {
    return encodeFrame(firstByte(opcode, compressed), payload);
  }

  /** ws.close(): our close frame; the handler hears now; TCP closes when the peer answers (or soon). */
  close(code: number, reason: string): void {
    if (this.readyState !== READY.OPEN) return;
    this.readyState = READY.CLOSING;
    this.control(OPCODE.CLOSE, code === 0 ? EMPTY : closePayload(code, reason));
    this.#notifyClose(code === 0 ? CLOSE.NO_STATUS : code, reason);
    this.#release();
    this.conn.setDeadline(CLOSE_WAIT_MS);
  }

  /** ws.terminate(): the TCP connection goes now, no close frame. */
  terminate(): void {
    if (this.readyState === READY.CLOSED) return;
    this.readyState = READY.CLOSED;
    this.#notifyClose(CLOSE.ABNORMAL, "");
    this.#release();
    this.conn.destroy();
  }

  pause(): void {
    if (this.userPaused || this.readyState === READY.CLOSED) return;
    this.userPaused = true;
    this.conn.pause();
  }

  resume(): void {
    if (!this.userPaused) return;
    this.userPaused = false;
    this.#lastReceived = this.conn.now;
    if (!this.#heldBack) this.conn.resume();
  }

  // ---- handlers -------------------------------------------------------------------------------

  #notifyClose(code: number, reason: string): void {
    if (this.#closeNotified) return;
    this.#closeNotified = true;
    this.#call(2, reason, code);
  }

  /** Leaves the topics and the open set (once). */
  #release(): void {
    this.ctx.open.delete(this);
    const topics = this.topics;
    if (topics !== null) {
      this.topics = null;
      for (const t of topics) this.ctx.topics.unsubscribe(t, this);
    }
  }

  /**
   * Calls a handler: 0 open, 1 message, 2 close, 3 drain, 4 ping, 5 pong. A throw goes to `error`, or
   * is logged: it never reaches the socket loop, the process, or other sockets.
   */
  #call(which: number, arg: unknown, code: number): void {
    const h = this.ctx.settings.handler;
    const ws = this.ws;
    try {
      let r: unknown;
      switch (which) {
        case 0:
          r = h.open?.(ws);
          break;
        case 1:
          r = h.message?.(ws, arg as string);
          break;
        case 2:
          r = h.close?.(ws, code, arg as string);
          break;
        case 3:
          r = h.drain?.(ws);
          break;
        case 4:
          r = h.ping?.(ws, arg as Uint8Array);
          break;
        default:
          r = h.pong?.(ws, arg as Uint8Array);
      }
      if (r instanceof Promise) r.catch((err) => this.#handlerError(err));
    } catch (err) {
      this.#handlerError(err);
    }
  }

  #handlerError(err: unknown): void {
    const onError = this.ctx.settings.handler.error;
    if (onError !== undefined) {
      try {
        const r = onError(err, this.ws);
        if (r instanceof Promise) r.catch((again) => console.error("websocket error handler failed:", again));
        return;
      } catch (again) {
        console.error("websocket error handler failed:", again);
        return;
      }
    }
    console.error("websocket handler failed:", err);
  }
}

/** UTF-8 to a string, or null if not valid (RFC 6455 §8.1): ASCII the cheap way, the rest checked. */
function decodeText(buf: Uint8Array, start: number, end: number): string | null {
  let ascii = true;
  for (let i = start; i < end; i++) {
    if (buf[i]! > 0x7f) {
      ascii = false;
      break;
    }
  }
  if (ascii) return start === end ? "" : latin1Slice.call(buf, start, end);
  try {
    return fatal.decode(buf.subarray(start, end));
  } catch {
    return null;
  }
}
