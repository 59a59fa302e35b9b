// The request object handlers receive: lazy views over the parsed head and the received body.
import type { RequestHead } from "../http/head.ts";

const decoder = new TextDecoder();

export class ServerRequest {
  #query: URLSearchParams | undefined;
  #headers: Headers | undefined;

  constructor(
    /** The parsed head: valid while the handler runs and until its promise settles. */
    readonly head: RequestHead,
    /** The whole body (bounded by maxBody), or null when the request had none. */
    readonly body: Uint8Array | null,
    readonly remoteAddress: string,
  ) {}

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
      for (let i = 0; i < this.head.headerCount; i++) h.append(this.head.nameAt(i), this.head.valueAt(i));
      this.#headers = h;
    }
    return this.#headers;
  }
  bytes(): Uint8Array {
    return this.body ?? new Uint8Array(0);
  }
  text(): string {
    return this.body === null ? "" : decoder.decode(this.body);
  }
  json(): unknown {
    return JSON.parse(this.text());
  }
}
