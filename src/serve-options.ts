// The public shapes of serve(): the options it takes (Bun.serve's, in Bun's units, plus ours) and the
// Server object it returns, with what each member means. serve.ts composes them on the engine.
import type { AuthOptions } from "./access/basic-auth.ts";
import type { CorsOption } from "./access/cors.ts";
import type { BunServeOptions } from "./app/bun-options.ts";
import type { FetchHandler } from "./app/fetch.ts";
import type { Routes } from "./app/router.ts";
import type { UpstreamMetrics } from "./metrics/registry.ts";
import type { ProxyMap } from "./proxy/proxy.ts";
import type { LiveReloadOptions } from "./live-reload/live-reload.ts";
import type { LogFormat } from "./server/access-log.ts";
import type { Handler } from "./server/handler.ts";
import type { ListenOptions } from "./server/listen.ts";
import type { HandlerResult } from "./server/reply.ts";
import type { ServerRequest } from "./server/request.ts";
import type { CompressOptions, StaticOptions } from "./static/serve-static.ts";
import type { SendData } from "./ws/server-websocket.ts";
import type { UpgradeOptions } from "./ws/upgrade.ts";

export interface ServeOptions extends Omit<ListenOptions, "port" | "tls">, Omit<BunServeOptions, "port"> {
  /** The port ($BUN_PORT, $PORT, $NODE_PORT, else 3000, as Bun.serve); 0 picks a free one. */
  port?: number | string;
  /** Default: every interface, IPv6 and IPv4, as Bun.serve (the CLI listens on 127.0.0.1). */
  hostname?: string;
  /** A certificate and key (Bun's shape); of an array, the first. */
  tls?: ListenOptions["tls"] | ListenOptions["tls"][];
  /** Routes as in Bun.serve: "/users/:id", "/files/*", a handler or a method map per path. */
  routes?: Routes<Server>;
  /** Our handler: gets a ServerRequest, returns a Response, a Reply, a string or bytes; null falls through. */
  handler?: Handler;
  /** A directory to serve files from, after routes and `handler` declined. */
  root?: string;
  static?: Omit<StaticOptions, "root" | "compress" | "transformHtml" | "revalidateAlways">;
  /**
   * Live reload (off by default): HTML files under `root` get a script that reloads the page when a
   * file under `root` changes (a stylesheet is swapped without a reload). Its event stream and script
   * sit under /.bunhttp/, answered before proxies, routes and files. See src/live-reload/.
   */
  watch?: boolean | LiveReloadOptions;
  /**
   * Clean URLs without a serve.json: "/about" serves about.html (or about/index.html), and
   * "/about.html" is a 301 to "/about", query kept. A serve.json's `cleanUrls` says it when present.
   */
  cleanUrls?: boolean;
  /**
   * Read `serve.json` in `root` (vercel/serve's format: redirects, rewrites, headers, cleanUrls…),
   * and again whenever it changes (default true). A bad one makes serve() throw a RuleFileError.
   */
  siteRules?: boolean;
  /**
   * br, zstd or gzip, as each client asks, for files and app responses of a compressible type (on
   * by default; false: off, precompressed siblings of files still served). `minSize`: smaller bodies
   * go as they are (1024); `cacheSize`: bytes of compressed files kept in memory (64 MiB).
   */
  compress?: boolean | CompressOptions;
  /** A Bun.serve-style handler, `(request: Request, server) => Response`, for what nothing else answered. */
  fetch?: FetchHandler<Server>;
  /** Called when a handler throws or rejects; returns the response to send (default: 500). */
  error?: ErrorHook;
  log?: LogFormat;
  /** Where the access log goes: a function, or a file path (reopened by server.reopenLog()); default stdout. */
  logWrite?: ((text: string) => void) | string;
  /** Answer 200 "ok" at this path before anything else (for load balancers). */
  health?: string;
  /** Answer Prometheus metrics (text format 0.0.4) at this path, after `health`, CORS and `auth`; off by default. */
  metrics?: string;
  /**
   * CORS on every response: true, `Access-Control-Allow-Origin: *`; a list of origins, the matching
   * one echoed (with credentials allowed) and `Vary: Origin`. Preflights are answered (204) after
   * `health`, before `auth` (src/access/cors.ts).
   */
  cors?: CorsOption;
  /**
   * HTTP Basic authentication for everything but `health` and preflights: one `credentials`
   * ("user:password") and/or an htpasswd `file` of bcrypt hashes; `realm` (default "bunhttp").
   */
  auth?: AuthOptions;
  /**
   * Path prefixes sent to upstream servers, path and query unchanged: { "/api": "http://127.0.0.1:3000" }.
   * The longest prefix that matches whole segments wins; checked after `health`, before `routes`.
   */
  proxy?: ProxyMap;
  /** Milliseconds an upstream has to start its response after the request (504), and between pieces (60 s). */
  proxyTimeout?: number;
  /**
   * Wrap the global Response constructor so Responses built from a string or bytes are sent without
   * reading their body stream (about twice the speed for `fetch` handlers), with the Content-Type
   * Bun.serve infers for them. Default true, as a drop-in for Bun.serve needs; false leaves the
   * global alone and every body is read through its stream. See src/app/known-bodies.ts.
   */
  trackResponses?: boolean;
  /** WebSocket handlers and settings, as Bun.serve's `websocket` (sockets come from server.upgrade()). */
  /**
   * Typed as Bun's own, so an app written for Bun.serve type-checks unchanged; the `ws` its handlers
   * get is our ServerWebSocket (src/ws/server-websocket.ts): Bun's members, but no Blob data.
   */
  websocket?: import("bun").WebSocketHandler<any>;
}

export type ErrorHook = (err: unknown, req: ServerRequest) => HandlerResult | Promise<HandlerResult>;

/** What server.reload() takes: the handlers to swap in; the ones not given stay. */
export type ReloadOptions = Pick<ServeOptions, "routes" | "fetch" | "error" | "websocket"> & Record<string, unknown>;

export interface Server {
  readonly port: number;
  /** As Bun.serve reports it: the hostname given, or "localhost". */
  readonly hostname: string;
  readonly url: URL;
  /** Where the listener is bound, as Bun.serve's server.address. */
  readonly address: { address: string; family: "IPv4" | "IPv6"; port: number };
  readonly protocol: "http" | "https";
  readonly id: string;
  /** Always false: there is no development mode here. */
  readonly development: boolean;
  /** Open connections right now. */
  readonly connectionCount: number;
  /** Requests being answered right now (handlers at work, responses streaming). */
  readonly pendingRequests: number;
  /** WebSockets open right now. */
  readonly pendingWebSockets: number;
  /**
   * Makes this request's answer the 101 that turns its connection into a WebSocket, if it is a valid
   * handshake (true); the handler then returns nothing. A malformed handshake gets 400 (426 for
   * another version) whatever the handler returns; a request that asks for no WebSocket, false.
   */
  upgrade(request: Request | ServerRequest, options?: UpgradeOptions): boolean;
  /**
   * Sends to every WebSocket subscribed to `topic`: the payload's bytes, -1 if some got it under
   * backpressure, or 0 when nobody did. Compressed by default (as Bun's), for sockets that negotiated it.
   */
  publish(topic: string, data: SendData, compress?: boolean): number;
  subscriberCount(topic: string): number;
  /** Connections turned away with 503 because maxConnections were open. */
  readonly refusedConnections: number;
  /** Connections taken on since start. */
  readonly acceptedConnections: number;
  /** Where the reverse proxy counts upstream requests and errors, when `metrics` is on (else null). */
  readonly metrics: UpstreamMetrics | null;
  /** Closes and reopens the access log file (after log rotation). */
  reopenLog(): void;
  /**
   * Stops accepting. Idle connections close at once; requests in progress finish first, and the
   * promise resolves once every connection is gone. With `closeActive`, every connection closes now.
   */
  stop(closeActive?: boolean): Promise<void>;
  /** Closes the keep-alive connections that wait for a request now. */
  closeIdleConnections(): void;
  /** The listener keeps the process alive (the default), or not (unref). */
  ref(): void;
  unref(): void;
  /** Swaps `fetch`, `routes` and `error` for new ones; connections stay open. */
  reload(options: ReloadOptions): void;
  /** Calls the `fetch` handler in this process, as Bun.serve's server.fetch (a path is taken against server.url). */
  fetch(request: Request | string): Promise<Response>;
  /** This request's response may go this many seconds without a byte either way (0: never). */
  timeout(request: Request | ServerRequest, seconds: number): void;
  /** The client's address for a Request given to `fetch` (as Bun.serve's server.requestIP). */
  requestIP(request: Request): { address: string; family: "IPv4" | "IPv6"; port: number } | null;
  [Symbol.dispose](): void;
}
