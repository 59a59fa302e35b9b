// --watch: live reload. HTML files get a script tag (LIVE_RELOAD_HTML, applied by the static file
// cache as it loads them, which also stat()s every file at every request while watching); the script
// opens an event stream under the reserved /.bunhttp/ path; when files under the root change, every
// open stream gets "css" (only stylesheets changed: the page swaps them) or "reload". Bounded: at
// most `maxClients` streams (more get 503), and what each queues is capped (event-stream.ts).
import { METHOD } from "../http/parser.ts";
import type { Handler } from "../server/handler.ts";
import type { Reply } from "../server/reply.ts";
import type { HtmlTransform } from "../static/file-cache.ts";
import { CLIENT_SCRIPT, EVENTS_PATH, RESERVED_PREFIX, SCRIPT_PATH, SCRIPT_TAG } from "./client-script.ts";
import { encodeEvent, EventStream, HEARTBEAT } from "./event-stream.ts";
import { injectBeforeBody } from "./inject.ts";
import { watchTree } from "./watcher.ts";

export { EVENTS_PATH, RESERVED_PREFIX, SCRIPT_PATH, SCRIPT_TAG } from "./client-script.ts";

export interface LiveReloadOptions {
  /** Event streams open at once at most; more get 503 (default 1000). */
  maxClients?: number;
  /** Quiet time after a file event before pages are told (default 75 ms). */
  debounceMs?: number;
  /** A comment is sent on every stream this often, so proxies keep it open (default 30 s). */
  heartbeatMs?: number;
}

export interface LiveReload {
  /** Answers the reserved /.bunhttp/ paths; null for every other path. */
  readonly handler: Handler;
  /** Event streams open now. */
  readonly clients: number;
  /** Ends every stream and stops watching. */
  close(): void;
}

const encoder = new TextEncoder();
const TAG = encoder.encode(SCRIPT_TAG);

/**
 * The script tag before the last </body>. HTML files up to 8 MiB are read whole to get it (and then
 * held in memory, compressed from there); larger ones are streamed from disk untouched, as without
 * --watch.
 */
export const LIVE_RELOAD_HTML: HtmlTransform = {
  etagSuffix: "lr",
  maxSize: 8 * 1024 * 1024,
  apply: (html) => injectBeforeBody(html, TAG),
};

const NO_STORE = "Cache-Control: no-store\r\n";
const STREAM_HEAD = encoder.encode(`Content-Type: text/event-stream; charset=utf-8\r\n${NO_STORE}X-Accel-Buffering: no\r\n`);
const TEXT = "text/plain; charset=utf-8";

const SCRIPT_REPLY: Reply = {
  status: 200,
  headers: [
    ["Content-Type", "text/javascript; charset=utf-8"],
    ["Cache-Control", "no-cache"],
  ],
  body: CLIENT_SCRIPT,
};
const NOT_FOUND: Reply = { status: 404, headers: [["Content-Type", TEXT]], body: "404 Not Found\n" };
const NOT_ALLOWED: Reply = { status: 405, headers: [["Allow", "GET, HEAD"], ["Content-Type", TEXT]], body: "405 Method Not Allowed\n" };
const TOO_MANY: Reply = {
  status: 503,
  headers: [["Retry-After", "10"], ["Content-Type", TEXT], ["Cache-Control", "no-store"]],
  body: "503 Service Unavailable: too many live-reload pages open\n",
};

const PREFIX = encoder.encode(RESERVED_PREFIX);

/** Watches `root` and answers the pages watching it. */
export function createLiveReload(root: string, options: LiveReloadOptions = {}): LiveReload {
  const maxClients = options.maxClients ?? 1000;
  const streams = new Set<EventStream>();
  const forget = (s: EventStream) => streams.delete(s);
  let closed = false;

  const watcher = watchTree(root, options.debounceMs ?? 75, (paths) => {
    const css = paths.length > 0 && paths.every((p) => p !== null && p.endsWith(".css"));
    const event = encodeEvent(css ? "css" : "reload", JSON.stringify(paths));
    for (const s of streams) s.push(event);
  });
  const heartbeat = setInterval(() => {
    for (const s of streams) s.push(HEARTBEAT);
  }, options.heartbeatMs ?? 30_000);
  heartbeat.unref();

  const handler: Handler = (req) => {
    const h = req.head;
    if (!h.pathStartsWith(PREFIX)) return null;
    const path = h.path;
    if (path !== EVENTS_PATH && path !== SCRIPT_PATH) return NOT_FOUND;
    if (h.method !== METHOD.GET && h.method !== METHOD.HEAD) return NOT_ALLOWED;
    if (path === SCRIPT_PATH) return SCRIPT_REPLY;
    if (h.method === METHOD.HEAD) return { status: 200, headers: STREAM_HEAD, body: null, length: -1 };
    if (closed || streams.size >= maxClients) return TOO_MANY;
    // The stream is idle between changes by design: no handler timeout cuts it (a client that stops
    // reading is still cut by sendTimeout, once its heartbeats back up).
    req.setWaitTimeout(0);
    const stream = new EventStream(forget);
    streams.add(stream);
    return { status: 200, headers: STREAM_HEAD, body: stream };
  };

  return {
    handler,
    get clients() {
      return streams.size;
    },
    close() {
      closed = true;
      watcher.close();
      clearInterval(heartbeat);
      for (const s of streams) s.end();
    },
  };
}
