// The `websocket` option of Bun.serve, read once into what the sockets use, with Bun's defaults:
// 16 MiB messages, 16 MiB of backpressure, 120 s idle with pings, no compression.

type Compressor = boolean | "disable" | "shared" | "dedicated" | `${number}KB`;

/** `Ws`: the socket object the handlers get (serve.ts gives server-websocket.ts's ServerWebSocket). */
export interface WebSocketHandler<Ws = unknown> {
  open?(ws: Ws): unknown;
  /** Binary messages are Buffers by default (binaryType "nodebuffer"), typed as Bun types them. */
  message?(ws: Ws, message: string | Buffer<ArrayBuffer>): unknown;
  close?(ws: Ws, code: number, reason: string): unknown;
  drain?(ws: Ws): unknown;
  ping?(ws: Ws, data: Buffer): unknown;
  pong?(ws: Ws, data: Buffer): unknown;
  error?(error: unknown, ws: Ws): unknown;
  maxPayloadLength?: number;
  backpressureLimit?: number;
  closeOnBackpressureLimit?: boolean;
  /** Seconds (0: never). */
  idleTimeout?: number;
  publishToSelf?: boolean;
  sendPings?: boolean;
  perMessageDeflate?: boolean | { compress?: Compressor; decompress?: Compressor };
  /** Only a type carrier in Bun (`data: {} as T`). */
  data?: unknown;
}

export interface WsSettings {
  /** The handlers, called with whatever socket object they are given. */
  readonly handler: WebSocketHandler<any>;
  readonly maxPayloadLength: number;
  /** 0: no limit. */
  readonly backpressureLimit: number;
  readonly closeOnBackpressureLimit: boolean;
  /** ms; 0: never. */
  readonly idleTimeout: number;
  readonly publishToSelf: boolean;
  readonly sendPings: boolean;
  /** Whether permessage-deflate is offered back to clients that ask (and whether we compress, inflate). */
  readonly deflate: boolean;
  readonly compress: boolean;
}

const MiB16 = 16 * 1024 * 1024;
const U32_MAX = 4294967295;

function clampU32(value: number | undefined, fallback: number): number {
  if (value === undefined || !Number.isFinite(value)) return fallback;
  return Math.min(Math.max(Math.floor(value), 0), U32_MAX);
}

function isOn(c: Compressor | undefined): boolean {
  return c !== undefined && c !== false && c !== "disable";
}

export function wsSettings<Ws>(handler: WebSocketHandler<Ws>): WsSettings {
  const pmd = handler.perMessageDeflate;
  let deflate = false;
  let compress = false;
  if (pmd === true) {
    deflate = compress = true;
  } else if (pmd !== undefined && pmd !== false && typeof pmd === "object") {
    // "dedicated" and window sizes ask for per-socket contexts: every message here is compressed on
    // its own (deflate.ts), which any of them allows.
    const inflate = pmd.decompress === undefined ? true : isOn(pmd.decompress);
    compress = pmd.compress === undefined ? inflate : isOn(pmd.compress);
    deflate = inflate || compress;
  }
  let idle = clampU32(handler.idleTimeout, 120);
  if (idle > 960) idle = 960;
  return {
    handler,
    maxPayloadLength: clampU32(handler.maxPayloadLength, MiB16),
    backpressureLimit: clampU32(handler.backpressureLimit, MiB16),
    closeOnBackpressureLimit: handler.closeOnBackpressureLimit === true,
    idleTimeout: idle * 1000,
    publishToSelf: handler.publishToSelf === true,
    sendPings: handler.sendPings !== false,
    deflate,
    compress,
  };
}
