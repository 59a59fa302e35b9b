// HTTP Basic authentication (RFC 7617) as a handler in the chain: a request without valid credentials
// gets 401 with a challenge (`WWW-Authenticate: Basic realm="…", charset="UTF-8"`); one with them goes
// on down the chain, its user noted for the access log (never the password). Credentials are checked
// by credentials.ts; when it is too busy to check more, 503 with Retry-After.
import type { Handler } from "../server/handler.ts";
import type { Reply } from "../server/reply.ts";
import { type AuthOptions, BUSY, Credentials } from "./credentials.ts";

export type { AuthOptions } from "./credentials.ts";

export const DEFAULT_REALM = "bunhttp";

const encoder = new TextEncoder();
const BUSY_REPLY: Reply = {
  status: 503,
  headers: encoder.encode("Content-Type: text/plain; charset=utf-8\r\nRetry-After: 1\r\nCache-Control: no-store\r\n"),
  body: "503 Service Unavailable: too many logins at once\n",
};

/** A realm is a quoted-string: printable ASCII but `"` and `\`, which would need escapes browsers mishandle. */
export function checkRealm(realm: string): string {
  if (!/^[\x20-\x7e]*$/.test(realm) || /["\\]/.test(realm)) throw new Error(`auth realm ${JSON.stringify(realm)}: printable ASCII without " or \\`);
  return realm;
}

/** The handler that lets only the configured users through. Throws on bad options (a bad file). */
export function createAuthHandler(options: AuthOptions): Handler {
  const credentials = new Credentials(options);
  const realm = checkRealm(options.realm ?? DEFAULT_REALM);
  const challenge: Reply = {
    status: 401,
    headers: encoder.encode(
      `WWW-Authenticate: Basic realm="${realm}", charset="UTF-8"\r\nContent-Type: text/plain; charset=utf-8\r\nCache-Control: no-store\r\n`,
    ),
    body: "401 Unauthorized\n",
  };
  return (req) => {
    const value = req.head.header("authorization");
    const token = value === undefined ? null : basicToken(value);
    if (token === null) return challenge;
    const r = credentials.check(token);
    if (typeof r === "string") {
      req.remoteUser = r;
      return null;
    }
    if (r === null) return challenge;
    if (r === BUSY) return BUSY_REPLY;
    return r.then((user) => {
      if (user === null) return challenge;
      req.remoteUser = user;
      return null;
    });
  };
}

/**
 * The token68 of a `Basic` credentials value (the scheme is case-insensitive, RFC 9110 §11.1), or null
 * for another scheme or a token that is not base64.
 */
export function basicToken(value: string): string | null {
  if (value.length < 7 || value.slice(0, 6).toLowerCase() !== "basic ") return null;
  const token = value.slice(6).trim();
  return /^[A-Za-z0-9+/]+={0,2}$/.test(token) ? token : null;
}
