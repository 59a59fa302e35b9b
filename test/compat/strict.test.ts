// Where we differ from Bun.serve on purpose, each with its RFC (README, "Bun.serve compatibility"):
// both servers get the same bytes, and each test pins what Bun does and what we do instead.
import { expect, test } from "bun:test";
import { onBoth } from "../helpers/compat.ts";
import { exchange } from "../helpers/raw-client.ts";

const echoUrl = () => ({ fetch: (req: Request) => new Response(req.url) });

async function both(raw: string) {
  return onBoth(echoUrl, async ({ port }) => {
    const r = await exchange(port, raw);
    return { status: r.status, body: r.text() };
  });
}

test("an invalid Host: Bun routes it, we answer 400 (RFC 9112 §3.2: MUST)", async () => {
  const seen = await both("GET /x HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n");
  expect(seen.bun.status).toBe(200);
  expect(seen.ours.status).toBe(400);
});

test("raw non-ASCII bytes in the path: Bun routes them, we answer 400 (RFC 9112 §3.2, RFC 3986)", async () => {
  const seen = await both("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  expect(seen.bun.status).toBe(200);
  expect(seen.ours.status).toBe(400);
});

test("a CRLF before the request line: Bun answers 400, we ignore it (RFC 9112 §2.2: SHOULD)", async () => {
  const seen = await both("\r\nGET /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  expect(seen.bun.status).toBe(400);
  expect(seen.ours).toEqual({ status: 200, body: "http://t/x" });
});

test("an absolute-form target: Bun takes the URL from Host, we from the target (RFC 9112 §3.2.2: MUST)", async () => {
  const seen = await both("GET http://target.test/x HTTP/1.1\r\nHost: host.test\r\nConnection: close\r\n\r\n");
  expect(seen.bun).toEqual({ status: 200, body: "http://host.test/x" });
  expect(seen.ours).toEqual({ status: 200, body: "http://target.test/x" });
});
