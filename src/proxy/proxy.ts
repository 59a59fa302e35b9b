// The reverse proxy: `--proxy PREFIX=URL` (serve's `proxy` option: the longest matching prefix wins)
// and the route value `proxy("http://…")`. Each request goes to its upstream with its path and query
// unchanged (nginx's `proxy_pass http://host:port;`), over a pooled keep-alive connection of our own
// client (upstream.ts, exchange.ts); a protocol switch (WebSocket) becomes a tunnel (tunnel.ts).
import { TEXT_PLAIN_TYPE } from "../http/response.ts";
import { METHOD } from "../http/parser.ts";
import type { Handler } from "../server/handler.ts";
import type { HandlerResult, Reply } from "../server/reply.ts";
import type { ServerRequest } from "../server/request.ts";
import { hasToken } from "../ws/handshake.ts";
import { Exchange, type ExchangeOwner, type FailReason } from "./exchange.ts";
import { type ForwardInput, upstreamRequestHead } from "./forwarded-fields.ts";
import { IDLE_MS, Upstream } from "./upstream.ts";

export const DEFAULT_PROXY_TIMEOUT = 60_000;

export interface ProxyOptions {
  /**
   * Milliseconds the upstream has to connect, take the request, and start its response head after
   * the request's last byte (then 504), and to send each later piece of the body (then the client's
   * connection is cut). Default 60 s, as nginx's proxy_read_timeout.
   */
  timeout?: number;
}

/** Told of each request sent upstream and each failure (the metrics' counters: UpstreamMetrics). */
export interface ProxyObserver {
  /** A request sent to `upstream` (host:port). */
  upstreamRequest(upstream: string): void;
  /** A request to `upstream` failed: "connect", "timeout", "framing" or "closed" (FailReason). */
  upstreamError(upstream: string, reason: string): void;
}

/** A request body that arrived whole up to this size goes up with the head, in one write. */
const JOIN_LIMIT = 64 * 1024;

const DOT_SEGMENTS: Reply = { status: 400, headers: TEXT_PLAIN_TYPE, body: "400 Bad Request: dot segments in a proxied path\n" };

/** One object for every request's inputs to the head builder (it keeps nothing of them). */
const FORWARD: ForwardInput = { peer: "", trusted: false, proto: "http", fallbackHost: "", bodyLength: 0, explicitZero: false, upgrade: false };

/** Sends requests to upstreams; one per server (or per `proxy()` route), shared by its upstreams. */
export class Proxy implements ExchangeOwner {
  readonly timeout: number;
  observer: ProxyObserver | null = null;
  /** The exchanges under way, linked through their prev/next (no Set to hash them into). */
  #active: Exchange | null = null;
  readonly #upstreams = new Set<Upstream>();
  #sweep: ReturnType<typeof setInterval> | null = null;

  constructor(options: ProxyOptions = {}) {
    const t = options.timeout ?? DEFAULT_PROXY_TIMEOUT;
    if (!Number.isFinite(t) || t <= 0) throw new Error(`proxy: timeout must be a positive number of milliseconds, not ${t}`);
    this.timeout = t;
  }

  upstream(url: string): Upstream {
    const u = new Upstream(url);
    this.#upstreams.add(u);
    return u;
  }

  /** Sends `req` to `upstream`; settles with its response head, or a 502/504. */
  forward(req: ServerRequest, upstream: Upstream): Exchange | Reply | null {
    const head = req.head;
    // CONNECT asks for a tunnel to its target, not for a resource: not ours to pass on (501).
    if (head.method === METHOD.CONNECT) return null;
    if (hasDotSegment(head.buf, head.pathStart, head.pathEnd)) return DOT_SEGMENTS;
    const upgrade = head.minor === 1 && head.method === METHOD.GET && head.indexOf("upgrade") >= 0 && hasToken(head.header("connection"), "upgrade");
    const requestBody = req.requestBody;
    // A body in hand (it came with the head) of up to 64 KiB goes up in the head's write (firstBytes);
    // any other is read piece by piece after it.
    const whole = requestBody?.peekWhole() ?? null;
    const streamed = requestBody !== null && (whole === null || whole.length > JOIN_LIMIT) ? requestBody : null;
    const m = head.method;
    const idempotent = m === METHOD.GET || m === METHOD.HEAD || m === METHOD.PUT || m === METHOD.DELETE || m === METHOD.OPTIONS || m === METHOD.TRACE;
    this.observer?.upstreamRequest(upstream.authority);
    const rawOk = m === METHOD.GET && head.minor === 1 && head.keepAlive && !upgrade;
    const x = new Exchange(this, upstream, req, streamed, whole === null && head.chunked, m === METHOD.HEAD, upgrade, idempotent && streamed === null, rawOk);
    req.goneListener = x; // a client that leaves while the upstream works: its request is dropped there too
    return x; // (a PendingReply: the connection is called back with the Reply once the head is in)
  }

  /**
   * Writes what goes up first (the head, with a body in hand of up to 64 KiB after it) into
   * scratchBytes(), and returns its length: for the first try, and again for a retry (the request's
   * head stays valid until its exchange settles).
   */
  firstBytes(req: ServerRequest, upstream: Upstream, upgrade: boolean): number {
    const head = req.head;
    const whole = req.requestBody?.peekWhole() ?? null;
    const f = FORWARD;
    f.peer = req.remoteAddress;
    f.trusted = req.peerTrusted;
    f.proto = req.secure ? "https" : "http";
    f.fallbackHost = upstream.authority;
    f.bodyLength = whole !== null ? whole.length : head.chunked ? -1 : Math.max(0, head.contentLength);
    f.explicitZero = head.contentLength === 0;
    f.upgrade = upgrade;
    return upstreamRequestHead(head, f, whole !== null && whole.length > 0 && whole.length <= JOIN_LIMIT ? whole : null);
  }

  // ---- what exchanges report (ExchangeOwner) ---------------------------------------------------

  started(x: Exchange): void {
    x.prev = null;
    x.next = this.#active;
    if (this.#active !== null) this.#active.prev = x;
    this.#active = x;
    x.linked = true;
    if (this.#sweep === null) {
      // One timer for every deadline, at a quarter of the timeout (1 s at most).
      this.#sweep = setInterval(() => this.#check(), Math.max(20, Math.min(1000, this.timeout / 4)));
      this.#sweep.unref();
    }
  }

  finished(x: Exchange): void {
    if (!x.linked) return;
    x.linked = false;
    if (x.prev !== null) x.prev.next = x.next;
    else this.#active = x.next;
    if (x.next !== null) x.next.prev = x.prev;
    x.prev = x.next = null;
  }

  upstreamError(upstream: Upstream, reason: FailReason): void {
    this.observer?.upstreamError(upstream.authority, reason);
  }

  #idleTrimmed = 0;
  #check(): void {
    const now = Date.now();
    for (let x = this.#active; x !== null; ) {
      const next = x.next; // (onTimeout unlinks x)
      if (x.deadline !== 0 && x.deadline <= now) x.onTimeout();
      x = next;
    }
    if (now - this.#idleTrimmed >= IDLE_MS / 4) {
      this.#idleTrimmed = now;
      for (const u of this.#upstreams) u.trim(now);
    }
  }

  /** Closes the idle pooled connections (the server is stopping). */
  close(): void {
    for (const u of this.#upstreams) u.closeAll();
    if (this.#sweep !== null) clearInterval(this.#sweep);
    this.#sweep = null;
  }
}

/**
 * Whether the path in bytes [start, end) has a `.` or `..` segment (its dots percent-encoded or not):
 * the upstream might resolve it out of the proxied prefix, so such a request is refused rather than
 * passed on as sent. Read from the bytes: no string is made of the path.
 */
export function hasDotSegment(buf: Uint8Array, start: number, end: number): boolean {
  let dots = 0; // in the segment so far; -1 once it holds anything else
  for (let p = start; p <= end; p++) {
    const c = p < end ? buf[p]! : 47;
    if (c === 47) {
      if (dots === 1 || dots === 2) return true;
      dots = 0;
    } else if (dots < 0) {
      continue;
    } else if (c === 46) {
      dots++;
    } else if (c === 37 && p + 2 < end && buf[p + 1] === 50 && (buf[p + 2]! | 0x20) === 101) {
      dots++; // %2e or %2E
      p += 2;
    } else {
      dots = -1;
    }
  }
  return false;
}

/** A route value that sends the request to `url` (path and query unchanged): `routes: { "/api/*": proxy("http://…") }`. */
export class ProxyRoute {
  readonly proxy: Proxy;
  readonly #upstream: Upstream;

  constructor(url: string, options: ProxyOptions = {}) {
    this.proxy = new Proxy(options);
    this.#upstream = this.proxy.upstream(url);
  }

  respond(req: ServerRequest): HandlerResult | Promise<HandlerResult> {
    return this.proxy.forward(req, this.#upstream);
  }
}

export function proxy(url: string, options?: ProxyOptions): ProxyRoute {
  return new ProxyRoute(url, options);
}

/** The proxy() route values among `routes` (a method map's too): their pools close with the server. */
export function routeProxies(routes: Record<string, unknown> | undefined): Proxy[] {
  const found: Proxy[] = [];
  for (const value of Object.values(routes ?? {})) {
    const targets = typeof value === "object" && value !== null && !(value instanceof ProxyRoute) ? Object.values(value) : [value];
    for (const t of targets) if (t instanceof ProxyRoute) found.push(t.proxy);
  }
  return found;
}

/** Prefix → upstream URL, e.g. { "/api": "http://127.0.0.1:3000" }. */
export type ProxyMap = Record<string, string>;

/**
 * A handler for serve's `proxy` option: the longest prefix that matches a whole number of path
 * segments wins (`/api` takes `/api` and `/api/users`, not `/apiary`; a prefix ending in `/` takes
 * what is below it). Other requests go on down the chain.
 */
export function createProxyHandler(map: ProxyMap, p: Proxy): Handler {
  const entries = Object.entries(map).map(([prefix, url]) => {
    if (!prefix.startsWith("/")) throw new Error(`proxy: prefix "${prefix}" must start with /`);
    // It is compared with the path as sent: a character that must be percent-encoded never matches.
    if (/[^\x21-\x7e]/.test(prefix)) throw new Error(`proxy: prefix "${prefix}" must be written as sent, percent-encoded`);
    return { prefix: Uint8Array.from(prefix, (c) => c.charCodeAt(0)), upstream: p.upstream(url) };
  });
  entries.sort((a, b) => b.prefix.length - a.prefix.length);
  return (req: ServerRequest) => {
    // Compared with the path's bytes as sent (still percent-encoded): no string is made of it.
    const head = req.head;
    const length = head.pathEnd - head.pathStart;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      const prefix = e.prefix;
      const n = prefix.length;
      if (!head.pathStartsWith(prefix)) continue;
      // Whole segments: the path ends there, or the prefix ends in '/', or the path goes on with one.
      if (length !== n && prefix[n - 1] !== 47 && head.buf[head.pathStart + n] !== 47) continue;
      return p.forward(req, e.upstream);
    }
    return null;
  };
}
