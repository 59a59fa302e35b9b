// The handler that answers the metrics path (first in the chain, as the health check): GET and HEAD
// get the exposition text, other methods 405. Every other request is told "not mine" after comparing
// its path's length, and its bytes only when the length is that of the metrics path.
import { METHOD } from "../http/parser.ts";
import type { Handler } from "../server/handler.ts";
import type { Reply } from "../server/reply.ts";
import { EXPOSITION_TYPE } from "./registry.ts";

const HEADERS: [string, string][] = [
  ["Content-Type", EXPOSITION_TYPE],
  ["Cache-Control", "no-store"],
];

const NOT_ALLOWED: Reply = {
  status: 405,
  headers: [
    ["Allow", "GET, HEAD"],
    ["Content-Type", "text/plain; charset=utf-8"],
    ["Cache-Control", "no-store"],
  ],
  body: "405 Method Not Allowed\n",
};

/** Answers `path` (as sent, percent-encoded) with `render()`; null for any other path. */
export function createMetricsHandler(path: string, render: () => string): Handler {
  const want = new TextEncoder().encode(path);
  return (req) => {
    const h = req.head;
    if (h.pathEnd - h.pathStart !== want.length || !h.pathStartsWith(want)) return null;
    if (h.method !== METHOD.GET && h.method !== METHOD.HEAD) return NOT_ALLOWED;
    // A scrape is counted like any other request once it is answered (as most exporters do): the
    // text it gets does not include itself, the next scrape's does.
    return { status: 200, headers: HEADERS, body: render() };
  };
}
