// Frames in, messages out (RFC 6455 §5.4, §6.2): what the frame parser finds becomes whole messages.
// Fragments are checked in order and gathered within maxPayloadLength, text is checked as UTF-8 as it
// comes, compressed messages are inflated (RFC 7692), and a message in pieces counts in the server's
// body budget while it gathers. A whole message in one read goes on without a copy.
import type { Budget } from "../server/budget.ts";
import { CLOSE } from "./close-codes.ts";
import { inflateMessage } from "./deflate.ts";
import { type FrameSink, OPCODE } from "./frame-parser.ts";

/** Where messages go (the session). */
export interface MessageTarget {
  /** Data messages are still wanted: false once our close is sent (they are read and dropped). */
  readonly accepting: boolean;
  onText(text: string): void;
  /** A binary message in buf[start, end); `owned`: the bytes are ours alone (gathered or inflated). */
  onBinary(buf: Uint8Array, start: number, end: number, owned: boolean): void;
  /** A control frame, whole: returns a close code to fail with, STOP, or 0. */
  onControlFrame(op: number, payload: Uint8Array): number;
}

/** A sink's answer that ends the parse without an error (after the peer's close frame). */
export const STOP = -1;

/** A message in pieces gets room for its whole frame at once up to this size. */
const PRESIZE_MAX = 256 * 1024;
const EMPTY = new Uint8Array(0);
// ignoreBOM: a leading U+FEFF is text like any other here, not a byte-order mark to drop.
const fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice(this: Uint8Array, s: number, e: number): string }).latin1Slice;

export class MessageReader implements FrameSink {
  /** The message being received: its opcode (0: none), whether compressed, its bytes so far. */
  #msgOp = 0;
  #msgCompressed = false;
  #msgBytes = 0;
  /** A message in pieces: bytes gathered (binary, compressed), or text decoded as it came. */
  #gathered: Uint8Array | null = null;
  #gatheredLen = 0;
  #textDecoder: TextDecoder | null = null;
  #text = "";
  /** The frame being received: its opcode, FIN, and whether a piece of it came yet. */
  #frameOp = 0;
  #frameFin = false;
  #framePieces = 0;
  /** The message's length once the current frame is in (what gathering makes room for). */
  #frameEnd = 0;
  /** A control frame's payload, gathered (at most 125 bytes). */
  #ctrl: Uint8Array | null = null;
  #ctrlLen = 0;
  /** Bytes of the message in pieces counted in the server's body budget (shared with HTTP bodies). */
  #held = 0;

  constructor(
    private readonly target: MessageTarget,
    /** maxPayloadLength: the largest message, after decompression. */
    private readonly max: number,
    /** Whether permessage-deflate was negotiated (RSV1 allowed on a message's first frame). */
    private readonly deflate: boolean,
    private readonly budget: Budget,
  ) {}

  /** The socket is gone: what a message in pieces holds leaves the budget. */
  release(): void {
    this.#unhold();
  }

  frameHead(fin: boolean, rsv: number, opcode: number, length: number): number {
    this.#frameOp = opcode;
    this.#frameFin = fin;
    this.#framePieces = 0;
    if (opcode >= 8) {
      if (rsv !== 0) return CLOSE.PROTOCOL_ERROR;
      this.#ctrlLen = 0;
      return 0;
    }
    if (opcode === OPCODE.CONTINUATION) {
      // A continuation continues something, and carries no RSV1 of its own (RFC 7692 §6.1).
      if (this.#msgOp === 0 || rsv !== 0) return CLOSE.PROTOCOL_ERROR;
    } else {
      if (this.#msgOp !== 0) return CLOSE.PROTOCOL_ERROR; // a new message inside a fragmented one
      if (rsv !== 0 && (rsv !== 4 || !this.deflate)) return CLOSE.PROTOCOL_ERROR;
      this.#msgOp = opcode;
      this.#msgCompressed = rsv === 4;
      this.#msgBytes = 0;
    }
    if (this.#msgBytes + length > this.max) return CLOSE.MESSAGE_TOO_BIG;
    this.#frameEnd = this.#msgBytes + length;
    return 0;
  }

  frame(fin: boolean, rsv: number, opcode: number, buf: Uint8Array, start: number, end: number): number {
    // The hot path: a whole, plain, unfragmented message in one read, while none is in pieces.
    if (fin && rsv === 0 && (opcode === OPCODE.TEXT || opcode === OPCODE.BINARY) && this.#msgOp === 0 && this.target.accepting) {
      if (end - start > this.max) return CLOSE.MESSAGE_TOO_BIG;
      return this.#deliver(0, opcode, buf, start, end);
    }
    const err = this.frameHead(fin, rsv, opcode, end - start);
    return err !== 0 ? err : this.framePayload(buf, start, end, true);
  }

  framePayload(buf: Uint8Array, start: number, end: number, last: boolean): number {
    const op = this.#frameOp;
    if (op >= 8) {
      const n = end - start;
      if (n > 0) {
        const ctrl = (this.#ctrl ??= new Uint8Array(125));
        ctrl.set(buf.subarray(start, end), this.#ctrlLen);
        this.#ctrlLen += n;
      }
      if (!last) return 0;
      const payload = this.#ctrlLen === 0 ? EMPTY : this.#ctrl!.slice(0, this.#ctrlLen);
      return this.target.onControlFrame(op, payload);
    }
    const first = this.#framePieces++ === 0;
    this.#msgBytes += end - start;
    if (!this.target.accepting) {
      // After our close, data is read and dropped (RFC 6455 §1.4).
      if (last && this.#frameFin) this.#endMessage();
      return 0;
    }
    const msgOp = op === OPCODE.CONTINUATION ? this.#msgOp : op;
    if (last && this.#frameFin && first && this.#msgBytes === end - start) {
      // The whole message in one view of one chunk: no copy.
      const rsv = this.#msgCompressed ? 4 : 0;
      if (op === OPCODE.CONTINUATION) this.#endMessage(); // (after empty fragments)
      else this.#msgOp = 0;
      return this.#deliver(rsv, msgOp, buf, start, end);
    }
    const over = this.#holdBytes(end - start);
    if (over !== 0) return over;
    if (msgOp === OPCODE.TEXT && !this.#msgCompressed) {
      // Text in pieces is decoded as it comes, so invalid UTF-8 fails at once (fail fast, §8.1).
      const dec = (this.#textDecoder ??= new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }));
      try {
        this.#text += dec.decode(buf.subarray(start, end), { stream: true });
      } catch {
        return CLOSE.INVALID_PAYLOAD;
      }
    } else {
      this.#gather(buf, start, end);
    }
    if (!(last && this.#frameFin)) return 0;
    // The message is complete.
    const compressed = this.#msgCompressed;
    if (msgOp === OPCODE.TEXT && !compressed) {
      let text: string;
      try {
        text = this.#text + this.#textDecoder!.decode();
      } catch {
        return CLOSE.INVALID_PAYLOAD; // ends inside a character
      }
      this.#endMessage();
      this.target.onText(text);
      return 0;
    }
    const bytes = this.#gathered!.subarray(0, this.#gatheredLen);
    this.#endMessage();
    return this.#deliver(compressed ? 4 : 0, msgOp, bytes, 0, bytes.length, true);
  }

  #gather(buf: Uint8Array, start: number, end: number): void {
    const n = end - start;
    let g = this.#gathered;
    const need = this.#gatheredLen + n;
    if (g === null || g.length < need) {
      // Room for the whole frame at once when it is not large (a header's claim is not memory we
      // should commit to before its bytes come), else twice as much as before.
      const grown = g === null ? 0 : Math.min(g.length * 2, this.max);
      const next = new Uint8Array(Math.max(need, Math.min(this.#frameEnd, PRESIZE_MAX), grown));
      if (g !== null) next.set(g.subarray(0, this.#gatheredLen));
      this.#gathered = g = next;
    }
    g.set(buf.subarray(start, end), this.#gatheredLen);
    this.#gatheredLen = need;
  }

  #endMessage(): void {
    this.#unhold();
    this.#msgOp = 0;
    this.#msgCompressed = false;
    this.#msgBytes = 0;
    this.#gathered = null;
    this.#gatheredLen = 0;
    this.#textDecoder = null;
    this.#text = "";
  }

  /**
   * Counts `n` more bytes of the message in pieces in the server's body budget. Past the budget, a
   * socket holding more than its fair share fails with 1013 (try again later): a thousand clients
   * each sending most of a maxPayloadLength message hold the server at about the budget, not at a
   * thousand times the limit. (Pausing such sockets instead could leave every one waiting for the
   * others' messages to end.) Returns the close code, or 0.
   */
  #holdBytes(n: number): number {
    if (n === 0) return 0; // (an empty fragment holds nothing, and must not count as a receiver)
    const budget = this.budget;
    if (this.#held === 0) budget.receiving++;
    this.#held += n;
    budget.addBody(n);
    if (budget.bodyHeld > budget.bodyLimit && this.#held * budget.receiving > budget.bodyLimit) return CLOSE.TRY_AGAIN_LATER;
    return 0;
  }

  /** The message in pieces is done (or dropped): its bytes leave the budget. */
  #unhold(): void {
    if (this.#held === 0) return;
    const budget = this.budget;
    budget.receiving--;
    budget.takeBody(this.#held);
    this.#held = 0;
  }

  /** A whole message's bytes: inflated if compressed, decoded if text, then to the handler. `owned`: buf is ours alone. */
  #deliver(rsv: number, op: number, buf: Uint8Array, start: number, end: number, owned = false): number {
    if (rsv !== 0) {
      const inflated = inflateMessage(buf.subarray(start, end), this.max);
      if (inflated === "big") return CLOSE.MESSAGE_TOO_BIG;
      if (inflated === null) return CLOSE.INVALID_PAYLOAD;
      buf = inflated;
      start = 0;
      end = inflated.length;
      owned = true;
    }
    if (op === OPCODE.TEXT) {
      const text = decodeText(buf, start, end);
      if (text === null) return CLOSE.INVALID_PAYLOAD;
      this.target.onText(text);
    } else {
      this.target.onBinary(buf, start, end, owned);
    }
    return 0;
  }
}

/** UTF-8 to a string, or null if not valid (RFC 6455 §8.1): ASCII the cheap way, the rest checked. */
export function decodeText(buf: Uint8Array, start: number, end: number): string | null {
  // Any byte with its top bit set, four at a time.
  let high = 0;
  let i = start;
  for (; i + 4 <= end; i += 4) high |= buf[i]! | buf[i + 1]! | buf[i + 2]! | buf[i + 3]!;
  for (; i < end; i++) high |= buf[i]!;
  if ((high & 0x80) === 0) return start === end ? "" : latin1Slice.call(buf, start, end);
  try {
    return fatal.decode(buf.subarray(start, end));
  } catch {
    return null;
  }
}
