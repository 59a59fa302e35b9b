// The raw TCP client for server tests: sends exact bytes, reads responses as a client sees them
// (Content-Length, chunked, or close-delimited framing), and notices when the server ends or resets
// the connection. Received bytes are kept as a list of chunks (joined only when read), or only counted.
import type { Socket } from "bun";
import { concatBytes, decodeLatin1 } from "../../src/http/chars.ts";
import { poll, Wakeup } from "./poll.ts";
import { toBytes } from "./split.ts";

export interface RawResponse {
  status: number;
  reason: string;
  /** Lower-cased names; repeated fields keep every value. */
  headers: Map<string, string[]>;
  body: Uint8Array;
  /** Raw bytes of the whole response, head included. */
  raw: Uint8Array;
  header(name: string): string | undefined;
  /** The body as UTF-8. */
  text(): string;
}

export interface ConnectOptions {
  host?: string;
  /** Keep the bytes received (default true); false only counts them, for downloads too big to keep. */
  keep?: boolean;
  /**
   * Stay open after the server's FIN (default false: close at once, as most clients do, which also
   * ends a lingering close on the server). True to watch what the server does with a half-open peer.
   */
  allowHalfOpen?: boolean;
}

const decoder = new TextDecoder();
const REQUEST_LINE = /(?:^|\r\n)([A-Z]+) [^ ]+ HTTP\/1\.[01]\r\n/g;

export class RawClient {
  socket!: Socket<undefined>;
  /** Bytes received so far. */
  received = 0;
  /** The server sent FIN, or the socket is gone: nothing more will arrive. */
  ended = false;
  /** The socket is closed (by either side). */
  closed = false;
  /** The connection failed or was reset. */
  errored = false;
  // When (performance.now()) our last byte went out, the server's last byte came in, and the end came:
  // for timeout tests, which measure from the last byte to the answer or the close.
  lastSentAt = 0;
  lastReceivedAt = 0;
  endedAt = 0;
  /** Called with every chunk as it arrives, before anyone waiting re-checks. */
  onData: ((chunk: Uint8Array) => void) | null = null;
  /** Fires on every read and at the end: a poll() on this client's state passes it as `wake`. */
  readonly wake = new Wakeup();
  #keep = true;
  #chunks: Uint8Array[] = [];
  /** How many bytes of data() response() has consumed. */
  #readAt = 0;
  /** One per request line sent, in order: whether it was a HEAD (its response has no body). */
  #heads: boolean[] = [];
  /** Final (non-1xx) responses response() has returned. */
  #finals = 0;

  static async connect(port: number, options: ConnectOptions = {}): Promise<RawClient> {
    const c = new RawClient();
    c.#keep = options.keep ?? true;
    const end = () => {
      if (!c.ended) c.endedAt = performance.now();
      c.ended = true;
    };
    const gone = (error: boolean) => {
      end();
      c.closed = true;
      if (error) c.errored = true;
      c.wake.fire();
    };
    c.socket = await Bun.connect<undefined>({
      hostname: options.host ?? "127.0.0.1",
      port,
      allowHalfOpen: options.allowHalfOpen ?? false,
      socket: {
        data: (_s, chunk: Uint8Array) => {
          c.lastReceivedAt = performance.now();
          c.received += chunk.length;
          if (c.#keep) c.#chunks.push(chunk);
          c.onData?.(chunk);
          c.wake.fire();
        },
        end: () => {
          end();
          c.wake.fire();
        },
        close: () => gone(false),
        error: () => gone(true),
        connectError: () => gone(true),
      },
    });
    return c;
  }

  /**
   * Resolves true once `predicate` holds (re-checked after every read and at the end), false after `ms`;
   * given `what`, it throws instead ("timed out after ms waiting for what").
   */
  async until(predicate: () => boolean, ms = 5000, what?: string): Promise<boolean> {
    const ok = (await poll(predicate, ms, { wake: this.wake })) !== null;
    if (!ok && what !== undefined) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    return ok;
  }

  /**
   * Sends every byte (a string as Latin-1: one byte per char), waiting out backpressure. False if the
   * socket closed first or `ms` passed: a server may rightly stop reading and close mid-request.
   */
  async send(data: string | Uint8Array, ms = 5000): Promise<boolean> {
    const bytes = toBytes(data);
    for (const m of decodeLatin1(bytes, 0, bytes.length).matchAll(REQUEST_LINE)) this.#heads.push(m[1] === "HEAD");
    const deadline = performance.now() + ms;
    let off = 0;
    while (off < bytes.length) {
      if (this.closed || performance.now() > deadline) return false;
      const n = this.socket.write(bytes, off, bytes.length - off);
      if (n < 0) return false;
      off += n;
      if (off < bytes.length) await Bun.sleep(1);
    }
    this.lastSentAt = performance.now();
    return true;
  }

  /** Every byte received so far, as one array (needs `keep`). */
  data(): Uint8Array {
    if (!this.#keep) throw new Error("this client only counts what it receives (keep: false)");
    if (this.#chunks.length > 1) this.#chunks = [concatBytes(this.#chunks)];
    return this.#chunks[0] ?? new Uint8Array(0);
  }

  /** Every byte received so far as Latin-1 text (one char per byte). */
  text(): string {
    const d = this.data();
    return decodeLatin1(d, 0, d.length);
  }

  /** Bytes received that response() has not returned yet. */
  get pendingBytes(): number {
    return this.received - this.#readAt;
  }

  /** The bytes received and not yet taken by response(): a response still arriving, or raw framing. */
  get pending(): Uint8Array {
    return this.data().subarray(this.#readAt);
  }

  /** Reads the next response (a 1xx included); throws if the connection ends or `ms` pass first. */
  async response(ms = 5000): Promise<RawResponse> {
    const isHead = this.#heads[this.#finals] ?? false;
    let parsed: { res: RawResponse; used: number } | null = null;
    const settled = await this.until(() => {
      parsed = parseResponse(this.data().subarray(this.#readAt), isHead, this.ended);
      return parsed !== null || this.ended;
    }, ms);
    if (parsed === null) throw new Error(settled ? "connection closed before a response" : `no response within ${ms} ms`);
    const { res, used } = parsed as { res: RawResponse; used: number };
    this.#readAt += used;
    if (res.status >= 200) this.#finals++;
    return res;
  }

  /** Every complete response received so far, from the first (response() is not affected); `rest`: bytes after them. */
  responses(): { list: RawResponse[]; rest: number } {
    const buf = this.data();
    const list: RawResponse[] = [];
    let off = 0;
    let finals = 0;
    while (off < buf.length) {
      const r = parseResponse(buf.subarray(off), this.#heads[finals] ?? false, this.ended);
      if (r === null || r.used === 0) break;
      list.push(r.res);
      if (r.res.status >= 200) finals++;
      off += r.used;
    }
    return { list, rest: buf.length - off };
  }

  /** Waits for the server to end the connection (FIN or reset); throws after `ms`. */
  async closedByServer(ms = 5000): Promise<void> {
    if (!(await this.until(() => this.ended, ms))) throw new Error(`the server did not close within ${ms} ms`);
  }

  /** Stops reading from the socket (the server's writes then back up). */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  /** Half-closes our side (FIN); we keep reading. */
  shutdown(): void {
    this.socket.shutdown();
  }

  close(): void {
    this.socket.end();
  }

  /** Resets the connection (RST: SO_LINGER 0, then close), as a client that crashes or gives up. */
  reset(): void {
    this.socket.terminate();
  }
}

function indexOfSeq(buf: Uint8Array, seq: number[], from = 0): number {
  outer: for (let i = from; i <= buf.length - seq.length; i++) {
    for (let j = 0; j < seq.length; j++) if (buf[i + j] !== seq[j]) continue outer;
    return i;
  }
  return -1;
}

/** Parses one response from the front of `buf`, or null if it is not complete yet. */
function parseResponse(buf: Uint8Array, isHead: boolean, closed: boolean): { res: RawResponse; used: number } | null {
  const headEnd = indexOfSeq(buf, [13, 10, 13, 10]);
  if (headEnd < 0) return null;
  const headText = decoder.decode(buf.subarray(0, headEnd));
  const lines = headText.split("\r\n");
  const m = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(lines[0]!);
  if (!m) throw new Error(`bad status line: ${JSON.stringify(lines[0])}`);
  const status = Number(m[1]);
  const headers = new Map<string, string[]>();
  for (const line of lines.slice(1)) {
    const i = line.indexOf(":");
    const name = line.slice(0, i).toLowerCase();
    const value = line.slice(i + 1).trim();
    headers.set(name, [...(headers.get(name) ?? []), value]);
  }
  let p = headEnd + 4;
  let body: Uint8Array;
  const te = headers.get("transfer-encoding")?.join(",");
  const cl = headers.get("content-length")?.[0];
  if (isHead || status === 204 || status === 304 || status < 200) {
    body = new Uint8Array(0);
  } else if (te && /chunked/i.test(te)) {
    const parts: Uint8Array[] = [];
    for (;;) {
      const lineEnd = indexOfSeq(buf, [13, 10], p);
      if (lineEnd < 0) return null;
      const size = parseInt(decoder.decode(buf.subarray(p, lineEnd)).split(";")[0]!, 16);
      p = lineEnd + 2;
      if (size === 0) {
        const end = indexOfSeq(buf, [13, 10], p);
        if (end < 0) return null;
        // Trailers are not expected from our server: the last chunk is followed by CRLF.
        p = end + 2;
        break;
      }
      if (buf.length < p + size + 2) return null;
      parts.push(buf.subarray(p, p + size));
      p += size + 2;
    }
    body = concatBytes(parts);
  } else if (cl !== undefined) {
    const n = Number(cl);
    if (buf.length < p + n) return null;
    body = buf.subarray(p, p + n);
    p += n;
  } else {
    if (!closed) return null; // close-delimited
    body = buf.subarray(p);
    p = buf.length;
  }
  const raw = buf.slice(0, p);
  const res: RawResponse = {
    status,
    reason: m[2]!,
    headers,
    body: body.slice(),
    raw,
    header: (name) => headers.get(name.toLowerCase())?.join(", "),
    text: () => decoder.decode(body),
  };
  return { res, used: p };
}

/** One request on a fresh connection: its final response (1xx skipped); throws if none comes in `ms`. */
export async function exchange(port: number, raw: string | Uint8Array, ms = 5000): Promise<RawResponse> {
  const c = await RawClient.connect(port);
  try {
    await c.send(raw, ms);
    for (;;) {
      const r = await c.response(ms);
      if (r.status >= 200) return r;
    }
  } finally {
    c.close();
  }
}

/** Tries a TCP connection; true if it was accepted. */
export async function canConnect(port: number, host = "127.0.0.1"): Promise<boolean> {
  try {
    (await RawClient.connect(port, { host })).close();
    return true;
  } catch {
    return false;
  }
}
