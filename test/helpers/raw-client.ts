// A raw TCP client for server tests: sends exact bytes, reads responses as a client sees them
// (Content-Length, chunked, or close-delimited framing), and notices when the server closes.
import type { Socket } from "bun";
import { concatBytes } from "../../src/http/chars.ts";

export interface RawResponse {
  status: number;
  reason: string;
  /** Lower-cased names; repeated fields keep every value. */
  headers: Map<string, string[]>;
  body: Uint8Array;
  /** Raw bytes of the whole response, head included. */
  raw: Uint8Array;
  header(name: string): string | undefined;
  text(): string;
}

const decoder = new TextDecoder();

export class RawClient {
  private socket!: Socket<undefined>;
  private received = new Uint8Array(0);
  private waiters: (() => void)[] = [];
  closed = false;
  /** Requests we sent with HEAD, so their responses are read without a body. */
  private headQueue: boolean[] = [];

  static async connect(port: number, host = "127.0.0.1"): Promise<RawClient> {
    const c = new RawClient();
    c.socket = await Bun.connect({
      hostname: host,
      port,
      socket: {
        data: (_s, chunk: Uint8Array) => {
          const next = new Uint8Array(c.received.length + chunk.length);
          next.set(c.received);
          next.set(chunk, c.received.length);
          c.received = next;
          c.wake();
        },
        close: () => {
          c.closed = true;
          c.wake();
        },
        end: () => {
          c.closed = true;
          c.wake();
        },
        error: () => {
          c.closed = true;
          c.wake();
        },
      },
    });
    return c;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves once `predicate` holds, checking after every read; rejects after `ms`. */
  async until(predicate: () => boolean, ms = 5000, what = "condition"): Promise<void> {
    const deadline = Date.now() + ms;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Sends all bytes (waiting on backpressure as needed). */
  async send(data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    for (const m of decoder.decode(bytes).matchAll(/(?:^|\r\n)(HEAD|[A-Z]+) [^ ]+ HTTP\/1\.[01]\r\n/g)) {
      this.headQueue.push(m[1] === "HEAD");
    }
    let off = 0;
    while (off < bytes.length) {
      const n = this.socket.write(bytes, off, bytes.length - off);
      if (n < 0) throw new Error("socket closed while sending");
      off += n;
      if (off < bytes.length) await Bun.sleep(1);
    }
  }

  /** Marks the next response as the answer to a HEAD (no body), for requests sent by hand. */
  expectHead(isHead: boolean): void {
    this.headQueue.unshift(isHead);
  }

  get pendingBytes(): number {
    return this.received.length;
  }

  /** The bytes received and not yet taken by response(): a response still arriving, or raw framing. */
  get pending(): Uint8Array {
    return this.received;
  }

  /** Reads one complete response. */
  async response(ms = 5000): Promise<RawResponse> {
    let parsed: { res: RawResponse; used: number } | null = null;
    const isHead = this.headQueue[0] ?? false;
    await this.until(
      () => {
        parsed = tryParseResponse(this.received, isHead, this.closed);
        return parsed !== null || (this.closed && this.received.length === 0);
      },
      ms,
      "a response",
    );
    if (parsed === null) throw new Error("connection closed before a response");
    const { res, used } = parsed as { res: RawResponse; used: number };
    this.received = this.received.slice(used);
    if (res.status >= 200) this.headQueue.shift();
    return res;
  }

  /** Waits for the server to close the connection. */
  async closedByServer(ms = 5000): Promise<void> {
    await this.until(() => this.closed, ms, "the server to close");
  }

  /** Stops reading from the socket (the server's writes then back up). */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  /** Half-closes our side (FIN). */
  shutdown(): void {
    this.socket.shutdown();
  }

  close(): void {
    this.socket.end();
  }

  /** Resets the connection (RST), as a client that crashes or gives up does. */
  terminate(): void {
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
export function tryParseResponse(buf: Uint8Array, isHead: boolean, closed: boolean): { res: RawResponse; used: number } | null {
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

/** One request on a fresh connection; returns the response and whether the server then closed. */
export async function exchange(port: number, raw: string | Uint8Array): Promise<RawResponse> {
  const c = await RawClient.connect(port);
  try {
    await c.send(raw);
    return await c.response();
  } finally {
    c.close();
  }
}
