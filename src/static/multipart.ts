// multipart/byteranges bodies (RFC 9110 §14.6), from memory or streamed from a file descriptor.
import { closeSync, readSync } from "node:fs";
import type { BodySource } from "../server/body.ts";
import { type ByteRange, contentRange } from "./range.ts";

const encoder = new TextEncoder();
const PIECE = 256 * 1024;

function partHead(r: ByteRange, size: number, type: string, boundary: string, first: boolean): string {
  return `${first ? "" : "\r\n"}--${boundary}\r\nContent-Type: ${type}\r\nContent-Range: ${contentRange(r, size)}\r\n\r\n`;
}

function closing(boundary: string): string {
  return `\r\n--${boundary}--\r\n`;
}

/** Exact body length, so the response can carry Content-Length. */
export function multipartLength(ranges: ByteRange[], size: number, type: string, boundary: string): number {
  let n = closing(boundary).length;
  ranges.forEach((r, i) => {
    n += partHead(r, size, type, boundary, i === 0).length + (r.end - r.start + 1);
  });
  return n;
}

/** Yields part heads and range bytes in turn; reads a file in bounded pieces when `data` is null. */
export class MultipartSource implements BodySource {
  #i = 0;
  #pos = -1;
  #fd: number;
  #done = false;

  constructor(
    private readonly data: Uint8Array | null,
    fd: number,
    private readonly ranges: ByteRange[],
    private readonly size: number,
    private readonly type: string,
    private readonly boundary: string,
  ) {
    this.#fd = fd;
  }

  read(): Uint8Array | null {
    if (this.#done) return null;
    if (this.#i >= this.ranges.length) {
      this.close();
      this.#done = true;
      return encoder.encode(closing(this.boundary));
    }
    const r = this.ranges[this.#i]!;
    if (this.#pos < 0) {
      this.#pos = r.start;
      return encoder.encode(partHead(r, this.size, this.type, this.boundary, this.#i === 0));
    }
    const end = Math.min(r.end + 1, this.#pos + PIECE);
    let piece: Uint8Array;
    if (this.data !== null) piece = this.data.subarray(this.#pos, end);
    else {
      piece = new Uint8Array(end - this.#pos);
      const n = readSync(this.#fd, piece, 0, piece.length, this.#pos);
      if (n !== piece.length) {
        this.close();
        throw new Error("file ended early");
      }
    }
    this.#pos = end;
    if (end > r.end) {
      this.#i++;
      this.#pos = -1;
    }
    return piece;
  }

  close(): void {
    if (this.#fd >= 0) {
      closeSync(this.#fd);
      this.#fd = -1;
    }
  }
}
