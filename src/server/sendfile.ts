// sendfile(2) through bun:ffi: bytes of a file go to a plain TCP socket straight from the page cache,
// with no read into our memory and no copy back into the kernel. What the send arena (memfd pages)
// and streamed files (FileSource, above the memory cache's size limit) are sent with when the socket
// is plain TCP; elsewhere (TLS, no FFI, not Linux) they are written as before. Also send(2) with
// MSG_MORE, for the head that goes before a file: the kernel holds it to leave with the file's first
// bytes, as nginx's `tcp_nopush` does with TCP_CORK.
import { ptr } from "bun:ffi";
import { libcFunction } from "./libc.ts";

/** Bytes sent by sendfile so far, and the times the kernel took less than asked (Output.sendFile), for tests. */
export const sendfileSent = { bytes: 0, short: 0 };

/** sendfileFrom()'s answer when sendfile cannot be called here: write some other way. */
export const NO_SENDFILE = -2;

type Sendfile = (out: number, inFd: number, offset: number, count: number) => number | bigint;
type Send = (fd: number, buf: number, len: number, flags: number) => number | bigint;
let sendfile: Sendfile | null | undefined;
let send: Send | null | undefined;
/** MSG_MORE | MSG_NOSIGNAL | MSG_DONTWAIT (Linux). */
const MORE_FLAGS = 0x8000 | 0x4000 | 0x40;
const offsetCell = new BigInt64Array(1);

/** Whether sendfile can be called here at all (loaded on first ask). */
export function haveSendfile(): boolean {
  if (sendfile === undefined) sendfile = libcFunction<Sendfile>("sendfile", { args: ["i32", "i32", "ptr", "u64"], returns: "i64" });
  return sendfile !== null;
}

/**
 * Sends up to `count` bytes of `fd` from `offset` to the socket `sock`. Returns the bytes the kernel
 * took; 0 at the end of the file; -1 when it took none (a full send buffer, or an error: the caller's
 * next socket write tells which); or NO_SENDFILE.
 */
export function sendfileFrom(sock: number, fd: number, offset: number, count: number): number {
  if (!haveSendfile()) return NO_SENDFILE;
  offsetCell[0] = BigInt(offset);
  const n = Number(sendfile!(sock, fd, ptr(offsetCell), count));
  if (n > 0) sendfileSent.bytes += n;
  return n;
}

/**
 * Sends buf[0, len) to `sock` marked MSG_MORE (more follows: the kernel waits for it to fill its
 * segments). Returns the bytes taken, -1 when none (full, or an error), or NO_SENDFILE.
 */
export function sendMore(sock: number, buf: Uint8Array, len: number): number {
  if (send === undefined) send = libcFunction<Send>("send", { args: ["i32", "ptr", "u64", "i32"], returns: "i64" });
  if (send === null) return NO_SENDFILE;
  return Number(send(sock, ptr(buf), len, MORE_FLAGS));
}
