// The seam for protocols that take a connection over after `101 Switching Protocols` (WebSocket):
// a handler returns a Reply with status 101 and an `upgrade` function; once the 101 head has been
// written, the connection hands its socket, and the bytes it had already received after the
// request, to the protocol that function returns, and forwards every later socket event to it.
import type { Budget } from "./budget.ts";
import type { Output } from "./output.ts";

/** What an upgraded protocol may do with the connection it took over. */
export interface UpgradedConnection {
  /** Writes go through the same cork buffer and queue as HTTP responses (output.cork(), send(), flush()). */
  readonly output: Output;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** The server's memory budgets (a protocol's partial messages count as request-body bytes). */
  readonly budget: Budget;
  /** The time of the socket event being handled (Date.now(), read once per event). */
  readonly now: number;
  /** Arms the connection's one deadline, `ms` from now (checked by the server's sweep, about once a second); 0 clears it. */
  setDeadline(ms: number): void;
  /** Stop or restart reading the socket (backpressure toward the peer). */
  pause(): void;
  resume(): void;
  /** Close once the output has been sent (half-close first, so the peer reads it all). */
  end(): void;
  /** Close now. */
  destroy(): void;
}

/** The protocol's side: the socket events, after the switch. */
export interface Protocol {
  onData(chunk: Uint8Array): void;
  /** The kernel took the queued output; `output.queued` is 0. */
  onDrain(): void;
  /** The kernel took some queued output (the peer reads), whether or not all of it. */
  onSent?(): void;
  /** The peer half-closed. */
  onEnd(): void;
  /** The socket is gone; release everything. */
  onClose(): void;
  /** The deadline set with setDeadline passed. */
  onTimeout(): void;
  /** The server is stopping (a WebSocket sends close 1001). Default: end(). */
  onShutdown?(): void;
  /** The server is stopping now: a last word may be written (a close frame); the socket goes right after. */
  onAbort?(): void;
}

/** Builds the protocol for a connection; `received` holds the bytes that came after the request. */
export type UpgradeFn = (conn: UpgradedConnection, received: Uint8Array) => Protocol;
