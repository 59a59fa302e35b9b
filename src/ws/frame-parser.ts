// RFC 6455 §5.2 client frames, parsed incrementally over the chunks the socket gives: a header is read
// in place (one split across reads is gathered into 14 bytes), and a payload is unmasked in place and
// handed on as [start, end) views of the chunk it came in, never copied. Chunks are fresh buffers that
// Bun never reuses (../shared/BUN-NOTES.md), so the views stay valid. Resumable at any byte.
import { CLOSE } from "./close-codes.ts";

export const OPCODE = { CONTINUATION: 0, TEXT: 1, BINARY: 2, CLOSE: 8, PING: 9, PONG: 10 } as const;

/** What the parser tells as it goes: the protocol decides what a frame means. */
export interface FrameSink {
  /**
   * A frame's header (RSV bits as a 3-bit number, RSV1 = 4). Returns 0 to go on, or the close code
   * to fail the connection with (RFC 6455 §7.1.7); any other non-zero value also stops the parse.
   */
  frameHead(fin: boolean, rsv: number, opcode: number, length: number): number;
  /**
   * Payload bytes of the current frame, unmasked, in buf[start, end); `last` when the frame ends with
   * them (a frame of length 0 gives one empty piece). Returns a close code to fail with, or 0.
   */
  framePayload(buf: Uint8Array, start: number, end: number, last: boolean): number;
  /**
   * A whole frame whose payload came in one read (most frames): its header, and its payload,
   * unmasked, in buf[start, end). Means frameHead() then framePayload(…, true), in one call.
   */
  frame(fin: boolean, rsv: number, opcode: number, buf: Uint8Array, start: number, end: number): number;
}

/** Unmasking a word at a time beats a byte loop from about this many bytes (the view costs an object). */
const WORD_UNMASK_FROM = 64;

export class FrameParser {
  /** A header split across reads, gathered here. */
  #head = new Uint8Array(14);
  #headLen = 0;
  /** Payload bytes of the current frame still to come; -1 between frames. */
  #remaining = -1;
  #key = new Uint8Array(4);
  /** Where in the key the next payload byte is (0..3). */
  #phase = 0;

  /** True between frames (no header or payload half read). */
  get atFrameStart(): boolean {
    return this.#remaining < 0 && this.#headLen === 0;
  }

  /** Parses what `buf` holds; returns 0, or the first non-zero answer of the sink or close code of an error (the rest is not read). */
  feed(buf: Uint8Array, sink: FrameSink): number {
    const end = buf.length;
    let pos = 0;
    while (pos < end) {
      if (this.#remaining >= 0) {
        const remaining = this.#remaining;
        const n = remaining < end - pos ? remaining : end - pos;
        const phase = this.#phase;
        unmask(buf, pos, pos + n, this.#key, phase);
        this.#phase = (phase + n) & 3;
        this.#remaining = remaining - n;
        const last = this.#remaining === 0;
        if (last) this.#remaining = -1;
        const err = sink.framePayload(buf, pos, pos + n, last);
        if (err !== 0) return err;
        pos += n;
        continue;
      }
      // A header: in place when it is whole in this chunk, else gathered.
      let h: Uint8Array;
      let at: number;
      let avail: number;
      const had = this.#headLen;
      if (had === 0) {
        h = buf;
        at = pos;
        avail = end - pos;
      } else {
        const take = Math.min(14 - had, end - pos);
        this.#head.set(buf.subarray(pos, pos + take), had);
        h = this.#head;
        at = 0;
        avail = had + take;
      }
      if (avail < 2) {
        this.#gather(h, at, avail, buf, end);
        return 0;
      }
      const b0 = h[at]!;
      const b1 = h[at + 1]!;
      // Client frames MUST be masked (RFC 6455 §5.1).
      if ((b1 & 0x80) === 0) return CLOSE.PROTOCOL_ERROR;
      const len7 = b1 & 0x7f;
      const need = len7 < 126 ? 6 : len7 === 126 ? 8 : 14;
      if (avail < need) {
        this.#gather(h, at, avail, buf, end);
        return 0;
      }
      let length: number;
      if (len7 < 126) {
        length = len7;
      } else if (len7 === 126) {
        length = (h[at + 2]! << 8) | h[at + 3]!;
        // The minimal number of bytes MUST be used for the length (RFC 6455 §5.2).
        if (length < 126) return CLOSE.PROTOCOL_ERROR;
      } else {
        const hi = ((h[at + 2]! << 24) | (h[at + 3]! << 16) | (h[at + 4]! << 8) | h[at + 5]!) >>> 0;
        const lo = ((h[at + 6]! << 24) | (h[at + 7]! << 16) | (h[at + 8]! << 8) | h[at + 9]!) >>> 0;
        if (hi >= 0x80000000) return CLOSE.PROTOCOL_ERROR; // the most significant bit MUST be 0
        length = hi * 0x100000000 + lo;
        if (length < 0x10000) return CLOSE.PROTOCOL_ERROR;
      }
      const k = at + need - 4;
      const k0 = h[k]!;
      const k1 = h[k + 1]!;
      const k2 = h[k + 2]!;
      const k3 = h[k + 3]!;
      pos += need - had;
      this.#headLen = 0;
      const opcode = b0 & 0x0f;
      const fin = (b0 & 0x80) !== 0;
      if (opcode >= 8) {
        // Control frames: known opcodes only, at most 125 bytes, never fragmented (RFC 6455 §5.5).
        if (opcode > OPCODE.PONG || length > 125 || !fin) return CLOSE.PROTOCOL_ERROR;
      } else if (opcode > OPCODE.BINARY) {
        return CLOSE.PROTOCOL_ERROR; // reserved non-control opcodes (§5.2)
      }
      if (length <= end - pos) {
        // The whole payload is in this chunk (most frames): unmasked and handed on at once.
        const stop = pos + length;
        if (length >= WORD_UNMASK_FROM) {
          const key = this.#key;
          key[0] = k0;
          key[1] = k1;
          key[2] = k2;
          key[3] = k3;
          unmask(buf, pos, stop, key, 0);
        } else {
          xorBytes(buf, pos, stop, k0, k1, k2, k3);
        }
        const err = sink.frame(fin, (b0 >> 4) & 7, opcode, buf, pos, stop);
        if (err !== 0) return err;
        pos = stop;
        continue;
      }
      const err = sink.frameHead(fin, (b0 >> 4) & 7, opcode, length);
      if (err !== 0) return err;
      const key = this.#key;
      key[0] = k0;
      key[1] = k1;
      key[2] = k2;
      key[3] = k3;
      this.#phase = 0;
      this.#remaining = length;
    }
    return 0;
  }

  /** Keeps the `avail` header bytes seen so far (they end this chunk). */
  #gather(h: Uint8Array, at: number, avail: number, buf: Uint8Array, end: number): void {
    if (h === buf) this.#head.set(buf.subarray(at, end), 0);
    this.#headLen = avail;
  }
}

/** XORs buf[start, end) with the key, starting at key byte `phase` (RFC 6455 §5.3). */
export function unmask(buf: Uint8Array, start: number, end: number, key: Uint8Array, phase: number): void {
  let i = start;
  if (end - start >= WORD_UNMASK_FROM) {
    // Bytes up to a 4-byte boundary of the underlying memory, then whole words, then the tail.
    while (((buf.byteOffset + i) & 3) !== 0) {
      buf[i] ^= key[phase]!;
      phase = (phase + 1) & 3;
      i++;
    }
    const words = (end - i) >> 2;
    // The key as a little-endian word, rotated to start at `phase`.
    const word = key[phase]! | (key[(phase + 1) & 3]! << 8) | (key[(phase + 2) & 3]! << 16) | (key[(phase + 3) & 3]! << 24);
    const w = new Int32Array(buf.buffer, buf.byteOffset + i, words);
    let j = 0;
    for (; j + 4 <= words; j += 4) {
      w[j] ^= word;
      w[j + 1] ^= word;
      w[j + 2] ^= word;
      w[j + 3] ^= word;
    }
    for (; j < words; j++) w[j] ^= word;
    i += words << 2;
  }
  xorBytes(buf, i, end, key[phase]!, key[(phase + 1) & 3]!, key[(phase + 2) & 3]!, key[(phase + 3) & 3]!);
}

/** XORs buf[i, end) with k0 k1 k2 k3 repeated: four at a time, the key in locals (short frames are most). */
function xorBytes(buf: Uint8Array, i: number, end: number, k0: number, k1: number, k2: number, k3: number): void {
  for (; i + 4 <= end; i += 4) {
    buf[i] ^= k0;
    buf[i + 1] ^= k1;
    buf[i + 2] ^= k2;
    buf[i + 3] ^= k3;
  }
  if (i < end) buf[i++] ^= k0;
  if (i < end) buf[i++] ^= k1;
  if (i < end) buf[i] ^= k2;
}
