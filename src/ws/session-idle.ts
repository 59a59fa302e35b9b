// A session's idle clock, on the connection's one deadline: a quiet peer is pinged (sendPings), then
// cut (1006) when it stays quiet, per idleTimeout.
import { OPCODE } from "./frame-parser.ts";
import type { Session } from "./session.ts";
import { sendControl } from "./session-send.ts";

const EMPTY = new Uint8Array(0);

/** The first deadline, after the 101. */
export function armIdle(s: Session): void {
  const idle = s.ctx.settings.idleTimeout;
  s.conn.setDeadline(idle > 0 ? Math.max(Math.floor(idle / 2), 1) : 0);
}

/**
 * The idle clock (one deadline, checked by the server's sweep about once a second): quiet for half
 * of idleTimeout, the peer is pinged; quiet since that ping for another half, it is cut (1006).
 * Without sendPings, quiet for the whole of idleTimeout. Counting from the ping, not from the last
 * byte, leaves a pong at least half the time to come, however the sweep's ticks fall.
 */
export function checkIdle(s: Session): void {
  const idle = s.ctx.settings.idleTimeout;
  const half = Math.floor(idle / 2);
  const now = s.conn.now;
  const quiet = now - s.lastActive;
  if (s.userPaused) {
    // (The idle clock stops while the application holds reading back.)
    s.conn.setDeadline(half);
    return;
  }
  if (quiet < half) {
    s.pingedAt = -1;
    s.conn.setDeadline(half - quiet);
    return;
  }
  if (!s.ctx.settings.sendPings) {
    if (quiet >= idle) s.terminate();
    else s.conn.setDeadline(idle - quiet);
    return;
  }
  // (>=: on loopback the pong can come within the millisecond of its ping.)
  if (s.pingedAt < 0 || s.lastActive >= s.pingedAt) {
    s.pingedAt = now;
    sendControl(s, OPCODE.PING, EMPTY);
    s.conn.setDeadline(half);
    return;
  }
  const sincePing = now - s.pingedAt;
  if (sincePing >= half) s.terminate();
  else s.conn.setDeadline(half - sincePing);
}
