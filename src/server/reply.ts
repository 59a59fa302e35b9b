// What handlers return: the light Reply, the Handler signature, and the shared replies the engine
// falls back on. Kept apart from the connection so static/ and app/ depend on types, not the engine.
import type { HeaderList } from "../http/response-head.ts";
import { OCTET_STREAM_TYPE, TEXT_PLAIN_TYPE } from "../http/response.ts";
import type { BodySource } from "./body.ts";
import type { ArenaSlot } from "./send-arena.ts";
import type { UpgradeFn } from "./upgrade.ts";

export type { HeaderList } from "../http/response-head.ts";

/** What a handler may return. null/undefined: "not mine", the next handler (or 404) answers. */
export type HandlerResult = Response | Reply | string | Uint8Array | null | undefined;

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
   * With status 101: the protocol that takes the connection over once this head is written
   * (upgrade.ts). The head gets `Connection: Upgrade`; `headers` should carry `Upgrade`.
   */
  upgrade?: UpgradeFn;
}

export const INTERNAL_ERROR: Reply = { status: 500, headers: TEXT_PLAIN_TYPE, body: "500 Internal Server Error\n" };
export const NOT_FOUND: Reply = { status: 404, headers: TEXT_PLAIN_TYPE, body: "404 Not Found\n" };
/** Reused for string and bytes results: the writer reads them and keeps nothing. */
export const TEXT_REPLY: Reply = { status: 200, headers: TEXT_PLAIN_TYPE, body: null };
export const BYTES_REPLY: Reply = { status: 200, headers: OCTET_STREAM_TYPE, body: null };

/** Releases what an unsent result holds: a file descriptor, a stream, a Response body. */
export function disposeResult(result: HandlerResult): void {
  try {
    if (result instanceof Response) {
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
