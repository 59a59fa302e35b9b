// A small upstream answer that arrived whole, sent back as one pre-encoded response: on a keep-alive
// HTTP/1.1 GET the engine has it write itself straight into the connection's cork buffer (status
// line, the fields that cross, Date, Server, Content-Length, the body copied from the upstream's read),
// so no array is made for the body and no view of the upstream's bytes (Reply.writeRaw). Should the
// engine send it otherwise (the connection is closing), it reads the parts as any Reply's.
import { copyBytes } from "../http/chars.ts";
import { getDateLine } from "../http/date.ts";
import { CRLF, type OutBuffer, SERVER_HEADER, statusLine } from "../http/response.ts";
import type { Reply } from "../server/reply.ts";

const CONTENT_LENGTH = new TextEncoder().encode("Content-Length: ");

export class WholeReply implements Reply {
  constructor(
    readonly status: number,
    /** The upstream's fields that cross, as pre-encoded lines (forwarded-fields.ts). */
    readonly headers: Uint8Array,
    /** The upstream's read the body is in, at [start, start + length): it is never written again. */
    private readonly chunk: Uint8Array,
    private readonly start: number,
    /** The body's length (Reply.length: what the log counts). */
    readonly length: number,
  ) {}

  writeRaw(out: OutBuffer): void {
    out.bytes(statusLine(this.status));
    out.bytes(this.headers);
    out.bytes(getDateLine());
    out.bytes(SERVER_HEADER);
    out.bytes(CONTENT_LENGTH);
    out.decimal(this.length);
    out.bytes(CRLF);
    out.bytes(CRLF);
    out.reserve(this.length);
    copyBytes(this.chunk, this.start, this.start + this.length, out.buf, out.len);
    out.len += this.length;
  }

  /** The body as its own bytes (a copy: only when the engine does not send the whole at once). */
  get body(): Uint8Array {
    const out = new Uint8Array(this.length);
    copyBytes(this.chunk, this.start, this.start + this.length, out, 0);
    return out;
  }
}
