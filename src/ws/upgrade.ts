// server.upgrade(request, { data, headers }): checks the handshake, and marks the request so that,
// whatever its handler returns, its answer is the 101 and the socket becomes a WebSocket Session.
import type { Reply } from "../server/reply.ts";
import type { ServerRequest } from "../server/request.ts";
import type { Protocol, UpgradedConnection } from "../server/upgrade.ts";
import { negotiateDeflate } from "./deflate.ts";
import { acceptKey, asksForWebSocket, checkHandshake } from "./handshake.ts";
import { ServerWebSocket } from "./server-websocket.ts";
import { Session, type WsContext } from "./session.ts";

export interface UpgradeOptions {
  data?: unknown;
  /** Sent with the 101 (a `Sec-WebSocket-Protocol` here selects the subprotocol). */
  headers?: ConstructorParameters<typeof Headers>[0];
}

/**
 * True when the request is a valid handshake and will be switched. False for a request that does not
 * ask for a WebSocket (the handler answers it), and for one that asks wrongly: that one gets 400, or
 * 426 for another version (RFC 6455 §4.2.2), whatever the handler returns.
 */
export function upgradeRequest(req: ServerRequest, options: UpgradeOptions | undefined, ctx: WsContext): boolean {
  if (req.fixedReply !== null) return false; // answered already (upgraded once, or refused)
  const head = req.head;
  if (!asksForWebSocket(head)) return false;
  const key = checkHandshake(head);
  if (typeof key !== "string") {
    req.fixedReply = key;
    return false;
  }
  const deflate = ctx.settings.deflate ? negotiateDeflate(head.header("sec-websocket-extensions")) : null;
  const headers: [string, string][] = [
    ["Upgrade", "websocket"],
    ["Sec-WebSocket-Accept", acceptKey(key)],
  ];
  if (deflate !== null) headers.push(["Sec-WebSocket-Extensions", deflate.response]);
  if (options?.headers !== undefined) {
    const given = options.headers;
    // Names as the caller wrote them (a Headers object has them in lower case already).
    const entries = given instanceof Headers ? given.entries() : Array.isArray(given) ? given : Object.entries(given);
    for (const [name, value] of entries as Iterable<[string, string]>) {
      const lower = name.toLowerCase();
      // The handshake's own fields are ours to set.
      if (lower === "upgrade" || lower === "connection" || lower === "sec-websocket-accept" || lower === "sec-websocket-extensions") continue;
      headers.push([name, value]);
    }
  }
  const data = options?.data;
  const reply: Reply = {
    status: 101,
    headers,
    upgrade(conn: UpgradedConnection, received: Uint8Array): Protocol {
      const session = new Session(conn, ctx, deflate);
      session.ws = new ServerWebSocket(session, data);
      session.start(received);
      return session;
    },
  };
  req.fixedReply = reply;
  return true;
}
