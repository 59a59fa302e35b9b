// Shrinks a socket's kernel receive buffer (SO_RCVBUF through bun:ffi; Linux, else nothing). A paused
// socket's next read takes all the kernel has queued, up to 512 KiB in Bun, and loopback autotuning
// lets that queue grow to tcp_rmem's maximum: so under memory pressure a connection we had to pause
// is given a small buffer, and each later read brings at most ~32 KiB (measured on Bun 1.4.5 and
// Linux 6: reads of 32,768 bytes after SO_RCVBUF 16384, which the kernel doubles).
import { dlopen, ptr } from "bun:ffi";

const SOL_SOCKET = 1;
const SO_RCVBUF = 8;
const SIZE = new Int32Array([16 * 1024]);

type SetSockOpt = (fd: number, level: number, name: number, value: unknown, length: number) => number;
let setsockopt: SetSockOpt | null | undefined;

function load(): SetSockOpt | null {
  if (process.platform !== "linux") return null;
  try {
    const libc = dlopen("libc.so.6", { setsockopt: { args: ["i32", "i32", "i32", "ptr", "u32"], returns: "i32" } });
    return libc.symbols.setsockopt as unknown as SetSockOpt;
  } catch {
    return null; // no FFI, or no glibc: the budgets still hold, with larger reads
  }
}

/** Gives the socket a small receive buffer; false when that cannot be done here (nothing changed). */
export function shrinkReceiveBuffer(fd: number | undefined): boolean {
  if (setsockopt === undefined) setsockopt = load();
  if (setsockopt === null || typeof fd !== "number" || fd < 0) return false;
  return setsockopt(fd, SOL_SOCKET, SO_RCVBUF, ptr(SIZE), 4) === 0;
}
