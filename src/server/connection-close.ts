// How a connection ends (connection.ts): refusing a request with a ready-made error, closing once the
// output has left, lingering so the client reads our answer, the client's half-close, the server's
// stop, and freeing what the connection holds.
import { errorReason, errorResponseBytes, errorStatus, type HttpErrorCode } from "../http/errors.ts";
import type { Connection } from "./connection.ts";
import { updateReading } from "./connection-reading.ts";
import { LINGER_MS, STATE, TIMER } from "./connection-state.ts";
import { armTimer, setTimer } from "./connection-timers.ts";

/** The client half-closed (Connection.onEnd): answer what it sent, then close. */
export function handleEnd(conn: Connection): void {
  conn.peerEnded = true;
  switch (conn.state) {
    case STATE.UPGRADED:
      conn.protocol!.onEnd();
      return;
    case STATE.CLOSING:
      // Our last bytes are still leaving: they go, then the close (afterFlushed; no linger now).
      if (conn.output.pending === 0) conn.destroy();
      return;
    case STATE.LINGER:
    case STATE.PROXY:
      conn.destroy();
      return;
    case STATE.HEAD:
      // Requests already received are answered; a head cut off by the FIN can never complete and
      // closes the connection, as nginx does (step() and nextRequest() see peerEnded).
      conn.drive();
      return;
    case STATE.ACTIVE:
    case STATE.DISCARD:
      if (conn.rx.receiving) {
        // The body can never complete: no answer for it, but what is already queued still goes.
        conn.current?.clientGone();
        conn.rx.stop(400, "the client closed before the body was complete");
        closeStreams(conn);
        conn.current = null;
        conn.keepAlive = false;
        closeWhenFlushed(conn);
        conn.output.flush();
      } else if (conn.current !== null && !responseDetermined(conn) && !conn.current.finishOnHalfClose) {
        abandonResponse(conn);
      }
    // Else the response goes out; requests already received are still answered (startRequest
    // turns keep-alive off for each), and drive() closes once the input runs out.
  }
}

/** The response is whole in our hands (written, or a body of known length going out). */
function responseDetermined(conn: Connection): boolean {
  return conn.stream !== null ? conn.stream.determined : conn.headSent;
}

/**
 * After the client's FIN, a response still being made (a handler at work, a stream of unknown
 * length still producing) is abandoned, as Bun.serve does: the request's signal aborts, its stream
 * is cancelled, and the connection closes once what is queued has gone. Answers already made still
 * go (a client that half-closes after its request gets a file, or a whole body, in full).
 */
export function abandonResponse(conn: Connection): void {
  conn.current?.clientGone();
  conn.current = null;
  closeStreams(conn);
  if (conn.headSent) {
    conn.destroy(); // a response cut in the middle: only the close can say so
    return;
  }
  conn.keepAlive = false;
  closeWhenFlushed(conn);
  conn.output.flush();
}

/** Cancels the response's stream, started or still waiting for its first pieces. */
function closeStreams(conn: Connection): void {
  conn.stream?.close();
  conn.stream = null;
  const starting = conn.starting;
  conn.starting = null;
  starting?.close();
}

/** Answers a request we will not process (Connection.refuse) with a ready-made error response, then closes. */
export function refuseRequest(conn: Connection, code: HttpErrorCode): void {
  const state = conn.state;
  if (state >= STATE.CLOSING) return;
  const status = errorStatus(code);
  conn.rx.stop(status, errorReason(code));
  if (state === STATE.DISCARD) {
    // The response went out already: just close.
    closeWhenFlushed(conn, true);
    return;
  }
  if (conn.headSent) {
    // Its head has left: the only honest signal left is to cut the connection.
    conn.destroy();
    return;
  }
  const bytes = errorResponseBytes(code);
  const added = conn.current === null ? null : conn.current.addedFields;
  if (added === null) {
    conn.output.cork().bytes(bytes);
  } else {
    // Refused after the handlers ran (a chunked body over maxBody, its timeout, its bad framing):
    // the lines they added go after the status line, as on any response (ours has none to yield to).
    const out = conn.output.cork();
    const eol = bytes.indexOf(10) + 1; // after the status line's LF
    out.bytes(bytes.subarray(0, eol));
    out.bytes(added.lines);
    out.bytes(bytes.subarray(eol));
  }
  conn.bytesSent = bytes.length;
  conn.keepAlive = false;
  closeStreams(conn);
  if (conn.ctx.logging) conn.ctx.log(conn.current, status, bytes.length, conn.remoteAddress, 0);
  conn.current = null;
  closeWhenFlushed(conn, true);
}

/**
 * Closes once the output is sent. `linger`: the client may still be sending (a refused request, or
 * bytes after the last request we answer), so half-close and drain first.
 */
export function closeWhenFlushed(conn: Connection, linger = false): void {
  conn.lingerOnClose = linger || conn.in.start < conn.in.end || conn.rx.receiving;
  conn.state = STATE.CLOSING;
  conn.in.clear();
  // Nothing will read the body now: let go of it (and of its budget share), and of the bytes the
  // last head came in, so a closing connection holds none of what the client sent.
  conn.rx.stop(400, "the connection closed before the body was read");
  conn.rx.clear();
  conn.head.release();
  setTimer(conn, TIMER.NONE, 0);
  if (conn.output.pending === 0) endNow(conn);
  else armTimer(conn); // a client that reads nothing is still cut at sendTimeout
}

/** Everything is sent: close, lingering first only when the client may still be sending. */
export function endNow(conn: Connection): void {
  if (conn.lingerOnClose && !conn.peerEnded) linger(conn);
  else conn.destroy();
}

/**
 * Half-close and keep reading for a moment before closing: closing with unread input makes the
 * kernel send RST, which can destroy the response before the client reads it (nginx: lingering_close).
 */
function linger(conn: Connection): void {
  conn.state = STATE.LINGER;
  setTimer(conn, TIMER.LINGER, LINGER_MS);
  updateReading(conn);
  try {
    conn.socket.shutdown(); // FIN; we still read (and drop) until the client closes or the linger ends
  } catch {
    conn.destroy();
  }
}

/** For a stopping server (Connection.closeWhenIdle): close now if nothing is in progress, else after the current response. */
export function stopWhenIdle(conn: Connection): void {
  conn.draining = true;
  conn.keepAlive = false;
  if (conn.state === STATE.UPGRADED) {
    const p = conn.protocol;
    if (p?.onShutdown) p.onShutdown();
    else conn.destroy();
    return;
  }
  // Between requests: close once what is queued has gone (at once if nothing is).
  if ((conn.state === STATE.HEAD && conn.in.start >= conn.in.end) || conn.state === STATE.PROXY) {
    closeWhenFlushed(conn);
    conn.output.flush();
  }
}

/** Closes now if the connection waits for a request (Connection.closeIfIdle: server.closeIdleConnections()). */
export function closeIdle(conn: Connection): void {
  if (conn.state === STATE.HEAD && conn.in.start >= conn.in.end && conn.output.pending === 0) conn.destroy();
}

/** For stop(true) (Connection.abort): closes now, letting an upgraded protocol write its last word first. */
export function abortNow(conn: Connection): void {
  if (conn.state === STATE.UPGRADED && conn.protocol?.onAbort) {
    try {
      conn.protocol.onAbort();
      conn.output.flush();
    } catch (err) {
      console.error(err);
    }
  }
  conn.destroy();
}

/** Frees what the connection holds, once (destroy, and the socket's close). */
export function release(conn: Connection): void {
  if (conn.releasedOnce) return;
  conn.releasedOnce = true;
  conn.ctx.connections.delete(conn);
  conn.ctx.budget.forget(conn);
  conn.current?.clientGone();
  conn.unsent?.clientGone();
  conn.unsent = null;
  closeStreams(conn);
  conn.output.close();
  conn.rx.stop(400, "the client went away before the body was complete");
  conn.rx.clear();
  conn.in.clear();
  conn.deadline = 0;
  const p = conn.protocol;
  conn.protocol = null;
  if (p !== null) {
    try {
      p.onClose();
    } catch (err) {
      console.error(err);
    }
  }
}
