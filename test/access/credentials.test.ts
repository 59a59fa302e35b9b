// Checking credentials: one user in constant time; bcrypt for a file, with answers kept, concurrent
// checks of one field shared, a dummy check for unknown users, and a bound on checks at once.
import { afterEach, beforeAll, afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUSY, CACHE_SIZE, Credentials, QUEUE_SIZE, REFUSED_CACHE_SIZE } from "../../src/access/credentials.ts";

let tmp: string;
let file: string;
const token = (userPass: string) => Buffer.from(userPass).toString("base64");

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "bunhttp-creds-"));
  file = join(tmp, "users");
  // As Apache's htpasswd -B writes them: $2y$ (Bun makes $2b$, the same hash).
  const hash = (p: string) => Bun.password.hashSync(p, { algorithm: "bcrypt", cost: 4 }).replace(/^\$2b\$/, "$2y$");
  writeFileSync(file, `alice:${hash("wonderland")}\nbob:${hash("büilder")}\n`);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Counts Bun.password.verify calls (and what they were asked against) while a test runs. */
const realVerify = Bun.password.verify;
let verified: string[] = [];
function countVerifies(): void {
  verified = [];
  (Bun.password as { verify: unknown }).verify = (password: Bun.StringOrBuffer, hash: string) => {
    verified.push(hash);
    return realVerify(password, hash);
  };
}
afterEach(() => {
  (Bun.password as { verify: unknown }).verify = realVerify;
});

describe("one user:password", () => {
  const c = new Credentials({ credentials: "alice:s3cret:with:colons" });
  test.each([
    ["alice:s3cret:with:colons", "alice"],
    ["alice:s3cret:with:colon", null],
    ["alice:s3cret:with:colonss", null],
    ["alic:s3cret:with:colons", null],
    ["alice", null],
    ["", null],
  ])("%p → %p, at once (no Promise)", (given, user) => {
    expect(c.check(token(given))).toBe(user);
  });

  test("user:password without a user, or without a colon, is refused at start", () => {
    expect(() => new Credentials({ credentials: ":x" })).toThrow("user:password");
    expect(() => new Credentials({ credentials: "alice" })).toThrow("user:password");
    expect(() => new Credentials({})).toThrow();
  });
});

describe("an htpasswd file", () => {
  test("the right password lets the user in ($2y$ and UTF-8 passwords); a wrong one does not", async () => {
    const c = new Credentials({ file });
    expect(await c.check(token("alice:wonderland"))).toBe("alice");
    expect(await c.check(token("bob:büilder"))).toBe("bob");
    expect(await c.check(token("alice:wonderlan"))).toBeNull();
    expect(await c.check(token("bob:wonderland"))).toBeNull();
    expect(await c.check(token("alice:"))).toBeNull();
  });

  test("a checked field is kept: asked again, the answer comes at once, without bcrypt", async () => {
    const c = new Credentials({ file });
    countVerifies();
    expect(await c.check(token("alice:wonderland"))).toBe("alice");
    expect(await c.check(token("alice:nope"))).toBeNull();
    expect(verified).toHaveLength(2);
    for (let i = 0; i < 50; i++) {
      expect(c.check(token("alice:wonderland"))).toBe("alice");
      expect(c.check(token("alice:nope"))).toBeNull(); // a refusal is kept too: a repeated bad field costs nothing
    }
    expect(verified).toHaveLength(2);
  });

  test("distinct bad guesses, more than both caches hold, do not push a good login out", async () => {
    const c = new Credentials({ file });
    countVerifies();
    expect(await c.check(token("alice:wonderland"))).toBe("alice");
    const guesses = CACHE_SIZE + REFUSED_CACHE_SIZE + 16;
    for (let i = 0; i < guesses; i += QUEUE_SIZE) {
      const batch = Array.from({ length: Math.min(QUEUE_SIZE, guesses - i) }, (_, j) => c.check(token(`alice:guess-${i + j}`)));
      expect(await Promise.all(batch)).toEqual(Array(batch.length).fill(null));
    }
    expect(verified).toHaveLength(1 + guesses);
    expect(c.check(token("alice:wonderland"))).toBe("alice"); // at once: still kept
    expect(c.check(token(`alice:guess-${guesses - 1}`))).toBeNull(); // the newest refusal is kept too
    expect(verified).toHaveLength(1 + guesses);
  }, 30_000);

  test("the good logins kept are the most recently used: using one keeps it when the cache is full", async () => {
    const many = join(tmp, "many");
    const hash = Bun.password.hashSync("pw", { algorithm: "bcrypt", cost: 4 });
    writeFileSync(many, Array.from({ length: CACHE_SIZE + 1 }, (_, i) => `u${i}:${hash}\n`).join(""));
    const c = new Credentials({ file: many });
    const login = (i: number) => c.check(token(`u${i}:pw`));
    for (let i = 0; i < CACHE_SIZE; i += QUEUE_SIZE) {
      const batch = Array.from({ length: QUEUE_SIZE }, (_, j) => login(i + j));
      expect(await Promise.all(batch)).toEqual(batch.map((_, j) => `u${i + j}`));
    }
    // The checks of a batch finish in any order (two run at once on the thread pool): using each once,
    // in turn, makes the order of recent use u0, u1, u2, … whatever it was. (CI met u2 before u1.)
    for (let i = 0; i < CACHE_SIZE; i++) expect(login(i)).toBe(`u${i}`);
    expect(login(0)).toBe("u0"); // kept, and now the most recently used
    expect(await login(CACHE_SIZE)).toBe(`u${CACHE_SIZE}`); // one more: the least recently used goes
    countVerifies();
    expect(login(0)).toBe("u0");
    expect(login(2)).toBe("u2");
    expect(login(1)).toBeInstanceOf(Promise); // u1 went, and is checked again
    expect(verified).toHaveLength(1);
  }, 30_000);

  test("fifty concurrent checks of one field share one bcrypt run", async () => {
    const c = new Credentials({ file });
    countVerifies();
    const all = Array.from({ length: 50 }, () => c.check(token("alice:wonderland")));
    expect(all[0]).toBeInstanceOf(Promise);
    expect(new Set(all).size).toBe(1);
    expect(await Promise.all(all)).toEqual(Array(50).fill("alice"));
    expect(verified).toHaveLength(1);
  });

  test("an unknown user is checked too (against a dummy hash of the file's cost): its time tells nothing", async () => {
    const c = new Credentials({ file });
    countVerifies();
    expect(await c.check(token("mallory:wonderland"))).toBeNull();
    expect(verified).toHaveLength(1);
    expect(verified[0]).toMatch(/^\$2[aby]\$04\$/);
    expect(await c.check(token("alice:wrong"))).toBeNull();
    expect(verified).toHaveLength(2);
  });

  test("a file of mixed costs: an unknown user is checked at the highest (as the README warns)", async () => {
    const mixed = join(tmp, "mixed");
    const at = (cost: number) => Bun.password.hashSync("pw", { algorithm: "bcrypt", cost });
    writeFileSync(mixed, `low:${at(4)}\nhigh:${at(5)}\n`);
    const c = new Credentials({ file: mixed });
    countVerifies();
    expect(await c.check(token("nobody:pw"))).toBeNull();
    expect(verified[0]).toMatch(/^\$2[aby]\$05\$/);
  });

  test("checks at once are bounded: past the slots and the queue, BUSY; the others all finish", async () => {
    const c = new Credentials({ file });
    const results: unknown[] = [];
    let i = 0;
    for (;;) {
      const r = c.check(token(`alice:guess-${i++}`));
      if (r === BUSY) break;
      results.push(r);
      if (i > 10_000) throw new Error("never busy");
    }
    // At most one slot a core, plus the queue.
    expect(results.length).toBeGreaterThan(QUEUE_SIZE);
    expect(results.length).toBeLessThanOrEqual(QUEUE_SIZE + 64);
    expect(await Promise.all(results)).toEqual(Array(results.length).fill(null));
    expect(c.pending).toBe(0);
    // Free again: a right password gets in.
    expect(await c.check(token("alice:wonderland"))).toBe("alice");
  });

  test("a user in both the file and user:password is refused at start", () => {
    expect(() => new Credentials({ file, credentials: "alice:x" })).toThrow('user "alice"');
  });
});
