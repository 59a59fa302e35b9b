// Whole responses kept in a memfd, so a socket is sent them by sendfile(2) straight from those pages,
// without the copy a write(2) of the same bytes costs. nginx's gzip_static answers that way, and a
// 27 KB response out of a Bun.listen responder went from about 12.5 to 10.5 µs of server CPU (65-70k
// to 77-80k req/s, pinned, wrk -t1 -c64). A response holds a Date line, so each second gets a new
// memfd: pages given to sendfile are referenced by the socket's buffers until sent, and are never
// written again; the old memfd is closed (its pages live on while referenced). Bounded: past
// ARENA_LIMIT bytes in one second, responses go out by write(2) as before.
import { ptr } from "bun:ffi";
import { libcFunction } from "./libc.ts";
import { haveSendfile, sendfileFrom } from "./sendfile.ts";

/** Where one response sits in the arena of one second. */
export interface ArenaSlot {
  readonly generation: number;
  readonly offset: number;
  readonly length: number;
}

/** Bytes an arena holds at most (the responses placed in it during its second). */
export const ARENA_LIMIT = 32 * 1024 * 1024;
/** sendFromArena()'s answer when the slot cannot be sent from (stale, or no FFI): write instead. */
export const NOT_IN_ARENA = -2;

type MemfdCreate = (name: Uint8Array, flags: number) => number;
type Pwrite = (fd: number, buf: number, count: number, offset: number) => number | bigint;
type Close = (fd: number) => number;

interface Libc {
  memfd: MemfdCreate;
  pwrite: Pwrite;
  close: Close;
}

let libc: Libc | null | undefined;
const NAME = new TextEncoder().encode("bunhttp-arena\0");
const MFD_CLOEXEC = 1;

function load(): Libc | null {
  const memfd = libcFunction<MemfdCreate>("memfd_create", { args: ["ptr", "u32"], returns: "i32" });
  const pwrite = libcFunction<Pwrite>("pwrite", { args: ["i32", "ptr", "u64", "i64"], returns: "i64" });
  const close = libcFunction<Close>("close", { args: ["i32"], returns: "i32" });
  if (memfd === null || pwrite === null || !haveSendfile() || close === null) return null;
  return { memfd, pwrite, close };
}

/** Responses that left by sendfile from the arena (in whole or in part), for tests. */
export const arenaSends = { count: 0 };

let fd = -1;
let generation = 0;
let used = 0;
let key: unknown = null;

/**
 * Copies `bytes` (a whole response) into the arena of `second` (any value that changes when the
 * Date line does); null when it cannot be (no FFI, the arena is full, a failed write).
 */
export function placeInArena(bytes: Uint8Array, second: unknown): ArenaSlot | null {
  if (libc === undefined) libc = load();
  if (libc === null) return null;
  if (second !== key) {
    if (fd >= 0) libc.close(fd);
    fd = libc.memfd(NAME, MFD_CLOEXEC);
    generation++;
    used = 0;
    key = second;
    if (fd < 0) {
      libc = null; // memfd_create is refused here (a sandbox): do without
      return null;
    }
  }
  if (used + bytes.length > ARENA_LIMIT) return null;
  const n = Number(libc.pwrite(fd, ptr(bytes), bytes.length, used));
  if (n !== bytes.length) return null;
  const slot = { generation, offset: used, length: bytes.length };
  used += bytes.length;
  return slot;
}

/**
 * sendfile(2)s the slot's bytes from `skip` on to the socket `sock`: the bytes the kernel took, -1
 * when it took none (full, or an error: the caller's next socket write tells which), or NOT_IN_ARENA.
 */
export function sendFromArena(sock: number, slot: ArenaSlot, skip = 0): number {
  if (libc == null || slot.generation !== generation || fd < 0) return NOT_IN_ARENA;
  const n = sendfileFrom(sock, fd, slot.offset + skip, slot.length - skip);
  if (n > 0) arenaSends.count++;
  return n;
}
