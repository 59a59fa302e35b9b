// Pub/sub: which sockets are subscribed to which topic, and a publish that encodes its frame once for
// every subscriber (once more, compressed, for those that negotiated permessage-deflate).

/** A subscriber, as topics see it. */
export interface Subscriber {
  /** Queues a frame already encoded; false if dropped under backpressure. */
  queueFrame(frame: Uint8Array): boolean;
  /** Whether a compressed frame is what this one should get when compression is asked for. */
  readonly compresses: boolean;
}

export class Topics {
  #topics = new Map<string, Set<Subscriber>>();

  subscribe(topic: string, s: Subscriber): boolean {
    let set = this.#topics.get(topic);
    if (set === undefined) this.#topics.set(topic, (set = new Set()));
    if (set.has(s)) return false;
    set.add(s);
    return true;
  }

  unsubscribe(topic: string, s: Subscriber): boolean {
    const set = this.#topics.get(topic);
    if (set === undefined || !set.delete(s)) return false;
    if (set.size === 0) this.#topics.delete(topic);
    return true;
  }

  isSubscribed(topic: string, s: Subscriber): boolean {
    return this.#topics.get(topic)?.has(s) === true;
  }

  subscriberCount(topic: string): number {
    return this.#topics.get(topic)?.size ?? 0;
  }

  /**
   * Sends to every subscriber of `topic` but `except`. `plain` is the frame; `compressed()` makes the
   * compressed one, at most once, for subscribers that take it. Returns how many got it.
   */
  publish(topic: string, plain: () => Uint8Array, compressed: (() => Uint8Array | null) | null, except: Subscriber | null): number {
    const set = this.#topics.get(topic);
    if (set === undefined) return 0;
    let frame: Uint8Array | null = null;
    let deflated: Uint8Array | null | undefined;
    let sent = 0;
    for (const s of set) {
      if (s === except) continue;
      let f: Uint8Array | null = null;
      if (compressed !== null && s.compresses) {
        if (deflated === undefined) deflated = compressed();
        f = deflated;
      }
      if (f === null) f = frame ??= plain();
      if (s.queueFrame(f)) sent++;
    }
    return sent;
  }
}
