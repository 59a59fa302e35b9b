// Routes compiled once into a segment trie: static paths are one Map lookup; `:params` and a trailing
// `*` walk the trie (static child first, then the parameter, then the wildcard, with backtracking).
import type { HandlerResult, Reply } from "../server/reply.ts";
import { HttpException } from "../server/http-exception.ts";
import type { ServerRequest } from "../server/request.ts";

export type RouteHandler<S = unknown> = (req: ServerRequest, server: S) => HandlerResult | Promise<HandlerResult>;
/** A handler, a fixed Response (sent for every request, as Bun.serve does), or one of those per method. */
export type RouteTarget<S = unknown> = RouteHandler<S> | Response;
export type RouteValue<S = unknown> = RouteTarget<S> | Partial<Record<string, RouteTarget<S>>>;
export type Routes<S = unknown> = Record<string, RouteValue<S>>;

export interface Route<S = unknown> {
  pattern: string;
  /** Handlers by method name; "*" for a handler that takes every method. */
  methods: Map<string, RouteHandler<S>>;
  /** The Allow header value: the methods, plus HEAD with GET, plus OPTIONS. */
  allow: string;
  paramNames: string[];
}

class Node<S> {
  statics = new Map<string, Node<S>>();
  param: Node<S> | null = null;
  route: Route<S> | null = null;
  wildcard: Route<S> | null = null;
}

export interface RouteMatch<S = unknown> {
  route: Route<S>;
  /** Raw (still percent-encoded) parameter values, in paramNames order; the wildcard's last. */
  values: string[];
}

const METHOD_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export class Router<S = unknown> {
  readonly #exact = new Map<string, Route<S>>();
  readonly #root = new Node<S>();
  readonly routes: Route<S>[] = [];

  constructor(routes: Routes<S>) {
    for (const pattern of Object.keys(routes)) this.add(pattern, routes[pattern]!);
  }

  add(pattern: string, value: RouteValue<S>): void {
    if (!pattern.startsWith("/")) throw new Error(`route "${pattern}" must start with "/"`);
    const methods = new Map<string, RouteHandler<S>>();
    if (typeof value === "function" || value instanceof Response) {
      methods.set("*", toHandler(value));
    } else {
      for (const [method, target] of Object.entries(value)) {
        if (target === undefined) continue;
        if (!METHOD_NAME.test(method)) throw new Error(`route "${pattern}": "${method}" is not a method name`);
        methods.set(method.toUpperCase(), toHandler(target));
      }
    }
    const allowed = new Set(methods.keys());
    if (allowed.has("GET")) allowed.add("HEAD");
    allowed.add("OPTIONS");
    const route: Route<S> = {
      pattern,
      methods,
      allow: [...allowed].filter((m) => m !== "*").join(", "),
      paramNames: [],
    };
    const segments = pattern.split("/").slice(1);
    let node = this.#root;
    let dynamic = false;
    for (let i = 0; i < segments.length; i++) {
      const seg = segments[i]!;
      if (seg === "*" && i === segments.length - 1) {
        route.paramNames.push("*");
        if (node.wildcard !== null) throw new Error(`route "${pattern}" is defined twice`);
        node.wildcard = route;
        this.routes.push(route);
        return;
      }
      if (seg.startsWith(":")) {
        const name = seg.slice(1);
        if (name === "" || route.paramNames.includes(name)) throw new Error(`route "${pattern}": bad parameter "${seg}"`);
        route.paramNames.push(name);
        node = node.param ??= new Node<S>();
        dynamic = true;
      } else {
        // Static segments match the request's percent-encoded form.
        const key = encodeURI(seg);
        let next = node.statics.get(key);
        if (next === undefined) node.statics.set(key, (next = new Node<S>()));
        node = next;
      }
    }
    if (node.route !== null) throw new Error(`route "${pattern}" is defined twice`);
    node.route = route;
    if (!dynamic) this.#exact.set(encodeURI(pattern), route);
    this.routes.push(route);
  }

  /** Finds the route for a percent-encoded path, or null. */
  match(path: string): RouteMatch<S> | null {
    const exact = this.#exact.get(path);
    if (exact !== undefined) return { route: exact, values: NO_VALUES };
    const values: string[] = [];
    const route = matchNode(this.#root, path, 1, values);
    return route === null ? null : { route, values };
  }
}

const NO_VALUES: string[] = [];

function matchNode<S>(node: Node<S>, path: string, from: number, values: string[]): Route<S> | null {
  if (from > path.length) return node.route;
  let end = path.indexOf("/", from);
  if (end < 0) end = path.length;
  const seg = path.slice(from, end);
  const isLast = end === path.length;
  const next = node.statics.get(seg);
  if (next !== undefined) {
    const r = isLast ? next.route : matchNode(next, path, end + 1, values);
    if (r !== null) return r;
  }
  if (node.param !== null && seg !== "") {
    values.push(seg);
    const r = isLast ? node.param.route : matchNode(node.param, path, end + 1, values);
    if (r !== null) return r;
    values.pop();
  }
  if (node.wildcard !== null) {
    values.push(path.slice(from));
    return node.wildcard;
  }
  return null;
}

function toHandler<S>(target: RouteTarget<S>): RouteHandler<S> {
  if (typeof target === "function") return target;
  return fixedResponse(target);
}

/**
 * A Response given as a route value is read once; every request then gets the same status, headers
 * and bytes (a Response body can only be read once, so it is never sent as the object itself).
 */
function fixedResponse<S>(res: Response): RouteHandler<S> {
  let reply: Reply | null = null;
  const ready = res.bytes().then((body) => {
    const headers: [string, string][] = [];
    res.headers.forEach((v, k) => {
      if (k !== "set-cookie") headers.push([k, v]);
    });
    for (const c of res.headers.getSetCookie()) headers.push(["set-cookie", c]);
    reply = { status: res.status, headers, body };
    return reply;
  });
  return () => reply ?? ready;
}

/** Decodes route parameter values into `req.params`; a bad escape is the client's error (400). */
export function decodeParams<S>(route: Route<S>, values: string[]): Record<string, string> {
  const params: Record<string, string> = {};
  const names = route.paramNames;
  for (let i = 0; i < names.length; i++) {
    const raw = values[i]!;
    try {
      params[names[i]!] = raw.includes("%") ? decodeURIComponent(raw) : raw;
    } catch {
      throw new HttpException(400, "invalid percent-encoding in path");
    }
  }
  return params;
}
