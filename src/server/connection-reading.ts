// Reading control for a connection (connection.ts): whether the socket is read or paused in each
// state (TCP then pushes back on the client), small kernel reads, and the PROXY protocol header that
// comes before the first request.
import type { Connection } from "./connection.ts";
import { LINGER_BYTES, STATE } from "./connection-state.ts";
import { PROXY_INCOMPLETE, PROXY_INVALID, parseProxyHeader } from "./proxy.ts";
import { shrinkReceiveBuffer } from "./receive-buffer.ts";

/** From now on the kernel queues little for this socket, so each read brings little (receive-buffer.ts). */
export function shrinkReads(conn: Connection): void {
  if (conn.smallReads) return;
  conn.smallReads = true;
  shrinkReceiveBuffer((conn.socket as { fd?: number }).fd);
}

/** Pauses or resumes the socket for where we are (TCP then pushes back on the client). */
export function updateReading(conn: Connection): void {
  let want: boolean;
  switch (conn.state) {
    case STATE.HEAD:
      // A client not reading its responses is not read from either, until it catches up.
      want = conn.in.start >= conn.in.end || !conn.outputBlocked();
      break;
    case STATE.ACTIVE:
    case STATE.DISCARD:
      if (conn.rx.receiving) {
        // Body bytes left in the input mean the handler is behind: wait for it. A body being dropped
        // is read on only while the connection may stay open; else the client waits for our close.
        want = conn.rx.discarding ? conn.keepAlive || conn.state === STATE.DISCARD : conn.in.start >= conn.in.end;
      } else {
        // Pipelined requests wait while this one is answered; more than a head's worth, and we stop.
        want = conn.in.end - conn.in.start <= conn.ctx.options.maxHeaderSize;
      }
      break;
    case STATE.PROXY:
      want = true;
      break;
    case STATE.CLOSING:
      // Our last bytes are leaving; what the client sends meanwhile waits in the kernel for LINGER.
      want = false;
      break;
    case STATE.LINGER:
      // Drain a little so the close is not an RST that destroys our answer in the client's buffers,
      // but do not read a flood at full speed (every read is a fresh buffer for the GC).
      want = conn.lingered < LINGER_BYTES;
      break;
    default:
      return; // UPGRADED: the protocol decides; CLOSED: nothing to do
  }
  if (want === !conn.paused) return;
  conn.paused = !want;
  // Under memory pressure, what this client sends while paused must not pile up for one big read.
  if (!want && conn.ctx.budget.underPressure && conn.state !== STATE.CLOSING) shrinkReads(conn);
  if (want) {
    // The client's pause was ours, not its own: the slow-POST clock starts again.
    if (conn.rx.receiving) conn.rx.restartClock(conn.ctx.now);
    conn.socket.resume();
  } else {
    conn.socket.pause();
  }
}

/** The PROXY protocol header comes first; a connection without a valid one is closed unanswered. */
export function readProxyHeader(conn: Connection): void {
  const r = parseProxyHeader(conn.in.buf!, conn.in.start, conn.in.end);
  if (r === PROXY_INCOMPLETE) return;
  if (r === PROXY_INVALID || typeof r === "number") {
    conn.destroy();
    return;
  }
  if (r.address !== null) {
    conn.peerAddress = r.address;
    conn.peerPort = r.port;
  }
  conn.in.start += r.length;
  conn.state = STATE.HEAD;
}
