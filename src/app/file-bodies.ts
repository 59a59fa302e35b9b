// Bun.file bodies, sent as Bun.serve sends them: read from the file in pieces (FileSource), the
// part a `.slice()` names answered 206 with `Content-Range: bytes a-b/*`, and a Range request for a
// whole file answered from the file (RFC 9110 §14).
//
// A Blob cannot say whether it is a file or which part of one it holds, so we watch them being made,
// as known-bodies.ts watches Responses: `Bun.file` is wrapped to note the path of what it returns,
// and `Blob.prototype.slice` to note the part a slice of a noted file holds. A Blob we did not see
// being made stays an ordinary Blob (its stream, no 206).
//
// Measured on Bun 1.4.5: a slice is answered 206 whatever status the Response has, unless it covers
// the whole file (`slice(0)`, `slice(0, n)` with n ≥ size); the range is clipped to the file, and
// an empty one still reads `a-a`. A negative position counts back from the size Bun sees when slicing
// (sizeSeen), which for a file whose size it has not read yet is 2^52 - 1: `slice(-10)` sends nothing. A Range request is honoured only for a GET of a whole file with
// status 200 and no Content-Range of its own, and only for a single range (several, or junk, get the
// whole file); a range past the end gets 416 with `Content-Range: bytes */size`.
import { closeSync, fstatSync, openSync } from "node:fs";
import { FileSource, type ResponseParts } from "../server/body.ts";
import { contentRange, parseRange, RANGE_IGNORE, RANGE_UNSATISFIABLE } from "../static/range.ts";
import { hiddenField } from "./hidden-field.ts";

/** A file, or a part of it: bytes [offset, offset + limit) of path; limit -1 runs to the end. */
export interface FilePart {
  path: string;
  offset: number;
  limit: number;
}

const parts = hiddenField<Blob, FilePart>();
let nativeFile: typeof Bun.file | null = null;
let nativeSlice: typeof Blob.prototype.slice | null = null;

/** Wraps Bun.file and Blob.prototype.slice (once per process) so that files and their slices are noted. */
export function trackFiles(): void {
  if (nativeFile !== null) return;
  const file = Bun.file;
  const sliceFn = Blob.prototype.slice;
  nativeFile = file;
  nativeSlice = sliceFn;
  const tracked = function file(this: unknown, path: unknown, options?: unknown): Blob {
    const blob = (nativeFile as (p: unknown, o?: unknown) => Blob).call(this, path, options);
    const name = typeof path === "string" ? path : path instanceof URL && path.protocol === "file:" ? Bun.fileURLToPath(path) : null;
    if (name !== null) parts.set(blob, { path: name, offset: 0, limit: -1 });
    return blob;
  };
  Object.defineProperty(tracked, "length", { value: file.length });
  (Bun as { file: unknown }).file = tracked;
  Blob.prototype.slice = function slice(this: Blob, start?: number, end?: number, type?: string): Blob {
    const out = sliceFn.apply(this, arguments as unknown as [number?, number?, string?]);
    const from = parts.get(this);
    if (from !== undefined) {
      parts.set(out, slicePart(from, start, end, () => sizeSeen(this)));
    }
    return out;
  };
}

/** Undoes trackFiles() (for tests). */
export function untrackFiles(): void {
  if (nativeFile === null) return;
  (Bun as { file: unknown }).file = nativeFile;
  Blob.prototype.slice = nativeSlice!;
  nativeFile = null;
  nativeSlice = null;
}

/**
 * The size Bun resolves a negative slice position against: a slice's own size, or for a Bun.file the
 * file's size once Bun has read it (`size`, `exists()`), else Bun's largest Blob size (2^52 - 1): Bun
 * does not stat the file to slice it, so `slice(-10)` starts far past the end and sends nothing. A
 * slice does not make Bun read the size, so slicing off the last byte tells which it is.
 */
function sizeSeen(blob: Blob): number {
  const rest = nativeSlice!.call(blob, 0, -1).size;
  return rest > 0 ? rest + 1 : blob.size; // 0 or 1 bytes: a size Bun already knows, so asking costs nothing
}

/**
 * The part `slice(start, end)` of `from` holds, as Bun computes it: a negative position counts from
 * the end of `size()` (only asked for then), NaN is 0, and the part is clipped to the file when read.
 */
function slicePart(from: FilePart, start: number | undefined, end: number | undefined, size: () => number): FilePart {
  const s = start === undefined ? 0 : Math.trunc(Number(start)) || 0;
  const e = end === undefined ? Infinity : Math.trunc(Number(end)) || 0;
  const room = s < 0 || e < 0 ? size() : from.limit < 0 ? Infinity : from.limit;
  const first = s < 0 ? Math.max(room + s, 0) : Math.min(s, room);
  const stop = e < 0 ? Math.max(room + e, 0) : Math.min(e, room);
  return { path: from.path, offset: from.offset + first, limit: stop === Infinity ? -1 : Math.max(0, stop - first) };
}

/** The file part a Blob holds, if we saw it being made from Bun.file. */
export function filePart(blob: Blob): FilePart | undefined {
  return parts.get(blob);
}

const encoder = new TextEncoder();

/**
 * A Response's parts for a file body: the bytes from the file, 206 for a slice, and for a whole file
 * with a Range request (`range`: the field's value, for a GET), that range. Opening the file can
 * throw (it is gone): the caller treats that as the handler's error.
 */
export function fileParts(part: FilePart, status: number, headers: Headers, range: string | null): ResponseParts {
  const fd = openSync(part.path, "r");
  try {
    const size = fstatSync(fd).size;
    const whole = part.offset === 0 && (part.limit < 0 || part.limit >= size);
    if (!whole) {
      const start = Math.min(part.offset, size);
      const length = part.limit < 0 ? size - start : Math.min(part.limit, size - start);
      if (!headers.has("content-range")) {
        headers = new Headers(headers);
        headers.set("content-range", `bytes ${start}-${start + Math.max(length, 1) - 1}/*`);
      }
      return { status: 206, headers, body: new FileSource(fd, start, start + length), length };
    }
    if (range !== null && status === 200 && range.indexOf(",") < 0 && !headers.has("content-range")) {
      const ranges = parseRange(range, size);
      if (ranges === RANGE_UNSATISFIABLE) {
        closeSync(fd);
        const h = new Headers(headers);
        h.delete("content-type");
        h.set("content-range", `bytes */${size}`);
        h.set("accept-ranges", "bytes");
        return { status: 416, headers: h, body: null };
      }
      if (ranges !== RANGE_IGNORE && ranges.length === 1) {
        const r = ranges[0]!;
        const h = new Headers(headers);
        h.set("content-range", contentRange(r, size));
        h.set("accept-ranges", "bytes");
        return { status: 206, headers: h, body: new FileSource(fd, r.start, r.end + 1), length: r.end + 1 - r.start };
      }
    }
    return { status, headers, body: new FileSource(fd, 0, size), length: size };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/** The Content-Type line Bun.serve sends for a Blob whose Response headers have none. */
export function blobTypeLine(blob: Blob, untyped: Uint8Array): Uint8Array | undefined {
  const type = blob.type;
  if (type === "") return blob.size > 0 ? untyped : undefined;
  return encoder.encode(`Content-Type: ${type}\r\n`);
}
