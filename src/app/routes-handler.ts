// The `routes` option as a handler, as Bun.serve runs routes: match the path among the routes that
// answer the method (router.ts), give a handler a BunRequest with its params, and add the Set-Cookie
// lines for what it changed in `req.cookies`. No route for the method, or a `false` route: null, so
// the request goes on down the chain (`handler`, static files, `fetch`, then 404). There is no 405 and
// no OPTIONS answer of our own: Bun has neither.
import { TEXT_PLAIN_TYPE, OCTET_STREAM_TYPE } from "../http/response.ts";
import type { Handler } from "../server/handler.ts";
import { type HandlerResult, type HeaderList, PendingReply, type Reply } from "../server/reply.ts";
import type { ServerRequest } from "../server/request.ts";
import { BunRequest } from "./bun-request.ts";
import { routeErrors } from "./route-errors.ts";
import { type RouteHandler, Router, type Routes } from "./router.ts";

export interface RoutesOptions {
  /** The authority for request URLs when the request has no Host (known once the server listens). */
  fallbackHost: () => string;
  /** Whether something after the routes may answer (`fetch`, `handler`, `root`): else Bun wants routes that answer. */
  hasFallback: boolean;
}

/** The method names the routes answer, for serve()'s 501 decision; with an every-method route, all. */
class EveryMethod extends Set<string> {
  override has(): boolean {
    return true;
  }
}

export function createRoutesHandler<S>(routes: Routes<S>, server: S, options: RoutesOptions): { handler: Handler; methods: Set<string> } {
  const router = new Router<S>(routes);
  if (!router.answers && !options.hasFallback) throw routeErrors.needsHandler();
  const fallbackHost = options.fallbackHost;
  let every = false;
  const names: string[] = [];
  for (const r of router.routes) for (const m of r.methods) m === "*" ? (every = true) : names.push(m);
  const methods = every ? new EveryMethod(["*", ...names]) : new Set(names);

  const handler: Handler = (req: ServerRequest) => {
    const m = req.head.method;
    const route = router.match(req.path, m);
    if (route === null) return null;
    const target = route.byMethod[m]!;
    if (typeof target !== "function") return target.respond(req);
    // A handler that declares no parameter (`() => new Response("ok")`) cannot see its request: it
    // is not made (a Request costs about 0.3 µs, and what it holds, the collector's time).
    if (target.length === 0) return (target as () => HandlerResult | Promise<HandlerResult>)();
    const request = BunRequest.from(req, fallbackHost());
    if (route.paramNames.length > 0) BunRequest.setParams(request, router.params(route));
    const result = (target as RouteHandler<S>)(request, server);
    if (result instanceof Promise) return result.then((r) => withCookies(request, r));
    return withCookies(request, result);
  };
  return { handler, methods };
}

/** The handler's result with Set-Cookie lines added for what it changed in `req.cookies`, as Bun does. */
function withCookies(request: BunRequest, result: HandlerResult): HandlerResult {
  const changes = BunRequest.cookieChanges(request);
  // (A PendingReply is ours, from no route handler of an app's.)
  if (changes === null || result === null || result === undefined || result instanceof PendingReply) return result;
  if (result instanceof Response) {
    for (const c of changes) result.headers.append("set-cookie", c);
    return result;
  }
  const lines: [string, string][] = changes.map((c) => ["set-cookie", c]);
  if (typeof result === "string" || result instanceof Uint8Array) {
    return { status: 200, headers: addLines(typeof result === "string" ? TEXT_PLAIN_TYPE : OCTET_STREAM_TYPE, lines), body: result };
  }
  return { ...result, headers: addLines(result.headers, lines) } satisfies Reply;
}

function addLines(headers: Reply["headers"], lines: [string, string][]): Reply["headers"] {
  if (headers === undefined) return lines;
  if (headers instanceof Headers) {
    const copy = new Headers(headers);
    for (const [name, value] of lines) copy.append(name, value);
    return copy;
  }
  if (headers instanceof Uint8Array) {
    const extra = new TextEncoder().encode(lines.map(([name, value]) => `${name}: ${value}\r\n`).join(""));
    const out = new Uint8Array(headers.length + extra.length);
    out.set(headers);
    out.set(extra, headers.length);
    return out;
  }
  if (Array.isArray(headers)) return [...(headers as HeaderList as [string, string][]), ...lines];
  const list: [string, string][] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (Array.isArray(value)) for (const v of value) list.push([name, v]);
    else list.push([name, String(value)]);
  }
  return [...list, ...lines];
}
