// Backends for the proxy's hostile tests: a raw Bun.listen upstream on 127.0.0.1 (port 0) that keeps
// every byte each connection brought, counts the connections it accepted, parses the requests it gets
// (Content-Length or chunked bodies) and answers each one as the test's script says, with whatever
// bytes it likes (bad framing, a stall, a close mid-body). Writes wait out backpressure, so a script
// can stream a large body, and `sent` tells how far a stalled one got.
import type { Socket, TCPSocketListener } from "bun";
import { concatBytes, decodeLatin1 } from "../../src/http/chars.ts";
import { poll, Wakeup } from "../helpers/poll.ts";
import { toBytes } from "../helpers/split.ts";

/** One request as the upstream received it. */
export interface UpstreamRequest {
  method: string;
  target: string;
  /** "HTTP/1.1" */
  version: string;
  /** The head as received (Latin-1), request line through the blank line. */
  head: string;
  /** Lower-cased names; repeated fields keep every value. */
  headers: Map<string, string[]>;
  header(name: string): string | undefined;
  /** The body, decoded (the chunked framing taken off). */
  body: Uint8Array;
  /** It came chunked. */
  chunked: boolean;
  /** Its index on its connection (0: the first request on it). */
  index: number;
  /** The connection it came on. */
  conn: BackendConnection;
}

/** What a backend does with each complete request. */
export type Answer = (req: UpstreamRequest, conn: BackendConnection) => void | Promise<void>;

const CRLF2 = [13, 10, 13, 10];

function indexOf(buf: Uint8Array, seq: number[], from: number): number {
  outer: for (let i = from; i <= buf.length - seq.length; i++) {
    for (let j = 0; j < seq.length; j++) if (buf[i + j] !== seq[j]) continue outer;
    return i;
  }
  return -1;
}

/** The request at `at` in `buf`: it, and the bytes it took; null until it is all in; "bad" if it cannot be framed. */
function parseRequest(buf: Uint8Array, at: number, index: number, conn: BackendConnection): { req: UpstreamRequest; used: number } | null | "bad" {
  const headEnd = indexOf(buf, CRLF2, at);
  if (headEnd < 0) return null;
  const head = decodeLatin1(buf, at, headEnd + 4);
  const lines = head.slice(0, -4).split("\r\n");
  const [method = "", target = "", version = ""] = lines[0]!.split(" ");
  const headers = new Map<string, string[]>();
  for (const line of lines.slice(1)) {
    const i = line.indexOf(":");
    if (i <= 0) return "bad";
    const name = line.slice(0, i).toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), line.slice(i + 1).trim()]);
  }
  let p = headEnd + 4;
  let body: Uint8Array;
  const te = headers.get("transfer-encoding")?.join(",") ?? "";
  const chunked = /chunked/i.test(te);
  if (chunked) {
    const parts: Uint8Array[] = [];
    for (;;) {
      const lineEnd = indexOf(buf, [13, 10], p);
      if (lineEnd < 0) return null;
      const sizeText = decodeLatin1(buf, p, lineEnd).split(";")[0]!;
      if (!/^[0-9a-fA-F]+$/.test(sizeText)) return "bad";
      const size = parseInt(sizeText, 16);
      p = lineEnd + 2;
      if (size === 0) {
        // Trailer fields, then the blank line.
        for (;;) {
          const end = indexOf(buf, [13, 10], p);
          if (end < 0) return null;
          const empty = end === p;
          p = end + 2;
          if (empty) break;
        }
        break;
      }
      if (buf.length < p + size + 2) return null;
      parts.push(buf.subarray(p, p + size));
      p += size + 2;
    }
    body = concatBytes(parts);
  } else {
    const n = Number(headers.get("content-length")?.[0] ?? "0");
    if (buf.length < p + n) return null;
    body = buf.slice(p, p + n);
    p += n;
  }
  const req: UpstreamRequest = {
    method,
    target,
    version,
    head,
    headers,
    header: (name) => headers.get(name.toLowerCase())?.join(", "),
    body,
    chunked,
    index,
    conn,
  };
  return { req, used: p - at };
}

export class BackendConnection {
  /** Its place among the backend's connections (0: the first accepted). */
  readonly id: number;
  readonly requests: UpstreamRequest[] = [];
  /** Bytes received. */
  received = 0;
  /** Bytes the kernel took from our writes. */
  sent = 0;
  /** The peer (the proxy) sent FIN, or the socket is gone. */
  ended = false;
  closed = false;
  /** The bytes could not be framed as requests: nothing after them was parsed. */
  unframeable = false;
  #chunks: Uint8Array[] = [];
  #parsedAt = 0;
  #queue: { bytes: Uint8Array; done: (ok: boolean) => void }[] = [];

  constructor(
    readonly socket: Socket<BackendConnection>,
    private readonly backend: RawBackend,
    id: number,
  ) {
    this.id = id;
  }

  /** Everything received, joined. */
  data(): Uint8Array {
    if (this.#chunks.length > 1) this.#chunks = [concatBytes(this.#chunks)];
    return this.#chunks[0] ?? new Uint8Array(0);
  }

  /** Everything received, as Latin-1 text. */
  text(): string {
    const d = this.data();
    return decodeLatin1(d, 0, d.length);
  }

  /** Sends every byte (a string as Latin-1), waiting out backpressure; false if the socket closed first. */
  write(data: string | Uint8Array): Promise<boolean> {
    const bytes = toBytes(data);
    if (this.closed) return Promise.resolve(false);
    return new Promise<boolean>((done) => {
      this.#queue.push({ bytes, done });
      if (this.#queue.length === 1) this.#flush();
    });
  }

  #flush(): void {
    while (this.#queue.length > 0) {
      const item = this.#queue[0]!;
      const n = this.socket.write(item.bytes, 0, item.bytes.length);
      if (n > 0) this.sent += n;
      if (n < 0) break;
      if (n < item.bytes.length) {
        item.bytes = item.bytes.subarray(Math.max(0, n));
        return; // drain calls back
      }
      this.#queue.shift();
      item.done(true);
    }
  }

  /**
   * Streams `total` bytes of zeros in `piece`-sized writes, each after the last was taken (so a
   * reader that stops reading stops it); resolves with whether all went out.
   */
  async stream(total: number, piece = 64 * 1024): Promise<boolean> {
    const chunk = new Uint8Array(piece);
    let left = total;
    while (left > 0) {
      const n = Math.min(left, piece);
      if (!(await this.write(n === piece ? chunk : chunk.subarray(0, n)))) return false;
      left -= n;
    }
    return true;
  }

  /** Closes after what is queued (FIN). */
  end(): void {
    this.socket.end();
  }

  /** Closes now (RST if bytes are unread). */
  reset(): void {
    this.socket.terminate();
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  onData(chunk: Uint8Array): void {
    this.received += chunk.length;
    this.#chunks.push(chunk);
    if (this.backend.parse && !this.unframeable) {
      const buf = this.data();
      for (;;) {
        const r = parseRequest(buf, this.#parsedAt, this.requests.length, this);
        if (r === null) break;
        if (r === "bad") {
          this.unframeable = true;
          break;
        }
        this.#parsedAt += r.used;
        this.requests.push(r.req);
        this.backend.requests.push(r.req);
        void this.backend.answer(r.req, this);
      }
    }
    this.backend.wake.fire();
  }

  onDrain(): void {
    this.#flush();
  }

  onClose(): void {
    this.ended = true;
    this.closed = true;
    for (const item of this.#queue.splice(0)) item.done(false);
    this.backend.wake.fire();
  }
}

export interface BackendOptions {
  /** Parse requests and call `answer` for each (default true); false: only record the bytes. */
  parse?: boolean;
}

export class RawBackend {
  readonly conns: BackendConnection[] = [];
  /** Every complete request, on any connection, in order of arrival. */
  readonly requests: UpstreamRequest[] = [];
  /** Fires on every connection, read and close. */
  readonly wake = new Wakeup();
  readonly parse: boolean;
  #listener!: TCPSocketListener<BackendConnection>;

  private constructor(
    public answer: Answer,
    options: BackendOptions,
  ) {
    this.parse = options.parse ?? true;
  }

  static start(answer: Answer = () => {}, options: BackendOptions = {}): RawBackend {
    const b = new RawBackend(answer, options);
    type S = Socket<BackendConnection>;
    b.#listener = Bun.listen<BackendConnection>({
      hostname: "127.0.0.1",
      port: 0,
      data: undefined as unknown as BackendConnection,
      socket: {
        binaryType: "uint8array",
        open(socket: S) {
          const conn = new BackendConnection(socket, b, b.conns.length);
          socket.data = conn;
          b.conns.push(conn);
          b.wake.fire();
        },
        data(socket: S, chunk: Uint8Array) {
          socket.data.onData(chunk);
        },
        drain(socket: S) {
          socket.data.onDrain();
        },
        end(socket: S) {
          socket.data.ended = true;
          b.wake.fire();
          socket.end();
        },
        close(socket: S) {
          socket.data.onClose();
        },
        error(socket: S) {
          socket.data.onClose();
        },
      },
    });
    return b;
  }

  get port(): number {
    return this.#listener.port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Connections accepted so far. */
  get accepted(): number {
    return this.conns.length;
  }

  /** Bytes received on every connection. */
  get received(): number {
    let n = 0;
    for (const c of this.conns) n += c.received;
    return n;
  }

  /** Everything received on every connection, as Latin-1 text, in order of connection. */
  text(): string {
    return this.conns.map((c) => c.text()).join("");
  }

  /** Waits until `predicate` holds (re-checked on every event here); throws after `ms`. */
  async until(predicate: () => boolean, ms = 5000, what = "the backend"): Promise<void> {
    if ((await poll(predicate, ms, { wake: this.wake })) === null) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
  }

  stop(): void {
    this.#listener.stop(true);
    for (const c of this.conns) if (!c.closed) c.reset();
  }
}

/** A complete response with a Content-Length (Latin-1 body). */
export function ok(body = "ok", extra = ""): string {
  return `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n${extra}\r\n${body}`;
}

/** A port that was listening a moment ago and is closed now: connecting to it is refused. */
export function closedPort(): number {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

// ---- bulk transfers ---------------------------------------------------------------------------

const ZEROS = new Uint8Array(256 * 1024);
/** ZEROS as one chunk of a chunked body: its size line, the bytes, the CRLF. */
const ZERO_CHUNK = (() => {
  const line = new TextEncoder().encode(`${ZEROS.length.toString(16)}\r\n`);
  const out = new Uint8Array(line.length + ZEROS.length + 2);
  out.set(line);
  out.set([13, 10], out.length - 2);
  return out;
})();
const LAST_CHUNK = new TextEncoder().encode("0\r\n\r\n");

/** One connection of a BulkBackend: a request head, then an upload to count or a download to send. */
class BulkConnection {
  #head = "";
  #inBody = false;
  #left = 0;
  #counted = 0;
  /** Download bytes still to send, and the unsent tail of the last write. */
  #toSend = 0;
  #chunked = false;
  #lastSent = false;
  #tail: Uint8Array | null = null;

  constructor(
    readonly socket: Socket<BulkConnection>,
    private readonly backend: BulkBackend,
  ) {}

  onData(chunk: Uint8Array): void {
    if (this.#inBody) return this.#count(chunk.length);
    this.#head += decodeLatin1(chunk, 0, chunk.length);
    const end = this.#head.indexOf("\r\n\r\n");
    if (end < 0) return;
    const head = this.#head.slice(0, end);
    const extra = this.#head.length - end - 4;
    this.#head = "";
    const [method = "", target = ""] = head.split(" ");
    if (method === "GET") {
      // GET …/<bytes>: that many zeros under a Content-Length; GET …/chunked/<bytes>: chunked, in
      // 256 KiB chunks (the count rounded up to them).
      const n = Number(/\/(\d+)$/.exec(target)?.[1] ?? "0");
      this.#chunked = target.includes("/chunked/");
      const framing = this.#chunked ? "Transfer-Encoding: chunked" : `Content-Length: ${n}`;
      this.socket.write(`HTTP/1.1 200 OK\r\n${framing}\r\nConnection: close\r\n\r\n`);
      this.#toSend = n;
      this.#pump();
      return;
    }
    this.#inBody = true;
    this.#left = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? "0");
    this.#count(extra);
  }

  #count(n: number): void {
    this.#counted += n;
    this.#left -= n;
    this.backend.received += n;
    if (this.#left <= 0) {
      const body = `${this.#counted}`;
      this.socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
      this.socket.end();
    }
  }

  /** Writes zeros until the kernel stops taking them (drain resumes) or all are sent. */
  #pump(): void {
    for (;;) {
      let bytes = this.#tail;
      if (bytes === null) {
        if (this.#toSend === 0 && (!this.#chunked || this.#lastSent)) {
          this.socket.end();
          return;
        }
        if (this.#toSend === 0) {
          bytes = LAST_CHUNK;
          this.#lastSent = true;
        } else if (this.#chunked) {
          bytes = ZERO_CHUNK;
          this.#toSend = Math.max(0, this.#toSend - ZEROS.length);
        } else {
          bytes = this.#toSend >= ZEROS.length ? ZEROS : ZEROS.subarray(0, this.#toSend);
          this.#toSend -= bytes.length;
        }
      }
      const n = this.socket.write(bytes, 0, bytes.length);
      if (n > 0) this.backend.sent += n;
      if (n < bytes.length) {
        this.#tail = bytes.subarray(Math.max(0, n));
        return;
      }
      this.#tail = null;
    }
  }

  onDrain(): void {
    if (this.#tail !== null || this.#toSend > 0) this.#pump();
  }
}

/**
 * A backend for bulk transfers that keeps nothing: a POST's body is counted and answered with the
 * count; `GET …/<bytes>` streams that many zeros under a Content-Length (`GET …/chunked/<bytes>`:
 * chunked), only as fast as the proxy
 * takes them (so `sent` stops growing when the proxy stops reading).
 */
export class BulkBackend {
  /** Upload body bytes received, on every connection. */
  received = 0;
  /** Download bytes the kernel took. */
  sent = 0;
  accepted = 0;
  open = 0;
  readonly wake = new Wakeup();
  #listener!: TCPSocketListener<BulkConnection>;

  static start(): BulkBackend {
    const b = new BulkBackend();
    type S = Socket<BulkConnection>;
    b.#listener = Bun.listen<BulkConnection>({
      hostname: "127.0.0.1",
      port: 0,
      data: undefined as unknown as BulkConnection,
      socket: {
        binaryType: "uint8array",
        open(socket: S) {
          socket.data = new BulkConnection(socket, b);
          b.accepted++;
          b.open++;
        },
        data(socket: S, chunk: Uint8Array) {
          socket.data.onData(chunk);
        },
        drain(socket: S) {
          socket.data.onDrain();
        },
        close() {
          b.open--;
          b.wake.fire();
        },
      },
    });
    return b;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#listener.port}`;
  }

  stop(): void {
    this.#listener.stop(true);
  }
}
