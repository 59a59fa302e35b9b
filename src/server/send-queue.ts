// How many bytes a socket's kernel send queue still holds (ioctl TIOCOUTQ through bun:ffi; Linux,
// else unknown). A client that reads slowly may never free enough of a large loopback send buffer to
// raise a `drain` within the send timeout, yet it is reading: when the timeout comes, a queue that
// shrank since the last look is progress, and the client gets another period (as Bun.serve does).
import { ptr } from "bun:ffi";
import { libcFunction } from "./libc.ts";

const TIOCOUTQ = 0x5411;
const OUT = new Int32Array(1);

type Ioctl = (fd: number, request: number, value: unknown) => number;
let ioctl: Ioctl | null | undefined;

// Without it (no FFI, no glibc), a slow reader is judged by `drain` alone.
const load = () => libcFunction<Ioctl>("ioctl", { args: ["i32", "u64", "ptr"], returns: "i32" });

/** Bytes the kernel has not yet sent on this socket, or -1 when that cannot be told here. */
export function unsentInKernel(fd: number | undefined): number {
  if (ioctl === undefined) ioctl = load();
  if (ioctl === null || typeof fd !== "number" || fd < 0) return -1;
  return ioctl(fd, TIOCOUTQ, ptr(OUT)) === 0 ? OUT[0]! : -1;
}
