// HTTP/1.1 responses read off a raw TCP connection: a request written as bytes, the responses parsed
// by Content-Length, chunked framing or the close, with each one's head and wire sizes kept. What the
// benchmarks check a server's answer with before timing it.

export interface RawResponse {
  statusLine: string;
  /** Field names in lower case; a repeated field keeps its last value. */
  headers: Map<string, string>;
  /** The status line and fields, with the blank line. */
  headBytes: number;
  /** The payload (chunked framing removed). */
  body: Buffer;
  /** All the bytes this response took on the wire: head, body and any chunk framing. */
  wireBytes: number;
}

/** Parses complete responses off the front of buf; returns how many bytes were consumed. */
export function parseResponses(buf: Buffer, out: RawResponse[], eof: boolean): number {
  let at = 0;
  for (;;) {
    const end = buf.indexOf("\r\n\r\n", at);
    if (end < 0) return at;
    const lines = buf.toString("latin1", at, end).split("\r\n");
    const headers = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const c = line.indexOf(":");
      headers.set(line.slice(0, c).trim().toLowerCase(), line.slice(c + 1).trim());
    }
    const bodyStart = end + 4;
    const cl = headers.get("content-length");
    // RFC 9112 §6.3: 1xx, 204 and 304 responses end at their head, whatever Content-Length says.
    const status = Number(lines[0]!.slice(9, 12));
    if (status < 200 || status === 204 || status === 304) {
      out.push({ statusLine: lines[0]!, headers, headBytes: bodyStart - at, body: buf.subarray(bodyStart, bodyStart), wireBytes: bodyStart - at });
      at = bodyStart;
    } else if (cl !== undefined) {
      const n = Number(cl);
      if (buf.length < bodyStart + n) return at;
      out.push({ statusLine: lines[0]!, headers, headBytes: bodyStart - at, body: buf.subarray(bodyStart, bodyStart + n), wireBytes: bodyStart + n - at });
      at = bodyStart + n;
    } else if (/chunked/i.test(headers.get("transfer-encoding") ?? "")) {
      const parts: Buffer[] = [];
      let p = bodyStart;
      for (;;) {
        const le = buf.indexOf("\r\n", p);
        if (le < 0) return at;
        const size = parseInt(buf.toString("latin1", p, le), 16);
        if (size === 0) {
          const te = buf.indexOf("\r\n\r\n", le);
          if (te < 0) return at;
          p = te + 4;
          break;
        }
        if (buf.length < le + 2 + size + 2) return at;
        parts.push(buf.subarray(le + 2, le + 2 + size));
        p = le + 2 + size + 2;
      }
      out.push({ statusLine: lines[0]!, headers, headBytes: bodyStart - at, body: Buffer.concat(parts), wireBytes: p - at });
      at = p;
    } else {
      if (!eof) return at;
      out.push({ statusLine: lines[0]!, headers, headBytes: bodyStart - at, body: buf.subarray(bodyStart), wireBytes: buf.length - at });
      return buf.length;
    }
  }
}

/** Responses parsed as the bytes of one connection arrive, in whatever pieces. */
export class ResponseReader {
  #buf = Buffer.alloc(0);
  /** Bytes received and not yet parsed into a response. */
  get pending(): number {
    return this.#buf.length;
  }
  append(chunk: Uint8Array): void {
    this.#buf = this.#buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.#buf, chunk]);
  }
  /** The responses complete so far (at `eof`, a close-delimited one too), taken off the front. */
  take(eof = false): RawResponse[] {
    const out: RawResponse[] = [];
    this.#buf = this.#buf.subarray(parseResponses(this.#buf, out, eof));
    return out;
  }
  /** append() then take(). */
  feed(chunk: Uint8Array, eof = false): RawResponse[] {
    this.append(chunk);
    return this.take(eof);
  }
}

/** What a raw connection's `step` sees after each read (and once at the close). */
interface RawTurn {
  readonly responses: RawResponse[];
  /** Bytes received and not yet parsed into a response. */
  readonly stray: number;
  /** Parses what arrived (at the close, a close-delimited body too); returns how many responses it added. */
  parse(eof: boolean): number;
  send(): void;
  finish(err: Error | null): void;
}

/**
 * Opens a connection to `port`, sends `request`, and settles with the responses, as `step` decides
 * after each read and at the close; a timeout (saying `pending()`) or a socket error fails it.
 */
function rawConnection(port: number, request: string, timeoutMs: number, pending: (got: number) => string, step: (t: RawTurn, eof: boolean) => void): Promise<RawResponse[]> {
  return new Promise((resolvePromise, reject) => {
    const reader = new ResponseReader();
    const responses: RawResponse[] = [];
    let settled = false;
    let sock: { end(): void; write(data: string): number } | null = null;
    const turn: RawTurn = {
      responses,
      get stray() {
        return reader.pending;
      },
      parse(eof) {
        const got = reader.take(eof);
        responses.push(...got);
        return got.length;
      },
      send: () => void sock?.write(request),
      finish(err) {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        sock?.end();
        if (err) reject(err);
        else resolvePromise(responses);
      },
    };
    const timer = setTimeout(() => turn.finish(new Error(`timed out after ${timeoutMs} ms: ${pending(responses.length)}`)), timeoutMs);
    Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        open(s) {
          sock = s;
          s.write(request);
        },
        data(_s, chunk) {
          reader.append(chunk);
          step(turn, false);
        },
        close() {
          step(turn, true);
        },
        error(_s, e) {
          turn.finish(e);
        },
      },
    }).catch((e: Error) => turn.finish(e));
  });
}

/** Sends `request` on a fresh connection; resolves with `want` responses (and, if asked, after the server closes). */
export function rawExchange(port: number, request: string, want: number, expectClose: boolean, timeoutMs = 5000): Promise<RawResponse[]> {
  const pending = (got: number) => `${got}/${want} responses${expectClose ? ", connection not closed by the server" : ""}`;
  return rawConnection(port, request, timeoutMs, pending, (t, eof) => {
    t.parse(eof);
    const got = t.responses.length;
    if (eof) t.finish(got === want ? null : new Error(`connection closed after ${got}/${want} responses (${t.stray} stray bytes)`));
    else if (got > want) t.finish(new Error(`${got} responses to ${want} requests`));
    else if (got === want && !expectClose) t.finish(null);
  });
}

/** Where two byte strings part: for an error message. */
export function describeDiff(got: Uint8Array, want: Uint8Array): string {
  let i = 0;
  while (i < got.length && i < want.length && got[i] === want[i]) i++;
  return `${got.length} bytes where ${want.length} were expected, first difference at byte ${i}`;
}

/**
 * Sends `request` `count` times on one keep-alive connection, each after the previous response is
 * in whole; resolves with all the responses (or rejects on a close, a stray response or a timeout).
 */
export function rawSequence(port: number, request: string, count: number, timeoutMs = 10_000): Promise<RawResponse[]> {
  return rawConnection(port, request, timeoutMs, (got) => `${got}/${count} responses`, (t, eof) => {
    const got = t.responses.length;
    if (eof) return t.finish(new Error(`connection closed after ${got}/${count} responses (${t.stray} stray bytes)`));
    const added = t.parse(false);
    if (added > 1 || (added === 1 && t.stray > 0)) t.finish(new Error(`more than one response to request ${got + 1} (${t.stray} stray bytes)`));
    else if (t.responses.length === count) t.finish(null);
    else if (added === 1) t.send();
  });
}
