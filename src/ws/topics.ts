// Pub/sub: which sockets are subscribed to which topic, and a publish that encodes its frame once for
// every subscriber (once more, compressed, for those that negotiated permessage-deflate).

/** A subscriber, as topics see it. */
export interface Subscriber {
  /** Queues a frame already encoded: SENT, QUEUED (behind output the kernel has not taken), or DROPPED. */
  queueFrame(frame: Uint8Array): number;
  /** Whether a compressed frame is what this one should get when compression is asked for. */
  readonly compresses: boolean;
}

/** What a subscriber did with a frame. */
export const TOOK = { DROPPED: 0, SENT: 1, QUEUED: 2 } as const;

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
   * compressed one, at most once, for subscribers that take it. Returns how many got it, negative when
   * any of them got it behind queued output (backpressure).
   */
  publish(topic: string, plain: () => Uint8Array, compressed: (() => Uint8Array | null) | null, except: Subscriber | null): number {
    const set = this.#topics.get(topic);
    if (set === undefined) return 0;
    let frame: Uint8Array | null = null;
    let deflated: Uint8Array | null | undefined;
    let sent = 0;
    let queued = false;
    for (const s of set) {
      if (s === except) continue;
      let f: Uint8Array | null = null;
      if (compressed !== null && s.compresses) {
        if (deflated === undefined) deflated = compressed();
        f = deflated;
      }
      if (f === null) f = frame ??= plain();
      const took = s.queueFrame(f);
      if (took === TOOK.DROPPED) continue;
      sent++;
      if (took === TOOK.QUEUED) queued = true;
    }
    return queued ? -sent : sent;
  }
}
