// Incremental decoder for the chunked transfer coding (RFC 9112 §7.1), resumable at any byte.
//
// chunked-body = *chunk last-chunk trailer-section CRLF
// chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
// Data is handed to the sink as ranges of the caller's buffer: nothing is copied here.
import { CHAR_CLASS, CR, FIELD, HEX_VALUE, HTAB, LF, SP, TOKEN } from "./chars.ts";
import { HTTP_ERROR, type HttpErrorCode } from "./errors.ts";
import { FAILED } from "./parser.ts";

export interface BodySink {
  onBodyData(buf: Uint8Array, start: number, end: number): void;
}

export interface ChunkedLimits {
  /** Most decoded body bytes (→ 413). */
  maxBody: number;
  /** Most bytes in one chunk-size line, extensions included (→ 400). */
  maxChunkLine: number;
  /** Most bytes in the trailer section (→ 431). */
  maxTrailerSize: number;
}

export const DEFAULT_CHUNKED_LIMITS: ChunkedLimits = {
  maxBody: 10 * 1024 * 1024,
  maxChunkLine: 4096,
  maxTrailerSize: 16 * 1024,
};

const S = {
  SIZE_START: 0,
  SIZE: 1,
  SIZE_WS: 2,
  EXT: 3,
  SIZE_LF: 4,
  DATA: 5,
  DATA_CR: 6,
  DATA_LF: 7,
  TRAILER_START: 8,
  TRAILER_NAME: 9,
  TRAILER_VALUE: 10,
  TRAILER_LF: 11,
  FINAL_LF: 12,
  DONE: 13,
} as const;

// 2^48 bytes is far beyond any body limit, and keeps size * 16 exact in a double.
const MAX_CHUNK_SIZE = 2 ** 48;

export class ChunkedDecoder {
  private state: number = S.SIZE_START;
  private size = 0;
  private lineBytes = 0;
  private trailerBytes = 0;
  /** Decoded body bytes so far. */
  received = 0;
  error: HttpErrorCode | 0 = 0;
  errorOffset = -1;

  constructor(private limits: ChunkedLimits = DEFAULT_CHUNKED_LIMITS) {}

  reset(limits: ChunkedLimits = this.limits): void {
    this.limits = limits;
    this.state = S.SIZE_START;
    this.size = 0;
    this.lineBytes = 0;
    this.trailerBytes = 0;
    this.received = 0;
    this.error = 0;
    this.errorOffset = -1;
  }

  get done(): boolean {
    return this.state === S.DONE;
  }

  private fail(code: HttpErrorCode, offset: number): number {
    this.error = code;
    this.errorOffset = offset;
    return FAILED;
  }

  /**
   * Decodes [start, end). Returns the bytes consumed: all of them, or fewer when the body ended inside
   * the range (what follows belongs to the next request). FAILED with `error` set on malformed input.
   */
  decode(buf: Uint8Array, start: number, end: number, sink: BodySink): number {
    let p = start;
    let state = this.state;
    while (p < end) {
      const c = buf[p]!;
      switch (state) {
        case S.SIZE_START: {
          const d = HEX_VALUE[c]!;
          if (d === 255) return this.fail(HTTP_ERROR.INVALID_CHUNK_SIZE, p);
          this.size = d;
          this.lineBytes = 1;
          state = S.SIZE;
          p++;
          break;
        }
        case S.SIZE: {
          const d = HEX_VALUE[c]!;
          if (d !== 255) {
            this.size = this.size * 16 + d;
            if (this.size >= MAX_CHUNK_SIZE) return this.fail(HTTP_ERROR.INVALID_CHUNK_SIZE, p);
            if (++this.lineBytes > this.limits.maxChunkLine) return this.fail(HTTP_ERROR.INVALID_CHUNK_SIZE, p);
            p++;
            break;
          }
          if (this.received + this.size > this.limits.maxBody) return this.fail(HTTP_ERROR.BODY_TOO_LARGE, p);
          if (c === CR) state = S.SIZE_LF;
          else if (c === 59) state = S.EXT; // ';'
          else if (c === SP || c === HTAB) state = S.SIZE_WS; // BWS before ';'
          else return this.fail(c === LF ? HTTP_ERROR.BARE_LF : HTTP_ERROR.INVALID_CHUNK_SIZE, p);
          this.lineBytes++;
          p++;
          break;
        }
        case S.SIZE_WS:
          if (++this.lineBytes > this.limits.maxChunkLine) return this.fail(HTTP_ERROR.CHUNK_EXTENSION_TOO_LARGE, p);
          if (c === 59) state = S.EXT;
          else if (HEX_VALUE[c] !== 255) return this.fail(HTTP_ERROR.INVALID_CHUNK_SIZE, p); // "5 5": a split size
          else if (c !== SP && c !== HTAB) return this.fail(HTTP_ERROR.INVALID_CHUNK_EXTENSION, p);
          p++;
          break;
        case S.EXT: {
          // chunk-ext is accepted and ignored; its bytes must be field characters and bounded in number.
          const limit = p + (this.limits.maxChunkLine - this.lineBytes);
          const stop = end < limit ? end : limit;
          const from = p;
          while (p < stop && CHAR_CLASS[buf[p]!]! & FIELD) p++;
          this.lineBytes += p - from;
          if (p >= limit) return this.fail(HTTP_ERROR.CHUNK_EXTENSION_TOO_LARGE, p);
          if (p === end) break;
          const e = buf[p]!;
          if (e !== CR) return this.fail(e === LF ? HTTP_ERROR.BARE_LF : HTTP_ERROR.INVALID_CHUNK_EXTENSION, p);
          this.lineBytes++;
          state = S.SIZE_LF;
          p++;
          break;
        }
        case S.SIZE_LF:
          if (c !== LF) return this.fail(HTTP_ERROR.BARE_CR, p - 1);
          p++;
          state = this.size === 0 ? S.TRAILER_START : S.DATA;
          break;
        case S.DATA: {
          const avail = end - p;
          const n = avail < this.size ? avail : this.size;
          sink.onBodyData(buf, p, p + n);
          p += n;
          this.size -= n;
          this.received += n;
          if (this.size === 0) state = S.DATA_CR;
          break;
        }
        case S.DATA_CR:
          if (c !== CR) return this.fail(HTTP_ERROR.INVALID_CHUNK_DATA, p);
          state = S.DATA_LF;
          p++;
          break;
        case S.DATA_LF:
          if (c !== LF) return this.fail(HTTP_ERROR.INVALID_CHUNK_DATA, p);
          state = S.SIZE_START;
          p++;
          break;
        case S.TRAILER_START:
          if (c === CR) state = S.FINAL_LF;
          else if (c === LF) return this.fail(HTTP_ERROR.BARE_LF, p);
          else if (CHAR_CLASS[c]! & TOKEN) state = S.TRAILER_NAME;
          else return this.fail(HTTP_ERROR.INVALID_TRAILER, p); // obs-fold, or not a field name
          if (++this.trailerBytes > this.limits.maxTrailerSize) return this.fail(HTTP_ERROR.TRAILERS_TOO_LARGE, p);
          p++;
          break;
        case S.TRAILER_NAME:
          if (c === 58) state = S.TRAILER_VALUE; // ':'
          else if (!(CHAR_CLASS[c]! & TOKEN)) return this.fail(HTTP_ERROR.INVALID_TRAILER, p);
          if (++this.trailerBytes > this.limits.maxTrailerSize) return this.fail(HTTP_ERROR.TRAILERS_TOO_LARGE, p);
          p++;
          break;
        case S.TRAILER_VALUE:
          if (c === CR) state = S.TRAILER_LF;
          else if (!(CHAR_CLASS[c]! & FIELD)) {
            return this.fail(c === LF ? HTTP_ERROR.BARE_LF : HTTP_ERROR.INVALID_TRAILER, p);
          }
          if (++this.trailerBytes > this.limits.maxTrailerSize) return this.fail(HTTP_ERROR.TRAILERS_TOO_LARGE, p);
          p++;
          break;
        case S.TRAILER_LF:
          if (c !== LF) return this.fail(HTTP_ERROR.BARE_CR, p - 1);
          // Every byte of the section counts, LFs too: else each line would get one free byte.
          if (++this.trailerBytes > this.limits.maxTrailerSize) return this.fail(HTTP_ERROR.TRAILERS_TOO_LARGE, p);
          state = S.TRAILER_START;
          p++;
          break;
        case S.FINAL_LF:
          if (c !== LF) return this.fail(HTTP_ERROR.BARE_CR, p - 1);
          if (++this.trailerBytes > this.limits.maxTrailerSize) return this.fail(HTTP_ERROR.TRAILERS_TOO_LARGE, p);
          this.state = S.DONE;
          return p + 1 - start;
        default:
          // DONE: the caller should not feed more.
          this.state = state;
          return p - start;
      }
    }
    this.state = state;
    return p - start;
  }
}
