// An htpasswd file (`user:hash` a line, as Apache's `htpasswd -B` writes it) read into a map of users
// to bcrypt hashes, which Bun.password.verify checks ($2y$, $2b$, $2a$ alike). Other kinds of hash
// (Apache's $apr1$ MD5, {SHA}, crypt(3), SHA-crypt) are refused at start, naming the file and line:
// they are weak, and a server that silently let nobody in would be worse than one that will not start.
import { readFileSync } from "node:fs";

/** Apache's bcrypt: $2y$ (or $2a$/$2b$), a two-digit cost, then 53 characters of salt and hash. */
const BCRYPT = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;

export class HtpasswdError extends Error {}

/** The kind of a hash we refuse, for the error. */
function kindOf(hash: string): string {
  if (hash.startsWith("$apr1$")) return "Apache MD5 ($apr1$)";
  if (hash.startsWith("{SHA}")) return "SHA-1 ({SHA})";
  if (hash.startsWith("$1$")) return "MD5-crypt ($1$)";
  if (hash.startsWith("$5$") || hash.startsWith("$6$")) return "SHA-crypt ($5$/$6$)";
  if (hash.startsWith("$2")) return "a malformed bcrypt hash";
  if (/^[./A-Za-z0-9]{13}$/.test(hash)) return "crypt(3)";
  return "plain text or an unknown kind";
}

export interface Htpasswd {
  /** User → bcrypt hash. */
  users: Map<string, string>;
  /**
   * The highest bcrypt cost in the file (what a lookup of an unknown user is made to cost). Mixed
   * costs are accepted, though a user of a lower cost then answers faster than an unknown name.
   */
  cost: number;
}

/** Parses htpasswd text; `where` names the file in errors. Blank lines and `#` comments are skipped. */
export function parseHtpasswd(text: string, where: string): Htpasswd {
  const users = new Map<string, string>();
  let cost = 0;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "" || line.startsWith("#")) continue;
    const at = `${where}:${i + 1}`;
    const colon = line.indexOf(":");
    if (colon <= 0) throw new HtpasswdError(`${at}: not a user:hash line`);
    const user = line.slice(0, colon);
    const hash = line.slice(colon + 1);
    const m = BCRYPT.exec(hash);
    if (m === null) {
      throw new HtpasswdError(`${at}: the hash for ${JSON.stringify(user)} is ${kindOf(hash)}; only bcrypt is supported (make one with htpasswd -B)`);
    }
    if (users.has(user)) throw new HtpasswdError(`${at}: user ${JSON.stringify(user)} is given twice`);
    users.set(user, hash);
    cost = Math.max(cost, Number(m[1]));
  }
  if (users.size === 0) throw new HtpasswdError(`${where}: no users in it`);
  return { users, cost };
}

/** Reads and parses an htpasswd file. */
export function readHtpasswd(path: string): Htpasswd {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new HtpasswdError(`cannot read auth file ${path}: ${(err as Error).message}`);
  }
  return parseHtpasswd(text, path);
}
