// The object WebSocket handlers get: Bun's ServerWebSocket, member for member, over a Session.
// Its return codes are Bun's: bytes sent, -1 when queued under backpressure, 0 when dropped.
import { deflateMessage } from "./deflate.ts";
import { OPCODE } from "./frame-parser.ts";
import { encodeFrame, firstByte } from "./frame-writer.ts";
import { READY } from "./ready-state.ts";
import { enterCallback, leaveCallback } from "./send-batch.ts";
import type { BinaryType, Session, WsContext } from "./session.ts";
import { closeSession } from "./session-close.ts";
import { bufferedAmount, sendControl, sendMessage } from "./session-send.ts";

export type SendData = string | ArrayBuffer | ArrayBufferView;

const encoder = new TextEncoder();

/** Bytes of a BufferSource, without a copy. */
function bytesOf(data: ArrayBuffer | ArrayBufferView): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer || (data as unknown) instanceof SharedArrayBuffer) return new Uint8Array(data as ArrayBuffer);
  throw new TypeError("WebSocket data must be a string, an ArrayBuffer or an ArrayBufferView");
}

export class ServerWebSocket<T = unknown> {
  readonly #s: Session;
  data: T;

  constructor(session: Session, data: T) {
    this.#s = session;
    this.data = data;
  }

  send(data: SendData, compress = false): number {
    if (typeof data === "string") return sendMessage(this.#s, OPCODE.TEXT, data, compress);
    if (typeof data !== "object" || data === null) return sendMessage(this.#s, OPCODE.TEXT, `${data}`, compress); // (Bun: send(123) sends "123")
    return sendMessage(this.#s, OPCODE.BINARY, bytesOf(data), compress);
  }

  sendText(data: string, compress = false): number {
    return sendMessage(this.#s, OPCODE.TEXT, `${data}`, compress);
  }

  sendBinary(data: ArrayBuffer | ArrayBufferView, compress = false): number {
    return sendMessage(this.#s, OPCODE.BINARY, bytesOf(data), compress);
  }

  ping(data?: SendData): number {
    return sendControl(this.#s, OPCODE.PING, controlBytes(data));
  }

  pong(data?: SendData): number {
    return sendControl(this.#s, OPCODE.PONG, controlBytes(data));
  }

  /**
   * Starts the close handshake: code 1000 by default. A code an endpoint may not send (RFC 6455 §7.4)
   * goes out as 1000, where Bun sends it as given; a code that is not a number throws, as in Bun.
   */
  close(code?: number, reason?: string): void {
    if (code !== undefined && typeof code !== "number") {
      throw Object.assign(new TypeError("close requires a numeric code or undefined"), { code: "ERR_INVALID_ARG_TYPE" }); // (Bun's)
    }
    let c = code === undefined ? 1000 : code;
    if (!Number.isInteger(c) || !(c === 1000 || (c >= 3000 && c <= 4999) || (c >= 1001 && c <= 1014 && c !== 1004 && c !== 1005 && c !== 1006))) {
      c = 1000;
    }
    closeSession(this.#s, c, reason === undefined ? "" : `${reason}`);
  }

  terminate(): void {
    this.#s.terminate();
  }

  /** Runs `callback` with every send inside it leaving in one write; returns what it returns. */
  cork<R>(callback: (ws: this) => R): R {
    enterCallback();
    try {
      return callback(this);
    } finally {
      leaveCallback();
    }
  }

  subscribe(topic: string): boolean {
    const s = this.#s;
    if (s.readyState !== READY.OPEN) return false;
    const t = `${topic}`;
    if (t === "") throw new Error("subscribe requires a non-empty topic name"); // (Bun's error)
    (s.topics ??= new Set()).add(t);
    return s.ctx.topics.subscribe(t, s);
  }

  unsubscribe(topic: string): boolean {
    const s = this.#s;
    const t = `${topic}`;
    s.topics?.delete(t);
    return s.ctx.topics.unsubscribe(t, s);
  }

  isSubscribed(topic: string): boolean {
    return this.#s.ctx.topics.isSubscribed(`${topic}`, this.#s);
  }

  get subscriptions(): string[] {
    return this.#s.topics === null ? [] : [...this.#s.topics];
  }

  /** To every other subscriber of `topic` (and to this one too with publishToSelf). */
  publish(topic: string, data: SendData, compress = false): number {
    const s = this.#s;
    if (s.readyState !== READY.OPEN) return 0;
    return publish(s.ctx, topic, data, compress, s.ctx.settings.publishToSelf ? null : s);
  }

  publishText(topic: string, data: string, compress = false): number {
    return this.publish(topic, `${data}`, compress);
  }

  publishBinary(topic: string, data: ArrayBuffer | ArrayBufferView, compress = false): number {
    return this.publish(topic, bytesOf(data), compress);
  }

  get remoteAddress(): string {
    return this.#s.conn.remoteAddress;
  }

  get readyState(): number {
    return this.#s.readyState;
  }

  get binaryType(): BinaryType {
    return this.#s.binaryType;
  }

  set binaryType(type: BinaryType) {
    if (type !== "nodebuffer" && type !== "arraybuffer" && type !== "uint8array" && type !== "blob") {
      throw new TypeError(`binaryType must be "nodebuffer", "arraybuffer", "uint8array" or "blob"`);
    }
    this.#s.binaryType = type;
  }

  /** Bytes sent and not yet taken by the kernel. */
  getBufferedAmount(): number {
    return bufferedAmount(this.#s);
  }

  pause(): void {
    this.#s.pause();
  }

  resume(): void {
    this.#s.resume();
  }

  get isPaused(): boolean {
    return this.#s.userPaused;
  }

  static {
    Object.defineProperty(ServerWebSocket, "name", { value: "ServerWebSocket" });
  }
}

/** A ping's or pong's data: at most 125 bytes (RFC 6455 §5.5), else a RangeError, as in Bun. */
function controlBytes(data: SendData | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  const bytes = typeof data === "string" ? encoder.encode(data) : bytesOf(data);
  if (bytes.length > 125) throw new RangeError(`The data size must not be greater than 125 bytes. Received ${bytes.length} bytes.`);
  return bytes;
}

/**
 * Publishes to the subscribers of `topic` but `except`: the frame is encoded once (and compressed once
 * for those that negotiated compression). Returns the payload's size if anyone got it, -1 if some got
 * it under backpressure, else 0.
 */
export function publish(ctx: WsContext, topic: string, data: SendData, compress: boolean, except: Session | null): number {
  const text = typeof data === "string";
  const payload = text ? encoder.encode(data) : bytesOf(data);
  const opcode = text ? OPCODE.TEXT : OPCODE.BINARY;
  const deflate = compress && ctx.settings.compress ? () => compressedFrame(opcode, payload) : null;
  const sent = ctx.topics.publish(`${topic}`, () => encodeFrame(firstByte(opcode, false), payload), deflate, except);
  if (sent === 0) return 0; // (the subscribers' frames leave at the end of the batch: send-batch.ts)
  return sent < 0 ? -1 : payload.length; // -1: some subscriber got it behind queued output, as Bun says
}

const FULL_WINDOW = { serverMaxWindowBits: 15, response: "" };

/** A published message's compressed frame (for subscribers whose window is zlib's full one). */
function compressedFrame(opcode: number, payload: Uint8Array): Uint8Array | null {
  const d = deflateMessage(payload, FULL_WINDOW);
  return d === null ? null : encodeFrame(firstByte(opcode, true), d);
}
