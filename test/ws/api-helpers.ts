// Clients for the WebSocket API tests (test/compat/websocket-*.test.ts, test/ws/api-*.test.ts): Bun's
// own WebSocket client with its events turned into awaitable queues, and the raw TCP side (an upgrade
// request, a socket past its 101, the server's unmasked frames) for checks a real client hides.
import type { Served } from "../helpers/compat.ts";
import { poll, pollUntil, Wakeup } from "../helpers/poll.ts";
import { RawClient } from "../helpers/raw-client.ts";

/** RFC 6455 §1.3's sample key, and the Sec-WebSocket-Accept it must get. */
export const KEY = "dGhlIHNhbXBsZSBub25jZQ==";
export const ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/** The handshake fields a valid upgrade carries; `extra` lines (each ending in CRLF) are added. */
export const UPGRADE_FIELDS = `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n`;

export function upgradeRequest(path = "/", extra = ""): string {
  return `GET ${path} HTTP/1.1\r\nHost: t\r\n${UPGRADE_FIELDS}${extra}\r\n`;
}

/**
 * The app every WebSocket test serves unless it needs its own fetch: upgrade with `data` (a function
 * of the request, or the path by default), else a 400 that names itself.
 */
export function wsApp(websocket: Record<string, unknown>, data: (req: Request) => unknown = (req) => new URL(req.url).pathname) {
  return {
    fetch(req: Request, server: any) {
      if (server.upgrade(req, { data: data(req) })) return;
      return new Response("not a websocket", { status: 400 });
    },
    websocket,
  };
}

export interface CloseSeen {
  code: number;
  reason: string;
}

/** Bun's WebSocket client, with every message, ping, pong and the close kept for awaiting. */
export class WsClient {
  readonly ws: WebSocket;
  readonly messages: (string | ArrayBuffer)[] = [];
  /** Payloads (as text) of the pings and pongs the server sent. */
  readonly pings: string[] = [];
  readonly pongs: string[] = [];
  closed: CloseSeen | null = null;
  readonly wake = new Wakeup();
  #taken = 0;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.binaryType = "arraybuffer";
    ws.onmessage = (e) => this.#push(() => this.messages.push(e.data));
    ws.onclose = (e) => this.#push(() => (this.closed = { code: e.code, reason: e.reason }));
    ws.addEventListener("ping" as any, (e: any) => this.#push(() => this.pings.push(textOf(e.data))));
    ws.addEventListener("pong" as any, (e: any) => this.#push(() => this.pongs.push(textOf(e.data))));
  }

  #push(f: () => void): void {
    f();
    this.wake.fire();
  }

  /** Opens ws://127.0.0.1:port/path; throws if it closes or fails before opening. */
  static async open(port: number, path = "/"): Promise<WsClient> {
    const c = new WsClient(new WebSocket(`ws://127.0.0.1:${port}${path}`));
    await new Promise<void>((resolve, reject) => {
      c.ws.onopen = () => resolve();
      c.ws.onerror = () => reject(new Error(`the WebSocket to ${path} failed to open`));
    });
    return c;
  }

  send(data: string | Uint8Array): void {
    this.ws.send(data);
  }

  /** Sends a ping with `data` (Bun's client has ping(); browsers do not). */
  ping(data: string): void {
    (this.ws as any).ping(data);
  }

  /** The next message not taken yet; throws if the socket closes first or `ms` pass. */
  async next(ms = 5000): Promise<string | ArrayBuffer> {
    await this.until(() => this.messages.length > this.#taken || this.closed !== null, ms, "a message");
    if (this.messages.length <= this.#taken) throw new Error(`closed (${JSON.stringify(this.closed)}) before a message`);
    return this.messages[this.#taken++]!;
  }

  /** Waits for the close; throws after `ms`. */
  async closeSeen(ms = 5000): Promise<CloseSeen> {
    await this.until(() => this.closed !== null, ms, "the close");
    return this.closed!;
  }

  /** The close, if it comes within `ms`; null if the socket is still open then. */
  async closedWithin(ms: number): Promise<CloseSeen | null> {
    return poll(() => this.closed, ms, { wake: this.wake });
  }

  /** Sends `data` and returns the next message, for "does it still answer" checks. */
  async roundTrip(data: string | Uint8Array, ms = 5000): Promise<string | ArrayBuffer> {
    this.send(data);
    return this.next(ms);
  }

  until(predicate: () => boolean, ms: number, what: string): Promise<true> {
    return pollUntil(() => predicate() || null, ms, what, { wake: this.wake }).then(() => true as const);
  }

  close(code?: number, reason?: string): void {
    this.ws.close(code, reason);
  }
}

function textOf(data: unknown): string {
  if (typeof data === "string") return data;
  return new TextDecoder().decode(data as ArrayBuffer);
}

/** A frame as the server sent it (unmasked). */
export interface Frame {
  fin: boolean;
  opcode: number;
  payload: Uint8Array;
}

export const OP = { TEXT: 1, BINARY: 2, CLOSE: 8, PING: 9, PONG: 10 } as const;

/** Every complete frame in `bytes`, from the front. */
export function parseFrames(bytes: Uint8Array): Frame[] {
  const frames: Frame[] = [];
  let p = 0;
  while (p + 2 <= bytes.length) {
    const b0 = bytes[p]!;
    const b1 = bytes[p + 1]!;
    if (b1 & 0x80) throw new Error("a server frame must not be masked (RFC 6455 §5.1)");
    let len = b1 & 0x7f;
    let h = 2;
    if (len === 126) {
      if (p + 4 > bytes.length) break;
      len = (bytes[p + 2]! << 8) | bytes[p + 3]!;
      h = 4;
    } else if (len === 127) {
      if (p + 10 > bytes.length) break;
      len = Number(new DataView(bytes.buffer, bytes.byteOffset + p + 2, 8).getBigUint64(0));
      h = 10;
    }
    if (p + h + len > bytes.length) break;
    frames.push({ fin: (b0 & 0x80) !== 0, opcode: b0 & 0x0f, payload: bytes.subarray(p + h, p + h + len) });
    p += h + len;
  }
  return frames;
}

/** A raw TCP client past a 101: its `frames()` are what the server sent after the response head. */
export interface RawWs {
  client: RawClient;
  frames(): Frame[];
}

/** Connects, sends a valid upgrade for `path`, and waits for the 101 (throws on any other answer). */
export async function openRaw(port: number, path = "/"): Promise<RawWs> {
  const client = await RawClient.connect(port);
  await client.send(upgradeRequest(path));
  const head = await client.response();
  if (head.status !== 101) throw new Error(`expected 101, got ${head.status}: ${head.text()}`);
  return { client, frames: () => parseFrames(client.pending) };
}

/** What the server's handlers saw, in order; tests wait on it rather than sleep. */
export class EventLog<T = unknown[]> {
  readonly entries: T[] = [];
  readonly #wake = new Wakeup();

  push(entry: T): void {
    this.entries.push(entry);
    this.#wake.fire();
  }

  /** Resolves once `predicate` holds (re-checked on every push); throws after `ms`. */
  async until(predicate: (entries: T[]) => boolean, ms = 5000, what = "the server's handlers"): Promise<void> {
    await pollUntil(() => predicate(this.entries) || null, ms, what, { wake: this.#wake });
  }
}

/**
 * For onBoth/sameOnBoth (spread the pair in): `app` is made afresh for each server with a new EventLog
 * for its handlers, and `check` gets that log. `server()` in the app is the server being checked.
 */
export function withLog<T, E = unknown[]>(
  app: (log: EventLog<E>, server: () => any) => Record<string, unknown>,
  check: (s: Served, log: EventLog<E>) => Promise<T>,
): [() => Record<string, unknown>, (s: Served) => Promise<T>] {
  let log!: EventLog<E>;
  let current: any = null;
  return [
    () => app((log = new EventLog<E>()), () => current),
    (s) => {
      current = s.server;
      return check(s, log);
    },
  ];
}
