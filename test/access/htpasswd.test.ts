// htpasswd files: bcrypt lines are read; every other kind of line is refused naming the file and line.
import { describe, expect, test } from "bun:test";
import { HtpasswdError, parseHtpasswd, readHtpasswd } from "../../src/access/htpasswd.ts";

const HASH = "$2y$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"; // "U*U" (a published test vector)

describe("parseHtpasswd", () => {
  test("bcrypt lines ($2y$, $2b$, $2a$), comments and blank lines; the highest cost is noted", () => {
    const text = `# users\nalice:${HASH}\n\r\nbob:${HASH.replace("$2y$05", "$2b$07")}\r\ncarol:${HASH.replace("$2y$", "$2a$")}\n`;
    const h = parseHtpasswd(text, "users.htpasswd");
    expect([...h.users.keys()]).toEqual(["alice", "bob", "carol"]);
    expect(h.users.get("alice")).toBe(HASH);
    expect(h.cost).toBe(7);
  });

  test.each([
    ["alice:$apr1$r31.....$HqJZimcKQFAMYayBlzkrA/", "Apache MD5 ($apr1$)"],
    ["alice:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=", "SHA-1 ({SHA})"],
    ["alice:rqXexS6ZhobKA", "crypt(3)"],
    ["alice:$1$saltsalt$hash", "MD5-crypt ($1$)"],
    ["alice:$6$salt$hash", "SHA-crypt"],
    ["alice:secret", "plain text"],
    ["alice:$2y$10$tooshort", "malformed bcrypt"],
    ["no colon here", "not a user:hash line"],
    [":$2y$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "not a user:hash line"],
  ])("line 2 %p: refused as %p, naming file:2", (line, kind) => {
    const text = `ok:${HASH}\n${line}\n`;
    expect(() => parseHtpasswd(text, "/etc/site.htpasswd")).toThrow(HtpasswdError);
    expect(() => parseHtpasswd(text, "/etc/site.htpasswd")).toThrow(`/etc/site.htpasswd:2: `);
    expect(() => parseHtpasswd(text, "/etc/site.htpasswd")).toThrow(kind);
  });

  test("a user given twice, and a file with nobody in it, are refused", () => {
    expect(() => parseHtpasswd(`a:${HASH}\na:${HASH}\n`, "f")).toThrow("f:2: user \"a\" is given twice");
    expect(() => parseHtpasswd("# nobody\n\n", "f")).toThrow("f: no users in it");
  });

  test("a file that cannot be read is named", () => {
    expect(() => readHtpasswd("/nonexistent/users")).toThrow("cannot read auth file /nonexistent/users");
  });
});
