// A Response given as a route value, as Bun.serve's static routes: its body is read once at start-up,
// and every request (any method) gets the same status, headers and bytes, plus an ETag (Bun's: the
// xxHash64 of the body, quoted) when the Response had none. A GET or HEAD of a 200 is answered 304
// when If-None-Match matches that ETag, or, without If-None-Match, when If-Modified-Since is not older
// than a Last-Modified the Response carries (both measured on Bun 1.4.5, test/compat/routes.test.ts).
import { METHOD } from "../http/parser.ts";
import type { HandlerResult, Reply } from "../server/reply.ts";
import type { ServerRequest } from "../server/request.ts";
import { etagMatches, parseHttpDate } from "../static/conditional.ts";
import { markConstant } from "../compress/reply-filter.ts";
import { routeErrors } from "./route-errors.ts";

/**
 * The type Bun gives a string body. Bun gives none to bytes or an untyped Blob, but a Response does
 * not tell those from a string once made (its blob() says text/plain for all three), so they get it too.
 */
const TEXT_TYPE = "text/plain;charset=utf-8";

/** Bun.inspect prints a Response's body as its last member: a stream there is not buffered. */
const STREAM_BODY = /\n {2}ReadableStream \{/;

export class StaticRoute {
  #reply: Reply | null = null;
  #notModified: Reply | null = null;
  #etag = "";
  #lastModified = NaN;
  readonly #ready: Promise<Reply>;

  /** Checks `res` as Bun does (synchronously, so serve() throws) and starts reading its body. */
  constructor(res: Response) {
    if (res.status === 0) throw routeErrors.statusZero();
    if (res.bodyUsed) throw routeErrors.bodyUsed();
    if (STREAM_BODY.test(Bun.inspect(res))) throw routeErrors.notBuffered();
    // A clone, so the same Response may serve several routes (Bun allows it) and stays unread. A
    // buffered body is there at once (its promise is already settled); a file's is read first.
    const bytes = res.clone().bytes();
    const type = res.headers.get("content-type") ?? TEXT_TYPE;
    if (Bun.peek.status(bytes) === "fulfilled") {
      this.#build(res, Bun.peek(bytes) as Uint8Array, type);
      this.#ready = Promise.resolve(this.#reply!);
    } else {
      this.#ready = bytes.then((body) => this.#build(res, body, type));
    }
  }

  #build(res: Response, body: Uint8Array, type: string): Reply {
    const headers: [string, string][] = [];
    let hasType = false;
    let etag = "";
    let lastModified = "";
    res.headers.forEach((value, name) => {
      if (name === "content-length" || name === "transfer-encoding" || name === "set-cookie") return;
      if (name === "content-type") hasType = true;
      else if (name === "etag") etag = value;
      else if (name === "last-modified") lastModified = value;
      headers.push([name, value]);
    });
    for (const c of res.headers.getSetCookie()) headers.push(["set-cookie", c]);
    if (!hasType && body.length > 0) headers.unshift(["content-type", type]);
    if (etag === "" && body.length > 0) {
      etag = `"${Bun.hash.xxHash64(body).toString(16).padStart(16, "0")}"`;
      headers.push(["etag", etag]);
    }
    this.#etag = etag;
    this.#lastModified = lastModified === "" ? NaN : parseHttpDate(lastModified);
    // (`length`: the 200's, so the reply filter gives the 304 the Vary and ETag the 200 gets.)
    this.#notModified = { status: 304, headers, body: null, length: body.length };
    this.#reply = { status: res.status, headers, body };
    markConstant(this.#reply); // compressed once per coding, not for every request
    return this.#reply;
  }

  respond(req: ServerRequest): HandlerResult | Promise<HandlerResult> {
    const reply = this.#reply;
    if (reply === null) return this.#ready.then(() => this.respond(req));
    const m = req.head.method;
    if (reply.status === 200 && (m === METHOD.GET || m === METHOD.HEAD) && this.#isNotModified(req)) return this.#notModified;
    return reply;
  }

  #isNotModified(req: ServerRequest): boolean {
    const inm = req.head.header("if-none-match");
    if (inm !== undefined) return inm !== "" && this.#etag !== "" && etagMatches(inm, this.#etag, true);
    if (Number.isNaN(this.#lastModified)) return false;
    const ims = req.head.header("if-modified-since");
    if (ims === undefined) return false;
    const since = parseHttpDate(ims);
    return !Number.isNaN(since) && this.#lastModified <= since;
  }
}
