// A connection's outgoing bytes: the cork buffer while a callback runs, then the socket, and what the
// kernel did not take in a queue until `drain`. socket.write() drops what it does not take
// (../shared/BUN-NOTES.md), so every write goes through here.
import type { Socket } from "bun";
import { readSync } from "node:fs";
import type { OutBuffer } from "../http/response.ts";
import type { Budget } from "./budget.ts";
import { type CorkOwner, corkedBy, corkedLength, corkFor, uncorked } from "./cork.ts";
import { type ArenaSlot, NOT_IN_ARENA, sendFromArena } from "./send-arena.ts";
import { NO_SENDFILE, sendfileFrom, sendfileSent, sendMore } from "./sendfile.ts";
import { UNAVAILABLE, writeTwo } from "./writev.ts";

/** The byte sendFile() writes the ordinary way when sendfile fell short (one buffer: used at once). */
const ONE_BYTE = new Uint8Array(1);

/** What an Output tells its connection. */
export interface OutputOwner {
  /** After every write that left nothing queued (the connection may move on). */
  outputEmptied(): void;
  /** The kernel stopped taking bytes (the send timer starts). */
  outputStalled(): void;
  /** A write found the socket closed (Bun says so only to a socket it polls: not a paused one). */
  outputBroken(): void;
}

/** An owner that needs to hear nothing (tests, benchmarks). */
export const QUIET_OWNER: OutputOwner = { outputEmptied() {}, outputStalled() {}, outputBroken() {} };

export class Output implements CorkOwner {
  // Queued: #queue[0] from #offset on, then the rest.
  #queue: Uint8Array[] = [];
  #offset = 0;
  /** Bytes waiting for the kernel. */
  queued = 0;
  /** Bytes handed to the socket or its queue so far: tells whether a response has begun to leave. */
  total = 0;
  #closed = false;
  /** A writeSome() was short: the kernel is full until `drain`, though nothing is queued. */
  #waiting = false;
  /** The socket's descriptor when it is plain TCP (writes may bypass Bun's socket: writev.ts), else -1. */
  rawFd = -1;
  /** sendFile() may use sendfile(2) (with rawFd): the server's `sendfile` option. */
  sendfile = false;

  constructor(
    private readonly socket: Socket<unknown>,
    private readonly budget: Budget,
    /** Who is told what happens to the bytes: an object the connection already is, not closures it holds. */
    private readonly owner: OutputOwner,
  ) {}

  /** The cork buffer, held by this connection for the rest of the callback. */
  cork(): OutBuffer {
    return corkFor(this);
  }

  /** Bytes produced and not yet taken by the kernel: queued plus corked. */
  get pending(): number {
    return this.queued + corkedLength(this);
  }

  /** Sends what this connection corked: one write for everything the callback produced. */
  flush(): void {
    const out = corkedBy(this);
    if (out !== null) this.#flushFrom(out, 0);
  }

  /** flush(), when the first `from` corked bytes have left already. */
  #flushFrom(out: OutBuffer, from: number): void {
    if (this.#closed) {
      uncorked(this);
      return;
    }
    this.total += out.len - from;
    if (this.queued > 0) {
      this.#push(from === 0 ? out.take() : out.copy(from, out.len));
    } else {
      const n = this.socket.write(out.buf, from, out.len - from);
      if (n < 0) {
        uncorked(this);
        this.owner.outputBroken();
        return;
      }
      if (from + n < out.len) this.#push(out.copy(from + n, out.len)); // a copy: the cork buffer is shared
    }
    uncorked(this);
    if (this.queued === 0) this.owner.outputEmptied();
  }

  uncork(): void {
    this.flush();
  }

  /**
   * Writes bytes by reference (after anything corked, to keep the order). `copyRest`: what the kernel
   * does not take is queued as a copy, for bytes their owner may change after this returns.
   */
  send(bytes: Uint8Array, copyRest = false): void {
    if (corkedLength(this) > 0) this.flush();
    if (this.#closed) return;
    this.total += bytes.length;
    if (this.queued > 0) {
      this.#push(copyRest ? Uint8Array.prototype.slice.call(bytes) : bytes);
      return;
    }
    const n = this.socket.write(bytes, 0, bytes.length);
    if (n < 0) {
      this.owner.outputBroken();
      return;
    }
    if (n < bytes.length) {
      if (copyRest) this.#push(Uint8Array.prototype.slice.call(bytes, n));
      else this.#push(n === 0 ? bytes : bytes.subarray(n));
    }
  }

  /**
   * What is corked, then `bytes`, in one writev(2) when the socket is plain TCP and nothing waits
   * (writev.ts); else flush() and send(). What the kernel does not take is queued as send() would
   * (`copyRest`: as a copy), and a socket write of it makes Bun watch for `drain`.
   */
  sendAfterCorked(bytes: Uint8Array, copyRest = false): void {
    const out = corkedBy(this);
    // (The socket's own fd, asked afresh: -1 once Bun has closed it, so a number reused by another
    // connection is never written to.)
    const fd = this.rawFd < 0 ? -1 : ((this.socket as { fd?: number }).fd ?? -1);
    if (out === null || fd < 0 || fd !== this.rawFd || this.#closed || this.queued > 0 || this.#waiting) {
      this.send(bytes, copyRest);
      return;
    }
    const head = out.len;
    let n = writeTwo(fd, out.buf, head, bytes);
    if (n === UNAVAILABLE) {
      this.rawFd = -1;
      this.send(bytes, copyRest);
      return;
    }
    if (n < 0) n = 0;
    if (n >= head + bytes.length) {
      this.total += head + bytes.length;
      uncorked(this);
      this.owner.outputEmptied();
      return;
    }
    if (n < head) {
      const tail = out.copy(n, head); // (a copy: the cork buffer is shared)
      this.total += n; // (send() counts the rest)
      uncorked(this);
      this.send(tail);
      this.send(bytes, copyRest);
      return;
    }
    this.total += n; // (send() counts the rest)
    uncorked(this);
    this.send(bytes.subarray(n - head), copyRest);
  }

  /**
   * A whole pre-encoded response, also placed in the send arena (`slot`): sent from there by
   * sendfile(2) when the socket is plain TCP and nothing waits before it, else as send() would.
   */
  sendWhole(bytes: Uint8Array, slot: ArenaSlot | null): void {
    if (slot === null || this.rawFd < 0) {
      this.send(bytes);
      return;
    }
    if (corkedLength(this) > 0) this.flush();
    const fd = (this.socket as { fd?: number }).fd ?? -1; // (afresh: see sendAfterCorked)
    if (this.#closed || this.queued > 0 || this.#waiting || fd !== this.rawFd) {
      this.send(bytes);
      return;
    }
    let n = sendFromArena(fd, slot);
    if (n === NOT_IN_ARENA) {
      this.send(bytes);
      return;
    }
    if (n < 0) n = 0;
    this.total += n; // (send() counts the rest)
    if (n < bytes.length) this.send(bytes.subarray(n)); // a socket write: Bun then watches for drain
  }

  /**
   * Up to `count` bytes of the file `fd` from `offset`, by sendfile(2) when the socket is plain TCP
   * and nothing waits before them: returns the bytes sent, or NO_SENDFILE (then write them some other
   * way). Bun watches for `drain` only after a write of its own fell short, so when the kernel is
   * full, the next byte goes by writeSome(): dropped, it makes Bun watch; taken, it counts. Throws when the file ends before offset + count (it shrank).
   */
  sendFile(fd: number, offset: number, count: number): number {
    if (this.rawFd < 0 || !this.sendfile) return NO_SENDFILE;
    const sock = (this.socket as { fd?: number }).fd ?? -1; // (afresh: see sendAfterCorked)
    if (this.#closed || this.queued > 0 || this.#waiting || sock !== this.rawFd) return NO_SENDFILE;
    // The head, corked, goes first with MSG_MORE, to leave in the file's first segment: sent alone,
    // it made a small segment of its own, and wrk then took 1.8x the time per MiB it received.
    const out = corkedBy(this);
    if (out !== null) {
      const m = sendMore(sock, out.buf, out.len);
      if (m === out.len) {
        this.total += m;
        uncorked(this);
      } else {
        this.#flushFrom(out, m > 0 ? m : 0); // (the ordinary way: an error shows there)
        if (this.queued > 0 || this.#closed) return 0;
      }
    }
    // A second call when the first took part: it tells whether the kernel is full (-1), for a byte
    // written while it still has room would leave as a segment of its own. Two at most, so that one
    // fast download cannot hold the loop (the stream counts its turns).
    let n = 0;
    let full = false;
    for (let call = 0; call < 2 && !full; call++) {
      const took = sendfileFrom(sock, fd, offset + n, count - n);
      if (took === NO_SENDFILE) return NO_SENDFILE;
      if (took === 0) throw new Error("file ended early");
      if (took < 0) full = true;
      else {
        n += took;
        this.total += took;
        if (n === count) return n;
      }
    }
    if (!full) return n;
    sendfileSent.short++;
    if (readSync(fd, ONE_BYTE, 0, 1, offset + n) !== 1) throw new Error("file ended early");
    return n + this.writeSome(ONE_BYTE);
  }

  /** Nothing more should be written until `drain`: bytes are queued, or a writeSome() was short. */
  get stalled(): boolean {
    return this.queued > 0 || this.#waiting;
  }

  /**
   * Writes what the kernel takes of `bytes` now and queues nothing: returns how many it took. For a
   * source that can give the rest again later (a file), so a stalled client holds no bytes of it.
   */
  writeSome(bytes: Uint8Array): number {
    if (corkedLength(this) > 0) this.flush();
    if (this.#closed || this.queued > 0) return 0;
    const n = this.socket.write(bytes, 0, bytes.length);
    if (n < 0) {
      this.owner.outputBroken();
      return 0;
    }
    if (n < bytes.length && !this.#waiting) {
      this.#waiting = true;
      if (this.queued === 0) this.owner.outputStalled();
    }
    if (n <= 0) return 0;
    this.total += n;
    return n;
  }

  /** On `drain`: writes the queue while the kernel takes it. Returns the bytes the kernel took. */
  drain(): number {
    this.#waiting = false;
    let taken = 0;
    while (this.#queue.length > 0) {
      const head = this.#queue[0]!;
      const len = head.length - this.#offset;
      const n = this.socket.write(head, this.#offset, len);
      if (n < 0) {
        this.owner.outputBroken();
        return taken;
      }
      if (n === 0) break;
      taken += n;
      if (n < len) {
        this.#offset += n;
        break;
      }
      this.#queue.shift();
      this.#offset = 0;
    }
    this.#take(taken);
    return taken;
  }

  /** The socket is gone: drop everything. */
  close(): void {
    this.#closed = true;
    if (corkedLength(this) > 0) uncorked(this);
    this.#take(this.queued);
    this.#queue.length = 0;
    this.#offset = 0;
  }

  #push(bytes: Uint8Array): void {
    const first = this.queued === 0;
    if (first) this.budget.sending++;
    this.#queue.push(bytes);
    this.queued += bytes.length;
    this.budget.addOutput(bytes.length);
    if (first && !this.#waiting) this.owner.outputStalled();
  }

  #take(n: number): void {
    if (n === 0) return;
    this.queued -= n;
    if (this.queued === 0) this.budget.sending--;
    this.budget.takeOutput(n);
  }
}
