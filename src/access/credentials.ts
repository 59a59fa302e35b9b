// Checks the user:password of a Basic Authorization field against one configured user (compared in
// constant time, as HMAC digests of equal length) or an htpasswd file of bcrypt hashes. bcrypt costs
// ~60 ms a check at cost 10 (~240 ms at 12), so a verified answer is kept a short while, keyed by an
// HMAC of the field (a per-process key: a memory dump shows no password, nor a fast hash of one), and
// concurrent checks of the same field share one run: a page and its fifty assets cost one bcrypt.
// Refusals are kept apart, in a smaller cache of their own, so that a stream of distinct bad guesses
// cannot push the good logins out; a good login's use makes it the newest (least recently used goes).
// Distinct checks run at most one per core at a time, with a bounded queue behind them; past it, the
// caller answers 503, so a flood of bad credentials cannot pin the CPU (nginx checks every request,
// synchronously, in its worker). An unknown user is checked against a dummy hash of the file's cost,
// so the time taken does not tell which users exist. One cost: the file's highest. A file that mixes
// costs (users at 10 and at 12) lets timing tell a cost-10 user from an unknown name (which takes as
// long as a cost-12 user); the README says to make every hash at one cost.
import { randomBytes, timingSafeEqual } from "node:crypto";
import { availableParallelism } from "node:os";
import { type Htpasswd, HtpasswdError, readHtpasswd } from "./htpasswd.ts";

export interface AuthOptions {
  /** "user:password": one user. */
  credentials?: string;
  /** An htpasswd file of bcrypt hashes (htpasswd -B). */
  file?: string;
  /** The realm the 401 names (default "bunhttp"). */
  realm?: string;
}

/** How long a checked field's answer is kept (ms), and how many good ones are kept at most. */
export const CACHE_TTL = 60_000;
export const CACHE_SIZE = 1024;
/** Refused fields kept (so a client repeating one bad field costs no bcrypt), apart from the good ones. */
export const REFUSED_CACHE_SIZE = 256;
/** Checks waiting for a free slot; more are refused (BUSY). */
export const QUEUE_SIZE = 64;

/** check()'s answer when too many checks are running and waiting: try again later. */
export const BUSY = Symbol("busy");
export type CheckResult = string | null | typeof BUSY;

interface Kept {
  user: string;
  until: number;
}

export class Credentials {
  readonly #key = randomBytes(32);
  /** The one configured user's digest of "user:password", and name. */
  readonly #plain: { digest: Buffer; user: string } | null = null;
  readonly #file: Htpasswd | null = null;
  readonly #dummy: string = "";
  /** Good logins by key, least recently used first. */
  readonly #kept = new Map<string, Kept>();
  /** Refused keys → until when, oldest first. */
  readonly #refused = new Map<string, number>();
  readonly #running = new Map<string, Promise<string | null>>();
  #active = 0;
  readonly #slots = Math.max(1, availableParallelism());
  readonly #queue: (() => void)[] = [];

  constructor(options: AuthOptions) {
    if (options.credentials !== undefined) {
      const colon = options.credentials.indexOf(":");
      if (colon <= 0) throw new Error("auth credentials must be user:password");
      this.#plain = { digest: this.#digest(Buffer.from(options.credentials)), user: options.credentials.slice(0, colon) };
    }
    if (options.file !== undefined) {
      this.#file = readHtpasswd(options.file);
      if (this.#plain !== null && this.#file.users.has(this.#plain.user)) {
        throw new HtpasswdError(`auth: user ${JSON.stringify(this.#plain.user)} is in ${options.file} and given as user:password`);
      }
      this.#dummy = Bun.password.hashSync(randomBytes(16).toString("hex"), { algorithm: "bcrypt", cost: this.#file.cost });
    }
    if (this.#plain === null && this.#file === null) throw new Error("auth needs credentials (user:password) or a file");
  }

  /** The user for these credentials (the field's base64 token), null if refused, BUSY, or a Promise. */
  check(token: string): CheckResult | Promise<string | null> {
    const decoded = Buffer.from(token, "base64");
    const digest = this.#digest(decoded);
    if (this.#plain !== null && timingSafeEqual(digest, this.#plain.digest)) return this.#plain.user;
    if (this.#file === null) return null;
    const key = digest.toString("base64");
    const kept = this.#kept.get(key);
    if (kept !== undefined) {
      this.#kept.delete(key);
      if (kept.until > Date.now()) {
        this.#kept.set(key, kept); // the newest now (a Map keeps insertion order)
        return kept.user;
      }
    }
    const refused = this.#refused.get(key);
    if (refused !== undefined) {
      if (refused > Date.now()) return null;
      this.#refused.delete(key);
    }
    const running = this.#running.get(key);
    if (running !== undefined) return running;
    if (this.#active >= this.#slots && this.#queue.length >= QUEUE_SIZE) return BUSY;
    const p = this.#verify(decoded, key);
    this.#running.set(key, p);
    return p;
  }

  async #verify(decoded: Buffer, key: string): Promise<string | null> {
    // A slot: a free one, or one handed over by a check that ends (so the count never overshoots).
    if (this.#active >= this.#slots) await new Promise<void>((resolve) => this.#queue.push(resolve));
    else this.#active++;
    let user: string | null = null;
    try {
      const colon = decoded.indexOf(58); // ':'
      const name = colon < 0 ? "" : decoded.toString("utf8", 0, colon);
      const hash = this.#file!.users.get(name);
      // (an unknown user costs a check too; an empty password Bun refuses at once, so it gets none)
      const password = colon < 0 ? decoded : decoded.subarray(colon + 1);
      const ok = password.length > 0 && (await Bun.password.verify(password, hash ?? this.#dummy).catch(() => false));
      if (ok && hash !== undefined) user = name;
    } finally {
      const next = this.#queue.shift();
      if (next !== undefined) next();
      else this.#active--;
      this.#running.delete(key);
    }
    const until = Date.now() + CACHE_TTL;
    if (user === null) {
      if (this.#refused.size >= REFUSED_CACHE_SIZE) this.#refused.delete(this.#refused.keys().next().value!); // the oldest
      this.#refused.set(key, until);
    } else {
      if (this.#kept.size >= CACHE_SIZE) this.#kept.delete(this.#kept.keys().next().value!); // the least recently used
      this.#kept.set(key, { user, until });
    }
    return user;
  }

  #digest(data: Uint8Array): Buffer {
    return new Bun.CryptoHasher("sha256", this.#key).update(data).digest() as Buffer;
  }

  /**
   * Checks running and waiting now. Only tests read it: credentials.test.ts asserts it is 0 once a
   * flood of checks is over, i.e. no finished check is left in the map of running ones.
   */
  get pending(): number {
    return this.#running.size;
  }
}
