// A response body that streams: pieces move from a BodySource to the connection's output while the
// socket keeps up, and wait for `drain` when it does not, so a slow client holds at most one piece.
// Also decides, for a stream of unknown length, whether it is already whole (Content-Length) or
// goes out chunked, without holding back a first piece that exists (server-sent events).
import { CRLF, LAST_CHUNK } from "../http/response.ts";
import { type BodySource, FileSource } from "./body.ts";
import type { Output } from "./output.ts";
import { NO_SENDFILE } from "./sendfile.ts";

/** What the stream needs from its connection. */
export interface StreamOwner {
  readonly output: Output;
  /** The connection is gone (or going): stop. */
  readonly closed: boolean;
  /** Every piece went out (the last chunk included): finish the response. */
  streamEnded(bytes: number): void;
  /** The source failed after the head left: the only honest signal left is to cut the connection. */
  streamFailed(err: unknown): void;
  /** A piece went out: the stream is alive (its wait timeout starts again). */
  streamProgress(): void;
}

/** Pieces moved per turn of the loop before yielding, so one fast download cannot hold the loop. */
const PIECES_PER_TURN = 16;

export class ResponseStream {
  #pumping = false;
  #bytes = 0;
  #pending: Promise<Uint8Array | null> | null;
  #ahead: Uint8Array[];

  /**
   * `ahead`: pieces already read, sent first; `pending`: a read already started, taken next.
   */
  constructor(
    private readonly owner: StreamOwner,
    private source: BodySource | null,
    private readonly chunked: boolean,
    ahead: Uint8Array[] = [],
    pending: Promise<Uint8Array | null> | null = null,
    /** The Content-Length the head promised, or -1: more is cut off, less cuts the connection. */
    private readonly length: number = -1,
  ) {
    this.#ahead = ahead;
    this.#pending = pending;
  }

  /**
   * Its first bytes are a file's, which may go by sendfile (Output.sendFile): then the head is left
   * corked, for sendFile to send with them.
   */
  get startsWithFile(): boolean {
    return this.#ahead.length === 0 && this.#sendableFile() !== null;
  }

  /** The source, when it is a file whose next bytes may go by sendfile: no read is pending, no framing. */
  #sendableFile(): FileSource | null {
    return !this.chunked && this.#pending === null && this.source instanceof FileSource ? this.source : null;
  }

  /** Its length is known (a file, a Blob): it will end by itself, whatever the client does meanwhile. */
  get determined(): boolean {
    return this.length >= 0;
  }

  /** Moves pieces while nothing is queued; called again on `drain`. */
  pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    const output = this.owner.output;
    try {
      if (this.#ahead.length > 0) {
        const ahead = this.#ahead;
        this.#ahead = [];
        for (const piece of ahead) this.#write(piece);
      }
      for (let turn = 0; this.source !== null && !output.stalled && !this.owner.closed; turn++) {
        if (turn === PIECES_PER_TURN) {
          setImmediate(() => {
            this.pump();
            output.flush();
          });
          break;
        }
        // A file over plain TCP goes by sendfile(2): no piece is read into memory at all.
        const file = this.#sendableFile();
        if (file !== null) {
          const sent = file.sendTo(output);
          if (sent !== NO_SENDFILE) {
            if (sent > 0) {
              this.#bytes += sent;
              this.owner.streamProgress();
            }
            if (file.done) this.#onPiece(null);
            continue;
          }
        }
        let piece: Uint8Array | null | Promise<Uint8Array | null>;
        if (this.#pending !== null) {
          piece = this.#pending;
          this.#pending = null;
        } else {
          piece = this.source.read();
        }
        if (piece instanceof Promise) {
          piece.then(
            (p) => {
              this.#pumping = false;
              this.#onPiece(p);
              if (this.source !== null && !output.stalled) this.pump();
              output.flush();
            },
            (err) => {
              this.#pumping = false;
              this.#fail(err);
            },
          );
          return;
        }
        this.#onPiece(piece);
      }
    } catch (err) {
      this.#pumping = false;
      this.#fail(err);
      return;
    }
    this.#pumping = false;
  }

  /** Releases the source (the connection closed, or the response was replaced). */
  close(): void {
    this.source?.close();
    this.source = null;
    const pending = this.#pending;
    this.#pending = null;
    pending?.catch(() => {});
  }

  #onPiece(piece: Uint8Array | null): void {
    if (this.owner.closed || this.source === null) {
      this.close();
      return;
    }
    if (piece === null) {
      if (this.length >= 0 && this.#bytes < this.length) {
        this.#fail(new Error(`body ended after ${this.#bytes} of the ${this.length} bytes its head promised`));
        return;
      }
      this.source = null;
      if (this.chunked) this.owner.output.cork().bytes(LAST_CHUNK);
      this.owner.streamEnded(this.#bytes);
      return;
    }
    if (this.length >= 0 && this.#bytes + piece.length > this.length) {
      // More than the head promised: the rest would be read as the next response. Stop at the length.
      this.#write(piece.subarray(0, this.length - this.#bytes));
      this.source?.close();
      this.source = null;
      this.owner.streamEnded(this.#bytes);
      return;
    }
    this.#write(piece);
  }

  #write(piece: Uint8Array): void {
    if (piece.length === 0) return; // an empty piece is not the last chunk
    const output = this.owner.output;
    this.#bytes += piece.length;
    this.owner.streamProgress();
    if (this.chunked) {
      const out = output.cork();
      out.latin1(piece.length.toString(16));
      out.bytes(CRLF);
      out.bytes(piece);
      out.bytes(CRLF);
      output.flush();
    } else if (this.source instanceof FileSource) {
      // What the kernel does not take now is read from the file again after `drain`: a client that
      // stops reading holds no piece of the file (one 256 KiB piece each, before).
      const n = output.writeSome(piece);
      if (n < piece.length) {
        this.source.unread(piece.length - n);
        this.#bytes -= piece.length - n;
      }
      this.source.recycle(piece);
    } else {
      output.send(piece);
    }
  }

  #fail(err: unknown): void {
    this.close();
    this.owner.streamFailed(err);
  }
}

/**
 * Whether `p` settles within a few microtask turns: a stream that is already whole (a Blob, a
 * string, pieces enqueued at once) answers its next read that fast; one waiting on I/O or a timer
 * does not. Resolves `{ value }` if it settled, undefined if not (then `p` is still the read).
 */
export function settlesSoon<T>(p: Promise<T>): Promise<{ value: T } | undefined> {
  let result: { value: T } | undefined;
  let failed = false;
  let error: unknown;
  p.then(
    (value) => {
      result = { value };
    },
    (err) => {
      failed = true;
      error = err;
    },
  );
  // Measured on Bun 1.4.5: Response bodies from strings and Blobs settle their next read within 2
  // turns, user streams that enqueued everything within 1.
  return Promise.resolve()
    .then(() => {})
    .then(() => {})
    .then(() => {})
    .then(() => (failed ? Promise.reject(error) : result));
}
