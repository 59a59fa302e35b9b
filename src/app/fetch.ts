// Bun.serve-compatible `fetch(request, server)` handlers: our request becomes a Web Request, and
// the Response they return goes out through the same writer as everything else.
import type { Handler, HandlerResult } from "../server/connection.ts";
import { hiddenField } from "../server/hidden-field.ts";
import { HttpException } from "../server/http-exception.ts";
import type { ServerRequest } from "../server/request.ts";

export type FetchHandler<S = unknown> = (request: Request, server: S) => Response | Promise<Response> | undefined | Promise<Response | undefined>;

/** The ServerRequest behind each Request we made, for server.requestIP(). */
export const origins = hiddenField<Request, ServerRequest>();

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
  const body = req.bodyBytes;
  const method = head.method;
  let request: Request;
  try {
    // A GET needs no init at all (the cheapest Request to make); a body goes only with other methods.
    request =
      method === 1 /* GET */
        ? new Request(url)
        : new Request(url, body !== null && method !== 2 /* HEAD */ ? { method: req.method, body } : { method: req.method });
  } catch {
    throw new HttpException(400, "request URL is not valid");
  }
  // Appending to the Request's own Headers costs about half of building a Headers to pass in `init`.
  const headers = request.headers;
  for (let i = 0; i < head.headerCount; i++) headers.append(head.lowerNameAt(i), head.valueAt(i));
  origins.set(request, req);
  return request;
}

export function createFetchHandler<S>(fetch: FetchHandler<S>, server: S, fallbackHost: string): Handler {
  return (req: ServerRequest) => fetch(toWebRequest(req, fallbackHost), server) as HandlerResult | Promise<HandlerResult>;
}
