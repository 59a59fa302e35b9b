// serve(): Bun.listen wiring, the handler chain, the sweep timer for timeouts, and the access log.
//
// Handler order: routes, then `handler`, then static files under `root`, then `fetch`, then 404.
import type { Socket, TCPSocketListener } from "bun";
import { readFileSync } from "node:fs";
import { concatBytes } from "../http/chars.ts";
import { getDateLine } from "../http/date.ts";
import { createFetchHandler, type FetchHandler } from "../app/fetch.ts";
import { WebRequest } from "../app/web-request.ts";
import type { Routes } from "../app/router.ts";
import { createRoutesHandler } from "../app/routes-handler.ts";
import { DEFAULT_CHUNKED_LIMITS } from "../http/chunked.ts";
import { DEFAULT_PARSER_LIMITS, METHOD } from "../http/parser.ts";
import { createStaticHandler, type StaticOptions } from "../static/serve-static.ts";
import { type AccessLog, createAccessLog, fileTarget, type LogFormat, stdoutTarget } from "./access-log.ts";
import { compileTrust } from "./proxy.ts";
import { Connection, type ConnectionOptions, type ServerContext } from "./connection.ts";
import { type Handler, type HandlerResult, INTERNAL_ERROR, type Reply } from "./reply.ts";
import { HttpException } from "./http-exception.ts";
import { trackResponses } from "./known-bodies.ts";
import type { ServerRequest } from "./request.ts";

export interface ServeOptions extends Partial<ConnectionOptions> {
  /** 0 picks a free port. Default 8888. */
  port?: number;
  /** Default 127.0.0.1. */
  hostname?: string;
  /** Routes as in Bun.serve: "/users/:id", "/files/*", a handler or a method map per path. */
  routes?: Routes<Server>;
  /** Our handler: gets a ServerRequest, returns a Response, a Reply, a string or bytes; null falls through. */
  handler?: Handler;
  /** A directory to serve files from, after routes and `handler` declined. */
  root?: string;
  static?: Omit<StaticOptions, "root">;
  /** A Bun.serve-style handler, `(request: Request, server) => Response`, for what nothing else answered. */
  fetch?: FetchHandler<Server>;
  /** Called when a handler throws or rejects; returns the response to send (default: 500). */
  error?: (err: unknown, req: ServerRequest) => HandlerResult | Promise<HandlerResult>;
  log?: LogFormat;
  /** Where the access log goes: a function, or a file path (reopened by server.reopenLog()); default stdout. */
  logWrite?: ((text: string) => void) | string;
  /** HTTPS: PEM certificate chain and key (file contents, or Bun.file()s). */
  tls?: { cert: string | Uint8Array | Blob; key: string | Uint8Array | Blob };
  /** Expect HAProxy's PROXY protocol header (v1 or v2) on every connection. */
  proxyProtocol?: boolean;
  /** Peers whose Forwarded / X-Forwarded-For count for req.clientAddress: "loopback", addresses, IPv4 CIDRs. */
  trustProxy?: string;
  /** Answer 200 "ok" at this path before anything else (for load balancers). */
  health?: string;
  /** Share the port with other processes (SO_REUSEPORT), for --workers. */
  reusePort?: boolean;
  /**
   * Wrap the global Response constructor so Responses built from a string or bytes are sent without
   * reading their body stream (about twice the speed for `fetch` handlers). Default true; false
   * leaves the global alone. See src/server/known-bodies.ts.
   */
  trackResponses?: boolean;
  /** Open connections at most; past it a new one gets 503 and is closed (default: open-file limit − 128). */
  maxConnections?: number;
}

export interface Server {
  readonly port: number;
  readonly hostname: string;
  readonly url: URL;
  /** Open connections right now. */
  readonly connectionCount: number;
  /** Connections turned away with 503 because maxConnections were open. */
  readonly refusedConnections: number;
  /** Closes and reopens the access log file (after log rotation). */
  reopenLog(): void;
  /**
   * Stops accepting. Idle connections close at once; requests in progress finish first, and the
   * promise resolves once every connection is gone. With `closeActive`, every connection closes now.
   */
  stop(closeActive?: boolean): Promise<void>;
  /** The client's address for a Request given to `fetch` (as Bun.serve's server.requestIP). */
  requestIP(request: Request): { address: string; family: "IPv4" | "IPv6"; port: number } | null;
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

const TEXT: [string, string][] = [["Content-Type", "text/plain; charset=utf-8"]];

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
const NOT_IMPLEMENTED: Reply = { status: 501, headers: TEXT, body: "501 Not Implemented\n" };

export function serve(options: ServeOptions = {}): Server {
  if (options.trackResponses !== false) trackResponses();
  const connOptions: ConnectionOptions = { ...DEFAULT_OPTIONS };
  for (const key of Object.keys(DEFAULT_OPTIONS) as (keyof ConnectionOptions)[]) {
    const v = options[key];
    if (v !== undefined) connOptions[key] = v;
  }

  const logTarget =
    typeof options.logWrite === "string" ? fileTarget(options.logWrite) : (options.logWrite ?? stdoutTarget());
  const accessLog: AccessLog | null = options.log && options.log !== "off" ? createAccessLog(options.log, logTarget) : null;
  const trust = options.trustProxy ? compileTrust(options.trustProxy) : null;
  const errorHook = options.error;
  const maxConnections = options.maxConnections ?? defaultMaxConnections();
  let refusedConnections = 0;
  const handlers: Handler[] = [];
  // Methods the application names; others that we do not implement get 501 (RFC 9110 §9.1).
  let appMethods = new Set<string>();
  const acceptsAnyMethod = options.fetch !== undefined || options.handler !== undefined;
  const serverAllow = () => {
    const all = new Set(["GET", "HEAD", "OPTIONS"]);
    for (const method of appMethods) if (method !== "*") all.add(method);
    if (acceptsAnyMethod || appMethods.has("*")) for (const method of ["POST", "PUT", "PATCH", "DELETE"]) all.add(method);
    return [...all].join(", ");
  };

  const ctx: ServerContext = {
    options: connOptions,
    connections: new Set<Connection>(),
    now: Date.now(),
    logging: accessLog !== null,
    dispatch(req: ServerRequest) {
      const m = req.head.method;
      // OPTIONS * asks about the server as a whole (RFC 9110 §9.3.7).
      if (m === METHOD.OPTIONS && req.head.pathStart === req.head.targetStart && req.head.buf[req.head.targetStart] === 42) {
        return { status: 204, headers: [["Allow", serverAllow()]] };
      }
      if (m !== METHOD.OTHER && m !== METHOD.CONNECT && m !== METHOD.TRACE) return runChain(handlers, 0, req);
      // A method we do not implement: the application may, else 501 (RFC 9110 §9.1).
      if (!acceptsAnyMethod && !appMethods.has(req.method)) return NOT_IMPLEMENTED;
      const r = runChain(handlers, 0, req);
      if (r instanceof Promise) return r.then((v) => v ?? NOT_IMPLEMENTED);
      return r ?? NOT_IMPLEMENTED;
    },
    failure(err: unknown, req: ServerRequest) {
      if (errorHook) return errorHook(err, req);
      if (err instanceof HttpException) return err.toReply();
      console.error(`error handling ${req.method} ${req.url}:`, err);
      return INTERNAL_ERROR;
    },
    log(req, status, bytes, remote, ms) {
      accessLog!.write(req, status, bytes, remote, ctx.now, ms);
    },
    proxyProtocol: options.proxyProtocol ?? false,
    trust,
  };

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
        const conn = new Connection(socket, ctx);
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

  // One timer for every timeout: deadlines are plain numbers checked once a second.
  const sweep = setInterval(() => {
    const now = (ctx.now = Date.now());
    for (const conn of ctx.connections) {
      if (conn.deadline !== 0 && conn.deadline <= now) conn.onTimeout();
    }
    accessLog?.flush();
    if (stopping && ctx.connections.size === 0) drained?.();
  }, 1000);
  sweep.unref();

  let stopping = false;
  let stopped: Promise<void> | null = null;
  let drained: (() => void) | null = null;
  const hostname = listener.hostname;
  const port = listener.port;
  const server: Server = {
    port,
    hostname,
    url: new URL(`${options.tls ? "https" : "http"}://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}/`),
    get connectionCount() {
      return ctx.connections.size;
    },
    get refusedConnections() {
      return refusedConnections;
    },
    reopenLog() {
      accessLog?.reopen();
    },
    stop(closeActive = false) {
      if (closeActive) for (const conn of [...ctx.connections]) conn.destroy();
      if (stopped === null) {
        stopping = true;
        listener.stop(closeActive);
        for (const conn of [...ctx.connections]) conn.closeWhenIdle();
        stopped = new Promise<void>((resolve) => {
          drained = () => {
            drained = null;
            clearInterval(sweep);
            accessLog?.close();
            resolve();
          };
          if (ctx.connections.size === 0) drained();
        });
      } else if (ctx.connections.size === 0) drained?.();
      return stopped;
    },
    requestIP(request: Request) {
      const req = request instanceof WebRequest ? WebRequest.originOf(request) : null;
      if (req === null) return null;
      const address = req.remoteAddress;
      return { address, family: address.includes(":") ? "IPv6" : "IPv4", port: req.remotePort };
    },
    [Symbol.dispose]() {
      void server.stop(true);
    },
  };

  if (options.health) {
    const path = options.health;
    const OK: Reply = { status: 200, headers: [["Content-Type", "text/plain; charset=utf-8"], ["Cache-Control", "no-store"]], body: "ok\n" };
    handlers.push((req) => (req.path === path ? OK : null));
  }
  if (options.routes) {
    const r = createRoutesHandler(options.routes, server);
    handlers.push(r.handler);
    appMethods = r.methods;
  }
  if (options.handler) handlers.push(options.handler);
  if (options.root !== undefined) {
    // With an app behind the files, a path with no file is the app's to answer.
    handlers.push(createStaticHandler({ fallthrough: options.fetch !== undefined, ...options.static, root: options.root }));
  }
  if (options.fetch) handlers.push(createFetchHandler(options.fetch, server, `${hostname}:${port}`));
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
