// Two buffers in one writev(2) through bun:ffi, for a plain TCP socket: a WebSocket frame's header
// (in the cork buffer) and its large payload (by reference) leave in one call, as uWebSockets sends
// them with one sendmsg. Written as two socket writes, the header went out as a tiny segment of its
// own, and echoing 64 KiB messages cost about 60 µs of server CPU each instead of about 45 (most of
// it the kernel's), measured with bench/ws.ts. Bun ignores SIGPIPE, so a write to a peer that is gone
// returns an error here rather than killing the process (checked by test/server/writev.test.ts).
import { ptr } from "bun:ffi";
import { libcFunction } from "./libc.ts";

/** writeTwo()'s answer when writev cannot be called here (no FFI, not Linux): write some other way. */
export const UNAVAILABLE = -2;

type Writev = (fd: number, iov: number, count: number) => number | bigint;
let writev: Writev | null | undefined;
const iov = new BigUint64Array(4);

const load = () => libcFunction<Writev>("writev", { args: ["i32", "ptr", "i32"], returns: "i64" });

/**
 * Writes a[0, aLen) then all of b to `fd` in one call. Returns the bytes the kernel took, -1 when it
 * took none (a full send buffer, or an error: the caller's next socket write tells which), or
 * UNAVAILABLE.
 */
export function writeTwo(fd: number, a: Uint8Array, aLen: number, b: Uint8Array): number {
  if (writev === undefined) writev = load();
  if (writev === null) return UNAVAILABLE;
  iov[0] = BigInt(ptr(a));
  iov[1] = BigInt(aLen);
  iov[2] = BigInt(ptr(b));
  iov[3] = BigInt(b.length);
  return Number(writev(fd, ptr(iov), 2));
}
