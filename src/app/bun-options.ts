// Bun.serve's own option names, in Bun's units and with Bun's defaults, turned into ours: `port`
// ($BUN_PORT, $PORT, $NODE_PORT, else 3000), `hostname` (every interface, reported as "localhost"),
// `idleTimeout` in seconds (0: never), `maxRequestBodySize` (default 128 MiB), `development`
// (accepted, ignored). Options we do not support are named in a one-line warning each, once.
// Our own settings keep their own names and units (keepAliveTimeout in ms, maxBody).
import { invalidArg } from "./route-errors.ts";

/** Bun.serve's options that mean something here, as Bun spells them. */
export interface BunServeOptions {
  port?: number | string;
  hostname?: string;
  /** Seconds a connection may go without a byte either way (Bun's default 10; 0: never). At most 255. */
  idleTimeout?: number;
  /** Largest request body in bytes (Bun's default: 128 MiB). */
  maxRequestBodySize?: number;
  /** Bun's development mode (error pages, HMR): accepted and ignored here. */
  development?: unknown;
  /** Bun's server id (for hot reload): kept, reported as server.id. */
  id?: string | null;
}

/** Bun's default maxRequestBodySize. */
export const BUN_MAX_BODY = 128 * 1024 * 1024;
const BUN_DEFAULT_PORT = 3000;

/** Options Bun.serve takes that we do not: each gets a warning line (with why, where it helps). */
const UNSUPPORTED: Record<string, string> = {
  unix: "unix sockets are not supported; listening on TCP",
  ipv6Only: "ipv6Only is not supported",
};

const warned = new Set<string>();
function warnOnce(key: string, text: string): void {
  if (warned.has(key)) return;
  warned.add(key);
  console.warn(`bunhttp: ${text}`);
}

/** What Bun's names come to in ours. */
export interface FromBun {
  port: number;
  hostname: string;
  /** The name server.hostname reports (Bun says "localhost" when no hostname was given). */
  shownHostname: string;
  keepAliveTimeout?: number;
  handlerTimeout?: number;
  sendTimeout?: number;
  maxBody?: number;
}

/** The port Bun.serve would take: the option, else $BUN_PORT, $PORT, $NODE_PORT, else 3000. */
export function bunPort(port: number | string | undefined): number {
  let value: unknown = port;
  if (value === undefined) {
    for (const name of ["BUN_PORT", "PORT", "NODE_PORT"]) {
      const v = process.env[name];
      if (v !== undefined && v !== "") {
        value = v;
        break;
      }
    }
  }
  if (value === undefined) return BUN_DEFAULT_PORT;
  const n = typeof value === "string" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > 65535) {
    const err = new RangeError(
      `The value of "options.port" is out of range. It must be >= 0 and <= 65535. Received ${String(value)}`,
    );
    (err as { code?: string }).code = "ERR_OUT_OF_RANGE";
    throw err;
  }
  return n;
}

/**
 * Bun's options as ours. Throws Bun's errors for what Bun refuses (an idleTimeout that is not an
 * integer, or over 255), and warns once for each option we do not support.
 */
export function fromBunOptions(options: BunServeOptions & Record<string, unknown>): FromBun {
  const out: FromBun = {
    port: bunPort(options.port),
    // Bun listens on every interface (IPv6 and IPv4) when no hostname is given.
    hostname: options.hostname ?? "::",
    shownHostname: options.hostname ?? "localhost",
  };
  const idle = options.idleTimeout;
  if (idle !== undefined) {
    if (typeof idle !== "number" || !Number.isInteger(idle)) throw invalidArg("Bun.serve expects idleTimeout to be an integer");
    if (idle > 255) throw invalidArg("Bun.serve expects idleTimeout to be 255 or less");
    // Bun's idle timeout counts every silence: between requests, while a response sends nothing, and
    // while a client reads nothing of it.
    const ms = idle > 0 ? idle * 1000 : 0;
    out.keepAliveTimeout = ms;
    out.handlerTimeout = ms;
    out.sendTimeout = ms;
  }
  const max = options.maxRequestBodySize;
  if (typeof max === "number" && Number.isFinite(max) && max >= 0) out.maxBody = Math.floor(max);
  if (options.development !== undefined && options.development !== false) {
    warnOnce("development", "`development` is accepted and ignored: there is no development mode here");
  }
  for (const key of Object.keys(UNSUPPORTED)) {
    if (options[key] !== undefined) warnOnce(key, UNSUPPORTED[key]!);
  }
  if (Array.isArray(options.tls)) warnOnce("tls[]", "several TLS certificates (SNI) are not supported; using the first");
  return out;
}
