// The Request a route handler gets, as Bun.serve's BunRequest: a WebRequest (absolute URL, headers
// filled on first read, the body fed from the socket) plus `params`, the route's decoded parameters,
// and `cookies`, a Bun.CookieMap made from the Cookie field on first use; what the handler sets or
// deletes in it goes out as Set-Cookie lines after the response's own (routes-handler.ts).
// `clone()` keeps both, as Bun's does. Like Bun's, these are getters on the prototype: the object
// has no own properties, and `params` cannot be assigned.
import { hiddenField } from "./hidden-field.ts";
import { WebRequest } from "./web-request.ts";

/** What a clone carries over: clones are native Requests, so it rides in a hidden field. */
interface RouteData {
  params: Record<string, string>;
  cookies: Bun.CookieMap;
}
const cloned = hiddenField<Request, RouteData>();

export class BunRequest extends WebRequest {
  #params: Record<string, string> | null = null;
  #cookies: Bun.CookieMap | null = null;

  /** Route parameters (`/users/:id` → `{ id }`), decoded; a null-prototype `{}` for a route without. */
  get params(): Record<string, string> {
    return (this.#params ??= Object.create(null) as Record<string, string>);
  }

  get cookies(): Bun.CookieMap {
    return (this.#cookies ??= new Bun.CookieMap(WebRequest.fieldOf(this, "cookie", "; ") ?? ""));
  }

  /** Sets the decoded parameters once, when the route matched (before the handler runs). */
  static setParams(request: BunRequest, params: Record<string, string>): void {
    request.#params = params;
  }

  /** Set-Cookie values for what the handler changed in `cookies`, or null when it changed nothing. */
  static cookieChanges(request: BunRequest): string[] | null {
    const jar = request.#cookies;
    if (jar === null) return null;
    const changes = jar.toSetCookieHeaders();
    return changes.length === 0 ? null : changes;
  }

  override clone(): BunRequest {
    const copy = (WebRequest.prototype.clone as (this: Request) => Request).call(this);
    cloned.set(copy, { params: this.params, cookies: this.cookies });
    return Object.setPrototypeOf(copy, ClonedBunRequest.prototype) as BunRequest;
  }

  static {
    Object.defineProperty(BunRequest, "name", { value: "Request" });
  }
}

/** The prototype of a BunRequest's clone: a native Request with the same params and cookies. */
class ClonedBunRequest extends Request {
  get params(): Record<string, string> {
    return cloned.get(this)!.params;
  }
  get cookies(): Bun.CookieMap {
    return cloned.get(this)!.cookies;
  }
  override clone(): Request {
    const copy = (Request.prototype.clone as (this: Request) => Request).call(this);
    cloned.set(copy, cloned.get(this)!);
    return Object.setPrototypeOf(copy, ClonedBunRequest.prototype) as Request;
  }
  static {
    Object.defineProperty(ClonedBunRequest, "name", { value: "Request" });
  }
}

/** The class route parameters are made of, as Bun prints them (`RequestParams { id: "42" }`). */
export class RequestParams {
  [name: string]: string;
}
