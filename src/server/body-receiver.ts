// Body reception for one request: takes the body's bytes off the connection's input (Content-Length
// or chunked, RFC 9112 §6.3 and §7.1), hands them to the RequestBody the handler reads, or drops them
// once nobody will. It keeps to the body's room, so what waits for the handler stays bounded, and
// guards against slow POSTs. The connection acts on what feed() reports.
import { ChunkedDecoder, type ChunkedLimits } from "../http/chunked.ts";
import { copyBytes } from "../http/chars.ts";
import { FAILED } from "../http/parser.ts";
import { HTTP_ERROR, type HttpErrorCode } from "../http/errors.ts";
import type { RequestHead } from "../http/head.ts";
import type { Budget, BudgetWaiter } from "./budget.ts";
import { HttpException } from "./http-exception.ts";
import { type BodyFeeder, RequestBody } from "./request-body.ts";

/** What feed() found. */
export const FED = {
  /** All input used (or the body has no room): wait for more bytes, or for the handler. */
  WAIT: 0,
  /** The body is complete; the input after it is the next request's. */
  DONE: 1,
  /** The body is broken (`error` says how): refuse the request. */
  FAILED: 2,
  /** More was dropped than a kept connection is worth (DISCARD_LIMIT): close after the response. */
  TOO_MUCH: 3,
} as const;
export type Fed = (typeof FED)[keyof typeof FED];

/** Body pieces up to this size are copied out of the socket's chunk; larger ones are views of it. */
const PIECE_COPY_LIMIT = 16 * 1024;
/** Bytes per second a body must average once it has taken longer than bodyTimeout (slow-POST guard). */
const MIN_BODY_RATE = 1024;
/**
 * An unread body up to this size is read and dropped so the connection can stay open (nginx's
 * discard_body); a larger one, or a chunked one that grows past it, closes the connection instead.
 */
export const DISCARD_LIMIT = 1024 * 1024;

export interface ReceiverLimits extends ChunkedLimits {
  bodyTimeout: number;
  bodyBufferSize: number;
}

export class BodyReceiver {
  /** What the handler reads; null when the request has no body. */
  body: RequestBody | null = null;
  /** Body bytes are still to come from the socket. */
  receiving = false;
  /** Received bytes are dropped: nobody will read them. */
  discarding = false;
  /** Why feed() reported FAILED. */
  error: HttpErrorCode | 0 = 0;
  #discarded = 0;
  #remaining = 0;
  #chunked = false;
  #decoder: ChunkedDecoder | null = null;
  #startedAt = 0;
  #received = 0;

  constructor(private readonly budget: Budget) {}

  /**
   * Sets up the body of the request whose head ends at `pos`. A Content-Length body that is already
   * all in [pos, end) is copied out whole (a small POST: no stream); returns where its input ends.
   */
  start(head: RequestHead, buf: Uint8Array | null, pos: number, end: number, feeder: BodyFeeder, limits: ReceiverLimits, now: number): number {
    this.discarding = false;
    this.#discarded = 0;
    this.error = 0;
    if (!head.hasBody) {
      this.body = null;
      return pos;
    }
    if (!head.chunked && end - pos >= head.contentLength) {
      const n = head.contentLength;
      const bytes = new Uint8Array(n);
      copyBytes(buf!, pos, pos + n, bytes, 0);
      this.body = RequestBody.whole(bytes, feeder);
      return pos + n;
    }
    this.body = new RequestBody(feeder, limits.bodyBufferSize, limits.maxBody, this.budget);
    this.receiving = true;
    this.budget.receiving++;
    this.#startedAt = now;
    this.#received = 0;
    this.#chunked = head.chunked;
    if (head.chunked) {
      if (this.#decoder === null) this.#decoder = new ChunkedDecoder(limits);
      else this.#decoder.reset(limits);
    } else {
      this.#remaining = head.contentLength;
    }
    return pos;
  }

  /**
   * Whether the rest is more than is worth reading and dropping to keep the connection. A chunked
   * body's rest has no known size (it may never end): always.
   */
  get tooMuchToDiscard(): boolean {
    return this.#chunked || this.#remaining > DISCARD_LIMIT;
  }

  /**
   * Moves body bytes from buf[pos, end) to the body (or drops them) while it has room. Returns the
   * new position; `result` says why it stopped.
   */
  feed(buf: Uint8Array, pos: number, end: number, limits: ReceiverLimits, now: number, waiter: BudgetWaiter): number {
    const body = this.body;
    const budget = this.budget;
    this.result = FED.WAIT;
    while (pos < end && this.receiving) {
      let room = end - pos;
      if (!this.discarding) {
        if (body!.room <= 0) break;
        // Past half the server's budget, a connection takes no more than its fair share. Before that,
        // a body with room takes all of this read at once, as one view: the read exists anyway, and a
        // fast upload is not cut into copies (Bun reads up to 512 KiB, the body holds 64 KiB).
        const share = budget.bodyRoom(body!.buffered);
        if (share <= 0) {
          budget.wait(waiter);
          break;
        }
        if (share !== Number.POSITIVE_INFINITY) room = Math.min(room, body!.room, share);
      }
      // Slow POST: bodyTimeout bounds each pause; past it, the body must also average MIN_BODY_RATE.
      const elapsed = now - this.#startedAt;
      if (elapsed > limits.bodyTimeout && this.#received * 1000 < elapsed * MIN_BODY_RATE) {
        return this.#failed(HTTP_ERROR.BODY_TOO_SLOW, pos);
      }
      if (this.#chunked) {
        const dec = this.#decoder!;
        const n = dec.decode(buf, pos, pos + room, this);
        if (n === FAILED) return this.#failed(dec.error as HttpErrorCode, pos);
        pos += n;
        if (dec.done) return this.#done(pos);
      } else {
        const n = Math.min(this.#remaining, room);
        this.onBodyData(buf, pos, pos + n);
        this.#remaining -= n;
        pos += n;
        if (this.#remaining === 0) return this.#done(pos);
      }
      if (this.discarding && this.#discarded > DISCARD_LIMIT) {
        this.result = FED.TOO_MUCH;
        return pos;
      }
    }
    return pos;
  }

  /** Why the last feed() stopped. */
  result: Fed = FED.WAIT;

  /** BodySink for the chunked decoder, and the Content-Length path: one piece of body. */
  onBodyData(buf: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (n === 0) return;
    this.#received += n;
    if (this.discarding) {
      this.#discarded += n;
      return;
    }
    if (n <= PIECE_COPY_LIMIT) {
      this.body!.pushCopy(buf, start, end);
    } else if (n * 2 >= buf.length) {
      this.body!.push(buf.subarray(start, end)); // a view: the connection never overwrites its input
    } else {
      // A copy: a view would keep the whole chunk alive for a piece of it.
      const piece = new Uint8Array(n);
      copyBytes(buf, start, end, piece, 0);
      this.body!.push(piece);
    }
  }

  /** From now on, drop what arrives (and what waits unread). */
  discard(): void {
    if (this.discarding) return;
    this.discarding = true;
    this.body?.cancel();
  }

  /** Reading was paused for the handler, not by the client: the slow-POST clock starts again. */
  restartClock(now: number): void {
    this.#startedAt = now;
    this.#received = 0;
  }

  /** No more bytes will come: the connection failed, closed, or the request was refused. */
  stop(status: number, reason: string): void {
    if (this.receiving) {
      this.receiving = false;
      this.budget.receiving--;
      this.body?.fail(new HttpException(status, reason)); // (made only here: most stops find nothing to stop)
    }
  }

  /** The response and body are done, or the connection is gone: let go of the body. */
  clear(): void {
    this.body?.release();
    this.body = null;
  }

  #done(pos: number): number {
    this.receiving = false;
    this.budget.receiving--;
    if (!this.discarding) this.body!.end();
    this.result = FED.DONE;
    return pos;
  }

  #failed(code: HttpErrorCode, pos: number): number {
    this.error = code;
    this.result = FED.FAILED;
    return pos;
  }
}
