// One WebSocket connection after the 101 (RFC 6455): its state, the socket events, messages (from
// message-reader.ts) on to the handlers, backpressure toward the peer, and frames published to it
// waiting for the end of the batch. The work is in plain functions taking the session, one file per
// concern: session-send.ts (frames out), session-close.ts (the close handshake), session-handlers.ts
// (calls into the handlers), session-idle.ts (the idle clock). The public object the handlers see is
// server-websocket.ts.
import type { Output } from "../server/output.ts";
import type { Protocol, UpgradedConnection } from "../server/upgrade.ts";
import { CLOSE } from "./close-codes.ts";
import type { DeflateParams } from "./deflate.ts";
import { FrameParser, OPCODE } from "./frame-parser.ts";
import { closePayload } from "./frame-writer.ts";
import { MessageReader, type MessageTarget, STOP } from "./message-reader.ts";
import type { WsSettings } from "./options.ts";
import { READY } from "./ready-state.ts";
import { awaitFlush, type Batched, enterCallback, leaveCallback } from "./send-batch.ts";
import { closeSession, failConnection, notifyClose, receiveClose, releaseSession } from "./session-close.ts";
import { binaryMessage, callHandler, deliverMessage } from "./session-handlers.ts";
import { armIdle, checkIdle } from "./session-idle.ts";
import { afterCorked, CORK_FLUSH, isOverLimit, sendControl } from "./session-send.ts";
import { type Subscriber, TOOK, type Topics } from "./topics.ts";

/** Reasons to stop reading a socket. */
const HOLD = {
  /** Our output is over backpressureLimit: the peer feels TCP's backpressure until it drains. */
  OUTPUT: 1,
  /** ws.pause(). */
  USER: 2,
} as const;

export type BinaryType = "nodebuffer" | "arraybuffer" | "uint8array" | "blob";

/** What the server keeps for all its sockets: settings, the open set, the topics. */
export interface WsContext {
  /** Replaced by server.reload({ websocket }): every socket reads it afresh. */
  settings: WsSettings;
  readonly open: Set<Session>;
  readonly topics: Topics;
}

/** The handlers' view of a socket (server-websocket.ts), as the session calls them with it. */
type Facade = object;

export class Session implements Protocol, MessageTarget, Subscriber, Batched {
  /** OPEN; CLOSING once our close frame is sent, until the peer's comes; CLOSED. */
  state: number = READY.OPEN;
  binaryType: BinaryType = "nodebuffer";
  /** The handlers' object; set right after construction. */
  ws!: Facade;
  readonly output: Output;
  readonly #parser = new FrameParser();
  /** Frames in, messages out; released (its budget given back) by session-close.ts. */
  readonly reader: MessageReader;
  /**
   * The idle clock (session-idle.ts): when something last came in or the peer last took our output,
   * and when we pinged for want of it (-1: not).
   */
  lastActive: number;
  pingedAt = -1;
  /** Why reading is stopped (HOLD bits); reading goes on when none is set. */
  #holds = 0;
  #paused = false;
  /**
   * Frames published to this socket, waiting for the end of the batch (send-batch.ts); session-send.ts
   * writes them first, before a frame of its own, and counts their bytes against backpressureLimit.
   */
  published: Uint8Array[] | null = null;
  publishedBytes = 0;
  /** Topics this socket is in. */
  topics: Set<string> | null = null;
  /** Whether the close handler was called (session-close.ts: it is, once). */
  closeNotified = false;

  constructor(
    readonly conn: UpgradedConnection,
    readonly ctx: WsContext,
    readonly deflate: DeflateParams | null,
  ) {
    this.output = conn.output;
    this.lastActive = conn.now;
    this.reader = new MessageReader(this, ctx.settings.maxPayloadLength, deflate !== null, conn.budget);
  }

  /**
   * As Bun reports it: 3 as soon as the close begins (the close handler runs inside ws.close(), as
   * under Bun.serve), though the close handshake itself may still be under way.
   */
  get readyState(): number {
    return this.state === READY.OPEN ? READY.OPEN : READY.CLOSED;
  }

  /** For topics: whether a frame compressed with the full window may go to this socket. */
  get compresses(): boolean {
    return this.deflate !== null && this.ctx.settings.compress && this.deflate.serverMaxWindowBits === 15;
  }

  /** After the 101: `open`, then the bytes that came with the handshake. */
  start(received: Uint8Array): void {
    this.ctx.open.add(this);
    armIdle(this);
    enterCallback();
    try {
      // A throwing `open` leaves no socket half set up: it is cut (1006), as under Bun.serve.
      if (!callHandler(this, 0, null, 0)) this.terminate();
      else if (received.length > 0) this.#feed(received); // (after a close() in open, a close frame there still counts)
    } finally {
      leaveCallback();
    }
    this.#afterRead();
  }

  // ---- socket events (Protocol) -----------------------------------------------------------------

  onData(chunk: Uint8Array): void {
    this.lastActive = this.conn.now;
    enterCallback();
    try {
      this.#feed(chunk);
    } finally {
      leaveCallback();
    }
    this.#afterRead();
  }

  #feed(chunk: Uint8Array): void {
    if (this.state === READY.CLOSED) return;
    const err = this.#parser.feed(chunk, this.reader);
    if (err > 0) failConnection(this, err); // (STOP: the close handshake ended; what follows is not read)
  }

  /** After a read: stop reading while our output is over the limit. */
  #afterRead(): void {
    if (this.state === READY.CLOSED) return;
    const limit = this.ctx.settings.backpressureLimit;
    if (limit > 0 && this.output.queued > limit) this.#hold(HOLD.OUTPUT, true);
  }

  /** Sets or clears one reason to stop reading, and pauses or resumes the socket to match. */
  #hold(reason: number, on: boolean): void {
    this.#holds = on ? this.#holds | reason : this.#holds & ~reason;
    const pause = this.#holds !== 0;
    if (pause === this.#paused || this.state === READY.CLOSED) return;
    this.#paused = pause;
    if (pause) this.conn.pause();
    else this.conn.resume();
  }

  /** ws.isPaused: false once closed, as Bun's. */
  get userPaused(): boolean {
    return (this.#holds & HOLD.USER) !== 0 && this.state === READY.OPEN;
  }

  /** Leaving OPEN: no reason to hold reading is left, as the peer's close must be read (or lingered over). */
  releaseHolds(): void {
    this.#hold(this.#holds, false);
  }

  /** The kernel took some of our queued output: the peer is reading, which is not idleness. */
  onSent(): void {
    this.lastActive = this.conn.now;
    this.pingedAt = -1;
  }

  onDrain(): void {
    this.#hold(HOLD.OUTPUT, false);
    if (this.state !== READY.OPEN) return;
    enterCallback();
    try {
      callHandler(this, 3, null, 0);
    } finally {
      leaveCallback();
    }
  }

  onEnd(): void {
    // The peer half-closed without a close frame (or after ours): nothing more will come.
    this.conn.destroy();
  }

  onClose(): void {
    this.state = READY.CLOSED;
    notifyClose(this, CLOSE.ABNORMAL, "");
    releaseSession(this);
  }

  onTimeout(): void {
    if (this.state !== READY.OPEN) {
      // Our close frame got no answer in time.
      this.conn.destroy();
      return;
    }
    checkIdle(this);
  }

  /** The server stops: close with 1001 (going away). */
  onShutdown(): void {
    closeSession(this, CLOSE.GOING_AWAY, "");
  }

  /** The server stops at once (stop(true)): a last close frame, 1001 "Server closed", as Bun.serve's. */
  onAbort(): void {
    if (this.state !== READY.OPEN) return;
    this.state = READY.CLOSING;
    sendControl(this, OPCODE.CLOSE, closePayload(CLOSE.GOING_AWAY, "Server closed"));
    notifyClose(this, CLOSE.GOING_AWAY, "Server closed");
  }

  // ---- messages in (from the MessageReader) ----------------------------------------------------

  /** Data messages are still wanted: false once our close is sent (they are read and dropped). */
  get accepting(): boolean {
    return this.state === READY.OPEN;
  }

  onText(text: string): void {
    deliverMessage(this, text);
  }

  onBinary(buf: Uint8Array, start: number, end: number, owned: boolean): void {
    deliverMessage(this, binaryMessage(this.binaryType, buf, start, end, owned));
  }

  /** A control frame, whole (ping, pong, close): returns a close code to fail with, STOP, or 0. */
  onControlFrame(op: number, payload: Uint8Array): number {
    if (this.state === READY.CLOSED) return STOP; // (terminated by a handler earlier in this read)
    if (op === OPCODE.CLOSE) return receiveClose(this, payload);
    if (this.state !== READY.OPEN) return 0;
    if (op === OPCODE.PING) {
      // Answered with the same data (§5.5.2), then told.
      sendControl(this, OPCODE.PONG, payload);
      callHandler(this, 4, binaryMessage(this.binaryType, payload, 0, payload.length), 0);
    } else {
      callHandler(this, 5, binaryMessage(this.binaryType, payload, 0, payload.length), 0);
    }
    return 0;
  }

  // ---- frames published to this socket (Subscriber, Batched) -----------------------------------

  /** A frame published to this socket: it waits for the end of the batch. */
  queueFrame(frame: Uint8Array): number {
    if (this.state !== READY.OPEN || isOverLimit(this)) return TOOK.DROPPED;
    if (this.published === null) {
      this.published = [frame];
      awaitFlush(this);
    } else {
      this.published.push(frame);
    }
    this.publishedBytes += frame.length;
    // A lot waiting: written now, as a large cork is (so a publish loop meets backpressure as it fills).
    if (this.publishedBytes >= CORK_FLUSH) this.flushPublished();
    return this.output.queued > 0 ? TOOK.QUEUED : TOOK.SENT;
  }

  flushPublished(): void {
    const frames = this.published;
    if (frames === null) return;
    this.published = null;
    this.publishedBytes = 0;
    if (this.state === READY.CLOSED) return;
    if (frames.length === 1) {
      this.output.send(frames[0]!); // shared by every subscriber, and never changed: by reference
      return;
    }
    const out = this.output.cork();
    for (let i = 0; i < frames.length; i++) out.bytes(frames[i]!);
    afterCorked(this, out);
  }

  // ---- the application's controls (sends and ws.close() are in session-send.ts, session-close.ts) ---

  /** ws.terminate(): the TCP connection goes now, no close frame. */
  terminate(): void {
    if (this.state === READY.CLOSED) return;
    this.state = READY.CLOSED;
    notifyClose(this, CLOSE.ABNORMAL, "");
    releaseSession(this);
    this.conn.destroy();
  }

  pause(): void {
    this.#hold(HOLD.USER, true);
  }

  resume(): void {
    if (!this.userPaused) return;
    this.lastActive = this.conn.now;
    this.#hold(HOLD.USER, false);
  }
}
