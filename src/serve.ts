// serve(): the public server. It composes the handler chain on the engine's listener: `health`, CORS
// (preflights), `auth`, `metrics`, live reload's /.bunhttp/ (with `watch`), then the proxy prefixes, then routes, then `handler`, then static
// files under `root`, then `fetch`, then 404; the error hook; the access log and metrics; and the
// Server object apps see (Bun.serve's shape where it can be; its type and the options' are in
// serve-options.ts).
import { createAuthHandler } from "./access/basic-auth.ts";
import { createCorsHandler } from "./access/cors.ts";
import { createFetchHandler, type FetchHandler } from "./app/fetch.ts";
import { trackResponses } from "./app/known-bodies.ts";
import { readAppResponse } from "./app/response-reader.ts";
import type { Routes } from "./app/router.ts";
import { createRoutesHandler } from "./app/routes-handler.ts";
import { WebRequest } from "./app/web-request.ts";
import { BUN_MAX_BODY, type BunServeOptions, fromBunOptions } from "./app/bun-options.ts";
import { routeErrors } from "./app/route-errors.ts";
import { createLiveReload, LIVE_RELOAD_HTML, type LiveReload } from "./live-reload/live-reload.ts";
import { createMetricsHandler } from "./metrics/endpoint.ts";
import { logHooks } from "./metrics/log-hook.ts";
import { Metrics } from "./metrics/registry.ts";
import { METHOD } from "./http/parser.ts";
import { type AccessLog, createAccessLog, fileTarget, stdoutTarget } from "./server/access-log.ts";
import { HttpException } from "./server/http-exception.ts";
import { type Listener, listen } from "./server/listen.ts";
import type { Handler } from "./server/handler.ts";
import { type HandlerResult, INTERNAL_ERROR, type Reply } from "./server/reply.ts";
import { ServerRequest } from "./server/request.ts";
import { compressReply } from "./compress/reply-filter.ts";
import { createProxyHandler, Proxy, routeProxies } from "./proxy/proxy.ts";
import { type CompressOptions, createStaticHandler, DEFAULT_COMPRESS_MIN_SIZE } from "./static/serve-static.ts";
import { siteChain } from "./site/site-chain.ts";
import { wsSettings } from "./ws/options.ts";
import { publish, type SendData } from "./ws/server-websocket.ts";
import type { WsContext } from "./ws/session.ts";
import { Topics } from "./ws/topics.ts";
import { type UpgradeOptions, upgradeRequest } from "./ws/upgrade.ts";

export { DEFAULT_OPTIONS, defaultMaxConnections } from "./server/listen.ts";
export type { ErrorHook, ReloadOptions, ServeOptions, Server } from "./serve-options.ts";
import type { ErrorHook, ReloadOptions, ServeOptions, Server } from "./serve-options.ts";

const TEXT: [string, string][] = [["Content-Type", "text/plain; charset=utf-8"]];

const NOT_IMPLEMENTED: Reply = { status: 501, headers: TEXT, body: "501 Not Implemented\n" };
const HEALTHY: Reply = { status: 200, headers: [...TEXT, ["Cache-Control", "no-store"]], body: "ok\n" };

export function serve(options: ServeOptions = {}): Server {
  // Something must answer (Bun's error; routes that answer nothing are refused in createRoutesHandler).
  if (options.routes === undefined && options.fetch === undefined && options.handler === undefined && options.root === undefined && options.health === undefined && options.metrics === undefined && options.proxy === undefined) {
    throw routeErrors.needsHandler();
  }
  const bun = fromBunOptions(options as BunServeOptions & Record<string, unknown>);
  if (options.trackResponses !== false) trackResponses();
  const logTarget =
    typeof options.logWrite === "string" ? fileTarget(options.logWrite) : (options.logWrite ?? stdoutTarget());
  const accessLog: AccessLog | null = options.log && options.log !== "off" ? createAccessLog(options.log, logTarget) : null;
  const metrics = options.metrics ? new Metrics() : null;

  // The handler chain: rebuilt by reload(), read afresh by every request.
  let handlers: Handler[] = [];
  let errorHook: ErrorHook | undefined = options.error;
  let fetchHandler: FetchHandler<Server> | undefined;
  let routes: Routes<Server> | undefined;
  // Methods the application names; others that we do not implement get 501 (RFC 9110 §9.1).
  let appMethods = new Set<string>();
  let acceptsAnyMethod = false;
  const serverAllow = () => {
    const all = new Set(["GET", "HEAD", "OPTIONS"]);
    for (const method of appMethods) if (method !== "*") all.add(method);
    if (acceptsAnyMethod || appMethods.has("*")) for (const method of ["POST", "PUT", "PATCH", "DELETE"]) all.add(method);
    return [...all].join(", ");
  };

  const tls = Array.isArray(options.tls) ? options.tls[0] : options.tls;
  let ws: WsContext | null =
    options.websocket !== undefined ? { settings: wsSettings(options.websocket), open: new Set(), topics: new Topics() } : null;
  const hostname = bun.shownHostname;
  const urlHost = hostname.includes(":") && !hostname.startsWith("[") ? `[${hostname}]` : hostname;
  let listener!: Listener;
  let url: URL | null = null;
  const server: Server = {
    get port() {
      return listener.port;
    },
    hostname,
    get url() {
      return (url ??= new URL(`${tls ? "https" : "http"}://${urlHost}:${listener.port}/`));
    },
    get address() {
      const bound = listener.hostname;
      return { address: bound, family: bound.includes(":") ? "IPv6" : "IPv4", port: listener.port } as const;
    },
    protocol: tls ? "https" : "http",
    id: typeof options.id === "string" ? options.id : "",
    development: false,
    get connectionCount() {
      return listener.connectionCount;
    },
    get pendingRequests() {
      return listener.pendingRequests;
    },
    get pendingWebSockets() {
      return ws?.open.size ?? 0;
    },
    upgrade(request: Request | ServerRequest, upgradeOptions?: UpgradeOptions) {
      if (ws === null) {
        throw Object.assign(new TypeError('To enable websocket support, set the "websocket" object in Bun.serve({})'), {
          code: "ERR_INVALID_ARG_TYPE",
        });
      }
      const req = request instanceof ServerRequest ? request : WebRequest.originOf(request);
      return req !== null && upgradeRequest(req, upgradeOptions, ws);
    },
    publish(topic: string, data: SendData, compress = true) {
      return ws === null ? 0 : publish(ws, topic, data, compress, null);
    },
    subscriberCount(topic: string) {
      return ws?.topics.subscriberCount(`${topic}`) ?? 0;
    },
    get refusedConnections() {
      return listener.refusedConnections;
    },
    get acceptedConnections() {
      return listener.acceptedConnections;
    },
    metrics,
    reopenLog() {
      accessLog?.reopen();
    },
    stop(closeActive = false) {
      liveReload?.close(); // (its event streams end, so that they are not requests in flight)
      return listener.stop(closeActive).then(() => {
        accessLog?.close();
        proxies?.close();
        site?.close();
        for (const p of routeProxies(routes as Record<string, unknown> | undefined)) p.close();
      });
    },
    closeIdleConnections() {
      listener.closeIdleConnections();
    },
    ref() {
      listener.ref();
    },
    unref() {
      listener.unref();
    },
    reload(next: ReloadOptions) {
      // As Bun: a fetch handler not named stays, and so do handler routes; static routes (a Response,
      // a file) go unless named again. What is left must answer something; what is refused (as at
      // start) throws, and the server keeps its handlers (build() changes nothing then).
      const nextRoutes = next.routes ?? (routes === undefined ? undefined : handlerRoutes(routes));
      const nextFetch = next.fetch ?? fetchHandler;
      if (nextRoutes === undefined && nextFetch === undefined && options.handler === undefined && options.root === undefined && options.proxy === undefined) {
        throw routeErrors.needsHandler();
      }
      build(nextRoutes, nextFetch);
      if (next.error !== undefined) errorHook = next.error;
      // New WebSocket handlers and settings, for the sockets already open too (as Bun).
      if (next.websocket !== undefined) {
        const settings = wsSettings(next.websocket);
        if (ws === null) ws = { settings, open: new Set(), topics: new Topics() };
        else ws.settings = settings;
      }
    },
    async fetch(request: Request | string) {
      const req = typeof request === "string" ? new Request(new URL(request, server.url).href) : request;
      if (fetchHandler === undefined) throw new TypeError("fetch() requires the server to have a fetch handler");
      const res = await fetchHandler.call(server, req, server);
      return res ?? new Response(null, { status: 404 });
    },
    timeout(request: Request | ServerRequest, seconds: number) {
      const req = request instanceof ServerRequest ? request : WebRequest.originOf(request);
      req?.setWaitTimeout(seconds > 0 ? seconds * 1000 : 0);
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

  const compress: CompressOptions | false = options.compress === false ? false : typeof options.compress === "object" ? options.compress : {};
  const replyCompression = { minSize: compress === false ? 0 : (compress.minSize ?? DEFAULT_COMPRESS_MIN_SIZE) };
  const watching = options.watch !== undefined && options.watch !== false && options.root !== undefined;
  // The static handler is made once (its file cache lives across reloads).
  const staticHandler =
    options.root !== undefined
      ? // With an app behind the files, a path with no file is the app's to answer.
        createStaticHandler({
          fallthrough: options.fetch !== undefined,
          ...options.static,
          root: options.root,
          compress,
          transformHtml: watching ? LIVE_RELOAD_HTML : undefined,
          revalidateAlways: watching,
        })
      : null;
  // The proxy prefixes, with their pool of upstream connections (made once, kept across reloads).
  const proxies = options.proxy !== undefined ? new Proxy({ timeout: options.proxyTimeout }) : null;
  const proxyHandler = proxies !== null ? createProxyHandler(options.proxy!, proxies) : null;
  if (proxies !== null) proxies.observer = metrics;
  // CORS and Basic auth, made once (auth's cache of checked credentials lives across reloads).
  const corsHandler = createCorsHandler(options.cors);
  const authHandler = options.auth !== undefined ? createAuthHandler(options.auth) : null;
  // What watches files (made after everything above that may refuse its options, and closed if the
  // server does not start after all: a watcher left behind holds inotify slots and timers).
  // With a rule file in the root (or --clean-urls), the site handler stands where the static one would.
  const site = staticHandler !== null ? siteChain(staticHandler, options, () => build(routes, fetchHandler)) : null;
  let liveReload: LiveReload | null = null;
  try {
    liveReload = watching ? createLiveReload(options.root!, typeof options.watch === "object" ? options.watch : {}) : null;
  } catch (err) {
    site?.close();
    throw err;
  }
  const metricsHandler = metrics && createMetricsHandler(options.metrics!, () => metrics.render(server, staticHandler?.cacheCounts ?? null));
  // For a Request's URL when the client sent no Host (HTTP/1.0).
  let fallbackHost = "";
  /** Makes the handler chain for these routes and fetch handler, and takes them on if nothing throws. */
  function build(nextRoutes: Routes<Server> | undefined, nextFetch: FetchHandler<Server> | undefined): void {
    const next: Handler[] = [];
    let methods = new Set<string>();
    if (options.health) {
      const path = options.health;
      next.push((req) => (req.path === path ? HEALTHY : null));
    }
    // Preflights carry no credentials, so CORS answers them before auth; a 401 gets the CORS fields.
    if (corsHandler !== null) next.push(corsHandler);
    if (authHandler !== null) next.push(authHandler);
    if (metricsHandler) next.push(metricsHandler);
    // Live reload's reserved /.bunhttp/ paths (with `watch`): before anything a site or app answers.
    if (liveReload !== null) next.push(liveReload.handler);
    if (proxyHandler !== null) next.push(proxyHandler);
    if (nextRoutes) {
      const hasFallback = nextFetch !== undefined || options.handler !== undefined || options.root !== undefined;
      const r = createRoutesHandler(nextRoutes, server, { fallbackHost: () => fallbackHost, hasFallback });
      next.push(r.handler);
      methods = r.methods;
    }
    if (options.handler) next.push(options.handler);
    if (staticHandler !== null) next.push(site?.handler() ?? staticHandler);
    if (nextFetch) next.push(createFetchHandler(nextFetch, server, () => fallbackHost));
    for (const p of routeProxies(nextRoutes as Record<string, unknown> | undefined)) p.observer = metrics;
    routes = nextRoutes;
    fetchHandler = nextFetch;
    handlers = next;
    appMethods = methods;
    acceptsAnyMethod = nextFetch !== undefined || options.handler !== undefined || proxyHandler !== null;
  }
  try {
    build(options.routes, options.fetch); // (routes are checked before anything listens)
    listener = listenWith();
  } catch (err) {
    liveReload?.close();
    site?.close();
    proxies?.close();
    accessLog?.close();
    throw err;
  }
  const bound = listener.hostname;
  fallbackHost = `${bound.includes(":") ? `[${bound}]` : bound}:${listener.port}`;
  return server;

  function listenWith(): Listener {
    return listen(
      {
        ...options,
        port: bun.port,
        hostname: bun.hostname,
        tls,
        maxBody: options.maxBody ?? bun.maxBody ?? BUN_MAX_BODY,
        keepAliveTimeout: options.keepAliveTimeout ?? bun.keepAliveTimeout,
        handlerTimeout: options.handlerTimeout ?? bun.handlerTimeout,
        sendTimeout: options.sendTimeout ?? bun.sendTimeout,
      },
      {
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
          if (errorHook) {
            // An error hook that gives nothing is a 500, as under Bun.serve (not a fall-through 404).
            const r = errorHook(err, req);
            if (r instanceof Promise) return r.then((v) => v ?? INTERNAL_ERROR);
            return r ?? INTERNAL_ERROR;
          }
          if (err instanceof HttpException) return err.toReply();
          console.error(`error handling ${req.method} ${req.url}:`, err);
          return INTERNAL_ERROR;
        },
        readResponse: readAppResponse,
        filter: compress === false ? undefined : (reply, req) => compressReply(reply, req, replyCompression),
        ...logHooks(accessLog, metrics),
      },
    );
  }
}

/** The routes of `routes` whose value is a handler or a method map: what a reload keeps unnamed. */
function handlerRoutes<S>(routes: Routes<S>): Routes<S> {
  const kept: Routes<S> = {};
  for (const [path, value] of Object.entries(routes)) if (!(value instanceof Response) && !(value instanceof Blob)) kept[path] = value;
  return kept;
}

/** Runs handlers in order until one answers (returns something other than null/undefined). */
function runChain(handlers: Handler[], from: number, req: ServerRequest): HandlerResult | Promise<HandlerResult> {
  for (let i = from; i < handlers.length; i++) {
    const r = handlers[i]!(req);
    if (r instanceof Promise) {
      return r.then((v) => (v === null || v === undefined ? (req.fixedReply ?? runChain(handlers, i + 1, req)) : v));
    }
    if (r !== null && r !== undefined) return r;
    if (req.fixedReply !== null) return req.fixedReply; // upgraded (or refused) by a handler that returned nothing
  }
  return null;
}
