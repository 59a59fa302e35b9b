// The CLOCK cache under a byte budget that holds compressed files: bytes counted as entries grow,
// a used entry gets a second chance before eviction, entries being built are never evicted, and
// growth past the budget or past one entry's limit is refused with nothing counted.
import { describe, expect, test } from "bun:test";
import { BudgetCache, type CacheEntry } from "../../src/compress/budget-cache.ts";

class E implements CacheEntry {
  size = 0;
  used = false;
  building = false;
  evictions = 0;
  constructor(readonly name: string) {}
  evicted(): void {
    this.evictions++;
  }
}

/** Adds `name` (not used, not building) and grows it by `size`; asserts the growth was accepted. */
function put(c: BudgetCache<E>, name: string, size: number): E {
  const e = new E(name);
  c.add(name, e);
  expect(c.grow(name, e, size)).toBe(true);
  return e;
}

const keys = (c: BudgetCache<E>, names: string[]) => names.filter((n) => c.get(n) !== undefined);

describe("bytes", () => {
  test("grow counts bytes per entry and in all; shrink and delete give them back", () => {
    const c = new BudgetCache<E>(1000, 10);
    const a = put(c, "a", 100);
    const b = put(c, "b", 250);
    expect(c.bytes).toBe(350);
    expect(c.count).toBe(2);
    expect(c.grow("a", a, 50)).toBe(true);
    expect(a.size).toBe(150);
    expect(c.bytes).toBe(400);
    c.shrink("a", a, 30);
    expect(a.size).toBe(120);
    expect(c.bytes).toBe(370);
    c.shrink("b", b, 10_000); // never below zero
    expect(b.size).toBe(0);
    expect(c.bytes).toBe(120);
    c.delete("a");
    expect(c.bytes).toBe(0);
    expect(c.count).toBe(1);
  });

  test("add gives a new entry size 0, whatever it said", () => {
    const c = new BudgetCache<E>(1000, 10);
    const e = new E("x");
    e.size = 500;
    c.add("x", e);
    expect(e.size).toBe(0);
    expect(c.bytes).toBe(0);
  });

  test("an entry no longer in the cache cannot grow (or shrink) the count", () => {
    const c = new BudgetCache<E>(1000, 10);
    const a = put(c, "a", 100);
    c.delete("a");
    expect(c.grow("a", a, 10)).toBe(false);
    c.shrink("a", a, 10);
    expect(c.bytes).toBe(0);
    // Replaced under the same key: the old entry's growth is not the new one's.
    const a2 = put(c, "a", 40);
    expect(c.grow("a", a, 10)).toBe(false);
    expect(a2.size).toBe(40);
    expect(c.bytes).toBe(40);
  });
});

describe("delete and replace", () => {
  test("delete calls evicted() once and zeroes the entry; deleting an unknown key does nothing", () => {
    const c = new BudgetCache<E>(1000, 10);
    const a = put(c, "a", 100);
    c.delete("a");
    expect(a.evictions).toBe(1);
    expect(a.size).toBe(0);
    expect(c.get("a")).toBeUndefined();
    c.delete("a");
    c.delete("never");
    expect(a.evictions).toBe(1);
  });

  test("adding under a key in use evicts the old entry", () => {
    const c = new BudgetCache<E>(1000, 10);
    const old = put(c, "k", 300);
    const fresh = put(c, "k", 100);
    expect(old.evictions).toBe(1);
    expect(c.get("k")).toBe(fresh);
    expect(c.bytes).toBe(100);
    expect(c.count).toBe(1);
  });
});

describe("eviction (CLOCK)", () => {
  test("the oldest unused entry goes first to make room", () => {
    const c = new BudgetCache<E>(300, 10);
    const a = put(c, "a", 100);
    put(c, "b", 100);
    put(c, "c", 100);
    put(c, "d", 100);
    expect(a.evictions).toBe(1);
    expect(keys(c, ["a", "b", "c", "d"])).toEqual(["b", "c", "d"]);
    expect(c.bytes).toBe(300);
  });

  test("a used entry gets a second chance: its bit is cleared and the next one goes instead", () => {
    const c = new BudgetCache<E>(300, 10);
    const a = put(c, "a", 100);
    const b = put(c, "b", 100);
    const cc = put(c, "c", 100);
    a.used = true; // a hit
    put(c, "d", 100);
    expect(keys(c, ["a", "b", "c", "d"])).toEqual(["a", "c", "d"]);
    expect(b.evictions).toBe(1);
    expect(a.used).toBe(false);
    // a went to the back of the line, behind d (added before the eviction): c goes next, then d.
    put(c, "e", 100);
    expect(cc.evictions).toBe(1);
    expect(keys(c, ["a", "c", "d", "e"])).toEqual(["a", "d", "e"]);
    put(c, "f", 100);
    expect(keys(c, ["a", "d", "e", "f"])).toEqual(["a", "e", "f"]);
    // Then a, not used since its second chance.
    put(c, "g", 100);
    expect(a.evictions).toBe(1);
    expect(keys(c, ["a", "e", "f", "g"])).toEqual(["e", "f", "g"]);
  });

  test("when every entry was used, the first pass clears the bits and the second evicts the oldest", () => {
    const c = new BudgetCache<E>(300, 10);
    const all = [put(c, "a", 100), put(c, "b", 100), put(c, "c", 100)];
    for (const e of all) e.used = true;
    put(c, "d", 100);
    expect(all.map((e) => e.evictions)).toEqual([1, 0, 0]);
    expect(all.slice(1).map((e) => e.used)).toEqual([false, false]);
    expect(c.bytes).toBe(300);
  });

  test("one grow may evict several entries", () => {
    const c = new BudgetCache<E>(400, 10);
    const small = [put(c, "a", 100), put(c, "b", 100), put(c, "c", 100)];
    put(c, "big", 300);
    expect(small.map((e) => e.evictions)).toEqual([1, 1, 0]);
    expect(c.bytes).toBe(400);
  });

  test("an entry being built is never evicted, and neither is the one growing", () => {
    const c = new BudgetCache<E>(300, 10);
    const a = put(c, "a", 100);
    a.building = true;
    const b = put(c, "b", 100);
    const g = put(c, "g", 100);
    // g grows: b (the only one neither building nor g) goes, then there is no more room.
    expect(c.grow("g", g, 100)).toBe(true);
    expect(b.evictions).toBe(1);
    expect(c.grow("g", g, 100)).toBe(false);
    expect(a.evictions).toBe(0);
    expect(g.evictions).toBe(0);
    expect(g.size).toBe(200);
    expect(c.bytes).toBe(300);
  });
});

describe("refusals", () => {
  test("growth the budget cannot hold even after evicting is refused, and nothing is counted", () => {
    const c = new BudgetCache<E>(1000, 10);
    const a = new E("a");
    c.add("a", a);
    a.building = true;
    expect(c.grow("a", a, 900)).toBe(true);
    const b = new E("b");
    c.add("b", b);
    b.building = true;
    expect(c.grow("b", b, 200)).toBe(false); // a is building: it cannot go
    expect(b.size).toBe(0);
    expect(c.bytes).toBe(900);
    expect(c.grow("b", b, 100)).toBe(true); // exactly the budget
    expect(c.bytes).toBe(1000);
    expect(c.grow("b", b, 1)).toBe(false);
    expect(c.bytes).toBe(1000);
  });

  test("an entry may not hold more than maxEntry, even with room in the budget", () => {
    const c = new BudgetCache<E>(1000, 10, 500);
    const a = new E("a");
    c.add("a", a);
    expect(c.grow("a", a, 400)).toBe(true);
    expect(c.grow("a", a, 101)).toBe(false);
    expect(a.size).toBe(400);
    expect(c.grow("a", a, 100)).toBe(true);
    expect(c.grow("a", a, 1)).toBe(false);
    expect(c.bytes).toBe(500);
    // A fresh entry is refused past maxEntry at once, without evicting anyone for it.
    const b = new E("b");
    c.add("b", b);
    expect(c.grow("b", b, 501)).toBe(false);
    expect(a.evictions).toBe(0);
    expect(c.bytes).toBe(500);
  });

  test("a grow larger than the whole budget is refused without evicting anything", () => {
    const c = new BudgetCache<E>(300, 10);
    const old = put(c, "old", 100);
    const e = new E("e");
    c.add("e", e);
    expect(c.grow("e", e, 301)).toBe(false);
    expect(old.evictions).toBe(0);
    expect(c.bytes).toBe(100);
  });
});

describe("count limit", () => {
  test("adding past maxEntries evicts the oldest unused entry, bytes or not", () => {
    const c = new BudgetCache<E>(1_000_000, 3);
    const a = put(c, "a", 10);
    const b = new E("b");
    c.add("b", b); // an empty record (a file that could not be compressed) counts too
    put(c, "c", 10);
    put(c, "d", 10);
    expect(a.evictions).toBe(1);
    expect(c.count).toBe(3);
    a.used = false;
    b.used = true;
    put(c, "e", 10);
    // b had a hit: c went instead.
    expect(keys(c, ["b", "c", "d", "e"])).toEqual(["b", "d", "e"]);
    expect(c.count).toBe(3);
    expect(c.bytes).toBe(20);
  });

  test("many entries through a small budget: bytes and count never exceed their limits", () => {
    const budget = 10_000;
    const c = new BudgetCache<E>(budget, 50, budget / 2);
    let evicted = 0;
    let refused = 0;
    const live: E[] = [];
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let i = 0; i < 5000; i++) {
      const e = new E(`k${i}`);
      e.evicted = () => evicted++;
      c.add(e.name, e);
      // Grow in a few steps, as a streamed build does; some entries are too big for one.
      for (let step = 0; step < 3; step++) if (!c.grow(e.name, e, rand(2500))) refused++;
      live.push(e);
      if (rand(4) === 0) live[rand(live.length)]!.used = true;
      expect(c.bytes).toBeLessThanOrEqual(budget);
      expect(c.count).toBeLessThanOrEqual(50);
    }
    // What the cache says it holds is what its entries hold.
    let sum = 0;
    for (let i = 0; i < 5000; i++) sum += c.get(`k${i}`)?.size ?? 0;
    expect(sum).toBe(c.bytes);
    expect(evicted).toBeGreaterThan(4000);
    expect(refused).toBeGreaterThan(0);
  });
});
