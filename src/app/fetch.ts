// Bun.serve-compatible `fetch(request, server)` handlers: our request becomes a Web Request, and
// the Response they return goes out through the same writer as everything else.
import type { Handler } from "../server/handler.ts";
import type { HandlerResult } from "../server/reply.ts";
import type { ServerRequest } from "../server/request.ts";
import { WebRequest } from "./web-request.ts";

export type FetchHandler<S = unknown> = (request: Request, server: S) => Response | Promise<Response> | undefined | Promise<Response | undefined>;

/** Builds the Web Request for a parsed request (absolute URL from Host, headers, body). */
export function toWebRequest(req: ServerRequest, fallbackHost: string): Request {
  return WebRequest.from(req, fallbackHost);
}

export function createFetchHandler<S>(fetch: FetchHandler<S>, server: S, fallbackHost: string): Handler {
  return (req: ServerRequest) => fetch(toWebRequest(req, fallbackHost), server) as HandlerResult | Promise<HandlerResult>;
}
