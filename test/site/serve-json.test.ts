// The serve.json table (serve-json-table.ts) run against our server and against vercel's
// serve-handler 6.1.8 (inside node:http, in this test process: the "no node:http" rule is for src/),
// both over raw TCP with the same request bytes. A row that `differs` is checked against each
// server's own expectation.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createServer, type Server as NodeServer } from "node:http";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { serve, type Server } from "../../src/index.ts";
import { exchange, type RawResponse } from "../helpers/raw-client.ts";
import { type Expect, FIXTURE, GROUPS, LINKS, OUTSIDE } from "./serve-json-table.ts";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const serveHandler = require("serve-handler") as (req: unknown, res: unknown, config: Record<string, unknown>) => Promise<void>;

let tmp: string;

function makeRoot(name: string, config: Record<string, unknown>, files?: Record<string, string>): string {
  const root = join(tmp, name, "root");
  mkdirSync(root, { recursive: true });
  writeFileSync(join(tmp, name, "outside.txt"), OUTSIDE);
  for (const [rel, text] of Object.entries(files ?? FIXTURE)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), text);
  }
  if (files === undefined) for (const [rel, to] of Object.entries(LINKS)) symlinkSync(to, join(root, rel));
  writeFileSync(join(root, "serve.json"), JSON.stringify(config, null, 2));
  return root;
}

function send(port: number, c: { path: string; method?: string }): Promise<RawResponse> {
  const method = c.method ?? "GET";
  const body = method === "POST" ? "Content-Length: 0\r\n" : "";
  return exchange(port, `${method} ${c.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${body}Connection: close\r\n\r\n`);
}

/** What of `r` the expectation names, for a readable diff. */
function observed(r: RawResponse, e: Expect, root: string): Record<string, unknown> {
  const body = r.text();
  const seen: Record<string, unknown> = { status: r.status };
  if (e.location !== undefined) seen.location = r.header("location");
  if (e.file !== undefined) seen.file = body === readFileSync(join(root, e.file), "utf8") ? e.file : body.slice(0, 80);
  if (e.notFile !== undefined) seen.notFile = body === readFileSync(join(root, e.notFile), "utf8") ? `${e.notFile} sent` : e.notFile;
  if (e.lists !== undefined) seen.lists = e.lists.filter((n) => body.includes(`${n}`));
  if (e.hides !== undefined) seen.hides = e.hides.filter((n) => !body.includes(`>${n}`) && !body.includes(`"${n}`));
  if (e.headers !== undefined) {
    const h: Record<string, string | null> = {};
    for (const [k, v] of Object.entries(e.headers)) {
      const got = r.header(k) ?? null;
      h[k] = v === "*" && got !== null ? "*" : got;
    }
    seen.headers = h;
  }
  return seen;
}

function expected(e: Expect): Record<string, unknown> {
  const out: Record<string, unknown> = { status: e.status };
  if (e.location !== undefined) out.location = e.location;
  if (e.file !== undefined) out.file = e.file;
  if (e.notFile !== undefined) out.notFile = e.notFile;
  if (e.lists !== undefined) out.lists = e.lists;
  if (e.hides !== undefined) out.hides = e.hides;
  if (e.headers !== undefined) out.headers = e.headers;
  return out;
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "bunhttp-serve-json-"));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

GROUPS.forEach((group, gi) => {
  describe(`serve.json: ${group.name}`, () => {
    let root: string;
    let ours: Server;
    let theirs: NodeServer;
    let theirsPort: number;
    beforeAll(async () => {
      root = makeRoot(`g${gi}`, group.config, group.files);
      ours = serve({ port: 0, hostname: "127.0.0.1", root });
      theirs = createServer((req, res) => void serveHandler(req, res, { ...group.config, public: root }));
      await new Promise<void>((resolve) => theirs.listen(0, "127.0.0.1", resolve));
      theirsPort = (theirs.address() as { port: number }).port;
    });
    afterAll(async () => {
      await ours.stop(true);
      await new Promise((resolve) => theirs.close(resolve));
    });

    for (const c of group.cases) {
      const label = `${c.method ? `${c.method} ` : ""}${c.path} → ${c.status}${c.location ? ` ${c.location}` : ""}${c.differs ? ` (differs: ${c.differs.why})` : ""}`;
      test(`ours: ${label}`, async () => {
        expect(observed(await send(ours.port, c), c, root)).toEqual(expected(c));
      });
      test(`serve-handler: ${label}`, async () => {
        const e = c.differs?.serve ?? c;
        expect(observed(await send(theirsPort, c), e, root)).toEqual(expected(e));
      });
    }
  });
});
