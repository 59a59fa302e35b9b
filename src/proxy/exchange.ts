// One proxied request: its head (and body, streamed with backpressure: body-pump.ts) goes up a
// pooled connection, the upstream's response head comes back as a Reply, and its body as this
// BodySource, which the client's connection pulls as fast as the client reads (the upstream socket
// pauses meanwhile).
// Failures before a response head become 502 (504 when the upstream is too slow); after it, the
// client's connection is cut (a Content-Length promised can no longer be kept). A connection goes
// back to the pool only after a clean, complete response to a completely sent request.
import { concatBytes, copyBytes } from "../http/chars.ts";
import type { BodySink } from "../http/chunked.ts";
import { errorName } from "../http/errors.ts";
import { BODY, FAILED, INCOMPLETE, parseResponseHead } from "../http/response-parser.ts";
import { TEXT_PLAIN_TYPE } from "../http/response.ts";
import type { BodySource } from "../server/body.ts";
import { PendingReply, type Reply } from "../server/reply.ts";
import type { RequestBody } from "../server/request-body.ts";
import type { Protocol, UpgradedConnection } from "../server/upgrade.ts";
import { clientResponseFields, scratchBytes } from "./forwarded-fields.ts";
import type { ServerRequest } from "../server/request.ts";
import { BodyPump, type PumpOwner } from "./body-pump.ts";
import { Tunnel } from "./tunnel.ts";
import { WholeReply } from "./whole-reply.ts";
import type { Upstream, UpstreamConnection, UpstreamUser } from "./upstream.ts";

/** What an exchange reports to its proxy (the metrics' upstream counters, the sweep's list). */
export interface ExchangeOwner {
  readonly timeout: number;
  started(x: Exchange): void;
  finished(x: Exchange): void;
  upstreamError(upstream: Upstream, reason: FailReason): void;
  /** Writes what goes up first for `req` (its head, and a small body in hand) into scratchBytes(); their length. */
  firstBytes(req: ServerRequest, upstream: Upstream, upgrade: boolean): number;
}

export type FailReason = "connect" | "timeout" | "framing" | "closed";

/** Unread body bytes held before the upstream socket pauses (Bun reads up to 512 KiB at a time). */
const HIGH_WATER = 64 * 1024;

/** SWITCHING: the upstream said 101; the client's connection has yet to take the tunnel. */
const STATE = { HEAD: 0, BODY: 1, SWITCHING: 2, DONE: 3 } as const;

const EMPTY = new Uint8Array(0);

function failure(status: number, text: string): Reply {
  return { status, headers: TEXT_PLAIN_TYPE, body: `${status} ${text}\n` };
}
const BAD_GATEWAY = failure(502, "Bad Gateway");
const GATEWAY_TIMEOUT = failure(504, "Gateway Timeout");

export class Exchange extends PendingReply implements BodySource, UpstreamUser, BodySink, PumpOwner {
  #state: number = STATE.HEAD;
  conn: UpstreamConnection;
  /** Milliseconds since the epoch when the upstream has kept us waiting too long (0: not waiting on it). */
  deadline = 0;
  /** In the proxy's list of exchanges under way (its sweep checks their deadlines). */
  prev: Exchange | null = null;
  next: Exchange | null = null;
  linked = false;
  /** Head bytes received so far (a head split across reads). */
  #partial: Uint8Array | null = null;
  #received = false;
  #requestSent = false;
  #retried = false;
  /** The request body going up after the head, if any. */
  readonly #pump: BodyPump | null;
  // The response body.
  #framing: number = BODY.NONE;
  #remaining = 0;
  /** Body pieces the client has not read yet (made on the first: most answers never stream). */
  #queue: Uint8Array[] | null = null;
  #queued = 0;
  #ended = false;
  #error: Error | null = null;
  #reusable = true;
  #waiter: ((piece: Uint8Array | null) => void) | null = null;
  /** A chunked or close-delimited reply, kept back until its first body bytes (or its end) are in. */
  #held: Reply | null = null;
  #failer: ((err: Error) => void) | null = null;

  constructor(
    private readonly owner: ExchangeOwner,
    private readonly upstream: Upstream,
    /** The request: its head (valid until this settles) makes the bytes sent up, again on a retry. */
    private readonly req: ServerRequest,
    /** The body still to stream up, or null when it went with the head (or there is none). */
    body: RequestBody | null,
    /** The body goes up chunked (its length is unknown). */
    chunked: boolean,
    private readonly isHead: boolean,
    private readonly upgrade: boolean,
    /** Retrying on a fresh connection is safe: the method is idempotent and the body is in hand. */
    private readonly retryable: boolean,
    /** A keep-alive HTTP/1.1 GET: a small whole answer may go back as one pre-encoded response. */
    private readonly rawOk: boolean,
  ) {
    super();
    this.#pump = body === null ? null : new BodyPump(this, body, chunked);
    owner.started(this);
    this.conn = upstream.acquire(this, false);
    this.#send();
  }

  #send(): void {
    const n = this.owner.firstBytes(this.req, this.upstream, this.upgrade);
    if (this.conn.write(scratchBytes(), n, true)) this.#wrote();
    else this.deadline = Date.now() + this.owner.timeout; // to connect, or for the kernel to take it
  }

  /** The head (and what went with it) is written: the body follows, or the request is complete. */
  #wrote(): void {
    if (this.#pump === null) this.bodySent();
    else if (!this.#requestSent) this.#pump.next();
  }

  // ---- the request body, up (PumpOwner) --------------------------------------------------------

  /** The request's last byte went up: the upstream's clock for its head starts. */
  bodySent(): void {
    this.#requestSent = true;
    if (this.#state === STATE.HEAD) this.deadline = Date.now() + this.owner.timeout;
  }

  get over(): boolean {
    return this.#state === STATE.DONE;
  }

  waitingOnUpstream(upstream: boolean): void {
    if (upstream) this.deadline = Date.now() + this.owner.timeout;
    else if (this.#state === STATE.HEAD) this.deadline = 0; // the client's turn (a response's clock is its own)
  }

  bodyFailed(err: unknown): void {
    // The upstream must not take a truncated body for a whole one, so its connection goes.
    this.#reusable = false;
    if (this.#state === STATE.HEAD) {
      this.#state = STATE.DONE;
      this.deadline = 0;
      this.conn.close();
      this.owner.finished(this);
      this.reject(err); // the engine answers it (413, 400, 408)
    }
    // Else the response is on its way: it finishes, and then the connection closes (#finish).
  }

  onConnected(): void {
    this.#wrote();
  }

  onDrain(): void {
    if (this.#requestSent) return;
    if (this.#pump === null) this.bodySent();
    else this.#pump.onDrain();
  }

  // ---- the response, down ----------------------------------------------------------------------

  onData(chunk: Uint8Array): void {
    this.#received = true;
    if (this.#state === STATE.HEAD) this.#onHeadBytes(chunk);
    else if (this.#state === STATE.BODY) this.#onBody(chunk, 0, chunk.length);
    else if (this.#state === STATE.SWITCHING) this.#rest = concatBytes([this.#rest, chunk]); // (paused: at most a read)
    else this.conn.close();
  }

  #onHeadBytes(chunk: Uint8Array): void {
    const buf = this.#partial === null ? chunk : concatBytes([this.#partial, chunk]);
    this.#partial = null;
    const head = this.conn.head;
    let start = 0;
    for (;;) {
      const n = parseResponseHead(buf, start, buf.length, head, this.isHead);
      if (n === INCOMPLETE) {
        this.#partial = start === 0 ? buf : buf.slice(start);
        return;
      }
      if (n === FAILED) {
        this.#fail("framing", new Error(`upstream ${this.upstream.authority}: ${errorName(head.error as never)}`));
        return;
      }
      start += n;
      const status = head.status;
      if (status >= 200 || status === 101) break;
      // 100 Continue, 103 Early Hints: interim, not for the client (we answer 100-continue ourselves).
    }
    if (head.status === 101) {
      if (!this.upgrade) {
        this.#fail("framing", new Error(`upstream ${this.upstream.authority}: 101 to a request that asked for no upgrade`));
        return;
      }
      // Held (the socket paused) until the client's connection has written the 101 and takes over.
      this.#state = STATE.SWITCHING;
      this.#rest = buf.subarray(start);
      this.conn.pause();
      this.deadline = Date.now() + this.owner.timeout;
      this.resolve({ status: 101, headers: clientResponseFields(head, true), upgrade: (client, received) => this.#switched(client, received) });
      return;
    }
    const framing = head.framing;
    if (!head.keepAlive) this.#reusable = false;
    if (this.upgrade) this.#reusable = false; // it asked for a switch, and did not get one: start afresh
    this.#framing = framing;
    this.#state = STATE.BODY;
    this.deadline = 0;
    const rest = buf.length - start;
    if (framing === BODY.NONE) {
      if (rest > 0) this.#reusable = false;
      // A HEAD's answer says what a GET's would have (its Content-Length, or chunked).
      const reply: Reply = { status: head.status, headers: clientResponseFields(head, false), body: null };
      if (this.isHead) reply.length = headLength(head);
      this.#finish();
      this.resolve(reply);
      return;
    }
    if (framing === BODY.LENGTH && head.contentLength <= rest) {
      // The whole body is here (the common small response): no stream at all.
      if (head.contentLength < rest) this.#reusable = false;
      this.#finish();
      if (this.rawOk) {
        // The hottest path: the client's whole response written at once into the cork buffer.
        this.resolve(new WholeReply(head.status, clientResponseFields(head, false), buf, start, head.contentLength));
      } else {
        this.resolve({ status: head.status, headers: clientResponseFields(head, false), body: head.contentLength === 0 ? EMPTY : piece(buf, start, start + head.contentLength) });
      }
      return;
    }
    this.#remaining = head.contentLength;
    if (framing === BODY.CHUNKED) this.conn.decoder.reset();
    const headers = clientResponseFields(head, false);
    if (framing === BODY.LENGTH) {
      // The engine writes a Content-Length head at once: a failure after this cuts the connection.
      this.resolve({ status: head.status, headers, body: this, length: head.contentLength });
    } else {
      // Chunked or until the close: the engine reads the first piece before it writes the head, so
      // the reply waits here for it, and a failure before it is still a 502 (504), not a 500.
      this.#held = { status: head.status, headers, body: this };
    }
    if (rest > 0) this.#onBody(buf, start, buf.length);
    if (this.#held !== null) this.deadline = Date.now() + this.owner.timeout; // still waiting on the upstream
  }

  #rest: Uint8Array = EMPTY;
  #switched(client: UpgradedConnection, received: Uint8Array): Protocol {
    this.#state = STATE.DONE;
    this.deadline = 0;
    this.owner.finished(this);
    return new Tunnel(client, this.conn, this.owner.timeout, this.#rest, received);
  }

  #onBody(buf: Uint8Array, start: number, end: number): void {
    if (this.#ended) {
      this.conn.close();
      return;
    }
    const framing = this.#framing;
    if (framing === BODY.LENGTH) {
      const take = Math.min(this.#remaining, end - start);
      this.#push(piece(buf, start, start + take));
      this.#remaining -= take;
      if (this.#remaining === 0) {
        if (start + take < end) this.#reusable = false;
        this.#bodyEnded();
      }
    } else if (framing === BODY.CHUNKED) {
      const decoder = this.conn.decoder;
      const n = decoder.decode(buf, start, end, this);
      if (n === FAILED) {
        this.#fail("framing", new Error(`upstream ${this.upstream.authority}: ${errorName(decoder.error as never)} in its chunked body`));
        return;
      }
      if (decoder.done) {
        if (start + n < end) this.#reusable = false;
        this.#bodyEnded();
      }
    } else {
      this.#push(piece(buf, start, end));
    }
    if (this.#queued > 0) this.#release();
  }

  /** The held reply goes to the engine (its first body bytes, or its end, are in). */
  #release(): void {
    const held = this.#held;
    if (held === null) return;
    this.#held = null;
    this.resolve(held);
  }

  /** The chunked decoder's data, as views of the upstream's bytes. */
  onBodyData(buf: Uint8Array, start: number, end: number): void {
    this.#push(piece(buf, start, end));
  }

  #push(piece: Uint8Array): void {
    if (piece.length === 0) return;
    this.deadline = 0; // the client's turn: the next read() waits on the upstream again
    const waiter = this.#waiter;
    if (waiter !== null && this.#queued === 0) {
      this.#waiter = null;
      this.#failer = null;
      waiter(piece);
      return;
    }
    (this.#queue ??= []).push(piece);
    this.#queued += piece.length;
    if (this.#queued >= HIGH_WATER) this.conn.pause();
  }

  #bodyEnded(): void {
    this.#ended = true;
    this.#finish();
    this.#release();
    const waiter = this.#waiter;
    if (waiter !== null && this.#queued === 0) {
      this.#waiter = null;
      this.#failer = null;
      waiter(null);
    }
  }

  /** The response is complete: the connection goes back to the pool, or is closed. */
  #finish(): void {
    this.deadline = 0;
    this.#ended = true;
    this.owner.finished(this);
    const conn = this.conn;
    if (this.#reusable && this.#requestSent && !conn.writing) {
      conn.resume();
      this.upstream.release(conn);
    } else {
      // A request body still going up (the upstream answered early) or a response that broke the
      // framing: the connection is out of step. The rest of the client's body is not wanted.
      conn.close();
      if (!this.#requestSent) this.#pump?.body.cancel();
    }
  }

  read(): Uint8Array | null | Promise<Uint8Array | null> {
    const queue = this.#queue;
    if (queue !== null && queue.length > 0) {
      const piece = queue.shift()!;
      this.#queued -= piece.length;
      if (this.#queued < HIGH_WATER / 2 && !this.#ended) this.conn.resume();
      return piece;
    }
    if (this.#error !== null) return Promise.reject(this.#error);
    if (this.#ended) return null;
    // Waiting on the upstream now.
    this.deadline = Date.now() + this.owner.timeout;
    this.conn.resume();
    return new Promise<Uint8Array | null>((resolve, reject) => {
      this.#waiter = resolve;
      this.#failer = reject;
    });
  }

  /** The client's side is done with the body (all read, or the client went away). */
  close(): void {
    this.#queue = null;
    this.#queued = 0;
    if (this.#ended || this.#state === STATE.DONE) return;
    this.#state = STATE.DONE;
    this.#ended = true;
    this.deadline = 0;
    this.conn.close();
    this.owner.finished(this);
  }

  onClosed(err: Error | null): void {
    if (this.#state === STATE.HEAD) {
      // A pooled connection the upstream closed just as we sent: once more on a fresh one, when safe.
      if (!this.#received && this.conn.reused && this.retryable && !this.#retried) {
        this.#retried = true;
        this.#partial = null;
        this.conn = this.upstream.acquire(this, true);
        this.#send();
        return;
      }
      const reason: FailReason = err !== null && !this.conn.reused && !this.#received && isConnectError(err) ? "connect" : "closed";
      this.#fail(reason, err ?? new Error(`upstream ${this.upstream.authority} closed the connection before its response head`));
      return;
    }
    if (this.#state === STATE.BODY && !this.#ended) {
      if (this.#framing === BODY.UNTIL_CLOSE) this.#bodyEnded();
      else this.#fail("closed", err ?? new Error(`upstream ${this.upstream.authority} closed the connection mid-body`));
    }
  }

  /** The client went away: whatever the upstream is doing for it, its connection goes (as nginx's 499). */
  clientGone(): void {
    if (this.#state === STATE.DONE) return;
    if (this.#state === STATE.BODY) {
      this.close();
      if (this.#held !== null) this.#release(); // (to nobody: it settles the handler's promise)
      return;
    }
    this.#state = STATE.DONE;
    this.deadline = 0;
    this.conn.close();
    this.owner.finished(this);
    this.resolve(BAD_GATEWAY); // (nobody is left to read it)
  }

  /** The deadline passed: 504 before the head, a cut connection after it. */
  onTimeout(): void {
    this.#fail("timeout", new Error(`upstream ${this.upstream.authority} sent nothing for ${this.owner.timeout} ms`));
  }

  #fail(reason: FailReason, err: Error): void {
    const state = this.#state;
    if (state === STATE.DONE) return;
    if (state === STATE.SWITCHING) {
      // The client's connection never took the tunnel (it went away): nothing left to tell.
      this.#state = STATE.DONE;
      this.conn.close();
      this.owner.finished(this);
      return;
    }
    this.#state = STATE.DONE;
    this.deadline = 0;
    this.#reusable = false;
    this.conn.close();
    this.owner.finished(this);
    this.owner.upstreamError(this.upstream, reason);
    if (state === STATE.HEAD || this.#held !== null) {
      // No byte of the response has gone to the client: it can still be told.
      this.#held = null;
      this.resolve(reason === "timeout" ? GATEWAY_TIMEOUT : BAD_GATEWAY);
      return;
    }
    this.#error = err;
    this.#ended = true;
    this.#queue = null;
    this.#queued = 0;
    const failer = this.#failer;
    this.#waiter = null;
    this.#failer = null;
    failer?.(err);
  }
}

/** The Content-Length a HEAD's upstream gave (what a GET would carry), or -1 (chunked, or none). */
function headLength(head: UpstreamConnection["head"]): number {
  const v = head.header("content-length");
  return v === undefined ? -1 : Number(v);
}

/**
 * Bytes [start, end) of an upstream read: small ones copied (the first view of a fresh socket chunk
 * costs Bun about a microsecond, more than copying a few KiB), large ones as a view.
 */
function piece(buf: Uint8Array, start: number, end: number): Uint8Array {
  if (start === 0 && end === buf.length) return buf;
  if (end - start > 16 * 1024) return buf.subarray(start, end);
  const out = new Uint8Array(end - start);
  copyBytes(buf, start, end, out, 0);
  return out;
}

function isConnectError(err: Error): boolean {
  const code = (err as { code?: string }).code;
  return code === "ECONNREFUSED" || code === "EHOSTUNREACH" || code === "ENETUNREACH" || code === "ENOTFOUND" || code === "EAI_AGAIN";
}

