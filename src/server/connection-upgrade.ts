// The switch to another protocol after `101 Switching Protocols` (connection.ts): the connection
// hands its socket, and the bytes received after the request, to what the reply's upgrade function
// returns (upgrade.ts), through an UpgradedConnection handle over itself.
import type { Connection } from "./connection.ts";
import { closeWhenFlushed } from "./connection-close.ts";
import { STATE, TIMER } from "./connection-state.ts";
import { armTimer, setTimer } from "./connection-timers.ts";
import type { Reply } from "./reply.ts";
import type { UpgradedConnection } from "./upgrade.ts";

/** After a 101 (Connection.switchProtocols): the protocol takes the socket and whatever came after the request. */
export function upgradeConnection(conn: Connection, reply: Reply): void {
  conn.output.flush();
  if (conn.ctx.logging) conn.ctx.log(conn.current, 101, 0, conn.remoteAddress, performance.now() - conn.startedAt);
  conn.current = null;
  conn.state = STATE.UPGRADED;
  setTimer(conn, TIMER.NONE, 0);
  const received = conn.in.takeRest();
  if (conn.paused) {
    conn.paused = false;
    conn.socket.resume();
  }
  const handle: UpgradedConnection = {
    output: conn.output,
    get remoteAddress() {
      return conn.remoteAddress;
    },
    get remotePort() {
      return conn.remotePort;
    },
    get now() {
      return conn.now;
    },
    budget: conn.ctx.budget,
    setDeadline(ms: number) {
      setTimer(conn, TIMER.PROTOCOL, ms); // (0: none, setTimer says)
    },
    pause() {
      conn.socket.pause();
    },
    resume() {
      conn.socket.resume();
    },
    end() {
      if (conn.state !== STATE.UPGRADED) return;
      protocolEnded(conn);
    },
    destroy() {
      conn.destroy();
    },
  };
  try {
    conn.protocol = reply.upgrade!(handle, received);
  } catch (err) {
    console.error("protocol upgrade failed:", err);
    conn.destroy();
  }
}

/** The protocol is done: close once its output has left (half-closing first). */
function protocolEnded(conn: Connection): void {
  closeWhenFlushed(conn, true);
  conn.output.flush();
  armTimer(conn);
}
