// The engine's per-response hook (ListenHooks.log), composed: it feeds the access log, the metrics,
// or both. With neither there is no hook, and the engine does not time requests at all.
import type { AccessLog } from "../server/access-log.ts";
import type { ListenHooks } from "../server/listen.ts";
import type { Metrics } from "./registry.ts";

export function logHooks(accessLog: AccessLog | null, metrics: Metrics | null): Pick<ListenHooks, "log" | "tick"> {
  if (metrics === null) {
    if (accessLog === null) return {};
    return { log: (req, status, bytes, remote, now, ms) => accessLog.write(req, status, bytes, remote, now, ms), tick: () => accessLog.flush() };
  }
  if (accessLog === null) return { log: (_req, status, bytes, _remote, _now, ms) => metrics.observe(status, bytes, ms) };
  return {
    log(req, status, bytes, remote, now, ms) {
      metrics.observe(status, bytes, ms);
      accessLog.write(req, status, bytes, remote, now, ms);
    },
    tick: () => accessLog.flush(),
  };
}
