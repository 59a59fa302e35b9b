// Routes compiled once into a segment trie, matched as Bun.serve matches them: static segments
// first, then a `:param`, then a trailing `*`, with backtracking, and only among the routes that
// answer the request's method. A method map without the method (or with `false` for it) is not a
// candidate, so the request goes on to the next matching route, then `fetch`, then 404; HEAD takes
// a route's GET handler when it has no HEAD of its own. Patterns and values are checked as Bun
// checks them, with its messages (route-errors.ts). Static segments compare with the request's
// path as sent (still percent-encoded), as Bun's do.
import { METHOD } from "../http/parser.ts";
import type { HandlerResult } from "../server/reply.ts";
import type { ServerRequest } from "../server/request.ts";
import { type BunRequest, RequestParams } from "./bun-request.ts";
import { FileRoute } from "./file-route.ts";
import { routeErrors } from "./route-errors.ts";
import { StaticRoute } from "./static-route.ts";

export type { BunRequest } from "./bun-request.ts";
export type RouteHandler<S = unknown> = (req: BunRequest, server: S) => HandlerResult | Promise<HandlerResult>;
type BunFile = ReturnType<typeof Bun.file>;
/**
 * What a method of a route may be: a handler, a fixed Response, a file, or one of ours that answers
 * on our side (a proxy() route); anything else is skipped.
 */
export type RouteTarget<S = unknown> = RouteHandler<S> | Response | BunFile | Responder;
/** A route: one target for every method, `false` (go straight to `fetch`), or one target per method. */
export type RouteValue<S = unknown> = RouteTarget<S> | false | undefined | Partial<Record<string, RouteTarget<S> | false>>;
export type Routes<S = unknown> = Record<string, RouteValue<S>>;

/** A target that answers on our side, without a Request object: a static Response or a file. */
export interface Responder {
  respond(req: ServerRequest): HandlerResult | Promise<HandlerResult>;
}
/** An object that answers on our side (`respond(req)`), such as a proxy() route. */
function isResponder(v: unknown): v is Responder {
  return typeof v === "object" && v !== null && typeof (v as Responder).respond === "function";
}
/** The target of a `false` route: routing stops there and the request goes on to `fetch`. */
export const PASS = { respond: (): null => null } as const satisfies Responder;
export type Target<S = unknown> = RouteHandler<S> | Responder;

/** The method names a method map may use: Bun takes these (upper case) and ignores other keys. */
const METHODS: Record<string, number> = {
  GET: METHOD.GET,
  HEAD: METHOD.HEAD,
  POST: METHOD.POST,
  PUT: METHOD.PUT,
  DELETE: METHOD.DELETE,
  OPTIONS: METHOD.OPTIONS,
  PATCH: METHOD.PATCH,
  CONNECT: METHOD.CONNECT,
  TRACE: METHOD.TRACE,
};
const METHOD_COUNT = 10;

export interface Route<S = unknown> {
  pattern: string;
  /** The target for each METHOD value; index 0 (methods outside METHOD) only for an every-method route. */
  byMethod: (Target<S> | undefined)[];
  /** Parameter names in order; "" for a `:` without a name (matched, not reported, as in Bun). */
  paramNames: string[];
  /** Method names it answers ("*": every method). */
  methods: string[];
}

class Node<S> {
  statics = new Map<string, Node<S>>();
  param: Node<S> | null = null;
  routes: Route<S>[] = [];
  wildcards: Route<S>[] = [];
}

export class Router<S = unknown> {
  readonly #exact = new Map<string, Route<S>[]>();
  readonly #root = new Node<S>();
  readonly routes: Route<S>[] = [];
  /** Raw (still percent-encoded) parameter values of the last match, in paramNames order. */
  readonly values: string[] = [];
  /** Whether any route answers something (not only `false`): else Bun wants a `fetch`. */
  answers = false;

  constructor(routes: Routes<S>) {
    // One StaticRoute per Response, so a Response shared by several routes is read once.
    const statics = new Map<Response, StaticRoute>();
    for (const pattern of Object.keys(routes)) this.#add(pattern, routes[pattern], statics);
  }

  #add(pattern: string, value: RouteValue<S>, statics: Map<Response, StaticRoute>): void {
    if (value === undefined || pattern === "") return; // Bun skips both
    if (pattern.charCodeAt(0) !== 47) throw routeErrors.noLeadingSlash(pattern); // '/'
    for (let i = 0; i < pattern.length; i++) if (pattern.charCodeAt(i) > 127) throw routeErrors.nonAscii(pattern);
    const route: Route<S> = { pattern, byMethod: new Array(METHOD_COUNT).fill(undefined), paramNames: [], methods: [] };
    const toTarget = (t: unknown): Target<S> | undefined => {
      if (typeof t === "function") return t as RouteHandler<S>;
      if (t instanceof Response) {
        let s = statics.get(t);
        if (s === undefined) statics.set(t, (s = new StaticRoute(t)));
        return s;
      }
      if (isBunFile(t)) return new FileRoute(t);
      if (isResponder(t)) return t; // ours: a proxy("http://…") route
      return undefined;
    };
    if (value === false) {
      route.byMethod.fill(PASS);
      route.methods.push("*");
    } else {
      const every = toTarget(value);
      if (every !== undefined) {
        route.byMethod.fill(every);
        route.methods.push("*");
      } else if (typeof value === "object" && value !== null && !Array.isArray(value)) {
        let named = false;
        for (const name of Object.keys(value)) {
          const m = METHODS[name];
          if (m === undefined) continue;
          named = true;
          const target = toTarget((value as Record<string, unknown>)[name]);
          if (target === undefined) continue; // false, a number, …: this method goes on to other routes
          route.byMethod[m] = target;
          route.methods.push(name);
        }
        if (!named) throw routeErrors.badValue();
        // HEAD takes the GET target unless the route has its own HEAD (RFC 9110 §9.3.2).
        route.byMethod[METHOD.HEAD] ??= route.byMethod[METHOD.GET];
      } else {
        throw routeErrors.badValue();
      }
    }
    this.#insert(route);
  }

  #insert(route: Route<S>): void {
    const segments = route.pattern.split("/");
    let node = this.#root;
    let dynamic = false;
    for (let i = 1; i < segments.length; i++) {
      const seg = segments[i]!;
      if (seg === "*") {
        // Bun takes `*` only as the last segment; one in the middle makes a route that matches nothing.
        if (i !== segments.length - 1) return;
        node.wildcards.push(route);
        this.#register(route);
        return;
      }
      if (seg.charCodeAt(0) === 58) {
        // ':'
        const name = seg.slice(1);
        const c = name.charCodeAt(0);
        if (c >= 48 && c <= 57) throw routeErrors.paramStartsWithDigit();
        if (name !== "" && route.paramNames.includes(name)) throw routeErrors.duplicateParam();
        route.paramNames.push(name);
        node = node.param ??= new Node<S>();
        dynamic = true;
      } else {
        let next = node.statics.get(seg);
        if (next === undefined) node.statics.set(seg, (next = new Node<S>()));
        node = next;
      }
    }
    node.routes.push(route);
    if (!dynamic) {
      const list = this.#exact.get(route.pattern);
      if (list === undefined) this.#exact.set(route.pattern, [route]);
      else list.push(route);
    }
    this.#register(route);
  }

  #register(route: Route<S>): void {
    this.routes.push(route);
    if (route.byMethod.some((t) => t !== undefined && t !== PASS)) this.answers = true;
  }

  /**
   * The route for a percent-encoded path that answers `method` (a METHOD value), or null. Its raw
   * parameter values are left in `values`.
   */
  match(path: string, method: number): Route<S> | null {
    const exact = this.#exact.get(path);
    if (exact !== undefined) {
      const r = pick(exact, method);
      if (r !== null) {
        this.values.length = 0;
        return r;
      }
    }
    this.values.length = 0;
    return matchNode(this.#root, path, 1, method, this.values);
  }

  /** The decoded parameters of `route` from the last match. */
  params(route: Route<S>): Record<string, string> {
    const params = new RequestParams();
    const names = route.paramNames;
    for (let i = 0; i < names.length; i++) if (names[i] !== "") params[names[i]!] = decodeParam(this.values[i]!);
    return params;
  }
}

function pick<S>(routes: Route<S>[], method: number): Route<S> | null {
  for (let i = 0; i < routes.length; i++) if (routes[i]!.byMethod[method] !== undefined) return routes[i]!;
  return null;
}

function matchNode<S>(node: Node<S>, path: string, from: number, method: number, values: string[]): Route<S> | null {
  let end = path.indexOf("/", from);
  if (end < 0) end = path.length;
  const seg = path.slice(from, end);
  const isLast = end === path.length;
  const next = node.statics.get(seg);
  if (next !== undefined) {
    const r = isLast ? pick(next.routes, method) : matchNode(next, path, end + 1, method, values);
    if (r !== null) return r;
  }
  if (node.param !== null && seg !== "") {
    values.push(seg);
    const r = isLast ? pick(node.param.routes, method) : matchNode(node.param, path, end + 1, method, values);
    if (r !== null) return r;
    values.pop();
  }
  return node.wildcards.length > 0 ? pick(node.wildcards, method) : null;
}

function isBunFile(v: unknown): v is BunFile {
  return v instanceof Blob && typeof (v as BunFile).exists === "function" && typeof (v as BunFile).name === "string";
}

const utf8 = new TextDecoder(); // not fatal: bad bytes become U+FFFD, as in Bun's params

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48; // 0-9
  if (c >= 65 && c <= 70) return c - 55; // A-F
  if (c >= 97 && c <= 102) return c - 87; // a-f
  return -1;
}

/**
 * A parameter as Bun decodes it: %XX escapes and raw bytes as UTF-8, where a bad escape or an
 * invalid sequence becomes U+FFFD (never an error): "%zz" → "\uFFFD", "%2" → "\uFFFD2", "+" stays.
 */
export function decodeParam(raw: string): string {
  let i = 0;
  while (i < raw.length && raw.charCodeAt(i) !== 37 && raw.charCodeAt(i) < 128) i++; // '%'
  if (i === raw.length) return raw;
  const bytes = new Uint8Array(raw.length);
  let n = 0;
  for (let k = 0; k < i; k++) bytes[n++] = raw.charCodeAt(k);
  for (; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c !== 37) {
      bytes[n++] = c; // the parser gives raw bytes as Latin-1 characters
      continue;
    }
    if (i + 2 >= raw.length) {
      bytes[n++] = 0xff; // a "%" without two characters after it
      continue;
    }
    const hi = hexValue(raw.charCodeAt(i + 1));
    const lo = hexValue(raw.charCodeAt(i + 2));
    bytes[n++] = hi < 0 || lo < 0 ? 0xff : (hi << 4) | lo;
    i += 2;
  }
  return utf8.decode(bytes.subarray(0, n));
}
