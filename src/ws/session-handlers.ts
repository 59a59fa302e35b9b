// A session's calls into the application's WebSocket handlers: messages (in the bytes the binaryType
// asks for), open, close, drain, ping and pong, and where a handler's throw goes.
import type { BinaryType, Session } from "./session.ts";

/** The hot path: a direct call of the message handler (the switch of callHandler costs ~100 ns here). */
export function deliverMessage(s: Session, message: string | Uint8Array | ArrayBuffer | Blob): void {
  const onMessage = s.ctx.settings.handler.message;
  if (onMessage === undefined) return;
  try {
    const r = onMessage(s.ws, message as string);
    if (r !== undefined && r instanceof Promise) r.catch((err) => handlerError(s, err));
  } catch (err) {
    handlerError(s, err);
  }
}

/**
 * Bytes as the binaryType asks, in memory of their own: applications (Hono's adapter among them)
 * read a message's `.buffer` as the message, and a small message kept must not keep a whole socket
 * read alive. `owned`: buf[start, end) is already that (our gathering buffer, an inflated message).
 */
export function binaryMessage(
  binaryType: BinaryType,
  buf: Uint8Array,
  start: number,
  end: number,
  owned = false,
): Uint8Array | ArrayBuffer | Blob {
  const n = end - start;
  const exact = owned && start === 0 && buf.byteOffset === 0 && n === buf.buffer.byteLength;
  switch (binaryType) {
    case "arraybuffer":
      return exact ? (buf.buffer as ArrayBuffer) : (buf.buffer.slice(buf.byteOffset + start, buf.byteOffset + end) as ArrayBuffer);
    case "blob":
      return new Blob([buf.subarray(start, end)]); // (a Blob copies what it is made of)
    case "uint8array": {
      // A plain Uint8Array, never a Buffer (zlib's output is one).
      if (exact) return new Uint8Array(buf.buffer, 0, n);
      const u = new Uint8Array(n);
      u.set(buf.subarray(start, end));
      return u;
    }
    default: {
      if (exact) return Buffer.from(buf.buffer, 0, n);
      const b = Buffer.allocUnsafe(n); // (never pooled in Bun: its `.buffer` is its own)
      b.set(buf.subarray(start, end));
      return b;
    }
  }
}

/**
 * Calls a handler: 0 open, 2 close, 3 drain, 4 ping, 5 pong (messages go through deliverMessage). A
 * throw goes to `error`, or is logged: it never reaches the socket loop, the process, or other
 * sockets. False if it threw.
 */
export function callHandler(s: Session, which: number, arg: unknown, code: number): boolean {
  const h = s.ctx.settings.handler;
  const ws = s.ws;
  try {
    let r: unknown;
    switch (which) {
      case 0:
        r = h.open?.(ws);
        break;
      case 2:
        r = h.close?.(ws, code, arg as string);
        break;
      case 3:
        r = h.drain?.(ws);
        break;
      case 4:
        r = h.ping?.(ws, arg as Buffer);
        break;
      default:
        r = h.pong?.(ws, arg as Buffer);
    }
    if (r instanceof Promise) r.catch((err) => handlerError(s, err));
    return true;
  } catch (err) {
    handlerError(s, err);
    return false;
  }
}

function handlerError(s: Session, err: unknown): void {
  const onError = s.ctx.settings.handler.error;
  if (onError !== undefined) {
    try {
      const r = onError(err, s.ws);
      if (r instanceof Promise) r.catch((again) => console.error("websocket error handler failed:", again));
      return;
    } catch (again) {
      console.error("websocket error handler failed:", again);
      return;
    }
  }
  console.error("websocket handler failed:", err);
}
