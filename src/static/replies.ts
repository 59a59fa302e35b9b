// The small replies every part of static serving may give: plain-text statuses, and the answer to a
// method other than GET or HEAD.
import { METHOD } from "../http/parser.ts";
import type { Reply } from "../server/reply.ts";

const ALLOW = "GET, HEAD, OPTIONS";
const TEXT = "text/plain; charset=utf-8";

/** Files are read, never written: GET and HEAD are the methods that get one (RFC 9110 §9.3.1-2). */
export function isGetOrHead(method: number): boolean {
  return method === METHOD.GET || method === METHOD.HEAD;
}

/** `status text` as a plain-text body, e.g. "404 Not Found". */
export function textReply(status: number, text: string, extra: [string, string][] = []): Reply {
  return { status, headers: [["Content-Type", TEXT], ...extra], body: `${status} ${text}\n` };
}

/** OPTIONS → 204 with Allow; any other method a file does not take → 405 with Allow (§15.5.6). */
export function notAllowed(method: number): Reply {
  if (method === METHOD.OPTIONS) return { status: 204, headers: [["Allow", ALLOW]] };
  return {
    status: 405,
    headers: [
      ["Allow", ALLOW],
      ["Content-Type", TEXT],
    ],
    body: "405 Method Not Allowed\n",
  };
}
