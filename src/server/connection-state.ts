// The named states of a connection (connection.ts) and its timer kinds: shared by the modules that
// make up a connection (connection-timers, -reading, -body, -close and -upgrade).

export const STATE = {
  /** Waiting for the PROXY protocol header that comes before the first request. */
  PROXY: 0,
  /** Between requests, or reading a head. */
  HEAD: 1,
  /** A request dispatched: its handler works, its body may still arrive, its response may be streaming. */
  ACTIVE: 2,
  /** The response is done; the rest of its unread body is read and dropped, then the next request. */
  DISCARD: 3,
  /** After a response that ends the connection: input is dropped while the output leaves. */
  CLOSING: 4,
  /** Half-closed after the last response: reading and dropping until the client closes or time is up. */
  LINGER: 5,
  /** Another protocol owns the socket (after 101). */
  UPGRADED: 6,
  CLOSED: 7,
} as const;
export type State = (typeof STATE)[keyof typeof STATE];

export const TIMER = { NONE: 0, IDLE: 1, HEADER: 2, BODY: 3, SEND: 4, LINGER: 5, PROTOCOL: 6, WAIT: 7 } as const;
export type Timer = (typeof TIMER)[keyof typeof TIMER];

/** After the last response, how long to keep reading (and dropping) so the client sees our answer. */
export const LINGER_MS = 2000;
/** …and how much of it, at most: past this a client still sending gets the RST it asked for. */
export const LINGER_BYTES = 64 * 1024;
