// Bun.serve-compatible `fetch(request, server)` handlers: our request becomes a Web Request, and
// the Response they return goes out through the same writer as everything else.
import type { Handler } from "../server/handler.ts";
import type { HandlerResult, Reply } from "../server/reply.ts";
import type { ServerRequest } from "../server/request.ts";
import { knownFile } from "./known-bodies.ts";
import { readAppResponse } from "./response-reader.ts";
import { WebRequest } from "./web-request.ts";

export type FetchHandler<S = unknown> = (request: Request, server: S) => Response | Promise<Response> | undefined | Promise<Response | undefined>;

/** Builds the Web Request for a parsed request (absolute URL from Host, headers, body). */
export function toWebRequest(req: ServerRequest, fallbackHost: string): Request {
  return WebRequest.from(req, fallbackHost);
}

/**
 * The Error Bun.serve gives its `error` handler for a `Response.error()` (status 0), word for word.
 * Thrown here, it takes the path of any error a handler throws: the error hook, else a 500.
 */
export const RESPONSE_ERROR_MESSAGE =
  "Cannot send a Response with status 0. HTTP status codes must be between 100 and 999 (Response.error() returns status 0).";

/** What Bun.serve (in production mode) sends when `fetch` gives something that is not a Response. */
const NOT_A_RESPONSE: Reply = { status: 204, body: null };

/** `fallbackHost`: the authority for a request without Host (known once the server listens). */
export function createFetchHandler<S>(fetch: FetchHandler<S>, server: S, fallbackHost: () => string): Handler {
  return (req: ServerRequest) => {
    const result: unknown = fetch(toWebRequest(req, fallbackHost()), server);
    if (result instanceof Response) return checkResponse(result, req);
    if (result instanceof Promise) return result.then((r: unknown) => (r instanceof Response ? checkResponse(r, req) : notAResponse(r, req)));
    return notAResponse(result, req);
  };
}

function checkResponse(res: Response, req: ServerRequest): HandlerResult | Promise<HandlerResult> {
  if (res.status === 0) throw new Error(RESPONSE_ERROR_MESSAGE);
  // A Range request for a Bun.file body is answered from the file, as Bun.serve does (file-bodies.ts).
  if (req.head.method === 1 /* GET */ && knownFile(res) !== undefined) {
    const range = req.head.header("range");
    if (range !== undefined && range !== "") return readAppResponse(res, range);
  }
  return res;
}

/**
 * Our own handlers may return strings, bytes or nothing, but a `fetch` handler is Bun.serve's: for
 * anything but a Response (a Promise of undefined included) Bun logs this line and answers 204, and
 * so do we, rather than fall through to a 404 or send a string as a body. (Bun in development mode
 * answers 200 with a "Welcome to Bun!" page instead; we have no development mode.)
 */
function notAResponse(value: unknown, req: ServerRequest): Reply {
  // After server.upgrade() the handler returns nothing: the upgrade is the answer.
  if (req.fixedReply !== null) return req.fixedReply;
  console.error(`Expected a Response object, but received '${Bun.inspect(value)}'`);
  return NOT_A_RESPONSE;
}
