// What the WebSocket API tests (test/compat/websocket-*.test.ts, test/ws/api-*.test.ts) share beyond
// test/helpers/ws-client.ts and ws-raw.ts: the app they serve, a log of what its handlers saw (made
// afresh for each server of onBoth), the exact upgrade request for handshake checks, and small waits
// on Bun's client.
import type { Served } from "../helpers/compat.ts";
import { pollUntil, Wakeup } from "../helpers/poll.ts";
import { within, type WsClient, type WsClosed, type WsMessage, wrapWs } from "../helpers/ws-client.ts";

/** RFC 6455 §1.3's sample key, and the Sec-WebSocket-Accept it must get. */
export const KEY = "dGhlIHNhbXBsZSBub25jZQ==";
export const ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/** The handshake fields a valid upgrade carries; `extra` lines (each ending in CRLF) are added. */
const UPGRADE_FIELDS = `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n`;

export function upgradeRequest(path = "/", extra = ""): string {
  return `GET ${path} HTTP/1.1\r\nHost: t\r\n${UPGRADE_FIELDS}${extra}\r\n`;
}

/**
 * The app every WebSocket test serves unless it needs its own fetch: upgrade with `data` (a function
 * of the request, or the path by default), else a 400 that names itself.
 */
export function wsApp(websocket: Record<string, unknown>, data: (req: Request) => unknown = (req) => new URL(req.url).pathname) {
  return {
    fetch(req: Request, server: any) {
      if (server.upgrade(req, { data: data(req) })) return;
      return new Response("not a websocket", { status: 400 });
    },
    websocket,
  };
}

/** Bun's client with `control`: every ping and pong the server sent it, as [kind, payload text]. */
export type BunWs = WsClient & { control: EventLog<[string, string]> };

/** Bun's own WebSocket client to ws://127.0.0.1:port/path, behind test/helpers/ws-client.ts's promises. */
export async function openWs(port: number, path = "/"): Promise<BunWs> {
  const socket = new WebSocket(`ws://127.0.0.1:${port}${path}`);
  // Listening from the start: a ping sent in the server's open() can come with the 101.
  const control = new EventLog<[string, string]>();
  for (const kind of ["ping", "pong"]) {
    socket.addEventListener(kind, (e: any) => control.push([kind, new TextDecoder().decode(e.data)]));
  }
  return Object.assign(await wrapWs(socket), { control });
}

/** The close, if it comes within `ms`; null if the socket is still open then. */
export function closedWithin(c: WsClient, ms: number): Promise<WsClosed | null> {
  return Promise.race([c.closed, Bun.sleep(ms).then(() => null)]);
}

/** `c`'s close as code and reason; throws after `ms`. */
export async function closeOf(c: WsClient, ms = 5000): Promise<{ code: number; reason: string }> {
  const { code, reason } = await within(c.closed, ms, "the close");
  return { code, reason };
}

/** Sends `data` and returns the next message: "does it still answer". */
export async function roundTrip(c: WsClient, data: string | Uint8Array, ms = 5000): Promise<WsMessage> {
  c.socket.send(data);
  return c.next(ms);
}

/** What the server's handlers saw, in order; tests wait on it rather than sleep. */
export class EventLog<T = unknown[]> {
  readonly entries: T[] = [];
  readonly #wake = new Wakeup();

  push(entry: T): void {
    this.entries.push(entry);
    this.#wake.fire();
  }

  /** Resolves once `predicate` holds (re-checked on every push); throws after `ms`. */
  async until(predicate: (entries: T[]) => boolean, ms = 5000, what = "the server's handlers"): Promise<void> {
    await pollUntil(() => predicate(this.entries) || null, ms, what, { wake: this.#wake });
  }
}

/**
 * For onBoth/sameOnBoth (spread the pair in): `app` is made afresh for each server with a new EventLog
 * for its handlers, and `check` gets that log. `server()` in the app is the server being checked.
 */
export function withLog<T, E = unknown[]>(
  app: (log: EventLog<E>, server: () => any) => Record<string, unknown>,
  check: (s: Served, log: EventLog<E>) => Promise<T>,
): [() => Record<string, unknown>, (s: Served) => Promise<T>] {
  let log!: EventLog<E>;
  let current: any = null;
  return [
    () => app((log = new EventLog<E>()), () => current),
    (s) => {
      current = s.server;
      return check(s, log);
    },
  ];
}
