// A session's close handshake (RFC 6455 §5.5.1, §7): the peer's close frame checked and answered,
// ws.close() with its wait for the answer, failing the connection (§7.1.7), and the close handler
// told once, after the socket has left its topics.
import { CLOSE, isValidCloseCode } from "./close-codes.ts";
import { OPCODE } from "./frame-parser.ts";
import { closePayload } from "./frame-writer.ts";
import { decodeText, STOP } from "./message-reader.ts";
import { READY } from "./ready-state.ts";
import type { Session } from "./session.ts";
import { callHandler } from "./session-handlers.ts";
import { sendControl } from "./session-send.ts";

/** How long a close we sent waits for the peer's (then the connection is cut). */
const CLOSE_WAIT_MS = 5000;

const EMPTY = new Uint8Array(0);
/** The close handler's reason when we fail a connection, by the code sent to the peer. */
const FAILURES: Record<number, string> = {
  [CLOSE.PROTOCOL_ERROR]: "Protocol error",
  [CLOSE.INVALID_PAYLOAD]: "Invalid UTF-8 or compressed data",
  [CLOSE.MESSAGE_TOO_BIG]: "Received too big message",
  [CLOSE.TRY_AGAIN_LATER]: "The server holds too much of other messages in pieces",
};

/** The peer's close: checked (§7.4, §5.5.1), answered if we have not closed yet, then TCP closes. */
export function receiveClose(s: Session, p: Uint8Array): number {
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
  if (s.state === READY.OPEN) {
    // Echo the code (§5.5.1), and the reason, as Bun.serve does; none if none came.
    s.state = READY.CLOSING;
    sendControl(s, OPCODE.CLOSE, code === CLOSE.NO_STATUS ? EMPTY : closePayload(code, reason));
  }
  finishClose(s, code, reason);
  return STOP;
}

/** The close handshake is done (or failed): the handler hears, and TCP closes once our bytes leave. */
function finishClose(s: Session, code: number, reason: string): void {
  s.releaseHolds();
  s.state = READY.CLOSED;
  notifyClose(s, code, reason);
  releaseSession(s);
  s.output.flush();
  s.conn.end();
}

/**
 * Fails the connection (§7.1.7): a close frame with `code` to the peer, and the TCP close. The close
 * handler hears 1006 and why, as under Bun.serve: no close frame came from the peer.
 */
export function failConnection(s: Session, code: number): void {
  if (s.state === READY.CLOSED) return;
  if (s.state === READY.OPEN) sendControl(s, OPCODE.CLOSE, closePayload(code, ""));
  finishClose(s, CLOSE.ABNORMAL, FAILURES[code] ?? "Protocol error");
}

/** ws.close(): our close frame; the handler hears now; TCP closes when the peer answers (or soon). */
export function closeSession(s: Session, code: number, reason: string): void {
  if (s.state !== READY.OPEN) return;
  s.releaseHolds();
  s.state = READY.CLOSING;
  const payload = code === 0 ? EMPTY : closePayload(code, reason);
  sendControl(s, OPCODE.CLOSE, payload);
  // The handler hears the reason as it went out: cut to 123 bytes, as Bun does.
  notifyClose(s, code === 0 ? CLOSE.NO_STATUS : code, payload.length > 2 ? (decodeText(payload, 2, payload.length) ?? "") : "");
  releaseSession(s);
  s.conn.setDeadline(CLOSE_WAIT_MS);
}

/**
 * The close handler, once. As under Bun.serve, the socket has left its topics by then and still
 * counts in pendingWebSockets while the handler runs.
 */
export function notifyClose(s: Session, code: number, reason: string): void {
  if (s.closeNotified) return;
  s.closeNotified = true;
  const topics = s.topics;
  s.topics = null;
  if (topics !== null) for (const t of topics) s.ctx.topics.unsubscribe(t, s);
  callHandler(s, 2, reason, code);
}

/** Leaves the open set and the body budget (the topics went before the close handler ran). */
export function releaseSession(s: Session): void {
  s.ctx.open.delete(s);
  s.reader.release();
}
