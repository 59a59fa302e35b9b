// Bun.serve-compatible `fetch(request, server)` handlers: our request becomes a Web Request, and
// the Response they return goes out through the same writer as everything else.
import type { Handler, HandlerResult } from "../server/connection.ts";
import { HttpException } from "../server/http-exception.ts";
import type { ServerRequest } from "../server/request.ts";

export type FetchHandler<S = unknown> = (request: Request, server: S) => Response | Promise<Response> | undefined | Promise<Response | undefined>;

/** The ServerRequest behind each Request we made, for server.requestIP(). */
export const origins = new WeakMap<Request, ServerRequest>();

/** Builds the Web Request for a parsed request (absolute URL from Host, headers, body). */
export function toWebRequest(req: ServerRequest, fallbackHost: string): Request {
  const head = req.head;
  const target = head.target;
  let url: string;
  if (target.charCodeAt(0) === 47) {
    // origin-form: the authority comes from Host (RFC 9112 §3.3)
    url = `http://${head.header("host") || fallbackHost}${target}`;
  } else if (target === "*") {
    url = `http://${head.header("host") || fallbackHost}/`;
  } else if (head.pathStart === head.targetEnd && !target.includes("://")) {
    url = `http://${target}/`; // authority-form (CONNECT)
  } else {
    url = target; // absolute-form
  }
  // Appending to a Headers object is cheaper in Bun than handing Request an array of pairs.
  const headers = new Headers();
  for (let i = 0; i < head.headerCount; i++) headers.append(head.nameAt(i), head.valueAt(i));
  const init: RequestInit = { method: req.method, headers };
  const body = req.bodyBytes;
  if (body !== null && head.method !== 1 /* GET */ && head.method !== 2 /* HEAD */) init.body = body;
  let request: Request;
  try {
    request = new Request(url, init);
  } catch {
    throw new HttpException(400, "request URL is not valid");
  }
  origins.set(request, req);
  return request;
}

export function createFetchHandler<S>(fetch: FetchHandler<S>, server: S, fallbackHost: string): Handler {
  return (req: ServerRequest) => fetch(toWebRequest(req, fallbackHost), server) as HandlerResult | Promise<HandlerResult>;
}
