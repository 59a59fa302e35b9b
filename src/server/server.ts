// serve(): Bun.listen wiring, the handler chain, the sweep timer for timeouts, and the access log.
import type { Socket, TCPSocketListener } from "bun";
import { DEFAULT_CHUNKED_LIMITS } from "../http/chunked.ts";
import { DEFAULT_PARSER_LIMITS, METHOD } from "../http/parser.ts";
import { createAccessLog, type AccessLog, type LogFormat } from "./access-log.ts";
import { Connection, type ConnectionOptions, type Handler, type HandlerResult, type ServerContext } from "./connection.ts";
import type { ServerRequest } from "./request.ts";
import { createStaticHandler, type StaticOptions } from "../static/serve-static.ts";

export interface ServeOptions extends Partial<ConnectionOptions> {
  /** 0 picks a free port. Default 8888. */
  port?: number;
  /** Default 127.0.0.1. */
  hostname?: string;
  /** Our handler: gets a ServerRequest, returns a Response, a Reply, a string or bytes; null falls through. */
  handler?: Handler;
  /** A directory to serve files from, after `handler` (if any) declined. */
  root?: string;
  static?: Omit<StaticOptions, "root">;
  /** Called when a handler throws or rejects; returns the response to send (default: 500). */
  error?: (err: unknown, req: ServerRequest) => HandlerResult | Promise<HandlerResult>;
  log?: LogFormat;
  /** Where the access log goes (default: stdout). */
  logWrite?: (text: string) => void;
}

export interface Server {
  readonly port: number;
  readonly hostname: string;
  readonly url: URL;
  /** Open connections right now. */
  readonly connectionCount: number;
  /** Stops accepting; with `closeActive`, closes open connections too. Resolves when done. */
  stop(closeActive?: boolean): Promise<void>;
  [Symbol.dispose](): void;
}

export const DEFAULT_OPTIONS: ConnectionOptions = {
  ...DEFAULT_PARSER_LIMITS,
  ...DEFAULT_CHUNKED_LIMITS,
  headerTimeout: 10_000,
  bodyTimeout: 30_000,
  idleTimeout: 60_000,
  sendTimeout: 60_000,
};

/** Methods we implement at all; anything else gets 501 (RFC 9110 §9.1). */
function isKnownMethod(method: number): boolean {
  return method !== METHOD.OTHER && method !== METHOD.CONNECT && method !== METHOD.TRACE;
}

const NOT_IMPLEMENTED = { status: 501, headers: [["Content-Type", "text/plain; charset=utf-8"]], body: "501 Not Implemented\n" } as const;

export function serve(options: ServeOptions = {}): Server {
  const connOptions: ConnectionOptions = { ...DEFAULT_OPTIONS };
  for (const key of Object.keys(DEFAULT_OPTIONS) as (keyof ConnectionOptions)[]) {
    const v = options[key];
    if (v !== undefined) connOptions[key] = v;
  }
  const handlers: Handler[] = [];
  if (options.handler) handlers.push(options.handler);
  if (options.root !== undefined) handlers.push(createStaticHandler({ ...options.static, root: options.root }));

  const accessLog: AccessLog | null =
    options.log && options.log !== "off" ? createAccessLog(options.log, options.logWrite) : null;
  const errorHook = options.error;

  const ctx: ServerContext = {
    options: connOptions,
    connections: new Set<Connection>(),
    now: Date.now(),
    logging: accessLog !== null,
    dispatch(req: ServerRequest) {
      if (!isKnownMethod(req.head.method)) return NOT_IMPLEMENTED;
      return runChain(handlers, 0, req);
    },
    failure(err: unknown, req: ServerRequest) {
      if (errorHook) return errorHook(err, req);
      console.error(`error handling ${req.method} ${req.url}:`, err);
      return { status: 500, headers: [["Content-Type", "text/plain; charset=utf-8"]], body: "500 Internal Server Error\n" };
    },
    log(req, status, bytes, remote) {
      accessLog!.write(req, status, bytes, remote, ctx.now);
    },
  };

  const listener: TCPSocketListener<Connection> = Bun.listen<Connection>({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 8888,
    allowHalfOpen: true,
    binaryType: "uint8array",
    socket: {
      open(socket: Socket<Connection>) {
        const conn = new Connection(socket, ctx);
        socket.data = conn;
        ctx.connections.add(conn);
      },
      data(socket: Socket<Connection>, chunk: Uint8Array) {
        socket.data.onData(chunk);
      },
      drain(socket: Socket<Connection>) {
        socket.data.onDrain();
      },
      end(socket: Socket<Connection>) {
        socket.data.onEnd();
      },
      close(socket: Socket<Connection>) {
        socket.data?.onClose();
      },
      error(socket: Socket<Connection>) {
        socket.data?.onClose();
      },
    },
  } as unknown as Bun.TCPSocketListenOptions<Connection>);

  // One timer for every timeout: deadlines are plain numbers checked once a second.
  const sweep = setInterval(() => {
    const now = (ctx.now = Date.now());
    for (const conn of ctx.connections) {
      if (conn.deadline !== 0 && conn.deadline <= now) conn.onTimeout();
    }
    accessLog?.flush();
  }, 1000);
  sweep.unref();

  let stopped: Promise<void> | null = null;
  const hostname = listener.hostname;
  const port = listener.port;
  const server: Server = {
    port,
    hostname,
    url: new URL(`http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}/`),
    get connectionCount() {
      return ctx.connections.size;
    },
    stop(closeActive = false) {
      if (stopped === null) {
        listener.stop(closeActive);
        if (closeActive) for (const conn of [...ctx.connections]) conn.destroy();
        clearInterval(sweep);
        accessLog?.flush();
        stopped = Promise.resolve();
      }
      return stopped;
    },
    [Symbol.dispose]() {
      void server.stop(true);
    },
  };
  return server;
}

/** Runs handlers in order until one answers (returns something other than null/undefined). */
function runChain(handlers: Handler[], from: number, req: ServerRequest): HandlerResult | Promise<HandlerResult> {
  for (let i = from; i < handlers.length; i++) {
    const r = handlers[i]!(req);
    if (r instanceof Promise) {
      return r.then((v) => (v === null || v === undefined ? runChain(handlers, i + 1, req) : v));
    }
    if (r !== null && r !== undefined) return r;
  }
  return null;
}
