// What handlers return: the light Reply, the Handler signature, and the shared replies the engine
// falls back on. Kept apart from the connection so static/ and app/ depend on types, not the engine.
import type { HeaderList } from "../http/response-head.ts";
import { OCTET_STREAM_TYPE, type OutBuffer, TEXT_PLAIN_TYPE } from "../http/response.ts";
import type { BodySource } from "./body.ts";
import type { ArenaSlot } from "./send-arena.ts";
import type { UpgradeFn } from "./upgrade.ts";

export type { HeaderList } from "../http/response-head.ts";

/** What a handler may return. null/undefined: "not mine", the next handler (or 404) answers. */
export type HandlerResult = Response | Reply | PendingReply | string | Uint8Array | null | undefined;

/** The light response: no Response object, no Headers object, no promise. */
export interface Reply {
  status?: number;
  /** Header fields; a Uint8Array is pre-encoded lines ("Name: value\r\n" each), copied as they are. */
  headers?: HeaderList | Headers | Uint8Array;
  body?: string | Uint8Array | ArrayBuffer | ReadableStream<Uint8Array> | Blob | BodySource | null;
  /**
   * Body length when `body` is a BodySource of known size (sent with Content-Length). For a HEAD with
   * no body: the length a GET would get, or -1 when it would go chunked. With `raw`: the body's length
   * in it (what the log counts), so that `body` need not be read.
   */
  length?: number;
  /** A "Content-Type: …\r\n" line sent when `headers` has none (what Bun.serve infers for a Response body). */
  defaultType?: Uint8Array;
  /**
   * The whole response as bytes (status line through body, with the current Date), for a keep-alive
   * HTTP/1.1 GET: sent as it is, in one write, without copying when large. Other requests (HEAD,
   * HTTP/1.0, Connection: close) get the response built from status, headers and body.
   */
  raw?: Uint8Array;
  /** Where `raw` also sits in the send arena (sent from there by sendfile), if it does. */
  rawSlot?: ArenaSlot | null;
  /**
   * As `raw`, but written straight into the cork buffer (no array of its own): the whole response,
   * for the same requests. A method of the reply's class, so that no closure is made for it.
   */
  writeRaw?(out: OutBuffer): void;
  /**
   * With status 101: the protocol that takes the connection over once this head is written
   * (upgrade.ts). The head gets `Connection: Upgrade`; `headers` should carry `Upgrade`.
   */
  upgrade?: UpgradeFn;
}

/** The connection's side of a PendingReply: told once, with the answer or the failure. */
export interface PendingTarget {
  pendingSettled(req: unknown, result: HandlerResult): void;
  pendingFailed(req: unknown, err: unknown): void;
}

const UNSETTLED = 0;
const RESOLVED = 1;
const REJECTED = 2;

/**
 * An answer that comes later without a Promise, for a handler that waits on I/O of its own (the
 * reverse proxy's exchange waits for its upstream). The connection registers itself and is called
 * back once, synchronously, when the answer is in: no promise, no closures and no microtask hops,
 * which on a proxied request cost about a microsecond. One is never "not mine" (null).
 */
export abstract class PendingReply {
  #state = UNSETTLED;
  #value: unknown = undefined;
  #target: PendingTarget | null = null;
  #req: unknown = null;

  /** The connection waits for the answer to `req` (told at once if it is in already). */
  wait(target: PendingTarget, req: unknown): void {
    if (this.#state === RESOLVED) return target.pendingSettled(req, this.#value as HandlerResult);
    if (this.#state === REJECTED) return target.pendingFailed(req, this.#value);
    this.#target = target;
    this.#req = req;
  }

  /** The answer is in. Only the first settling counts. */
  protected resolve(result: HandlerResult): void {
    this.#settled(RESOLVED, result);
  }

  /** The handler failed (the connection's error path answers). */
  protected reject(err: unknown): void {
    this.#settled(REJECTED, err);
  }

  #settled(state: number, value: unknown): void {
    if (this.#state !== UNSETTLED) return;
    this.#state = state;
    const target = this.#target;
    if (target === null) {
      this.#value = value;
      return;
    }
    this.#target = null;
    const req = this.#req;
    this.#req = null;
    if (state === RESOLVED) target.pendingSettled(req, value as HandlerResult);
    else target.pendingFailed(req, value);
  }
}

/** Waits for a PendingReply nobody will send (its client left): what it gives is released. */
export const DISCARD: PendingTarget = {
  pendingSettled: (_req, result) => disposeResult(result),
  pendingFailed: () => {},
};

export const INTERNAL_ERROR: Reply = { status: 500, headers: TEXT_PLAIN_TYPE, body: "500 Internal Server Error\n" };
export const NOT_FOUND: Reply = { status: 404, headers: TEXT_PLAIN_TYPE, body: "404 Not Found\n" };
/** Reused for string and bytes results: the writer reads them and keeps nothing. */
export const TEXT_REPLY: Reply = { status: 200, headers: TEXT_PLAIN_TYPE, body: null };
export const BYTES_REPLY: Reply = { status: 200, headers: OCTET_STREAM_TYPE, body: null };

/** Releases what an unsent result holds: a file descriptor, a stream, a Response body. */
export function disposeResult(result: HandlerResult): void {
  try {
    if (result instanceof PendingReply) {
      result.wait(DISCARD, null); // (released once it is in)
    } else if (result instanceof Response) {
      if (result.body !== null && !result.body.locked) void result.body.cancel().catch(() => {});
    } else if (result !== null && typeof result === "object" && !(result instanceof Uint8Array)) {
      const body = (result as Reply).body;
      if (body instanceof ReadableStream) {
        if (!body.locked) void body.cancel().catch(() => {});
      } else if (body !== null && typeof body === "object" && "close" in body && typeof body.close === "function") {
        (body as BodySource).close();
      }
    }
  } catch {
    // Nothing more can be done for it.
  }
}
