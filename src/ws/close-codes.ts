// WebSocket close codes (RFC 6455 §7.4 and IANA's registry) and which of them a peer may send.

export const CLOSE = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  PROTOCOL_ERROR: 1002,
  UNSUPPORTED_DATA: 1003,
  /** Never on the wire: the close frame had no code (§7.1.5). */
  NO_STATUS: 1005,
  /** Never on the wire: the connection closed without a close frame (§7.1.5). */
  ABNORMAL: 1006,
  INVALID_PAYLOAD: 1007,
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
  INTERNAL_ERROR: 1011,
  /** IANA: the server is overloaded (our body budget is spent by messages in pieces). */
  TRY_AGAIN_LATER: 1013,
} as const;

/**
 * Whether a close frame may carry `code` (§7.4.1 and §7.4.2): the defined codes other than those an
 * endpoint must never send (1004 reserved, 1005, 1006, 1015), IANA's 1012–1014, and 3000–4999 for
 * libraries and applications. 0–999, 1016–2999 and 5000 up are refused with 1002.
 */
export function isValidCloseCode(code: number): boolean {
  if (code >= 3000 && code <= 4999) return true;
  if (code < 1000 || code > 1014) return false;
  return code !== 1004 && code !== 1005 && code !== 1006;
}

