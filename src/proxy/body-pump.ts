// A request body going up: read from the client's RequestBody a piece at a time, framed as it came
// (Content-Length) or chunked, and the next piece read only once the upstream socket took the last,
// so a slow upstream holds back the client through TCP, and a fast one is fed as fast as it reads.
import type { RequestBody } from "../server/request-body.ts";
import type { UpstreamConnection } from "./upstream.ts";

/** What the pump tells the exchange it works for. */
export interface PumpOwner {
  /** The upstream connection the body goes to (closed: the pump stops). */
  readonly conn: UpstreamConnection;
  /** The exchange is over: the pump stops. */
  readonly over: boolean;
  /** Whether it waits on the upstream (it is not taking the body: its clock runs) or on the client. */
  waitingOnUpstream(upstream: boolean): void;
  /** The upstream took the body's last byte. */
  bodySent(): void;
  /** The client's body failed (cut off, too large, malformed, timed out) or was dropped. */
  bodyFailed(err: unknown): void;
}

const encoder = new TextEncoder();
const LAST_CHUNK = encoder.encode("0\r\n\r\n");

export class BodyPump {
  #reading = false;
  /** The last chunk waits in the upstream's queue: sent once it drains. */
  #lastWaits = false;
  readonly #onPiece = (piece: Uint8Array | null) => this.#piece(piece);
  readonly #onFailed = (err: unknown) => {
    this.#reading = false;
    this.owner.bodyFailed(err);
  };

  constructor(
    private readonly owner: PumpOwner,
    readonly body: RequestBody,
    private readonly chunked: boolean,
  ) {}

  /** Everything written has been taken by the kernel (the last chunk, if that waited). */
  get settled(): boolean {
    return !this.#lastWaits;
  }

  /** Reads the next piece (the head, or the last piece, has been taken). */
  next(): void {
    if (this.#reading || this.owner.over) return;
    this.#reading = true;
    this.owner.waitingOnUpstream(false);
    this.body.read().then(this.#onPiece, this.#onFailed);
  }

  /** The upstream drained: the next piece, or the end if the last chunk was waiting. */
  onDrain(): void {
    if (!this.#lastWaits) return this.next();
    this.#lastWaits = false;
    this.owner.bodySent();
  }

  #piece(piece: Uint8Array | null): void {
    this.#reading = false;
    const conn = this.owner.conn;
    if (this.owner.over || conn.closed) return;
    let out: Uint8Array;
    if (piece === null) {
      if (!this.chunked) return this.owner.bodySent();
      out = LAST_CHUNK;
    } else if (this.chunked) {
      const size = encoder.encode(`${piece.length.toString(16)}\r\n`);
      out = new Uint8Array(size.length + piece.length + 2);
      out.set(size);
      out.set(piece, size.length);
      out[out.length - 2] = 13;
      out[out.length - 1] = 10;
    } else {
      out = piece;
    }
    if (!conn.write(out)) {
      // The upstream is not taking the body: that counts against it (drain sends on).
      this.owner.waitingOnUpstream(true);
      if (piece === null) this.#lastWaits = true;
    } else if (piece === null) {
      this.owner.bodySent();
    } else {
      this.next();
    }
  }
}
