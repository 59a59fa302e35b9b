// The metrics registry: the counters the engine's per-response hook feeds, the upstream counters the
// reverse proxy feeds, and their rendering in Prometheus's text exposition format 0.0.4. Counting a
// response is a few increments in typed arrays (no Map, no string, no object); text is made only when
// scraped, from these numbers and from gauges read at that moment.
import type { ProxyObserver } from "../proxy/proxy.ts";
import type { CacheCounts } from "../static/file-cache.ts";

/** The exposition format's media type (text format 0.0.4). */
export const EXPOSITION_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Duration buckets' upper bounds in ms, the hook's unit (so observe() never divides). */
const BUCKET_MS = [0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000] as const;
/** The same bounds as `le` labels, in seconds; then +Inf. */
const BUCKET_LE = [...BUCKET_MS.map((ms) => String(ms / 1000)), "+Inf"];
const BUCKETS = new Float64Array(BUCKET_MS);
/** Status codes are 3 digits (the reply writer refuses others): one slot each. */
const STATUS_SLOTS = 1000;

/** What the reverse proxy reports, per upstream (its host:port) and per failure reason. */
export type UpstreamMetrics = ProxyObserver;

/** Read at scrape time: what the listener and the WebSocket set hold now (the Server has these). */
export interface ServerGauges {
  readonly connectionCount: number;
  readonly acceptedConnections: number;
  readonly refusedConnections: number;
  readonly pendingWebSockets: number;
}

export class Metrics implements UpstreamMetrics {
  readonly #byStatus = new Float64Array(STATUS_SLOTS);
  /** Per bucket, not cumulative (render() adds them up); the last one is +Inf. */
  readonly #buckets = new Float64Array(BUCKET_MS.length + 1);
  #sumMs = 0;
  #count = 0;
  #bytes = 0;
  // The proxy's counters are keyed by strings: they count upstream exchanges, not our requests.
  readonly #upstreamRequests = new Map<string, number>();
  readonly #upstreamErrors = new Map<string, Map<string, number>>();

  /** One response, from the engine's log hook: its status, body bytes, and ms from dispatch to last byte. */
  observe(status: number, bytes: number, ms: number): void {
    this.#byStatus[status]!++;
    this.#bytes += bytes;
    this.#sumMs += ms;
    this.#count++;
    // Up from the smallest bound: most responses take under a millisecond, so this stops at once.
    let i = 0;
    while (i < BUCKETS.length && ms > BUCKETS[i]!) i++;
    this.#buckets[i]!++;
  }

  upstreamRequest(upstream: string): void {
    this.#upstreamRequests.set(upstream, (this.#upstreamRequests.get(upstream) ?? 0) + 1);
  }

  upstreamError(upstream: string, reason: string): void {
    let reasons = this.#upstreamErrors.get(upstream);
    if (reasons === undefined) this.#upstreamErrors.set(upstream, (reasons = new Map()));
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  }

  /** Every metric, in the text exposition format; `cache` is null when no files are served. */
  render(gauges: ServerGauges, cache: CacheCounts | null): string {
    const out: string[] = [];
    family(out, "http_requests_total", "counter", "Responses sent, by status code.");
    for (let code = 0; code < STATUS_SLOTS; code++) {
      const n = this.#byStatus[code]!;
      if (n !== 0) out.push(`http_requests_total{code="${code}"} ${n}`);
    }
    family(out, "http_request_duration_seconds", "histogram", "Time from a request's dispatch to its response's last byte handed to the kernel.");
    let cumulative = 0;
    for (let i = 0; i < BUCKET_LE.length; i++) {
      cumulative += this.#buckets[i]!;
      out.push(`http_request_duration_seconds_bucket{le="${BUCKET_LE[i]}"} ${cumulative}`);
    }
    out.push(`http_request_duration_seconds_sum ${this.#sumMs / 1000}`, `http_request_duration_seconds_count ${this.#count}`);
    sample(out, "http_response_bytes_total", "counter", "Response body bytes sent.", this.#bytes);
    sample(out, "http_connections_open", "gauge", "Client connections open now.", gauges.connectionCount);
    sample(out, "http_connections_total", "counter", "Client connections accepted.", gauges.acceptedConnections);
    sample(out, "http_connections_refused_total", "counter", "Client connections turned away with 503 at the connection limit.", gauges.refusedConnections);
    sample(out, "http_websockets_open", "gauge", "WebSockets open now.", gauges.pendingWebSockets);
    if (cache !== null) {
      sample(out, "http_static_cache_hits_total", "counter", "Static file requests answered from the file cache.", cache.hits);
      sample(out, "http_static_cache_misses_total", "counter", "Static file requests whose path was not in the file cache (or was stale).", cache.misses);
    }
    family(out, "http_proxy_upstream_requests_total", "counter", "Requests sent to upstreams by the reverse proxy.");
    for (const [upstream, n] of this.#upstreamRequests) out.push(`http_proxy_upstream_requests_total{upstream="${label(upstream)}"} ${n}`);
    family(out, "http_proxy_upstream_errors_total", "counter", "Failed upstream requests of the reverse proxy, by reason.");
    for (const [upstream, reasons] of this.#upstreamErrors) {
      for (const [reason, n] of reasons) {
        out.push(`http_proxy_upstream_errors_total{upstream="${label(upstream)}",reason="${label(reason)}"} ${n}`);
      }
    }
    out.push("");
    return out.join("\n");
  }
}

function family(out: string[], name: string, type: string, help: string): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
}

function sample(out: string[], name: string, type: string, help: string, value: number): void {
  family(out, name, type, help);
  out.push(`${name} ${value}`);
}

/** A label value as the format quotes it: backslash, double quote and line feed escaped. */
function label(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));
}
