// A connection's unparsed input: [start, end) of `buf`, kept across reads. The common case keeps
// nothing: a read is parsed where Bun put it (its chunks are fresh and never reused). Bytes before
// `end` are never overwritten in place, because requests may still point into them: the one being
// handled, its body pieces, and the header fields of fetch's Requests even after their response
// (RequestHead.detachFields). Growth allocates a new array.
import { copyBytes, CR, LF } from "../http/chars.ts";

export class Input {
  buf: Uint8Array | null = null;
  start = 0;
  end = 0;
  /** Whether `buf` is our own array (room after `end` may be written) or a chunk Bun gave us. */
  #owned = false;
  /** How far past `start` we already know the head does not end (slowloris: no rescans). */
  scanned = 0;

  get length(): number {
    return this.end - this.start;
  }

  append(chunk: Uint8Array): void {
    const live = this.end - this.start;
    if (live === 0) {
      this.buf = chunk;
      this.start = 0;
      this.end = chunk.length;
      this.#owned = false;
      return;
    }
    const buf = this.buf!;
    if (this.#owned && this.end + chunk.length <= buf.length) {
      buf.set(chunk, this.end);
      this.end += chunk.length;
      return;
    }
    let cap = Math.max(4096, buf.length);
    while (cap < live + chunk.length) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(buf.subarray(this.start, this.end), 0);
    next.set(chunk, live);
    this.buf = next;
    this.#owned = true;
    this.start = 0;
    this.end = live + chunk.length;
  }

  /**
   * After a pass: let go of the bytes when used up, or keep a tail that is less than half of a big
   * chunk by copy, so the rest of the chunk can go.
   */
  trim(): void {
    const live = this.end - this.start;
    if (live === 0) {
      this.clear();
      return;
    }
    const buf = this.buf!;
    if (buf.length >= 16 * 1024 && live * 2 < buf.length) {
      const store = new Uint8Array(Math.max(4096, live + (live >> 1)));
      copyBytes(buf, this.start, this.end, store, 0);
      this.buf = store;
      this.#owned = true;
      this.start = 0;
      this.end = live;
    }
  }

  /** The unread bytes as a copy, and the input emptied (for a protocol taking the connection over). */
  takeRest(): Uint8Array {
    const rest = this.buf === null ? new Uint8Array(0) : Uint8Array.prototype.slice.call(this.buf, this.start, this.end);
    this.clear();
    return rest;
  }

  clear(): void {
    this.buf = null;
    this.start = this.end = 0;
    this.#owned = false;
    this.scanned = 0;
  }

  /** Whether the unparsed bytes are only CR and LF (empty lines a client may send between requests). */
  onlyLineEnds(): boolean {
    const buf = this.buf!;
    for (let i = this.start; i < this.end; i++) if (buf[i] !== CR && buf[i] !== LF) return false;
    return true;
  }

  /**
   * Slowloris guard: after an incomplete head, only re-parse once the new bytes hold a line end that
   * could finish the head (LF after an empty line, or the first LF of the request line), or the limit.
   */
  headMayBeComplete(maxHeaderSize: number): boolean {
    if (this.scanned === 0) return true;
    const buf = this.buf!;
    const pos = this.start;
    const end = this.end;
    if (end - pos > maxHeaderSize) return true;
    let i = pos + this.scanned;
    for (;;) {
      i = buf.indexOf(LF, i);
      if (i < 0 || i >= end) {
        this.scanned = end - pos;
        return false;
      }
      // A blank line ends the head; the request line's end lets a bad request line fail early; a bare
      // LF fails at once.
      if (buf[i - 1] !== CR || buf[i - 2] === LF || buf.lastIndexOf(LF, i - 1) < pos) return true;
      i++;
    }
  }
}
