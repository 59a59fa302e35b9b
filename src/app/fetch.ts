// Bun.serve-compatible `fetch(request, server)` handlers: our request becomes a Web Request, and
// the Response they return goes out through the same writer as everything else.
import type { Handler } from "../server/handler.ts";
import type { HandlerResult } from "../server/reply.ts";
import { HttpException } from "../server/http-exception.ts";
import type { ServerRequest } from "../server/request.ts";
import { WebRequest } from "./web-request.ts";

export type FetchHandler<S = unknown> = (request: Request, server: S) => Response | Promise<Response> | undefined | Promise<Response | undefined>;

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
  const method = head.method;
  // A GET needs no init at all (the cheapest Request to make); a body goes only with other methods:
  // as bytes when it arrived whole with its head, else as the stream the socket feeds.
  // Header fields are filled in when first read (web-request.ts).
  let init: RequestInit | undefined;
  if (method !== 1 /* GET */) {
    const body = req.requestBody;
    if (body === null || method === 2 /* HEAD */) init = { method: req.method };
    else init = { method: req.method, body: body.peekWhole() ?? body.stream() };
  }
  try {
    return WebRequest.of(req, url, init);
  } catch {
    throw new HttpException(400, "request URL is not valid");
  }
}

export function createFetchHandler<S>(fetch: FetchHandler<S>, server: S, fallbackHost: string): Handler {
  return (req: ServerRequest) => fetch(toWebRequest(req, fallbackHost), server) as HandlerResult | Promise<HandlerResult>;
}
