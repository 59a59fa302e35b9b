// Bun.serve-compatible `fetch(request, server)` handlers: our request becomes a Web Request, and
// the Response they return goes out through the same writer as everything else.
import type { Handler } from "../server/handler.ts";
import type { HandlerResult, Reply } from "../server/reply.ts";
import { HttpException } from "../server/http-exception.ts";
import type { ServerRequest } from "../server/request.ts";
import { knownFile } from "./known-bodies.ts";
import { readAppResponse } from "./response-reader.ts";
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

/**
 * The Error Bun.serve gives its `error` handler for a `Response.error()` (status 0), word for word.
 * Thrown here, it takes the path of any error a handler throws: the error hook, else a 500.
 */
export const RESPONSE_ERROR_MESSAGE =
  "Cannot send a Response with status 0. HTTP status codes must be between 100 and 999 (Response.error() returns status 0).";

/** What Bun.serve (in production mode) sends when `fetch` gives something that is not a Response. */
const NOT_A_RESPONSE: Reply = { status: 204, body: null };

export function createFetchHandler<S>(fetch: FetchHandler<S>, server: S, fallbackHost: string): Handler {
  return (req: ServerRequest) => {
    const result: unknown = fetch(toWebRequest(req, fallbackHost), server);
    if (result instanceof Response) return checkResponse(result, req);
    if (result instanceof Promise) return result.then((r: unknown) => (r instanceof Response ? checkResponse(r, req) : notAResponse(r)));
    return notAResponse(result);
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
function notAResponse(value: unknown): Reply {
  console.error(`Expected a Response object, but received '${Bun.inspect(value)}'`);
  return NOT_A_RESPONSE;
}
