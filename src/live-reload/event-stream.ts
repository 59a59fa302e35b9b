// One watching page's server-sent event stream (text/event-stream), as a BodySource the connection
// pulls from: each read is the next event, or waits for it. What a client that does not read leaves
// queued is bounded: past a few events, the queue becomes one "reload", which covers them all.
import type { BodySource } from "../server/body.ts";

const encoder = new TextEncoder();

/** The first piece: reconnect a second after a drop (a server restart), and a comment to open with. */
const OPENING = encoder.encode("retry: 1000\n: bunhttp live reload\n\n");
/** Events queued for one client at most before they collapse into one reload. */
const MAX_QUEUED = 8;

/** An event's bytes: `event: name` and one data line (`data` holds no line break: it is JSON). */
export function encodeEvent(name: string, data: string): Uint8Array {
  return encoder.encode(`event: ${name}\ndata: ${data}\n\n`);
}

export const RELOAD_EVENT = encodeEvent("reload", "[]");
/** A comment line: keeps proxies from closing an idle stream, and is ignored by EventSource. */
export const HEARTBEAT = encoder.encode(": ping\n\n");

export class EventStream implements BodySource {
  #queue: Uint8Array[] = [OPENING];
  #waiting: ((piece: Uint8Array | null) => void) | null = null;
  #ended = false;
  #closed = false;

  /** `onClose`: told once, when the connection lets go of the stream (or it is ended). */
  constructor(private readonly onClose: (stream: EventStream) => void) {}

  read(): Uint8Array | null | Promise<Uint8Array | null> {
    const next = this.#queue.shift();
    if (next !== undefined) return next;
    if (this.#ended) return null;
    return new Promise((resolve) => (this.#waiting = resolve));
  }

  /** Sends an event (or a heartbeat) as soon as the client takes it. */
  push(piece: Uint8Array): void {
    if (this.#ended) return;
    const waiting = this.#waiting;
    if (waiting !== null) {
      this.#waiting = null;
      waiting(piece);
      return;
    }
    if (piece === HEARTBEAT && this.#queue.length > 0) return; // something is on its way already
    if (this.#queue.length >= MAX_QUEUED) this.#queue = [RELOAD_EVENT];
    else this.#queue.push(piece);
  }

  /** No more events: the stream ends once what is queued has gone (the server stops). */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    const waiting = this.#waiting;
    this.#waiting = null;
    waiting?.(this.#queue.shift() ?? null);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    this.end();
    this.onClose(this);
  }
}
