// The engine's listener: Bun.listen wiring, the connection limit, the one sweep timer for every
// timeout, the server-wide memory budgets, and graceful stop. What a request gets as an answer is
// the caller's business (its `dispatch`); src/serve.ts composes routes, files and apps on top.
import type { Socket, TCPSocketListener } from "bun";
import { readFileSync } from "node:fs";
import { concatBytes } from "../http/chars.ts";
import { DEFAULT_CHUNKED_LIMITS } from "../http/chunked.ts";
import { getDateLine } from "../http/date.ts";
import { DEFAULT_PARSER_LIMITS } from "../http/parser.ts";
import { readResponse, type ResponseParts } from "./body.ts";
import { Budget } from "./budget.ts";
import { Connection } from "./connection.ts";
import type { ConnectionOptions, ServerContext } from "./server-context.ts";
import { compileTrust } from "./proxy.ts";
import type { HandlerResult, Reply } from "./reply.ts";
import type { ServerRequest } from "./request.ts";

export const DEFAULT_OPTIONS: ConnectionOptions = {
  ...DEFAULT_PARSER_LIMITS,
  ...DEFAULT_CHUNKED_LIMITS,
  headerTimeout: 10_000,
  bodyTimeout: 30_000,
  keepAliveTimeout: 60_000,
  sendTimeout: 60_000,
  handlerTimeout: 0,
  bodyBufferSize: 64 * 1024,
  outputHighWater: 64 * 1024,
};

/** Server-wide: request-body bytes held for handlers, and response bytes queued for the kernel. */
export const DEFAULT_BODY_BUDGET = 16 * 1024 * 1024;
export const DEFAULT_OUTPUT_BUDGET = 32 * 1024 * 1024;
/** Open connections past which new ones read in small pieces (a fast single upload keeps big reads). */
const SMALL_READS_FROM = 64;
/** How far ahead of the clock the once-a-second sweep takes a deadline as passed (see the sweep). */
const SWEEP_SLACK_MS = 20;

export interface ListenOptions extends Partial<ConnectionOptions> {
  port?: number;
  hostname?: string;
  tls?: { cert: string | Uint8Array | Blob; key: string | Uint8Array | Blob };
  /** Share the port with other processes (SO_REUSEPORT), for --workers. */
  reusePort?: boolean;
  /** Open connections at most; past it a new one gets 503 and is closed (default: open-file limit − 128). */
  maxConnections?: number;
  /** Expect HAProxy's PROXY protocol header (v1 or v2) on every connection. */
  proxyProtocol?: boolean;
  /**
   * Files streamed from disk (over the memory cache's limit, an app's Bun.file) go by sendfile(2) on
   * plain TCP (default true); false: read into memory and written, as over TLS.
   */
  sendfile?: boolean;
  /** Peers whose Forwarded / X-Forwarded-For count for req.clientAddress. */
  trustProxy?: string;
  /** Most request-body bytes held in memory across all connections (default 16 MiB). */
  bodyBudget?: number;
  /** Most response bytes queued for slow clients across all connections (default 32 MiB). */
  outputBudget?: number;
}

/** What the layer above answers with. */
export interface ListenHooks {
  dispatch(req: ServerRequest): HandlerResult | Promise<HandlerResult>;
  failure(err: unknown, req: ServerRequest): HandlerResult | Promise<HandlerResult>;
  /** Response objects to parts (default: the engine's stream reader). */
  readResponse?: (res: Response) => ResponseParts | Promise<ResponseParts>;
  /** A last look at each handler's reply before it is written (ServerContext.filter). */
  filter?: (reply: Reply, req: ServerRequest) => Reply | Promise<Reply>;
  /** The access log, if any. */
  log?: (req: ServerRequest | null, status: number, bytes: number, remote: string, now: number, ms: number) => void;
  /** Once a second, from the sweep (the access log flushes here). */
  tick?: () => void;
}

export interface Listener {
  readonly port: number;
  readonly hostname: string;
  readonly connectionCount: number;
  /** Connections taken on since start (those refused over maxConnections not among them). */
  readonly acceptedConnections: number;
  readonly refusedConnections: number;
  /** Requests being answered now (handlers at work, responses streaming). */
  readonly pendingRequests: number;
  /** Closes the connections waiting for a request now. */
  closeIdleConnections(): void;
  /** Whether the listener keeps the process alive (it does, unless unref()). */
  ref(): void;
  unref(): void;
  /**
   * Stops accepting. Idle connections close at once; requests in progress finish first, and the
   * promise resolves once every connection is gone. With `closeActive`, every connection closes now.
   */
  stop(closeActive?: boolean): Promise<void>;
}

/** The soft open-file limit minus headroom for files, logs and the listener (Linux /proc; else 16384). */
export function defaultMaxConnections(): number {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync("/proc/self/limits", "utf8"));
    if (m) return Math.max(16, Number(m[1]) - 128);
  } catch {}
  return 16384;
}

const encoder = new TextEncoder();
const OVERLOADED_BODY = "503 Service Unavailable: too many connections\n";
const OVERLOADED_REST = encoder.encode(
  `Server: bunhttp\r\nRetry-After: 1\r\nContent-Type: text/plain; charset=utf-8\r\n` +
    `Content-Length: ${OVERLOADED_BODY.length}\r\nConnection: close\r\n\r\n${OVERLOADED_BODY}`,
);
const OVERLOADED_STATUS = encoder.encode("HTTP/1.1 503 Service Unavailable\r\n");

/** Connection options from ListenOptions, the defaults filling what is not given. */
function connectionOptions(options: Partial<ConnectionOptions>): ConnectionOptions {
  const o: ConnectionOptions = { ...DEFAULT_OPTIONS };
  for (const key of Object.keys(DEFAULT_OPTIONS) as (keyof ConnectionOptions)[]) {
    const v = options[key];
    if (v !== undefined) o[key] = v;
  }
  return o;
}

export function listen(options: ListenOptions, hooks: ListenHooks): Listener {
  const maxConnections = options.maxConnections ?? defaultMaxConnections();
  let refusedConnections = 0;
  let acceptedConnections = 0;
  const log = hooks.log;
  const ctx: ServerContext = {
    options: connectionOptions(options),
    connections: new Set<Connection>(),
    budget: new Budget(options.bodyBudget ?? DEFAULT_BODY_BUDGET, options.outputBudget ?? DEFAULT_OUTPUT_BUDGET),
    now: Date.now(),
    logging: log !== undefined,
    dispatch: hooks.dispatch,
    failure: hooks.failure,
    readResponse: hooks.readResponse ?? readResponse,
    filter: hooks.filter,
    log(req, status, bytes, remote, ms) {
      log!(req, status, bytes, remote, ctx.now, ms);
    },
    proxyProtocol: options.proxyProtocol ?? false,
    trust: options.trustProxy ? compileTrust(options.trustProxy) : null,
    plainTcp: !options.tls,
    sendfile: options.sendfile ?? true,
  };

  let stopping = false;
  let stopped: Promise<void> | null = null;
  let drained: (() => void) | null = null;

  const listener: TCPSocketListener<Connection> = Bun.listen<Connection>({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 8888,
    ...(options.tls ? { tls: options.tls } : {}),
    // SO_REUSEPORT: several worker processes accept on one port (missing from bun-types; BUN-NOTES).
    ...(options.reusePort ? { reusePort: true } : {}),
    allowHalfOpen: true,
    binaryType: "uint8array",
    socket: {
      open(socket: Socket<Connection>) {
        if (ctx.connections.size >= maxConnections) {
          // Over the limit: answer 503 at once and close; the connections we have keep working.
          refusedConnections++;
          const out = concatBytes([OVERLOADED_STATUS, getDateLine(), OVERLOADED_REST]);
          socket.write(out, 0, out.length);
          socket.end();
          return;
        }
        acceptedConnections++;
        const conn = new Connection(socket, ctx);
        // Many clients at once (or memory already tight): each gets a small kernel receive buffer, so
        // no read brings more than ~32 KiB of what a thousand uploads send (receive-buffer.ts).
        if (ctx.connections.size > SMALL_READS_FROM || ctx.budget.underPressure) conn.readSmall();
        socket.data = conn;
        ctx.connections.add(conn);
        if (stopping) conn.closeWhenIdle();
      },
      data(socket: Socket<Connection>, chunk: Uint8Array) {
        socket.data?.onData(chunk);
      },
      drain(socket: Socket<Connection>) {
        socket.data?.onDrain();
      },
      end(socket: Socket<Connection>) {
        if (socket.data) socket.data.onEnd();
        else socket.end();
      },
      close(socket: Socket<Connection>) {
        socket.data?.onClose();
        if (stopping && ctx.connections.size === 0) drained?.();
      },
      error(socket: Socket<Connection>, err: Error) {
        // A socket error, or an exception that escaped one of these callbacks: close it for good.
        const conn = socket.data;
        if (conn) conn.destroy();
        else socket.end();
        if ((err as { code?: string })?.code === undefined) console.error("connection error:", err);
      },
    },
  } as unknown as Bun.TCPSocketListenOptions<Connection>);

  // One timer for every timeout: deadlines are plain numbers checked once a second. A deadline a
  // timeout renews from here (a send that still moves, a WebSocket ping) is read off the clock a few
  // milliseconds after `now`, so it would fall just after the sweep a period later and wait a whole
  // period more: deadlines within SWEEP_SLACK_MS of now count as passed.
  const sweep = setInterval(() => {
    const now = (ctx.now = Date.now());
    const due = now + SWEEP_SLACK_MS;
    for (const conn of ctx.connections) {
      if (conn.deadline !== 0 && conn.deadline <= due) conn.onTimeout();
    }
    hooks.tick?.();
    if (stopping && ctx.connections.size === 0) drained?.();
  }, 1000);
  sweep.unref();

  return {
    port: listener.port,
    hostname: listener.hostname,
    get connectionCount() {
      return ctx.connections.size;
    },
    get acceptedConnections() {
      return acceptedConnections;
    },
    get refusedConnections() {
      return refusedConnections;
    },
    get pendingRequests() {
      let n = 0;
      for (const conn of ctx.connections) if (conn.busy) n++;
      return n;
    },
    closeIdleConnections() {
      for (const conn of [...ctx.connections]) conn.closeIfIdle();
    },
    ref() {
      listener.ref();
    },
    unref() {
      listener.unref();
    },
    stop(closeActive = false) {
      if (closeActive) for (const conn of [...ctx.connections]) conn.abort();
      if (stopped === null) {
        stopping = true;
        listener.stop(closeActive);
        for (const conn of [...ctx.connections]) conn.closeWhenIdle();
        stopped = new Promise<void>((resolve) => {
          drained = () => {
            drained = null;
            clearInterval(sweep);
            resolve();
          };
          if (ctx.connections.size === 0) drained();
        });
      } else if (ctx.connections.size === 0) drained?.();
      return stopped;
    },
  };
}
