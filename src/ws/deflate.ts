// permessage-deflate (RFC 7692): the negotiation, and a message's compression and decompression with
// node:zlib's raw deflate. Both directions run without context takeover: every message is compressed
// on its own, so one compressor and one decompressor serve every socket and a socket holds no zlib
// state (a dedicated deflate context costs about 256 KiB). The server asks the client for the same
// with `client_no_context_takeover`, which a server may always do (§7.1.1.2).
import zlib from "node:zlib";
import { concatBytes } from "../http/chars.ts";

export interface DeflateParams {
  /** The largest window the server may use (RFC 7692 §7.1.2.1); below 9 it sends uncompressed. */
  serverMaxWindowBits: number;
  /** What goes back in Sec-WebSocket-Extensions. */
  response: string;
}

const SYNC_FLUSH = { finishFlush: zlib.constants.Z_SYNC_FLUSH };
const INFO = { finishFlush: zlib.constants.Z_SYNC_FLUSH, info: true } as const;
/** Appended to a message before inflating, removed after deflating (§7.2.1, §7.2.2). */
const TAIL = new Uint8Array([0x00, 0x00, 0xff, 0xff]);

/**
 * The first acceptable permessage-deflate offer of a Sec-WebSocket-Extensions value, or null. An offer
 * with an unknown or repeated parameter, or a bad value, is declined (§7.1), and the next one tried.
 */
export function negotiateDeflate(header: string | undefined): DeflateParams | null {
  if (header === undefined) return null;
  for (const offer of splitOffers(header)) {
    const params = offer.split(";").map((p) => p.trim());
    if (params[0]!.toLowerCase() !== "permessage-deflate") continue;
    const seen = new Set<string>();
    let serverBits = 15;
    let ok = true;
    for (let i = 1; i < params.length && ok; i++) {
      const p = params[i]!;
      if (p === "") {
        ok = false;
        break;
      }
      const eq = p.indexOf("=");
      const name = (eq < 0 ? p : p.slice(0, eq)).trim().toLowerCase();
      let value = eq < 0 ? null : p.slice(eq + 1).trim();
      if (value !== null && value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      if (seen.has(name)) ok = false;
      seen.add(name);
      switch (name) {
        case "server_no_context_takeover":
        case "client_no_context_takeover":
          if (value !== null) ok = false;
          break;
        case "server_max_window_bits":
          if (value === null || !isWindowBits(value)) ok = false;
          else serverBits = Number(value);
          break;
        case "client_max_window_bits":
          // Without a value: the client can take a limit; we ask none (we inflate any window).
          if (value !== null && !isWindowBits(value)) ok = false;
          break;
        default:
          ok = false;
      }
    }
    if (!ok) continue;
    let response = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";
    if (seen.has("server_max_window_bits")) response += `; server_max_window_bits=${serverBits}`;
    return { serverMaxWindowBits: serverBits, response };
  }
  return null;
}

/** The offers of an extensions value: commas outside quoted strings. */
function splitOffers(header: string): string[] {
  const out: string[] = [];
  let from = 0;
  let quoted = false;
  for (let i = 0; i < header.length; i++) {
    const c = header.charCodeAt(i);
    if (c === 34 /* '"' */) quoted = !quoted;
    else if (c === 44 /* ',' */ && !quoted) {
      out.push(header.slice(from, i));
      from = i + 1;
    }
  }
  out.push(header.slice(from));
  return out.map((s) => s.trim()).filter((s) => s !== "");
}

function isWindowBits(value: string): boolean {
  return /^(?:8|9|1[0-5])$/.test(value);
}

/** A message's payload compressed (§7.2.1), or null when this window cannot be honoured by zlib. */
export function deflateMessage(payload: Uint8Array, params: DeflateParams): Uint8Array | null {
  // zlib's raw deflate has no 256-byte window (it takes 8 as 9): such a peer gets plain messages.
  if (params.serverMaxWindowBits < 9) return null;
  const out = zlib.deflateRawSync(payload, { ...SYNC_FLUSH, windowBits: params.serverMaxWindowBits });
  return out.subarray(0, out.length - 4); // ends in 00 00 ff ff after a sync flush
}

/**
 * A compressed message's payload inflated (§7.2.2), at most `max` bytes. Returns the bytes, "big" past
 * `max`, or null for data that is not valid DEFLATE. A sender may end blocks with BFINAL set and go on
 * after them (§7.2.3.4: "Hello" in a final block, then the first octet of an empty one): what follows
 * a final block is inflated as DEFLATE in turn, so only bytes that are not DEFLATE are refused.
 */
export function inflateMessage(payload: Uint8Array, max: number): Uint8Array | "big" | null {
  const parts: Uint8Array[] = [];
  let total = 0;
  for (let at = 0; at < payload.length || parts.length === 0; ) {
    const rest = payload.length - at;
    const input = new Uint8Array(rest + 4);
    input.set(payload.subarray(at), 0);
    input.set(TAIL, rest);
    let r: { buffer: Uint8Array; engine: { bytesWritten: number } };
    try {
      r = zlib.inflateRawSync(input, { ...INFO, maxOutputLength: Math.max(max - total, 1) }) as never;
    } catch (err) {
      if ((err as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") return "big";
      return null;
    }
    const used = r.engine.bytesWritten;
    if (used === 0) return null;
    parts.push(r.buffer);
    total += r.buffer.length;
    if (total > max) return "big";
    at += used;
  }
  return parts.length === 1 ? parts[0]! : concatBytes(parts);
}
