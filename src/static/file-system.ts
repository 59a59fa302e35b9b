// The file-system calls static serving makes. Each answers "no such file" (null, -1, false) for
// whatever a request path can cause, except running out of descriptors, which throws a 503.
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, realpathSync, statSync, type BigIntStats } from "node:fs";
import { sep } from "node:path";
import { isOutOfDescriptors, serviceUnavailable } from "../server/http-exception.ts";

/** O_NONBLOCK: should a FIFO replace a checked file before open(), open() must not block the process. */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

/** EMFILE/ENFILE is a passing shortage, not "no such file": the answer is 503 with Retry-After, never 404. */
export function throwIfOutOfDescriptors(err: unknown): void {
  if (isOutOfDescriptors(err)) throw serviceUnavailable();
}

/** stat() that answers null for every failure a request path can cause (ENOENT, ENOTDIR, ELOOP, ENAMETOOLONG, EACCES). */
export function statOrNull(path: string): BigIntStats | null {
  try {
    return statSync(path, { bigint: true, throwIfNoEntry: false }) ?? null;
  } catch {
    return null;
  }
}

/** lstat(): the link itself for a symlink (serve.json's `symlinks: false` refuses those); null as statOrNull. */
export function lstatOrNull(path: string): BigIntStats | null {
  try {
    return lstatSync(path, { bigint: true, throwIfNoEntry: false }) ?? null;
  } catch (err) {
    throwIfOutOfDescriptors(err);
    return null;
  }
}

/** Does `path`, symlinks followed, stay inside `root` (a real path)? */
export function isInsideRoot(path: string, root: string): boolean {
  let real: string;
  try {
    real = realpathSync(path);
  } catch (err) {
    // realpath needs a descriptor of its own.
    throwIfOutOfDescriptors(err);
    return false;
  }
  return real === root || real.startsWith(root.endsWith(sep) ? root : root + sep);
}

/** Stats a path inside the root; follows symlinks only while the real path stays inside. */
export function statInside(path: string, root: string): BigIntStats | null {
  const st = statOrNull(path);
  if (st === null || !isInsideRoot(path, root)) return null;
  return st;
}

function openOrFail(path: string): number {
  try {
    return openSync(path, OPEN_FLAGS);
  } catch (err) {
    throwIfOutOfDescriptors(err);
    return -1;
  }
}

/** A descriptor for a regular file, or -1 (gone, or no longer a regular file since it was checked). */
export function openFile(path: string): number {
  const fd = openOrFail(path);
  if (fd < 0) return -1;
  let isFile = false;
  try {
    isFile = fstatSync(fd).isFile();
  } catch {
    // Treated as gone, like a failed open().
  }
  if (isFile) return fd;
  closeSync(fd);
  return -1;
}

/** The file's bytes (fewer than `size` if it shrank meanwhile), or null when it cannot be opened. */
export function readWholeFile(path: string, size: number): Uint8Array | null {
  const fd = openOrFail(path);
  if (fd < 0) return null;
  try {
    const buf = new Uint8Array(size);
    let off = 0;
    while (off < size) {
      const n = readSync(fd, buf, off, size - off, off);
      if (n <= 0) break;
      off += n;
    }
    return off === size ? buf : buf.subarray(0, off);
  } finally {
    closeSync(fd);
  }
}
