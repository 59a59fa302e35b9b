// The cork buffer: every response produced inside one callback collects here and leaves in one
// socket write (a write costs ~4 µs however small: ../shared/BUN-NOTES.md). One buffer serves all
// connections, as in uWebSockets' AsyncSocket: it belongs to one connection at a time, and a
// connection that takes it from another first makes that one send what it corked.
import { OutBuffer } from "../http/response.ts";

export interface CorkOwner {
  /** Sends what this owner has in the cork buffer (it is still the owner when called). */
  uncork(): void;
}

const buffer = new OutBuffer(256 * 1024);
let owner: CorkOwner | null = null;

/** The cork buffer, for `by` only: bytes another connection corked are sent to it first. */
export function corkFor(by: CorkOwner): OutBuffer {
  if (owner !== by) {
    if (owner !== null && buffer.len > 0) owner.uncork();
    buffer.reset();
    owner = by;
  }
  return buffer;
}

/** The buffer if `by` holds it with bytes in it, else null. */
export function corkedBy(by: CorkOwner): OutBuffer | null {
  return owner === by && buffer.len > 0 ? buffer : null;
}

/** Bytes `by` has corked and not yet sent (0 when it does not hold the buffer). */
export function corkedLength(by: CorkOwner): number {
  return owner === by ? buffer.len : 0;
}

/** After `by` sent (or dropped) its bytes: the buffer is free and small again. */
export function uncorked(by: CorkOwner): void {
  if (owner !== by) return;
  buffer.reset();
  buffer.shrink();
  owner = null;
}

/** Sends what is corked, whoever holds the buffer (the end of a batch of sends made outside a callback). */
export function flushCorked(): void {
  if (owner !== null && buffer.len > 0) owner.uncork();
}
