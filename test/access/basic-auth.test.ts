// Basic auth over TCP: the 401 challenge, what counts as credentials, the paths left open (health) and
// closed (metrics), an htpasswd file, and an access log that shows the user and never the password.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { basicToken, checkRealm, createAuthHandler } from "../../src/access/basic-auth.ts";
import { QUEUE_SIZE } from "../../src/access/credentials.ts";
import type { Reply } from "../../src/server/reply.ts";
import type { ServerRequest } from "../../src/server/request.ts";
import { serve, type Server } from "../../src/index.ts";
import { exchange, RawClient } from "../helpers/raw-client.ts";

let tmp: string;
const servers: Server[] = [];
let plainPort: number;
let filePort: number;
const logged: string[] = [];
const jsonLogged: string[] = [];

const basic = (userPass: string) => `Authorization: Basic ${Buffer.from(userPass).toString("base64")}\r\n`;
const get = (path: string, extra = "", method = "GET") => `${method} ${path} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "bunhttp-auth-"));
  const root = join(tmp, "root");
  mkdirSync(root);
  writeFileSync(join(root, "index.html"), "<h1>private</h1>\n");
  const users = join(tmp, "users");
  writeFileSync(users, `carol:${Bun.password.hashSync("c4rol pass", { algorithm: "bcrypt", cost: 4 }).replace(/^\$2b\$/, "$2y$")}\n`);
  const base = { port: 0, hostname: "127.0.0.1", root, health: "/healthz", metrics: "/metrics" };
  const plain = serve({ ...base, auth: { credentials: "alice:s3cret" }, log: "common", logWrite: (t: string) => void logged.push(t) });
  const file = serve({ ...base, auth: { file: users, realm: "team site" }, log: "json", logWrite: (t: string) => void jsonLogged.push(t) });
  servers.push(plain, file);
  plainPort = plain.port;
  filePort = file.port;
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop(true)));
  rmSync(tmp, { recursive: true, force: true });
});

describe("--auth user:password", () => {
  test("no credentials: 401 with the challenge (RFC 7617 §2, with charset §2.1)", async () => {
    const r = await exchange(plainPort, get("/"));
    expect(r.status).toBe(401);
    expect(r.header("www-authenticate")).toBe('Basic realm="bunhttp", charset="UTF-8"');
    expect(r.header("cache-control")).toBe("no-store");
    expect(r.text()).toBe("401 Unauthorized\n");
    expect(r.text()).not.toContain("private");
  });

  test.each([
    ["the right ones", basic("alice:s3cret"), 200],
    ["the scheme in another case", `Authorization: bAsIc ${btoa("alice:s3cret")}\r\n`, 200],
    ["a wrong password", basic("alice:s3cre"), 401],
    ["a password with more after it", basic("alice:s3cret2"), 401],
    ["another user", basic("bob:s3cret"), 401],
    ["no colon", basic("alice"), 401],
    ["another scheme", `Authorization: Bearer ${btoa("alice:s3cret")}\r\n`, 401],
    ["a token that is not base64", "Authorization: Basic !!!\r\n", 401],
    ["an empty value", "Authorization: \r\n", 401],
    ["the scheme alone", "Authorization: Basic\r\n", 401],
  ])("%s: answered as expected", async (_name, header, status) => {
    const r = await exchange(plainPort, get("/", header));
    expect(r.status).toBe(status);
    if (status === 200) expect(r.text()).toBe("<h1>private</h1>\n");
    else expect(r.header("www-authenticate")).toStartWith("Basic ");
  });

  test("HEAD gets the 401 head without its body; a refused upload keeps the connection usable", async () => {
    const c = await RawClient.connect(plainPort);
    try {
      await c.send(`${get("/", "", "HEAD")}POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello${get("/", basic("alice:s3cret"))}`);
      const head = await c.response();
      expect(head.status).toBe(401);
      expect(head.body.length).toBe(0);
      expect((await c.response()).status).toBe(401);
      expect((await c.response()).status).toBe(200);
    } finally {
      c.close();
    }
  });

  test("--health stays open; --metrics is behind auth", async () => {
    expect((await exchange(plainPort, get("/healthz"))).status).toBe(200);
    expect((await exchange(plainPort, get("/metrics"))).status).toBe(401);
    const m = await exchange(plainPort, get("/metrics", basic("alice:s3cret")));
    expect(m.status).toBe(200);
    expect(m.text()).toContain("# TYPE");
  });

  test("the common log has the user as %u, and never the password or the field", async () => {
    await exchange(plainPort, get("/?page=1", basic("alice:s3cret")));
    await exchange(plainPort, get("/?page=2", basic("alice:wrong")));
    servers[0]!.reopenLog(); // (flushes)
    const text = logged.join("");
    expect(text).toMatch(/^127\.0\.0\.1 - alice \[[^\]]+\] "GET \/\?page=1 HTTP\/1\.1" 200 /m);
    expect(text).toMatch(/^127\.0\.0\.1 - - \[[^\]]+\] "GET \/\?page=2 HTTP\/1\.1" 401 /m);
    for (const secret of ["s3cret", "wrong", btoa("alice:s3cret"), "Basic"]) expect(text).not.toContain(secret);
  });
});

describe("--auth-file (bcrypt)", () => {
  test("the right password gets in; the realm given is named; a wrong one, 401", async () => {
    const denied = await exchange(filePort, get("/", basic("carol:c4rol")));
    expect(denied.status).toBe(401);
    expect(denied.header("www-authenticate")).toBe('Basic realm="team site", charset="UTF-8"');
    expect((await exchange(filePort, get("/", basic("carol:c4rol pass")))).status).toBe(200);
  });

  test("twenty pipelined requests with the same credentials are all answered, in order", async () => {
    const c = await RawClient.connect(filePort);
    try {
      await c.send(get("/", basic("carol:c4rol pass")).repeat(20));
      for (let i = 0; i < 20; i++) expect((await c.response()).status).toBe(200);
    } finally {
      c.close();
    }
  });

  test("the JSON log names the user of an admitted request, and only of those", async () => {
    await exchange(filePort, get("/?json=1", basic("carol:c4rol pass")));
    await exchange(filePort, get("/?json=2"));
    servers[1]!.reopenLog();
    const lines = jsonLogged.join("").trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.find((l) => l.target === "/?json=1").user).toBe("carol");
    expect(lines.find((l) => l.target === "/?json=2").user).toBeUndefined();
    expect(jsonLogged.join("")).not.toContain("c4rol pass");
  });

  test("a bad file stops serve() with the file and line named", () => {
    const bad = join(tmp, "bad");
    writeFileSync(bad, "dave:$apr1$r31.....$HqJZimcKQFAMYayBlzkrA/\n");
    expect(() => serve({ port: 0, hostname: "127.0.0.1", root: tmp, auth: { file: bad } })).toThrow(`${bad}:1: `);
  });
});

describe("bounded", () => {
  test("past the checks a server runs and queues at once, 503 with Retry-After; the queued ones are answered", async () => {
    const users = join(tmp, "bounded");
    writeFileSync(users, `erin:${Bun.password.hashSync("pw", { algorithm: "bcrypt", cost: 4 })}\n`);
    const handler = createAuthHandler({ file: users });
    const request = (i: number) => {
      const value = `Basic ${btoa(`erin:guess-${i}`)}`;
      return { head: { header: (name: string) => (name === "authorization" ? value : undefined) }, remoteUser: null } as unknown as ServerRequest;
    };
    const answers = Array.from({ length: QUEUE_SIZE + 70 }, (_, i) => handler(request(i)));
    const busy = answers.filter((a) => !(a instanceof Promise)) as Reply[];
    expect(busy.length).toBeGreaterThan(0);
    for (const b of busy) {
      expect(b.status).toBe(503);
      expect(new TextDecoder().decode(b.headers as Uint8Array)).toContain("Retry-After: 1\r\n");
    }
    const checked = (await Promise.all(answers.filter((a) => a instanceof Promise))) as Reply[];
    expect(checked.length).toBeGreaterThan(QUEUE_SIZE);
    for (const c of checked) expect(c.status).toBe(401);
  });
});

describe("behind auth, the reverse proxy", () => {
  test("passes Authorization on to the upstream, as nginx does", async () => {
    const upstream = serve({ port: 0, hostname: "127.0.0.1", log: "off", fetch: (req) => new Response(req.headers.get("authorization") ?? "none") });
    const front = serve({ port: 0, hostname: "127.0.0.1", log: "off", proxy: { "/": upstream.url.href.slice(0, -1) }, auth: { credentials: "alice:s3cret" } });
    try {
      const r = await exchange(front.port, get("/x", basic("alice:s3cret")));
      expect(r.status).toBe(200);
      expect(r.text()).toBe(`Basic ${btoa("alice:s3cret")}`);
    } finally {
      await Promise.all([front.stop(true), upstream.stop(true)]);
    }
  });
});

describe("pieces", () => {
  test.each([
    ["Basic YTpi", "YTpi"],
    ["basic   YTpi  ", "YTpi"],
    ["Basic YTpiYw==", "YTpiYw=="],
    ["Basic YT pi", null],
    ["Basic ", null],
    ["Basicx YTpi", null],
    ["Digest username=a", null],
  ])("basicToken(%p) = %p", (value, token) => {
    expect(basicToken(value)).toBe(token);
  });

  test('a realm with " or \\ or a control byte is refused', () => {
    expect(checkRealm("my site")).toBe("my site");
    for (const bad of ['a"b', "a\\b", "a\nb", "é"]) expect(() => checkRealm(bad)).toThrow("auth realm");
  });
});
