// The compression build queue: a few builds at once, urgent ones (a client waits) before the others,
// a bounded number waiting, and a build that fails or throws does not stop those after it.
import { afterEach, beforeEach, expect, spyOn, test } from "bun:test";
import { BuildQueue } from "../../src/compress/build-queue.ts";
import { pollUntil } from "../helpers/poll.ts";

/** A build that runs until released: it records when it starts, in `log`. */
class Gate {
  started = false;
  release!: () => void;
  fail!: (err: Error) => void;
  readonly done: Promise<void>;
  readonly build: () => Promise<void>;

  constructor(name: string, log: string[], running?: { now: number; max: number }) {
    let resolve!: () => void;
    let reject!: (err: Error) => void;
    this.done = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.release = resolve;
    this.fail = reject;
    this.build = () => {
      this.started = true;
      log.push(name);
      if (running) {
        running.now++;
        running.max = Math.max(running.max, running.now);
      }
      return this.done.finally(() => {
        if (running) running.now--;
      });
    };
  }
}

/** Lets the queue's .finally() callbacks run (each settles in a few microtask turns). */
const settle = () => Bun.sleep(0);

let errors: ReturnType<typeof spyOn>;
beforeEach(() => {
  // A failed build is logged: keep the output clean and see that it was.
  errors = spyOn(console, "error").mockImplementation(() => {});
});
afterEach(() => errors.mockRestore());

test("at most `concurrency` builds run at once; the rest start as those end", async () => {
  const log: string[] = [];
  const running = { now: 0, max: 0 };
  const q = new BuildQueue(2, 100);
  const gates = Array.from({ length: 10 }, (_, i) => new Gate(`b${i}`, log, running));
  for (const g of gates) expect(q.add(g.build, true)).toBe(true);
  expect(log).toEqual(["b0", "b1"]);
  expect(q.size).toBe(10);
  for (let i = 0; i < 10; i++) {
    gates[i]!.release();
    await settle();
    expect(running.now).toBeLessThanOrEqual(2);
  }
  await pollUntil(() => q.size === 0, 2000, "the queue to empty");
  expect(log).toEqual(gates.map((_, i) => `b${i}`));
  expect(running.max).toBe(2);
});

test("background builds never take the last slot: an urgent one starts at once beside them", async () => {
  const log: string[] = [];
  const running = { now: 0, max: 0 };
  const q = new BuildQueue(2, 100);
  const later = Array.from({ length: 3 }, (_, i) => new Gate(`l${i}`, log, running));
  for (const g of later) q.add(g.build, false);
  expect(log).toEqual(["l0"]); // one of two slots
  const urgent = new Gate("u", log, running);
  q.add(urgent.build, true);
  expect(log).toEqual(["l0", "u"]);
  urgent.release();
  await settle();
  expect(log).toEqual(["l0", "u"]); // the freed slot is not the background's
  later[0]!.release();
  await settle();
  expect(log).toEqual(["l0", "u", "l1"]);
  for (const g of later) g.release();
  await pollUntil(() => q.size === 0, 2000, "the queue to empty");
  expect(running.max).toBe(2);
});

test("a build starts at once while fewer than `concurrency` run", () => {
  const log: string[] = [];
  const q = new BuildQueue(3, 10);
  const a = new Gate("a", log);
  q.add(a.build, false);
  expect(a.started).toBe(true);
  expect(q.size).toBe(1);
  expect(q.urgentWaiting).toBe(0);
  a.release();
});

test("urgent builds run before the others, in the order they came", async () => {
  const log: string[] = [];
  const q = new BuildQueue(1, 100);
  const first = new Gate("first", log);
  const l1 = new Gate("later1", log);
  const l2 = new Gate("later2", log);
  const u1 = new Gate("urgent1", log);
  const u2 = new Gate("urgent2", log);
  q.add(first.build, false);
  q.add(l1.build, false);
  q.add(l2.build, false);
  q.add(u1.build, true);
  q.add(u2.build, true);
  expect(q.urgentWaiting).toBe(2);
  expect(q.size).toBe(5);
  for (const g of [first, u1, u2, l1, l2]) {
    g.release();
    await settle();
  }
  await pollUntil(() => q.size === 0, 2000, "the queue to empty");
  expect(log).toEqual(["first", "urgent1", "urgent2", "later1", "later2"]);
  expect(q.urgentWaiting).toBe(0);
});

test("each kind has its own limit of builds waiting (running ones do not count): background ones never refuse an urgent one", async () => {
  const log: string[] = [];
  const q = new BuildQueue(1, 1, 1);
  const run = new Gate("running", log);
  const w1 = new Gate("w1", log);
  const w2 = new Gate("w2", log);
  const refused = new Gate("refused", log);
  expect(q.add(run.build, false)).toBe(true); // runs: not waiting
  expect(q.add(w1.build, false)).toBe(true); // the one background build that may wait
  expect(q.add(refused.build, false)).toBe(false);
  expect(q.add(w2.build, true)).toBe(true); // urgent: its own room
  expect(q.add(refused.build, true)).toBe(false);
  expect(q.size).toBe(3);
  run.release();
  await pollUntil(() => log.length === 2, 2000, "the next build to start");
  expect(log).toEqual(["running", "w2"]);
  // The urgent one runs now: there is room for another urgent one, none for a background one.
  const w3 = new Gate("w3", log);
  expect(q.add(w3.build, true)).toBe(true);
  expect(q.add(refused.build, false)).toBe(false);
  for (const g of [w2, w3, w1]) {
    g.release();
    await settle();
  }
  await pollUntil(() => q.size === 0, 2000, "the queue to empty");
  expect(log).toEqual(["running", "w2", "w3", "w1"]);
  expect(refused.started).toBe(false);
});

test("a build that rejects, or throws before returning a promise, is logged and the queue goes on", async () => {
  const log: string[] = [];
  const q = new BuildQueue(1, 10);
  const rejects = new Gate("rejects", log);
  q.add(rejects.build, false);
  q.add(() => {
    log.push("throws");
    throw new Error("thrown at once");
  }, false);
  const after = new Gate("after", log);
  q.add(after.build, false);
  rejects.fail(new Error("compression went wrong"));
  await pollUntil(() => after.started, 2000, "the build after the failures to start");
  expect(log).toEqual(["rejects", "throws", "after"]);
  expect(errors).toHaveBeenCalledTimes(2);
  expect(String(errors.mock.calls[0]![1])).toContain("compression went wrong");
  expect(String(errors.mock.calls[1]![1])).toContain("thrown at once");
  after.release();
  await pollUntil(() => q.size === 0, 2000, "the queue to empty");
  // And it still takes (and runs) new builds.
  const next = new Gate("next", log);
  expect(q.add(next.build, true)).toBe(true);
  expect(next.started).toBe(true);
  next.release();
});

test("with every build failing at once, all of them still run, never more than `concurrency` together", async () => {
  const q = new BuildQueue(2, 100);
  let ran = 0;
  let now = 0;
  let max = 0;
  for (let i = 0; i < 20; i++) {
    q.add(async () => {
      ran++;
      now++;
      max = Math.max(max, now);
      await settle();
      now--;
      throw new Error(`failure ${i}`);
    }, i % 3 === 0);
  }
  await pollUntil(() => q.size === 0, 2000, "the queue to empty");
  expect(ran).toBe(20);
  expect(max).toBe(2);
  expect(errors).toHaveBeenCalledTimes(20);
});
