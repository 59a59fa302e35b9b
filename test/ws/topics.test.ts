// Pub/sub bookkeeping (src/ws/topics.ts): a publish encodes its frame once for all subscribers (and
// its compressed frame once for those that take it), skips the publisher unless asked, and counts
// what subscribers took; subscriptions come and go as sets.
import { expect, test } from "bun:test";
import { type Subscriber, TOOK, Topics } from "../../src/ws/topics.ts";

function subscriber(compresses = false, takes: number = TOOK.SENT) {
  const frames: Uint8Array[] = [];
  const s: Subscriber & { frames: Uint8Array[] } = {
    compresses,
    frames,
    queueFrame(frame) {
      if (takes !== TOOK.DROPPED) frames.push(frame);
      return takes;
    },
  };
  return s;
}

test("one publish encodes the frame once, and the compressed one once, whatever the subscribers", () => {
  const topics = new Topics();
  const plainSubs = [subscriber(), subscriber(), subscriber()];
  const deflateSubs = [subscriber(true), subscriber(true)];
  for (const s of [...plainSubs, ...deflateSubs]) topics.subscribe("t", s);
  let plain = 0;
  let compressed = 0;
  const PLAIN = new Uint8Array([1]);
  const DEFLATED = new Uint8Array([2]);
  const sent = topics.publish("t", () => (plain++, PLAIN), () => (compressed++, DEFLATED), null);
  expect(sent).toBe(5);
  expect([plain, compressed]).toEqual([1, 1]);
  // The very same bytes go to every subscriber of a kind.
  for (const s of plainSubs) expect(s.frames).toEqual([PLAIN]);
  for (const s of deflateSubs) expect(s.frames[0]).toBe(DEFLATED);
  // Without compression asked, the compressing subscribers get the plain frame.
  topics.publish("t", () => (plain++, PLAIN), null, null);
  expect(plain).toBe(2);
  expect(deflateSubs[0]!.frames[1]).toBe(PLAIN);
});

test("the publisher is skipped when it is the exception; a subscriber that drops is not counted", () => {
  const topics = new Topics();
  const me = subscriber();
  const other = subscriber();
  const full = subscriber(false, TOOK.DROPPED);
  for (const s of [me, other, full]) topics.subscribe("room", s);
  expect(topics.publish("room", () => new Uint8Array([7]), null, me)).toBe(1);
  expect(me.frames).toEqual([]);
  expect(other.frames.length).toBe(1);
  expect(topics.publish("nobody", () => new Uint8Array([7]), null, null)).toBe(0);
  // One subscriber behind queued output: the count comes back negative (publish() says -1).
  topics.subscribe("room", subscriber(false, TOOK.QUEUED));
  expect(topics.publish("room", () => new Uint8Array([7]), null, null)).toBe(-3);
});

test("subscribe, unsubscribe, isSubscribed and subscriberCount", () => {
  const topics = new Topics();
  const a = subscriber();
  expect(topics.subscribe("x", a)).toBe(true);
  expect(topics.subscribe("x", a)).toBe(false); // already
  expect(topics.isSubscribed("x", a)).toBe(true);
  expect(topics.subscriberCount("x")).toBe(1);
  expect(topics.unsubscribe("x", a)).toBe(true);
  expect(topics.unsubscribe("x", a)).toBe(false);
  expect(topics.subscriberCount("x")).toBe(0);
  expect(topics.isSubscribed("x", a)).toBe(false);
});
