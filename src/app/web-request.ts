// The Web Request a `fetch` handler gets. Its header fields go into its Headers only when something
// asks for them, as with Bun.serve's own Requests: a handler that never reads a header does not pay
// for a Headers object and a string per name and value (about 0.3 µs a field: 4 µs for a browser's
// request). Until then the fields are offsets into the received bytes, which a connection never
// overwrites (RequestHead.detachFields).
//
// Everything that reads a Request's headers goes through the `headers` getter (checked for
// `fetch(request)`, `new Request(request)` and `new Request(url, request)` in
// test/app/web-request.test.ts), except four native methods that read them inside Bun: `clone()`,
// `formData()` and `blob()` (the Content-Type), and Bun.inspect. Those fill the Headers first here.
// Two readers cannot be reached and see no fields until `request.headers` has been read once: another
// Bun.serve's in-process `server.fetch(request)`, and Request.prototype's own members called directly
// on the request. Hand those `new Request(request)`. A Request kept after its response also keeps the
// socket read its head came in (the fields refer to it).
import type { FieldList } from "../http/head.ts";
import { HttpException } from "../server/http-exception.ts";
import type { ServerRequest } from "../server/request.ts";

const NativeRequest = Request;
const nativeHeaders = Object.getOwnPropertyDescriptor(NativeRequest.prototype, "headers")!.get! as (this: Request) => Headers;
const nativeClone = NativeRequest.prototype.clone as (this: Request) => Request;
const nativeFormData = NativeRequest.prototype.formData as (this: Request) => Promise<FormData>;
const nativeBlob = NativeRequest.prototype.blob as (this: Request) => Promise<Blob>;
const nativeSignal = Object.getOwnPropertyDescriptor(NativeRequest.prototype, "signal")!.get! as (this: Request) => AbortSignal;

export class WebRequest extends Request {
  /** The request this was made from, for server.requestIP(). */
  #origin: ServerRequest | null = null;
  /** Fields not yet copied into the Headers; null once they are. */
  #fields: FieldList | null = null;

  /**
   * The Request for a parsed request (absolute URL from Host, method, body), of this class or a
   * subclass (BunRequest for routes): header fields are filled in on first use.
   */
  static from<T extends WebRequest>(this: new (url: string, init?: RequestInit) => T, req: ServerRequest, fallbackHost: string): T {
    const head = req.head;
    const target = head.target;
    let url: string;
    if (target.charCodeAt(0) === 47) {
      // origin-form: the authority comes from Host (RFC 9112 §3.3)
      url = `http://${head.host || fallbackHost}${target}`;
    } else if (target === "*") {
      url = `http://${head.host || fallbackHost}/`;
    } else if (head.pathStart === head.targetEnd && !target.includes("://")) {
      url = `http://${target}/`; // authority-form (CONNECT)
    } else {
      url = target; // absolute-form
    }
    const method = head.method;
    // A GET needs no init at all (the cheapest Request to make); a body goes only with other methods:
    // as bytes when it arrived whole with its head, else as the stream the socket feeds.
    let init: RequestInit | undefined;
    if (method !== 1 /* GET */) {
      const body = req.requestBody;
      if (body === null || method === 2 /* HEAD */) init = { method: req.method };
      else init = { method: req.method, body: body.peekWhole() ?? body.stream() };
    }
    let request: T;
    try {
      request = init === undefined ? new this(url) : new this(url, init);
    } catch {
      throw new HttpException(400, "request URL is not valid");
    }
    const r = request as WebRequest;
    r.#origin = req;
    if (head.headerCount > 0) r.#fields = head.detachFields();
    return request;
  }

  /**
   * One field's value without filling the Headers (repeats joined by `separator`), or null. For
   * BunRequest's cookies, which need only the Cookie field.
   */
  static fieldOf(request: WebRequest, lowerName: string, separator: string): string | null {
    const fields = request.#fields;
    if (fields === null) return nativeHeaders.call(request).get(lowerName);
    let value: string | null = null;
    for (let i = 0; i < fields.count; i++) {
      if (fields.lowerNameAt(i) !== lowerName) continue;
      value = value === null ? fields.valueAt(i) : value + separator + fields.valueAt(i);
    }
    return value;
  }

  /** The ServerRequest behind a Request we made, if it is one. */
  static originOf(request: Request): ServerRequest | null {
    return #origin in request ? request.#origin : null;
  }

  #fill(): void {
    const fields = this.#fields;
    if (fields === null) return;
    this.#fields = null;
    const headers = nativeHeaders.call(this);
    for (let i = 0; i < fields.count; i++) headers.append(fields.lowerNameAt(i), fields.valueAt(i));
  }

  /** console.log(request) shows the fields (Bun's printer reads them natively): print a filled copy. */
  [Bun.inspect.custom](): unknown {
    this.#fill();
    return this.bodyUsed
      ? new NativeRequest(this.url, { method: this.method, headers: nativeHeaders.call(this) })
      : nativeClone.call(this);
  }

  static {
    Object.defineProperty(WebRequest, "name", { value: "Request" }); // as printed and in stack traces
    // Accessors and methods over the native ones, defined here because Request's `headers`, `blob` and
    // `formData` are typed as properties, which a class cannot override with members.
    Object.defineProperty(WebRequest.prototype, "headers", {
      get(this: WebRequest): Headers {
        this.#fill();
        return nativeHeaders.call(this);
      },
      enumerable: true,
      configurable: true,
    });
    // The signal aborts when the client goes away before the response is done (the engine's, made
    // when first read: a request whose handler never looks costs nothing).
    Object.defineProperty(WebRequest.prototype, "signal", {
      get(this: WebRequest): AbortSignal {
        return #origin in this && this.#origin !== null ? this.#origin.signal : nativeSignal.call(this);
      },
      enumerable: true,
      configurable: true,
    });
    const filled: Record<string, (this: WebRequest) => unknown> = {
      clone() {
        this.#fill();
        return nativeClone.call(this);
      },
      formData() {
        this.#fill();
        return nativeFormData.call(this);
      },
      blob() {
        this.#fill();
        return nativeBlob.call(this);
      },
    };
    for (const [name, value] of Object.entries(filled)) {
      Object.defineProperty(WebRequest.prototype, name, { value, writable: true, enumerable: true, configurable: true });
    }
  }
}
