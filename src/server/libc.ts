// One libc function through bun:ffi, on Linux: null elsewhere, or when FFI or glibc is missing, and
// the caller then does without it (send-queue.ts, writev.ts).
import { dlopen, type FFIFunction } from "bun:ffi";

export function libcFunction<F>(name: string, signature: FFIFunction): F | null {
  if (process.platform !== "linux") return null;
  try {
    return dlopen("libc.so.6", { [name]: signature }).symbols[name] as unknown as F;
  } catch {
    return null;
  }
}
