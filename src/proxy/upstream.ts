// One upstream origin (`http://host:port`) and its keep-alive pool: connections that finished a
// response cleanly wait here for the next request, most recently used first, and are closed after
// IDLE_MS unused (below the 5 s keep-alive of Node's servers, so we seldom reuse one its server is
// closing) or when the pool already holds MAX_IDLE. A connection is a Bun.connect socket with a
// one-slot write queue (socket.write drops what the kernel does not take: ../shared/BUN-NOTES.md).
import type { Socket } from "bun";
import { concatBytes } from "../http/chars.ts";
import { ChunkedDecoder } from "../http/chunked.ts";
import { ResponseHead } from "../http/response-parser.ts";

/** What owns a connection while it carries a request (an exchange) or a tunnel. */
export interface UpstreamUser {
  onConnected(): void;
  onData(chunk: Uint8Array): void;
  /** Everything written has been taken by the kernel. */
  onDrain(): void;
  /** The upstream closed, reset, or could not be reached (`err` then says why). */
  onClosed(err: Error | null): void;
}

/** Idle connections kept per upstream. */
const MAX_IDLE = 256;
/** How long an idle connection is kept. */
export const IDLE_MS = 4000;

export class UpstreamConnection {
  socket: Socket<UpstreamConnection> | null = null;
  user: UpstreamUser | null = null;
  /** Carried a response before: a failure before any reply may be the upstream closing it meanwhile. */
  reused = false;
  closed = false;
  idleSince = 0;
  /** Reused across the responses on this connection. */
  readonly head = new ResponseHead();
  readonly decoder = new ChunkedDecoder({ maxBody: Number.MAX_SAFE_INTEGER, maxChunkLine: 4096, maxTrailerSize: 16 * 1024 });
  #pending: Uint8Array | null = null;
  #paused = false;

  constructor(readonly upstream: Upstream) {
    Bun.connect<UpstreamConnection>({
      hostname: upstream.host,
      port: upstream.port,
      data: this,
      socket: HANDLERS,
    } as unknown as Parameters<typeof Bun.connect<UpstreamConnection>>[0]).catch((err: Error) => this.#gone(err));
  }

  /**
   * Writes bytes [0, length) of `bytes`: true when the kernel took them all; false when the rest
   * waits for `drain` (then the user's onDrain). The caller keeps them unchanged until drained,
   * unless `borrowed` (a scratch buffer): then what waits is copied. One write at a time.
   */
  write(bytes: Uint8Array, length = bytes.length, borrowed = false): boolean {
    if (this.closed) return false;
    const socket = this.socket;
    if (socket === null || this.#pending !== null) {
      const rest = borrowed || length !== bytes.length ? bytes.slice(0, length) : bytes;
      this.#pending = this.#pending === null ? rest : concatBytes([this.#pending, rest]);
      return false;
    }
    const n = socket.write(bytes, 0, length);
    if (n === length) return true;
    const from = n > 0 ? n : 0;
    this.#pending = borrowed || length !== bytes.length ? bytes.slice(from, length) : bytes.subarray(from);
    return false;
  }

  get writing(): boolean {
    return this.#pending !== null;
  }

  pause(): void {
    if (this.#paused || this.socket === null) return;
    this.#paused = true;
    this.socket.pause();
  }

  resume(): void {
    if (!this.#paused || this.socket === null) return;
    this.#paused = false;
    this.socket.resume();
  }

  /** Closes now (a connection that cannot be reused). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.#pending = null;
    this.user = null;
    this.socket?.terminate();
  }

  // ---- socket events (HANDLERS) ----------------------------------------------------------------

  onOpen(socket: Socket<UpstreamConnection>): void {
    this.socket = socket;
    if (this.closed) {
      socket.terminate();
      return;
    }
    const pending = this.#pending;
    this.#pending = null;
    if (pending !== null && !this.write(pending)) return;
    this.user?.onConnected();
  }

  onData(chunk: Uint8Array): void {
    if (this.user !== null) this.user.onData(chunk);
    else this.close(); // bytes nobody asked for: the connection is out of step
  }

  onDrain(): void {
    const pending = this.#pending;
    if (pending === null || this.socket === null) return;
    const n = this.socket.write(pending, 0, pending.length);
    if (n < pending.length) {
      if (n > 0) this.#pending = pending.subarray(n);
      return;
    }
    this.#pending = null;
    this.user?.onDrain();
  }

  #gone(err: Error | null): void {
    const wasClosed = this.closed;
    this.closed = true;
    this.#pending = null;
    this.upstream.forget(this);
    const user = this.user;
    this.user = null;
    if (!wasClosed) user?.onClosed(err);
  }

  onClose(err: Error | null): void {
    this.#gone(err);
  }
}

const HANDLERS = {
  binaryType: "uint8array",
  open(socket: Socket<UpstreamConnection>) {
    socket.data.onOpen(socket);
  },
  data(socket: Socket<UpstreamConnection>, chunk: Uint8Array) {
    socket.data.onData(chunk);
  },
  drain(socket: Socket<UpstreamConnection>) {
    socket.data.onDrain();
  },
  end(socket: Socket<UpstreamConnection>) {
    // A half-close from the upstream ends what it sends: for us the connection is over.
    socket.terminate();
  },
  close(socket: Socket<UpstreamConnection>, err?: Error) {
    socket.data.onClose(err ?? null);
  },
  error(socket: Socket<UpstreamConnection>, err: Error) {
    socket.data.onClose(err);
  },
  connectError(socket: Socket<UpstreamConnection>, err: Error) {
    socket.data.onClose(err);
  },
};

/** Where a proxy sends requests: `http://host[:port]`, with no path (the client's goes up unchanged). */
export function parseUpstreamUrl(url: string): { host: string; port: number; authority: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`proxy: "${url}" is not a URL (e.g. http://127.0.0.1:3000)`);
  }
  if (u.protocol !== "http:") throw new Error(`proxy: "${url}": only http:// upstreams are supported`);
  if ((u.pathname !== "/" && u.pathname !== "") || u.search !== "" || u.hash !== "" || u.username !== "" || u.password !== "") {
    throw new Error(`proxy: "${url}": give the upstream as http://host:port alone; the request's path and query go up unchanged`);
  }
  const host = u.hostname.startsWith("[") ? u.hostname.slice(1, -1) : u.hostname;
  const port = u.port === "" ? 80 : Number(u.port);
  return { host, port, authority: u.host };
}

export class Upstream {
  readonly host: string;
  readonly port: number;
  /** host:port as in the URL: the Host of a request that sent none, and the metrics label. */
  readonly authority: string;
  #idle: UpstreamConnection[] = [];

  constructor(url: string) {
    const u = parseUpstreamUrl(url);
    this.host = u.host;
    this.port = u.port;
    this.authority = u.authority;
  }

  /** An idle connection (most recent first), or a new one being opened (always, when `fresh`). */
  acquire(user: UpstreamUser, fresh: boolean): UpstreamConnection {
    const idle = this.#idle;
    const now = fresh ? 0 : Date.now();
    while (!fresh && idle.length > 0) {
      const conn = idle.pop()!;
      if (conn.closed) continue;
      if (now - conn.idleSince >= IDLE_MS) {
        conn.close();
        continue;
      }
      conn.user = user;
      return conn;
    }
    const conn = new UpstreamConnection(this);
    conn.user = user;
    return conn;
  }

  /** A connection that finished a response cleanly: kept for the next request. */
  release(conn: UpstreamConnection): void {
    conn.user = null;
    if (conn.closed) return;
    if (this.#idle.length >= MAX_IDLE) {
      conn.close();
      return;
    }
    conn.reused = true;
    conn.idleSince = Date.now();
    this.#idle.push(conn);
  }

  /** A connection closed: out of the pool, if it was there. */
  forget(conn: UpstreamConnection): void {
    const i = this.#idle.indexOf(conn);
    if (i >= 0) this.#idle.splice(i, 1);
  }

  /** Closes idle connections unused for IDLE_MS (from the proxy's sweep). */
  trim(now: number): void {
    const idle = this.#idle;
    // Oldest first: the bottom of the stack.
    while (idle.length > 0 && now - idle[0]!.idleSince >= IDLE_MS) idle.shift()!.close();
  }

  closeAll(): void {
    for (const conn of this.#idle.splice(0)) conn.close();
  }
}
