// WebSocket clients for tests, behind promises: a message queue read with next(), the close (code,
// reason, wasClean) as a promise, and an echo check. It drives any client with the WHATWG interface
// (Bun's global WebSocket, and the `ws` package's addEventListener side), so that each test reads as
// what it sends and what it expects, and a server that never answers fails after `ms`, not at the
// test runner's timeout.

export type WsMessage = string | Uint8Array;

export interface WsClosed {
  code: number;
  reason: string;
  wasClean: boolean;
}

/** What the helper needs of a client: the WHATWG WebSocket interface. */
export interface WhatwgSocket {
  binaryType: string;
  readyState: number;
  protocol: string;
  extensions: string;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: string, listener: (event: any) => void): void;
}

export interface WsClient<S extends WhatwgSocket = WebSocket> {
  socket: S;
  /** The next message (text as a string, binary as a Uint8Array); throws after `ms` or at close. */
  next(ms?: number): Promise<WsMessage>;
  /** Resolves when the socket has closed (never rejects). */
  closed: Promise<WsClosed>;
  /** Sends `message` and expects it back unchanged. */
  echo(message: WsMessage, ms?: number): Promise<void>;
}

/** Rejects with "timed out after `ms` ms waiting for `what`" unless `p` settles first. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function toMessage(data: unknown): WsMessage {
  if (typeof data === "string") return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new Error(`unexpected message type ${Object.prototype.toString.call(data)}`);
}

/** Wraps a client that is still connecting; resolves once it is open, throws if it closes or errs first. */
export async function wrapWs<S extends WhatwgSocket>(socket: S, ms = 5000): Promise<WsClient<S>> {
  socket.binaryType = "arraybuffer";
  const queue: WsMessage[] = [];
  let waiter: { resolve: (m: WsMessage) => void; reject: (e: Error) => void } | null = null;
  let ended: WsClosed | null = null;
  const closed = Promise.withResolvers<WsClosed>();
  const opened = Promise.withResolvers<void>();
  socket.addEventListener("open", () => opened.resolve());
  socket.addEventListener("error", (e) => opened.reject(new Error(`WebSocket error before open: ${e?.message ?? e}`)));
  socket.addEventListener("message", (e) => {
    const m = toMessage(e.data);
    if (waiter) {
      const w = waiter;
      waiter = null;
      w.resolve(m);
    } else queue.push(m);
  });
  socket.addEventListener("close", (e) => {
    ended = { code: e.code, reason: e.reason, wasClean: e.wasClean };
    opened.reject(new Error(`WebSocket closed before open: ${e.code} ${e.reason}`));
    waiter?.reject(new Error(`WebSocket closed (${e.code} ${e.reason}) while waiting for a message`));
    waiter = null;
    closed.resolve(ended);
  });
  await within(opened.promise, ms, "the WebSocket to open");
  const next = (wait = 5000): Promise<WsMessage> => {
    const m = queue.shift();
    if (m !== undefined) return Promise.resolve(m);
    if (ended) return Promise.reject(new Error(`WebSocket closed (${ended.code} ${ended.reason})`));
    const p = new Promise<WsMessage>((resolve, reject) => (waiter = { resolve, reject }));
    return within(p, wait, "a message");
  };
  return {
    socket,
    next,
    closed: closed.promise,
    async echo(message, wait = 5000) {
      socket.send(message);
      const got = await next(wait);
      if (typeof message === "string") {
        if (got !== message) throw new Error(`echo of ${message.length} chars came back as ${describe(got)}`);
      } else if (typeof got === "string" || !Buffer.from(got).equals(Buffer.from(message))) {
        throw new Error(`echo of ${message.length} bytes came back as ${describe(got)}`);
      }
    },
  };
}

function describe(m: WsMessage): string {
  return typeof m === "string" ? `text of ${m.length} chars` : `${m.length} bytes`;
}

/** Opens Bun's own WebSocket client to `url`. */
export function connectWs(url: string | URL, protocols?: string | string[], ms = 5000): Promise<WsClient> {
  return wrapWs(new WebSocket(url, protocols), ms);
}

/** `n` bytes of a repeating pattern that no off-by-one, truncation or reordering leaves unchanged. */
export function patternBytes(n: number, seed = 0): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + (i >> 8) + seed) & 0xff;
  return out;
}
