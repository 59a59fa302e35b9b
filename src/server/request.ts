// The request object handlers receive: lazy views over the parsed head and the received body.
// Body readers mirror the Web Request (promises), so code written for Bun.serve reads the same.
import type { AddedFields } from "../http/added-fields.ts";
import type { RequestHead } from "../http/head.ts";
import { HttpException } from "./http-exception.ts";
import { clientAddress, type TrustFn } from "./proxy.ts";
import type { Reply } from "./reply.ts";
import type { RequestBody } from "./request-body.ts";

const decoder = new TextDecoder("utf-8", { fatal: true });
const EMPTY_PARAMS: Readonly<Record<string, string>> = Object.freeze({});
const EMPTY = new Uint8Array(0);

export interface Peer {
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** The connection is TLS (the client reached us over https). */
  readonly secure: boolean;
  /** How long this request's response may go without a byte sent or received (ms; 0: never). */
  setWaitTimeout(ms: number): void;
}

function connectionClosed(): DOMException {
  return new DOMException("The connection was closed.", "AbortError");
}

export class ServerRequest {
  #query: URLSearchParams | undefined;
  #headers: Headers | undefined;
  #bodyUsed = false;
  /** Made when `signal` is first read; aborted when the client goes away before the response is done. */
  #abort: AbortController | null = null;
  #aborted = false;
  /** Route parameters (`/users/:id` → `{ id }`; a trailing `*` → `{ "*": rest }`), decoded. */
  params: Record<string, string> = EMPTY_PARAMS as Record<string, string>;
  /**
   * An answer decided while the handler ran, sent whatever the handler returns: the 101 of an accepted
   * upgrade (server.upgrade()), or the refusal of a malformed handshake.
   */
  fixedReply: Reply | null = null;
  /**
   * Pre-encoded field lines that whatever response this request gets carries, error pages and
   * pre-encoded files included, unless it sets a field they yield to (the CORS fields, which yield
   * to a response's own Access-Control-Allow-Origin: src/access/cors.ts).
   */
  addedFields: AddedFields | null = null;
  /** The user that Basic authentication let in (logged as %u, nginx's $remote_user); never a password. */
  remoteUser: string | null = null;
  /**
   * The answer is on its way whatever happens (a static file waiting a few ms for its compressed
   * variant): a client's half-close does not abandon it, as it abandons a handler's work.
   */
  finishOnHalfClose = false;
  /** Told when the client goes away (as `signal` aborts), without the cost of an AbortController. */
  goneListener: { clientGone(): void } | null = null;

  constructor(
    /** The parsed head: valid while the handler runs and until its promise settles. */
    readonly head: RequestHead,
    /** The body as it arrives (bounded by maxBody), or null when the request has none. */
    readonly requestBody: RequestBody | null,
    /** Where the request came from: the connection (read lazily; its address costs a syscall). */
    private readonly peer: Peer,
    private readonly trust: TrustFn | null = null,
  ) {}

  /**
   * Aborts when the client goes away (closes, resets, or half-closes while the response is still
   * being made) before the response is done, as Bun.serve's request.signal does.
   */
  get signal(): AbortSignal {
    if (this.#abort === null) {
      this.#abort = new AbortController();
      if (this.#aborted) this.#abort.abort(connectionClosed());
    }
    return this.#abort.signal;
  }

  /** The connection's word that the client went away: `signal` aborts (now, or when first read). */
  clientGone(): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#abort?.abort(connectionClosed());
    this.goneListener?.clientGone();
  }

  /**
   * How long the response may go without a byte either way (ms; 0: never), as Bun's
   * server.timeout(request, seconds). For this request only; the next gets the server's setting.
   */
  setWaitTimeout(ms: number): void {
    this.peer.setWaitTimeout(ms);
  }

  /** The peer's address (or the one a PROXY protocol header gave). */
  get remoteAddress(): string {
    return this.peer.remoteAddress;
  }
  get remotePort(): number {
    return this.peer.remotePort;
  }

  /** Whether the peer is a trusted proxy (--trust-proxy), whose forwarding fields count. */
  get peerTrusted(): boolean {
    return this.trust !== null && this.trust(this.remoteAddress);
  }
  /** The client reached us over TLS. */
  get secure(): boolean {
    return this.peer.secure;
  }

  #client: string | undefined;
  /**
   * The client's address: remoteAddress, or, when that peer is a trusted proxy (--trust-proxy), the
   * nearest untrusted address in Forwarded / X-Forwarded-For.
   */
  get clientAddress(): string {
    if (this.#client === undefined) {
      this.#client =
        this.trust === null
          ? this.remoteAddress
          : clientAddress(this.remoteAddress, this.head.header("forwarded"), this.head.header("x-forwarded-for"), this.trust);
    }
    return this.#client;
  }

  get method(): string {
    return this.head.methodName;
  }
  /** The request-target as sent: "/path?query". */
  get url(): string {
    return this.head.target;
  }
  /** The path, still percent-encoded. */
  get path(): string {
    return this.head.path;
  }
  /** The query string without "?", or "". */
  get search(): string {
    return this.head.query;
  }
  get query(): URLSearchParams {
    return (this.#query ??= new URLSearchParams(this.head.query));
  }
  get httpVersion(): string {
    return this.head.version;
  }
  /** One field's value (repeats joined by ", "), case-insensitive, without building all headers. */
  header(name: string): string | undefined {
    return this.head.header(name);
  }
  get headers(): Headers {
    if (this.#headers === undefined) {
      const h = new Headers();
      for (let i = 0; i < this.head.headerCount; i++) h.append(this.head.lowerNameAt(i), this.head.valueAt(i));
      this.#headers = h;
    }
    return this.#headers;
  }

  get bodyUsed(): boolean {
    return this.#bodyUsed;
  }

  /**
   * The body as a stream, fed from the socket as the handler reads: while it is behind, the
   * connection stops reading, and the client's sends block.
   */
  get body(): ReadableStream<Uint8Array> | null {
    const body = this.requestBody;
    if (body === null) return null;
    this.#bodyUsed = true;
    return body.stream();
  }

  /** All of the body (within maxBody: a larger one is a 413). */
  #take(): Promise<Uint8Array> {
    this.#bodyUsed = true;
    return this.requestBody === null ? Promise.resolve(EMPTY) : this.requestBody.all();
  }

  bytes(): Promise<Uint8Array> {
    return this.#take();
  }
  async arrayBuffer(): Promise<ArrayBuffer> {
    const b = await this.#take();
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.length) as ArrayBuffer;
  }
  async blob(): Promise<Blob> {
    return new Blob([await this.#take()], { type: this.header("content-type") ?? "" });
  }
  async text(): Promise<string> {
    const bytes = await this.#take(); // a 413, or the body's own failure, passes through as it is
    try {
      return decoder.decode(bytes);
    } catch {
      throw new HttpException(400, "body is not valid UTF-8");
    }
  }
  async json(): Promise<unknown> {
    const text = await this.text();
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new HttpException(400, `malformed JSON (${(err as Error).message})`);
    }
  }
  /** application/x-www-form-urlencoded or multipart/form-data; anything else or malformed → 400. */
  async formData(): Promise<FormData> {
    const type = this.header("content-type") ?? "";
    const mediaType = type.split(";")[0]!.trim().toLowerCase();
    if (mediaType !== "application/x-www-form-urlencoded" && mediaType !== "multipart/form-data") {
      throw new HttpException(415, `cannot read ${mediaType || "a body without Content-Type"} as form data`);
    }
    const bytes = await this.#take();
    if (mediaType === "application/x-www-form-urlencoded") {
      const form = new FormData();
      let text: string;
      try {
        text = decoder.decode(bytes);
      } catch {
        throw new HttpException(400, "form body is not valid UTF-8");
      }
      for (const [k, v] of new URLSearchParams(text)) form.append(k, v);
      return form;
    }
    if (!/;\s*boundary=/i.test(type)) throw new HttpException(400, "multipart/form-data without a boundary");
    try {
      // Bun's own multipart parser (application layer, not the HTTP path).
      return (await new Response(bytes, { headers: { "Content-Type": type } }).formData()) as unknown as FormData;
    } catch (err) {
      throw new HttpException(400, `malformed multipart body (${(err as Error).message})`);
    }
  }
}
