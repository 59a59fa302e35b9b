// The request body's side of a connection (connection.ts): moving received bytes into the body,
// `100 Continue` once the handler reads, dropping what a handler gave up on, and whether a body the
// response will not read is too much to drop (then the connection closes after the response).
import type { HttpErrorCode } from "../http/errors.ts";
import { CONTINUE_100 } from "../http/response.ts";
import { FED } from "./body-receiver.ts";
import type { Connection } from "./connection.ts";
import { closeWhenFlushed, refuseRequest } from "./connection-close.ts";
import { STATE, TIMER } from "./connection-state.ts";
import { armTimer } from "./connection-timers.ts";

/** Moves body bytes from the input to the body. Returns true when the body is complete. */
export function feedBody(conn: Connection): boolean {
  const rx = conn.rx;
  conn.in.start = rx.feed(conn.in.buf!, conn.in.start, conn.in.end, conn.ctx.options, conn.ctx.now, conn);
  switch (rx.result) {
    case FED.DONE:
      if (conn.state === STATE.DISCARD) conn.nextAfterResponse();
      return true;
    case FED.FAILED:
      refuseRequest(conn, rx.error as HttpErrorCode);
      return false;
    case FED.TOO_MUCH:
      // Too much to drop for the sake of keeping the connection: close after the response.
      conn.keepAlive = false;
      if (conn.state === STATE.DISCARD) closeWhenFlushed(conn, true);
      return false;
  }
  armTimer(conn, TIMER.BODY);
  return false;
}

/** The handler wants body bytes for the first time (Connection.onBodyWanted): time for `100 Continue`. */
export function sendContinue(conn: Connection): void {
  // RFC 9110 §10.1.1: the client waits for this before sending the body. It goes out only once the
  // handler reads, so a request answered without reading (a 404) uploads nothing.
  // Before the head only: a streamed response (an echo) asks for the body before its head is due.
  if (!conn.rx.receiving || conn.continueSent || conn.headSent || conn.state !== STATE.ACTIVE) return;
  if (!conn.head.expectContinue || conn.head.minor !== 1) return;
  conn.continueSent = true;
  conn.ctx.now = Date.now(); // (called from a handler, maybe long after the last event)
  conn.rx.restartClock(conn.ctx.now); // the body starts now, not when the head came
  conn.output.cork().bytes(CONTINUE_100);
  conn.drive();
}

/** The handler gave up on the body (Connection.onBodyAbandoned): drop the rest as it comes. */
export function dropBody(conn: Connection): void {
  if (!conn.rx.receiving || conn.rx.discarding) return;
  conn.rx.discard();
  conn.drive();
}

/** Whether the rest of the body is too much (or too uncertain) to read and drop. */
export function mustCloseForBody(conn: Connection): boolean {
  // Expect: 100-continue without the 100: the client may never send the body, or send it late.
  if (conn.head.expectContinue && !conn.continueSent) return true;
  return conn.rx.tooMuchToDiscard;
}
