// A connection's one timer (connection.ts): which timeout the state calls for (armTimer), the
// deadline it sets for the server's sweep (setTimer), and what each kind does when it passes.
import { HTTP_ERROR } from "../http/errors.ts";
import type { Connection } from "./connection.ts";
import { LINGER_MS, STATE, TIMER, type Timer } from "./connection-state.ts";
import { unsentInKernel } from "./send-queue.ts";

/**
 * Arms the one timer the state calls for. The deadline is kept while the kind stays the same (a
 * head's timeout counts from its first byte, however it trickles in), and renewed for `progress`;
 * each new request clears it (Connection.startRequest), so no deadline outlives its request, but
 * for a stalled send's: answering more requests is no progress on that.
 */
export function armTimer(conn: Connection, progress: Timer = TIMER.NONE): void {
  const o = conn.ctx.options;
  let kind: Timer;
  let ms = 0;
  switch (conn.state) {
    case STATE.PROXY:
      kind = TIMER.HEADER;
      ms = o.headerTimeout;
      break;
    case STATE.HEAD:
      if (conn.output.stalled) {
        kind = TIMER.SEND;
        ms = o.sendTimeout;
      } else if (conn.in.start < conn.in.end && !conn.in.onlyLineEnds()) {
        kind = TIMER.HEADER;
        ms = o.headerTimeout;
      } else if (conn.answered === 0) {
        // A new connection that has sent nothing gets headerTimeout to start, not keepAliveTimeout.
        kind = TIMER.HEADER;
        ms = o.headerTimeout;
      } else {
        kind = TIMER.IDLE; // empty lines between requests (RFC 9112 §2.2) are still idle
        ms = o.keepAliveTimeout;
      }
      break;
    case STATE.ACTIVE:
    case STATE.DISCARD:
      if (conn.rx.receiving && !conn.paused && !(conn.head.expectContinue && !conn.continueSent && conn.head.minor === 1)) {
        // (A client waiting for 100 Continue is rightly holding its body back: no body timer yet.)
        kind = TIMER.BODY;
        ms = o.bodyTimeout;
      } else if (conn.output.stalled) {
        kind = TIMER.SEND;
        ms = o.sendTimeout;
      } else if (conn.current !== null) {
        kind = TIMER.WAIT; // a handler at work, or a stream waiting for its source (0: never)
        ms = conn.waitTimeout;
      } else {
        kind = TIMER.NONE;
      }
      break;
    case STATE.CLOSING:
      kind = conn.output.stalled ? TIMER.SEND : TIMER.NONE;
      ms = o.sendTimeout;
      break;
    case STATE.LINGER:
      kind = TIMER.LINGER;
      ms = LINGER_MS;
      break;
    default:
      return; // UPGRADED: the protocol's own deadline; CLOSED
  }
  if (kind === conn.timer && kind !== progress) return;
  setTimer(conn, kind, ms);
}

/** A timeout of 0 means never (Bun's `idleTimeout: 0`). */
export function setTimer(conn: Connection, kind: Timer, ms: number): void {
  conn.timer = kind;
  if (kind === TIMER.NONE || ms <= 0) {
    conn.deadline = 0;
    return;
  }
  // The clock is read here rather than taken from ctx.now: a timer may be armed from a promise
  // callback (a stream's next piece, an async handler, the next pipelined request started from
  // there), up to a second after ctx.now was last refreshed, and would then pass that much early.
  conn.deadline = (conn.ctx.now = Date.now()) + ms;
}

/** What a timeout does: called by the server's sweep (Connection.onTimeout) when `deadline` has passed. */
export function handleTimeout(conn: Connection): void {
  switch (conn.timer) {
    case TIMER.HEADER:
      // Bytes of a request arrived but not all of it: tell the client why (nginx closes silently).
      if (conn.state === STATE.HEAD && conn.in.start < conn.in.end) {
        conn.refuse(HTTP_ERROR.HEADER_TIMEOUT);
        conn.drive();
      } else conn.destroy();
      return;
    case TIMER.BODY:
      if (conn.state === STATE.DISCARD) conn.destroy();
      else {
        conn.refuse(HTTP_ERROR.BODY_TIMEOUT);
        conn.drive();
      }
      return;
    case TIMER.PROTOCOL:
      conn.protocol!.onTimeout();
      return;
    case TIMER.SEND: {
      // No `drain` for a whole period; but if the kernel's queue shrank since the last look, the
      // client is reading, only slowly (a big send buffer frees no `drain` at 64 KB/s): go on.
      const unsent = unsentInKernel((conn.socket as { fd?: number }).fd);
      if (unsent >= 0 && (conn.unsentMark < 0 || unsent < conn.unsentMark)) {
        conn.unsentMark = unsent;
        setTimer(conn, TIMER.SEND, conn.ctx.options.sendTimeout);
        return;
      }
      conn.destroy();
      return;
    }
    default:
      // IDLE, SEND (client stopped reading), LINGER, WAIT (a response with nothing to send): close.
      conn.destroy();
  }
}
