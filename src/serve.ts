// serve(): the public server. It composes the handler chain on the engine's listener:
// `health`, then routes, then `handler`, then static files under `root`, then `fetch`, then 404;
// the error hook; the access log; and the Server object apps see (Bun.serve's shape where it can be).
import { createFetchHandler, type FetchHandler } from "./app/fetch.ts";
import { trackResponses } from "./app/known-bodies.ts";
import { readAppResponse } from "./app/response-reader.ts";
import type { Routes } from "./app/router.ts";
import { createRoutesHandler } from "./app/routes-handler.ts";
import { WebRequest } from "./app/web-request.ts";
import { METHOD } from "./http/parser.ts";
import { type AccessLog, createAccessLog, fileTarget, type LogFormat, stdoutTarget } from "./server/access-log.ts";
import { HttpException } from "./server/http-exception.ts";
import { listen, type ListenOptions } from "./server/listen.ts";
import type { Handler } from "./server/handler.ts";
import { type HandlerResult, INTERNAL_ERROR, type Reply } from "./server/reply.ts";
import type { ServerRequest } from "./server/request.ts";
import { createStaticHandler, type StaticOptions } from "./static/serve-static.ts";

export { DEFAULT_OPTIONS, defaultMaxConnections } from "./server/listen.ts";

export interface ServeOptions extends ListenOptions {
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
  /** Answer 200 "ok" at this path before anything else (for load balancers). */
  health?: string;
  /**
   * Wrap the global Response constructor so Responses built from a string or bytes are sent without
   * reading their body stream (about twice the speed for `fetch` handlers), with the Content-Type
   * Bun.serve infers for them. Default true, as a drop-in for Bun.serve needs; false leaves the
   * global alone and every body is read through its stream. See src/app/known-bodies.ts.
   */
  trackResponses?: boolean;
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

const TEXT: [string, string][] = [["Content-Type", "text/plain; charset=utf-8"]];

const NOT_IMPLEMENTED: Reply = { status: 501, headers: TEXT, body: "501 Not Implemented\n" };

export function serve(options: ServeOptions = {}): Server {
  if (options.trackResponses !== false) trackResponses();
  const logTarget =
    typeof options.logWrite === "string" ? fileTarget(options.logWrite) : (options.logWrite ?? stdoutTarget());
  const accessLog: AccessLog | null = options.log && options.log !== "off" ? createAccessLog(options.log, logTarget) : null;
  const errorHook = options.error;
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

  const listener = listen(options, {
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
    readResponse: readAppResponse,
    ...(accessLog !== null
      ? {
          log: (req, status, bytes, remote, now, ms) => accessLog.write(req, status, bytes, remote, now, ms),
          tick: () => accessLog.flush(),
        }
      : {}),
  });

  const hostname = listener.hostname;
  const port = listener.port;
  const server: Server = {
    port,
    hostname,
    url: new URL(`${options.tls ? "https" : "http"}://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}/`),
    get connectionCount() {
      return listener.connectionCount;
    },
    get refusedConnections() {
      return listener.refusedConnections;
    },
    reopenLog() {
      accessLog?.reopen();
    },
    stop(closeActive = false) {
      return listener.stop(closeActive).then(() => accessLog?.close());
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
    let r: ReturnType<typeof createRoutesHandler<Server>>;
    try {
      const hasFallback = options.fetch !== undefined || options.handler !== undefined || options.root !== undefined;
      r = createRoutesHandler(options.routes, server, { fallbackHost: `${hostname}:${port}`, hasFallback });
    } catch (err) {
      void listener.stop(true); // refused routes throw from serve(), as Bun.serve's do, leaving no listener
      throw err;
    }
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
