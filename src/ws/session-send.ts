// A session's frames out: data messages (compressed when asked) and control frames through the
// connection's cork buffer, large payloads by reference, and the backpressureLimit check that drops
// (or cuts) past it. Frames published to the socket wait in the session itself (session.ts).
import type { OutBuffer } from "../http/response.ts";
import { deflateMessage } from "./deflate.ts";
import { firstByte, writeFrame, writeHeader, writeTextFrame } from "./frame-writer.ts";
import { READY } from "./ready-state.ts";
import { sendSoon } from "./send-batch.ts";
import type { Session } from "./session.ts";

/** Bun's send() results: the bytes sent, or these. */
export const SEND = { BACKPRESSURE: -1, DROPPED: 0 } as const;

/**
 * Payloads from here up go out by reference after their header (one writev on plain TCP), not copied
 * into the cork buffer: below it a copy is cheaper than the extra call. Above it the copy loses:
 * echoing 64 KiB messages cost 66–75 µs of server CPU each by reference (then two writes) and 76–105
 * µs copied (a short write then copies the cork buffer's tail once more).
 */
const LARGE_PAYLOAD = 16 * 1024;
/**
 * Once this much is corked, it is written at once rather than at the end of the callback: a handler
 * sending in a loop then sees backpressure (-1) and drops (0) as the kernel fills, as under Bun.serve.
 */
export const CORK_FLUSH = 64 * 1024;

/**
 * Sends a data message (opcode TEXT or BINARY). Returns the bytes sent, -1 when they wait under
 * backpressure, 0 when dropped (over backpressureLimit, or closed).
 */
export function sendMessage(s: Session, opcode: number, data: string | Uint8Array, compress: boolean): number {
  if (s.state !== READY.OPEN) return SEND.DROPPED;
  if (isOverLimit(s)) return SEND.DROPPED;
  if (compress && s.deflate !== null && s.ctx.settings.compress) {
    const bytes = typeof data === "string" ? Buffer.from(data) : data;
    const deflated = deflateMessage(bytes, s.deflate!);
    if (deflated !== null) {
      writeBytes(s, firstByte(opcode, true), deflated, false);
      return sent(s, bytes.length);
    }
    data = bytes;
  }
  if (typeof data === "string") {
    if (s.published !== null) s.flushPublished();
    const out = s.output.cork();
    const n = writeTextFrame(out, firstByte(opcode, false), data);
    afterCorked(s, out);
    return sent(s, n);
  }
  writeBytes(s, firstByte(opcode, false), data, true);
  return sent(s, data.length);
}

/**
 * A control frame (ping, pong, close). Its payload is at most 125 bytes: ws.ping()/pong() refuse
 * more, a pong echoes a ping the parser checked, and closePayload() cuts the reason.
 */
export function sendControl(s: Session, opcode: number, payload: Uint8Array): number {
  if (s.state === READY.CLOSED) return SEND.DROPPED;
  if (s.published !== null) s.flushPublished();
  writeFrame(s.output.cork(), firstByte(opcode, false), payload);
  sendSoon();
  return sent(s, payload.length);
}

/** Writes a frame: small ones through the cork buffer, large ones' payload by reference. */
function writeBytes(s: Session, b0: number, payload: Uint8Array, ownerMayChange: boolean): void {
  if (s.published !== null) s.flushPublished();
  const out: OutBuffer = s.output.cork();
  if (payload.length < LARGE_PAYLOAD) {
    writeFrame(out, b0, payload);
    afterCorked(s, out);
    return;
  }
  writeHeader(out, b0, payload.length);
  s.output.sendAfterCorked(payload, ownerMayChange); // one writev for both, on plain TCP
}

/** Over backpressureLimit: the send is dropped (and the socket cut with closeOnBackpressureLimit). */
export function isOverLimit(s: Session): boolean {
  const limit = s.ctx.settings.backpressureLimit;
  // (Corked bytes are fewer than CORK_FLUSH: the cheap test settles nearly every send.)
  if (limit === 0 || s.output.queued + s.publishedBytes + CORK_FLUSH <= limit) return false;
  if (s.output.pending + s.publishedBytes <= limit) return false;
  if (s.ctx.settings.closeOnBackpressureLimit) s.terminate();
  return true;
}

function sent(s: Session, n: number): number {
  return s.output.queued > 0 ? SEND.BACKPRESSURE : n;
}

/** After corking a frame into `out`: written now if it holds a lot, else at the end of the callback. */
export function afterCorked(s: Session, out: OutBuffer): void {
  if (out.len >= CORK_FLUSH) s.output.flush();
  else sendSoon();
}

/** ws.getBufferedAmount(): bytes sent or published and not yet taken by the kernel. */
export function bufferedAmount(s: Session): number {
  return s.output.pending + s.publishedBytes;
}
