// CORS (the Fetch standard's CORS protocol, §3.2): a handler at the head of the chain that answers
// preflights (OPTIONS with Origin and Access-Control-Request-Method: they carry no credentials, so they
// come before authentication) and, for every other request, sets the fields its response carries,
// whatever answers it (files, apps, the proxy, error pages, a 401), as ServerRequest.addedFields.
// `*` allows any origin without credentials; a list of origins echoes the one that matches, with
// credentials allowed, and every response says `Vary: Origin`, matching or not (a cache must not give
// one origin's answer to another). All field lines are encoded once, at start. A response that sets
// its own Access-Control-Allow-Origin (an app's, an upstream's) is left to answer for itself: two
// would make the browser refuse it. It gets none of our fields but Vary: Origin under a list (whether
// it or we answer still depends on the origin).
import type { AddedFields } from "../http/added-fields.ts";
import { HTAB, isToken, SP } from "../http/chars.ts";
import { METHOD } from "../http/parser.ts";
import type { Handler } from "../server/handler.ts";
import type { Reply } from "../server/reply.ts";
import type { ServerRequest } from "../server/request.ts";

/** `true`: any origin (`*`); a list: only these origins ("https://app.example:8443"). */
export type CorsOption = boolean | readonly string[];

/** How long a browser may keep a preflight's answer (s): Chromium caps it at 2 h, so this is what it keeps. */
export const CORS_MAX_AGE = 7200;
/**
 * What a page may read of a response beyond the safelisted fields. `*` means every field only for
 * requests without credentials; with credentials (the list mode) it is a name, so they are named.
 */
const EXPOSED = "Accept-Ranges, Content-Encoding, Content-Range, ETag, Location, Retry-After, WWW-Authenticate";

const encoder = new TextEncoder();

/**
 * Checks and normalises configured origins: each must be an origin as a browser sends it
 * (scheme://host[:port], no path); returns them lower-cased, or throws naming the bad one.
 */
export function parseOrigins(list: string | readonly string[]): string[] {
  const items = typeof list === "string" ? list.split(",") : list;
  const out: string[] = [];
  for (const item of items) {
    const given = item.trim().replace(/\/$/, "");
    if (given === "") continue;
    let origin: string;
    try {
      origin = new URL(given).origin;
    } catch {
      origin = "null";
    }
    // ("null" is what sandboxed pages and file: URLs send: allowing it would allow all of them)
    if (origin === "null" || origin !== given.toLowerCase()) {
      throw new Error(`CORS origin ${JSON.stringify(item.trim())} is not an origin such as https://app.example or http://127.0.0.1:3000`);
    }
    out.push(origin);
  }
  if (out.length === 0) throw new Error("CORS origin list is empty");
  return out;
}

/** The CORS handler for `option` (true or a list of origins), or null when CORS is off. */
export function createCorsHandler(option: CorsOption | undefined): Handler | null {
  if (option === undefined || option === false) return null;
  if (option === true) return anyOrigin;
  const allowed = new Map<string, AddedFields>();
  for (const origin of parseOrigins(option)) {
    const lines = encoder.encode(`Access-Control-Allow-Origin: ${origin}\r\nAccess-Control-Allow-Credentials: true\r\nAccess-Control-Expose-Headers: ${EXPOSED}\r\nVary: Origin\r\n`);
    allowed.set(origin, { lines, yieldTo: ALLOW_ORIGIN, instead: VARY_ORIGIN_LINE });
  }
  return (req) => {
    const origin = req.head.header("origin");
    const fields = origin === undefined ? undefined : allowed.get(origin);
    if (req.head.method === METHOD.OPTIONS && origin !== undefined && isPreflight(req)) {
      return fields === undefined ? REFUSED_PREFLIGHT : preflight(req, fields);
    }
    req.addedFields = fields ?? VARY_ORIGIN;
    return null;
  };
}

const ALLOW_ORIGIN = "access-control-allow-origin";
const VARY_ORIGIN_LINE = encoder.encode("Vary: Origin\r\n");
const ANY_ORIGIN: AddedFields = {
  lines: encoder.encode("Access-Control-Allow-Origin: *\r\nAccess-Control-Expose-Headers: *\r\n"),
  yieldTo: ALLOW_ORIGIN,
  instead: null,
};
/** For an origin not on the list: no Allow-Origin, but the answer still depends on the origin. */
const VARY_ORIGIN: AddedFields = { lines: VARY_ORIGIN_LINE, yieldTo: null, instead: null };
/** A preflight's answer depends on what it asked as well. */
const PREFLIGHT_VARY: [string, string] = ["Vary", "Access-Control-Request-Method, Access-Control-Request-Headers"];
const MAX_AGE: [string, string] = ["Access-Control-Max-Age", `${CORS_MAX_AGE}`];
/** An origin not on the list: no Access-Control-Allow-Origin, so the browser refuses the request. */
const REFUSED_PREFLIGHT: Reply = {
  status: 204,
  headers: encoder.encode("Vary: Origin, Access-Control-Request-Method, Access-Control-Request-Headers\r\n"),
};

function anyOrigin(req: ServerRequest): Reply | null {
  if (req.head.method === METHOD.OPTIONS && isPreflight(req) && req.head.header("origin") !== undefined) {
    return preflight(req, ANY_ORIGIN);
  }
  req.addedFields = ANY_ORIGIN;
  return null;
}

function isPreflight(req: ServerRequest): boolean {
  return req.head.header("access-control-request-method") !== undefined;
}

/**
 * 204 allowing the method and the fields asked for (echoed when they are well-formed tokens; §3.2.3:
 * a preflight's status must be ok), to be kept for CORS_MAX_AGE.
 */
function preflight(req: ServerRequest, fields: AddedFields): Reply {
  req.addedFields = fields;
  const headers: [string, string][] = [];
  // (field values come without the OWS around them: the parser strips it)
  const method = req.head.header("access-control-request-method")!;
  if (isToken(method)) headers.push(["Access-Control-Allow-Methods", method]);
  const asked = req.head.header("access-control-request-headers");
  if (asked !== undefined && isTokenList(asked)) headers.push(["Access-Control-Allow-Headers", asked]);
  headers.push(MAX_AGE, PREFLIGHT_VARY);
  return { status: 204, headers };
}

/** A comma list of tokens with OWS around the commas (what Access-Control-Request-Headers holds); no empty items. */
function isTokenList(s: string): boolean {
  for (let start = 0; ; ) {
    let end = s.indexOf(",", start);
    if (end < 0) end = s.length;
    let a = start;
    let b = end;
    while (a < b && isOws(s.charCodeAt(a))) a++;
    while (b > a && isOws(s.charCodeAt(b - 1))) b--;
    if (!isToken(s, a, b)) return false;
    if (end === s.length) return true;
    start = end + 1;
  }
}

function isOws(c: number): boolean {
  return c === SP || c === HTAB;
}
