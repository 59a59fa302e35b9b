// The opening handshake (RFC 6455 §4.2): whether a request asks for a WebSocket, whether it asks
// correctly, and the 101 head that accepts it. Stricter than Bun.serve, which also upgrades requests
// with no `Connection: upgrade`, with `Connection: keep-alive`, and over HTTP/1.0.
import type { RequestHead } from "../http/head.ts";
import { METHOD } from "../http/parser.ts";
import type { Reply } from "../server/reply.ts";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

const TEXT = ["Content-Type", "text/plain; charset=utf-8"] as const;

/** A malformed handshake (§4.2.1): 400, sent whatever the handler returns. */
const BAD_HANDSHAKE: Reply = { status: 400, headers: [TEXT], body: "400 Bad Request: not a valid WebSocket handshake\n" };
/** An unsupported version (§4.2.2): 426, naming the one we speak. */
const BAD_VERSION: Reply = {
  status: 426,
  headers: [TEXT, ["Sec-WebSocket-Version", "13"]],
  body: "426 Upgrade Required: WebSocket version 13 only\n",
};

/** Whether `value`, a comma-separated list of tokens, has `token` (lower case) in it. */
export function hasToken(value: string | undefined, token: string): boolean {
  if (value === undefined) return false;
  for (const part of value.split(",")) if (part.trim().toLowerCase() === token) return true;
  return false;
}

/** Whether the request asks to become a WebSocket (`Upgrade: websocket`), rightly or not. */
export function asksForWebSocket(head: RequestHead): boolean {
  return hasToken(head.header("upgrade"), "websocket");
}

/**
 * The client's Sec-WebSocket-Key when the request is a valid handshake, else the Reply that refuses
 * it: GET over HTTP/1.1, `Upgrade: websocket`, a `Connection` token `upgrade`, one key of 16 bytes in
 * base64, version 13, and no body.
 */
export function checkHandshake(head: RequestHead): string | Reply {
  if (head.method !== METHOD.GET || head.minor < 1 || head.hasBody) return BAD_HANDSHAKE;
  if (!asksForWebSocket(head) || !hasToken(head.header("connection"), "upgrade")) return BAD_HANDSHAKE;
  const keyAt = head.indexOf("sec-websocket-key");
  if (keyAt < 0 || head.indexOf("sec-websocket-key", keyAt + 1) >= 0) return BAD_HANDSHAKE;
  const key = head.valueAt(keyAt);
  if (!isKey(key)) return BAD_HANDSHAKE;
  if (head.header("sec-websocket-version") !== "13") return BAD_VERSION;
  return key;
}

/** 16 bytes in base64: 22 characters of the alphabet, then "==" (the last one holds 4 bits: A, Q, g or w). */
function isKey(key: string): boolean {
  if (key.length !== 24 || key.charCodeAt(22) !== 61 || key.charCodeAt(23) !== 61) return false;
  for (let i = 0; i < 22; i++) {
    const c = key.charCodeAt(i);
    const ok = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47;
    if (!ok) return false;
  }
  return "AQgw".includes(key[21]!);
}

/** Sec-WebSocket-Accept for a key (§4.2.2): base64 of SHA-1 of the key and the GUID. */
export function acceptKey(key: string): string {
  return Bun.SHA1.hash(key + GUID, "base64") as unknown as string;
}
