// A raw-bytes WebSocket client for conformance tests: it sends the opening handshake with the headers a
// test chooses, then writes client frames exactly as asked (masked or not, any FIN/RSV/opcode, any length
// encoding, split into pieces or byte by byte), and decodes what the server sends incrementally into a
// queue, checking that every server frame is well formed (RFC 6455 §5.2: unmasked, minimal length, no
// RSV bits an extension did not claim, control frames short and final, sane fragmentation, nothing after
// a close frame). permessage-deflate (RFC 7692) is done on this side with node:zlib raw deflate. Also
// the test app (serveEcho: ours, or Bun.serve with WS_TARGET=bun) and the small helpers every
// conformance file shares.
import { afterAll, beforeAll } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import zlib from "node:zlib";
import { concatBytes } from "../../src/http/chars.ts";
import { serve } from "../../src/serve.ts";
import { RawClient, type RawResponse } from "./raw-client.ts";

export const OP = { CONT: 0, TEXT: 1, BINARY: 2, CLOSE: 8, PING: 9, PONG: 10 } as const;

/** The 3-bit RSV field as a number, Autobahn's way: 4 is RSV1 (permessage-deflate's bit), 2 RSV2, 1 RSV3. */
export const RSV1 = 4;

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const SYNC_TAIL = new Uint8Array([0x00, 0x00, 0xff, 0xff]);
const WINDOW = 32768;
const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
// A leading U+FEFF is message data, not a byte order mark to drop.
const asText = new TextDecoder("utf-8", { ignoreBOM: true });

/** Bytes written in hex, spaces allowed: hex("ce ba") is κ. */
export function hex(h: string): Uint8Array {
  return new Uint8Array((h.replace(/\s+/g, "").match(/../g) ?? []).map((b) => parseInt(b, 16)));
}

/** Bytes of a string as UTF-8, or the bytes themselves. */
export function bytesOf(data: string | Uint8Array): Uint8Array {
  return typeof data === "string" ? utf8.encode(data) : data;
}

export function isValidUtf8(bytes: Uint8Array): boolean {
  try {
    strictUtf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** n bytes in a fixed sequence (step 31 mod 256, from `seed`): binary data where a shifted or lost byte shows. */
export function pattern(n: number, seed = 0): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

/** n bytes of printable ASCII text (valid UTF-8 whatever the cut). */
export function asciiText(n: number): string {
  const line = "The quick brown fox jumps over the lazy dog 0123456789. ";
  return line.repeat(Math.ceil(n / line.length)).slice(0, n);
}

// ---------------------------------------------------------------------------------------------------------------
// Client frames

export interface FrameSpec {
  opcode: number;
  payload?: string | Uint8Array;
  /** Default true. */
  fin?: boolean;
  /** The 3-bit RSV field (RSV1 = 4). Default 0. */
  rsv?: number;
  /** The masking key; false sends the frame unmasked (a protocol error from a client). Default: random. */
  mask?: Uint8Array | false;
  /** Force the length encoding: 7 (only up to 125), 16 or 64 bits; default the minimal one. */
  lengthBits?: 7 | 16 | 64;
  /** The length the header declares, when it should differ from the payload's (a frame cut short). */
  declaredLength?: number;
}

/** The bytes of one client frame. */
export function encodeFrame(spec: FrameSpec): Uint8Array {
  const payload = bytesOf(spec.payload ?? new Uint8Array(0));
  const len = spec.declaredLength ?? payload.length;
  const bits = spec.lengthBits ?? (len < 126 ? 7 : len < 65536 ? 16 : 64);
  const mask = spec.mask === false ? null : (spec.mask ?? randomBytes(4));
  const headLen = 2 + (bits === 16 ? 2 : bits === 64 ? 8 : 0) + (mask ? 4 : 0);
  const out = new Uint8Array(headLen + payload.length);
  out[0] = ((spec.fin ?? true) ? 0x80 : 0) | ((spec.rsv ?? 0) & 7) << 4 | (spec.opcode & 0x0f);
  const maskBit = mask ? 0x80 : 0;
  let p = 2;
  if (bits === 7) {
    out[1] = maskBit | len;
  } else if (bits === 16) {
    out[1] = maskBit | 126;
    out[2] = len >>> 8;
    out[3] = len & 0xff;
    p = 4;
  } else {
    out[1] = maskBit | 127;
    new DataView(out.buffer).setBigUint64(2, BigInt(len));
    p = 10;
  }
  if (mask) {
    out.set(mask, p);
    p += 4;
    for (let i = 0; i < payload.length; i++) out[p + i] = payload[i]! ^ mask[i & 3]!;
  } else {
    out.set(payload, p);
  }
  return out;
}

/** A close frame's payload: the code (2 bytes, big-endian) and the reason. */
export function closePayload(code: number, reason: string | Uint8Array = ""): Uint8Array {
  const r = bytesOf(reason);
  const out = new Uint8Array(2 + r.length);
  out[0] = code >>> 8;
  out[1] = code & 0xff;
  out.set(r, 2);
  return out;
}

/** Fragment specs for one message: `sizes` are the fragment payload lengths (the last takes the rest). */
export function fragments(opcode: number, data: string | Uint8Array, sizes: number[], rsv = 0): FrameSpec[] {
  const bytes = bytesOf(data);
  const out: FrameSpec[] = [];
  let off = 0;
  for (let i = 0; i < sizes.length; i++) {
    const end = i === sizes.length - 1 ? bytes.length : Math.min(bytes.length, off + sizes[i]!);
    out.push({ opcode: i === 0 ? opcode : OP.CONT, fin: i === sizes.length - 1, rsv: i === 0 ? rsv : 0, payload: bytes.subarray(off, end) });
    off = end;
  }
  return out;
}

/** A message cut into fragments of `size` bytes (at least one fragment). */
export function fragmentsOf(opcode: number, data: string | Uint8Array, size: number, rsv = 0): FrameSpec[] {
  const n = Math.max(1, Math.ceil(bytesOf(data).length / size));
  return fragments(opcode, data, new Array<number>(n).fill(size), rsv);
}

// ---------------------------------------------------------------------------------------------------------------
// Server frames

export interface Frame {
  fin: boolean;
  rsv: number;
  opcode: number;
  payload: Uint8Array;
}

export interface Message {
  opcode: typeof OP.TEXT | typeof OP.BINARY;
  /** Payload after inflating, when the message was compressed. */
  data: Uint8Array;
  compressed: boolean;
  /** The payload bytes as they came, joined across fragments (before inflating). */
  wire: Uint8Array;
  frames: number;
  text(): string;
}

export interface Close {
  /** 1005 when the close frame had no payload. */
  code: number;
  reason: string;
  /** ms from the call to expectClose() to the close frame. */
  after: number;
}

/** The permessage-deflate parameters the server accepted (RFC 7692 §7.1). */
export interface Deflate {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits?: number;
  clientMaxWindowBits?: number;
}

export function parseDeflateResponse(header: string | undefined): Deflate | null {
  if (!header) return null;
  const parts = header.split(";").map((p) => p.trim());
  if (parts[0]!.toLowerCase() !== "permessage-deflate") throw new Error(`unexpected extension: ${header}`);
  const d: Deflate = { serverNoContextTakeover: false, clientNoContextTakeover: false };
  for (const p of parts.slice(1)) {
    const [name, value] = p.split("=").map((s) => s.trim().replace(/^"|"$/g, "")) as [string, string | undefined];
    const n = value === undefined ? undefined : Number(value);
    switch (name.toLowerCase()) {
      case "server_no_context_takeover": d.serverNoContextTakeover = true; break;
      case "client_no_context_takeover": d.clientNoContextTakeover = true; break;
      case "server_max_window_bits": d.serverMaxWindowBits = n; break;
      case "client_max_window_bits": d.clientMaxWindowBits = n; break;
      default: throw new Error(`unknown permessage-deflate parameter in the response: ${p}`);
    }
  }
  return d;
}

/** The last WINDOW bytes of `history` then `more`: the window a context-takeover inflater/deflater keeps. */
function slideWindow(history: Uint8Array, more: Uint8Array): Uint8Array {
  if (more.length >= WINDOW) return more.slice(more.length - WINDOW);
  const keep = Math.min(history.length, WINDOW - more.length);
  return concatBytes([history.subarray(history.length - keep), more]);
}

/** Why a server frame breaks RFC 6455, or null. `inMessage`: a fragmented data message is open. */
function frameViolation(b0: number, b1: number, len: number, lengthBits: number, inMessage: boolean, deflate: boolean): string | null {
  const opcode = b0 & 0x0f;
  const rsv = (b0 >> 4) & 7;
  const fin = (b0 & 0x80) !== 0;
  if (b1 & 0x80) return "server frame is masked (RFC 6455 §5.1)";
  if (lengthBits === 16 && len < 126) return `length ${len} sent in 16 bits (not minimal, §5.2)`;
  if (lengthBits === 64 && len < 65536) return `length ${len} sent in 64 bits (not minimal, §5.2)`;
  if (![0, 1, 2, 8, 9, 10].includes(opcode)) return `reserved opcode ${opcode}`;
  const control = opcode >= 8;
  if (control && (!fin || len > 125)) return `control frame opcode ${opcode} fin=${fin} length ${len} (§5.5)`;
  const rsv1Allowed = deflate && (opcode === OP.TEXT || opcode === OP.BINARY);
  if (rsv !== 0 && !(rsv === RSV1 && rsv1Allowed)) return `RSV bits ${rsv} on opcode ${opcode} (deflate ${deflate})`;
  if (opcode === OP.CONT && !inMessage) return "continuation frame with no message to continue";
  if ((opcode === OP.TEXT || opcode === OP.BINARY) && inMessage) return "new data frame inside a fragmented message";
  return null;
}

export interface WsConnectOptions {
  path?: string;
  /** Extra or replacing request header fields; null removes one of the defaults. */
  headers?: Record<string, string | null>;
  /** Shorthand for a Sec-WebSocket-Extensions offer. */
  extensions?: string;
  /** ms to wait for the 101 (default 5000). */
  ms?: number;
}

export interface SendOptions {
  /** Write at most this many bytes at a time, yielding to the event loop between writes (1: byte by byte). */
  chop?: number;
  /** Write each frame on its own (then yield), as Autobahn's "frame-wise chops". */
  perFrame?: boolean;
}

export interface MessageOptions extends SendOptions {
  binary?: boolean;
  compress?: boolean;
  /** With compress: end with a BFINAL block; refer to no earlier message; keep the 00 00 ff ff tail. */
  final?: boolean;
  context?: boolean;
  keepTail?: boolean;
  fragmentSize?: number;
}

/**
 * One WebSocket connection from the client side. `WsRaw.connect()` does the handshake and checks the
 * 101; then send(), sendMessage() and the readers nextFrame(), nextMessage() and expectClose().
 */
export class WsRaw {
  readonly raw: RawClient;
  /** The server's 101 response. */
  readonly response: RawResponse;
  readonly deflate: Deflate | null;
  /** Server frames decoded and not yet taken. */
  readonly frames: Frame[] = [];
  /** The first malformed thing the server sent; every reader throws with it. */
  violation: string | null = null;
  /** When (performance.now()) the server's close frame arrived. */
  closeFrameAt = 0;
  #chunks: Uint8Array[] = [];
  #pendingLen = 0;
  /** Bytes needed before the next frame can be decoded (at least its header). */
  #need = 1;
  #inMessage = false;
  #sawClose = false;
  #inflateWindow: Uint8Array = new Uint8Array(0);
  #deflateWindow: Uint8Array = new Uint8Array(0);

  private constructor(raw: RawClient, response: RawResponse) {
    this.raw = raw;
    this.response = response;
    this.deflate = parseDeflateResponse(response.header("sec-websocket-extensions"));
  }

  static async connect(port: number, options: WsConnectOptions = {}): Promise<WsRaw> {
    const key = randomBytes(16).toString("base64");
    const fields: Record<string, string | null> = {
      host: `127.0.0.1:${port}`,
      upgrade: "websocket",
      connection: "Upgrade",
      "sec-websocket-key": key,
      "sec-websocket-version": "13",
      ...(options.extensions !== undefined ? { "sec-websocket-extensions": options.extensions } : {}),
    };
    for (const [name, value] of Object.entries(options.headers ?? {})) fields[name.toLowerCase()] = value;
    let head = `GET ${options.path ?? "/"} HTTP/1.1\r\n`;
    for (const [name, value] of Object.entries(fields)) if (value !== null) head += `${name}: ${value}\r\n`;
    const raw = await RawClient.connect(port);
    await raw.send(`${head}\r\n`);
    const res = await raw.response(options.ms ?? 5000);
    if (res.status !== 101) {
      raw.close();
      throw new Error(`handshake answered ${res.status} ${res.reason}: ${res.text()}`);
    }
    const accept = createHash("sha1").update(key + GUID).digest("base64");
    if (res.header("sec-websocket-accept") !== accept) {
      raw.close();
      throw new Error(`Sec-WebSocket-Accept ${res.header("sec-websocket-accept")}, expected ${accept}`);
    }
    const ws = new WsRaw(raw, res);
    // Frames the server sent with its 101 are in the same read; later reads come through onData. Both
    // happen in this one synchronous step, so no chunk is missed or fed twice.
    ws.#feed(raw.pending);
    raw.onData = (chunk) => ws.#feed(chunk);
    return ws;
  }

  /** The TCP connection is gone (the server closed it, or it was reset). */
  get isClosed(): boolean {
    return this.raw.closed || this.raw.ended;
  }

  // ---- sending

  /** Writes frames (specs or ready bytes); false if the connection closed before all went out. */
  async send(frames: FrameSpec | Uint8Array | (FrameSpec | Uint8Array)[], how: SendOptions = {}): Promise<boolean> {
    const list = Array.isArray(frames) ? frames : [frames];
    const encoded = list.map((f) => (f instanceof Uint8Array ? f : encodeFrame(f)));
    const pieces = how.perFrame ? encoded : [concatBytes(encoded)];
    for (const piece of pieces) {
      const chop = how.chop ?? piece.length;
      for (let off = 0; off < piece.length; off += chop) {
        if (!(await this.raw.send(piece.subarray(off, off + chop)))) return false;
        if (chop < piece.length || how.perFrame) await yieldToLoop();
      }
    }
    return true;
  }

  /**
   * Sends one message (text for a string unless `binary`), compressed with the negotiated
   * permessage-deflate when `compress` (see compress() for the rest), in `fragmentSize` pieces.
   */
  async sendMessage(data: string | Uint8Array, options: MessageOptions = {}): Promise<boolean> {
    const opcode = (options.binary ?? typeof data !== "string") ? OP.BINARY : OP.TEXT;
    let payload = bytesOf(data);
    let rsv = 0;
    if (options.compress) {
      payload = this.compress(payload, { final: options.final, context: options.context, keepTail: options.keepTail });
      rsv = RSV1;
    }
    const specs = options.fragmentSize ? fragmentsOf(opcode, payload, options.fragmentSize, rsv) : [{ opcode, rsv, payload }];
    return this.send(specs, options);
  }

  /**
   * Compresses one message for this connection (RFC 7692 §7.2.1): raw deflate over the client's context
   * (unless client_no_context_takeover, or `context: false`), flushed, with the 00 00 ff ff tail removed.
   * `final` ends the data with a BFINAL block instead (§7.2.3.4); later messages then refer to nothing
   * before it. `keepTail` leaves the 00 00 ff ff on (a sloppy sender; the receiver must still cope).
   */
  compress(data: Uint8Array, options: { final?: boolean; context?: boolean; keepTail?: boolean } = {}): Uint8Array {
    const d = this.deflate;
    if (!d) throw new Error("permessage-deflate was not negotiated");
    const takeover = !d.clientNoContextTakeover;
    const windowBits = Math.max(9, d.clientMaxWindowBits ?? 15);
    const useContext = takeover && options.context !== false && this.#deflateWindow.length > 0;
    const out = zlib.deflateRawSync(data, {
      windowBits,
      finishFlush: options.final ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH,
      ...(useContext ? { dictionary: this.#deflateWindow.subarray(-(1 << windowBits)) } : {}),
    });
    if (options.final) this.#deflateWindow = new Uint8Array(0);
    else if (takeover) this.#deflateWindow = slideWindow(this.#deflateWindow, data);
    const bytes = new Uint8Array(out.buffer, out.byteOffset, out.length);
    return options.final || options.keepTail ? bytes : bytes.subarray(0, bytes.length - SYNC_TAIL.length);
  }

  /** Inflates one server message (§7.2.2), keeping the server's context unless server_no_context_takeover. */
  inflate(data: Uint8Array): Uint8Array {
    const d = this.deflate!;
    const takeover = !d.serverNoContextTakeover;
    // The previous messages are kept only as far back as the server's declared window, so a server that
    // ignores server_max_window_bits and refers further back into them fails the inflate.
    const windowBits = Math.max(9, d.serverMaxWindowBits ?? 15);
    const dict = takeover && this.#inflateWindow.length > 0 ? this.#inflateWindow.subarray(-(1 << windowBits)) : undefined;
    const out = zlib.inflateRawSync(concatBytes([data, SYNC_TAIL]), {
      windowBits,
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
      ...(dict ? { dictionary: dict } : {}),
    });
    const bytes = new Uint8Array(out.buffer, out.byteOffset, out.length);
    if (takeover) this.#inflateWindow = slideWindow(this.#inflateWindow, bytes);
    return bytes;
  }

  /** Sends a close frame (code and reason, or an empty payload with no code). */
  sendClose(code?: number, reason: string | Uint8Array = ""): Promise<boolean> {
    return this.send({ opcode: OP.CLOSE, payload: code === undefined ? new Uint8Array(0) : closePayload(code, reason) });
  }

  // ---- receiving

  #feed(chunk: Uint8Array): void {
    if (chunk.length === 0 || this.violation) return;
    // Chunks wait in a list until the frame being read is complete: joining on every read would copy a
    // 16 MiB frame hundreds of times.
    this.#chunks.push(chunk);
    this.#pendingLen += chunk.length;
    if (this.#pendingLen < this.#need) return;
    const buf = this.#chunks.length === 1 ? this.#chunks[0]! : concatBytes(this.#chunks);
    let p = 0;
    let need = 0;
    while (buf.length - p >= 2) {
      if (this.#sawClose) {
        this.violation = `${buf.length - p} bytes after the close frame`;
        return;
      }
      const b0 = buf[p]!;
      const b1 = buf[p + 1]!;
      let len = b1 & 0x7f;
      let head = 2;
      let bits = 7;
      if (len === 126) {
        head = 4;
        bits = 16;
        if (buf.length - p < head) break;
        len = (buf[p + 2]! << 8) | buf[p + 3]!;
      } else if (len === 127) {
        head = 10;
        bits = 64;
        if (buf.length - p < head) break;
        const big = new DataView(buf.buffer, buf.byteOffset + p + 2, 8).getBigUint64(0);
        if (big > BigInt(Number.MAX_SAFE_INTEGER)) {
          this.violation = `64-bit length ${big} (most significant bit set or absurd)`;
          return;
        }
        len = Number(big);
      }
      const bad = frameViolation(b0, b1, len, bits, this.#inMessage, this.deflate !== null);
      if (bad) {
        this.violation = bad;
        return;
      }
      if (buf.length - p < head + len) {
        need = head + len;
        break;
      }
      const frame: Frame = { fin: (b0 & 0x80) !== 0, rsv: (b0 >> 4) & 7, opcode: b0 & 0x0f, payload: buf.slice(p + head, p + head + len) };
      p += head + len;
      if (frame.opcode < 8) this.#inMessage = !frame.fin;
      if (frame.opcode === OP.CLOSE) {
        this.#sawClose = true;
        this.closeFrameAt = performance.now();
      }
      this.frames.push(frame);
    }
    // Short of a header, any new byte may complete it.
    this.#need = need || buf.length - p + 1;
    this.#chunks = p === buf.length ? [] : [buf.subarray(p)];
    this.#pendingLen = buf.length - p;
  }

  #check(): void {
    if (this.violation) throw new Error(`malformed server output: ${this.violation}`);
  }

  /** The next server frame; throws if the connection ends first, the server misbehaves, or `ms` pass. */
  async nextFrame(ms = 5000): Promise<Frame> {
    await this.raw.until(() => this.frames.length > 0 || this.violation !== null || this.isClosed, ms);
    this.#check();
    const f = this.frames.shift();
    if (f) return f;
    throw new Error(this.isClosed ? "connection closed with no further frame" : `no frame within ${ms} ms`);
  }

  /** The next data message, reassembled and inflated; a control frame before it is an error. */
  async nextMessage(ms = 5000): Promise<Message> {
    const first = await this.nextFrame(ms);
    if (first.opcode !== OP.TEXT && first.opcode !== OP.BINARY) throw new Error(`expected a data frame, got ${describeFrame(first)}`);
    const parts = [first.payload];
    let last = first;
    while (!last.fin) {
      last = await this.nextFrame(ms);
      if (last.opcode !== OP.CONT) throw new Error(`expected a continuation frame, got ${describeFrame(last)}`);
      parts.push(last.payload);
    }
    const compressed = first.rsv === RSV1;
    const wire = concatBytes(parts);
    const data = compressed ? this.inflate(wire) : wire;
    if (first.opcode === OP.TEXT && !isValidUtf8(data)) throw new Error("server sent a text message that is not UTF-8");
    return { opcode: first.opcode as Message["opcode"], data, compressed, wire, frames: parts.length, text: () => asText.decode(data) };
  }

  /**
   * Reads the next frame, which must be a close with `code` (1005: no payload), then checks the server
   * closes TCP (within `ms`). With `reply`, echoes the close first, as a polite client does.
   */
  async expectClose(code: number, options: { ms?: number; reply?: boolean } = {}): Promise<Close> {
    const ms = options.ms ?? 5000;
    const start = performance.now();
    const f = await this.nextFrame(ms);
    if (f.opcode !== OP.CLOSE) throw new Error(`expected a close ${code}, got ${describeFrame(f)}`);
    const close = parseClose(f.payload);
    if (close.code !== code) throw new Error(`expected close code ${code}, got ${close.code} ${JSON.stringify(close.reason)}`);
    if (options.reply) await this.send({ opcode: OP.CLOSE, payload: f.payload.subarray(0, 2) });
    await this.expectTcpClose(ms);
    this.#check();
    return { ...close, after: this.closeFrameAt - start };
  }

  /**
   * Asserts nothing arrives and the connection stays open for `ms`: for "the server must still be
   * waiting" checks, where no event can announce the absence. Keep `ms` short.
   */
  async expectQuiet(ms = 100): Promise<void> {
    await this.raw.until(() => this.frames.length > 0 || this.violation !== null || this.isClosed, ms);
    this.#check();
    if (this.frames.length > 0) throw new Error(`expected silence, got ${describeFrame(this.frames[0]!)}`);
    if (this.isClosed) throw new Error("expected the connection to stay open, but it closed");
  }

  /** Waits for the server to close the TCP connection; throws after `ms`. */
  async expectTcpClose(ms = 5000): Promise<void> {
    if (!(await this.raw.until(() => this.isClosed, ms))) throw new Error(`the server did not close TCP within ${ms} ms`);
  }

  /** The connection failed: a close frame with `code` and then TCP closes (the frame is required). */
  expectFail(code = 1002, ms = 5000): Promise<Close> {
    return this.expectClose(code, { ms });
  }

  /** A clean close we start: send close `code`, expect it echoed (or 1000), then TCP closes. */
  async closeCleanly(code = 1000, ms = 5000): Promise<void> {
    await this.sendClose(code);
    const f = await this.nextFrame(ms);
    if (f.opcode !== OP.CLOSE) throw new Error(`expected the close echoed, got ${describeFrame(f)}`);
    const got = parseClose(f.payload).code;
    if (got !== code && got !== 1000) throw new Error(`close ${code} answered with ${got}`);
    await this.expectTcpClose(ms);
    this.#check();
  }

  /** Drops the connection. */
  close(): void {
    if (!this.raw.closed) this.raw.reset();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

export function parseClose(payload: Uint8Array): { code: number; reason: string } {
  if (payload.length === 0) return { code: 1005, reason: "" };
  if (payload.length === 1) throw new Error("server sent a close frame with a 1-byte payload");
  const reason = payload.subarray(2);
  if (!isValidUtf8(reason)) throw new Error("server's close reason is not UTF-8");
  return { code: (payload[0]! << 8) | payload[1]!, reason: asText.decode(reason) };
}

/** A frame in words, for error messages. */
export function describeFrame(f: Frame): string {
  const names: Record<number, string> = { 0: "continuation", 1: "text", 2: "binary", 8: "close", 9: "ping", 10: "pong" };
  const extra = f.opcode === OP.CLOSE && f.payload.length >= 2 ? ` code ${(f.payload[0]! << 8) | f.payload[1]!}` : "";
  return `${names[f.opcode] ?? `opcode ${f.opcode}`} frame (fin ${f.fin}, rsv ${f.rsv}, ${f.payload.length} bytes${extra})`;
}

/** Lets the server (in this process) read what we wrote before we write more. */
function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

// ---------------------------------------------------------------------------------------------------------------
// The server under test

/**
 * Which server the conformance tests run against: ours, or with WS_TARGET=bun Bun.serve (uWebSockets),
 * to tell our bugs from a test's mistakes. Bun.serve fails only the UTF-8 fail-fast cases: it checks
 * text once a message is complete.
 */
export const TARGET: "ours" | "bun" = process.env.WS_TARGET === "bun" ? "bun" : "ours";

export interface EchoServer {
  port: number;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * The test app: every message comes back as it came (text as text, binary as binary), sent with
 * `ws.send(message, compress)`. `websocket` adds options (maxPayloadLength, perMessageDeflate, …).
 */
export function serveEcho(websocket: Record<string, unknown> = {}, options: { compress?: boolean } = {}): EchoServer {
  const opts = {
    port: 0,
    hostname: "127.0.0.1",
    log: "off",
    fetch(req: Request, s: { upgrade(req: Request): boolean }) {
      return s.upgrade(req) ? undefined : new Response("no", { status: 400 });
    },
    websocket: {
      message(ws: { send(m: string | Uint8Array, compress?: boolean): number }, m: string | Uint8Array) {
        ws.send(m, options.compress ?? false);
      },
      ...websocket,
    },
  };
  const server: any = TARGET === "bun" ? Bun.serve(opts as any) : serve(opts as any);
  const stop = async () => {
    await server.stop(true);
  };
  return { port: server.port, stop, [Symbol.asyncDispose]: stop };
}

/** An echo server (serveEcho's arguments) for a whole test file: up before its tests, stopped after. */
export function echoServerForFile(websocket: Record<string, unknown> = {}, options: { compress?: boolean } = {}): { readonly port: number } {
  let server: EchoServer | null = null;
  beforeAll(() => {
    server = serveEcho(websocket, options);
  });
  afterAll(() => server?.stop());
  return {
    get port() {
      if (!server) throw new Error("the echo server is not up yet (use it inside a test)");
      return server.port;
    },
  };
}

/**
 * One connection to `port` that sends `frames` and must then get the close `code` (a failure like
 * 1002, or the answer 1000 to a close among the frames), with nothing before it, and the TCP close.
 */
export async function expectCloseAfter(
  port: number,
  frames: FrameSpec | Uint8Array | (FrameSpec | Uint8Array)[],
  code: number,
  options: { extensions?: string; how?: SendOptions; ms?: number } = {},
): Promise<Close> {
  using ws = await WsRaw.connect(port, { extensions: options.extensions });
  await ws.send(frames, options.how);
  return await ws.expectClose(code, { ms: options.ms });
}
