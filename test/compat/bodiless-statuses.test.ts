// Statuses that carry no body, and Content-Length with no body, as Bun.serve answers them: 205
// sends Content-Length: 0 and nothing else (RFC 9110 §15.3.6), 204 and 304 drop a body, a HEAD
// with no body passes a declared Content-Length through, a GET does not.
import { describe, expect, test } from "bun:test";
import { onBoth, sameOnBoth } from "../helpers/compat.ts";
import { exchange, RawClient } from "../helpers/raw-client.ts";
import { GET, HEAD, summarize } from "../helpers/wire.ts";

const answer = (make: () => Response, request = GET()) =>
  sameOnBoth(() => ({ fetch: make }), async (s) => summarize(await exchange(s.port, request)));

describe("statuses without content", () => {
  test("205 with a body: Content-Length: 0, no type, no body", async () => {
    const bun = await answer(() => new Response("data", { status: 205 }));
    expect(bun).toEqual({ status: 205, reason: "Reset Content", headers: { "content-length": "0" }, body: "" });
  });

  test("205 to a HEAD is the same", async () => {
    const bun = await answer(() => new Response("data", { status: 205 }), HEAD());
    expect(bun.headers).toEqual({ "content-length": "0" });
  });

  test("204 and 304 drop a body and its framing; 304 keeps a declared Content-Length, 204 does not", async () => {
    expect((await answer(() => new Response("data", { status: 204 }))).headers).toEqual({});
    expect((await answer(() => new Response("data", { status: 304 }))).headers).toEqual({});
    const h = { "content-length": "10" };
    expect((await answer(() => new Response(null, { status: 304, headers: h }))).headers).toEqual(h);
    expect((await answer(() => new Response(null, { status: 204, headers: h }))).headers).toEqual({});
  });

  test("the next request on the connection is read right after each", async () => {
    const statuses = await sameOnBoth(
      () => ({ fetch: (req: Request) => new Response("data", { status: Number(new URL(req.url).pathname.slice(1)) }) }),
      async (s) => {
        const c = await RawClient.connect(s.port);
        try {
          await c.send(GET("/205") + GET("/204") + GET("/304") + GET("/200"));
          const got: [number, string][] = [];
          for (let i = 0; i < 4; i++) {
            const r = await c.response();
            got.push([r.status, r.text()]);
          }
          return got;
        } finally {
          c.close();
        }
      },
    );
    expect(statuses).toEqual([[205, ""], [204, ""], [304, ""], [200, "data"]]);
  });
});

describe("a declared Content-Length without a body", () => {
  const declared = () => new Response(null, { headers: { "content-length": "999" } });

  test("HEAD passes it through", async () => {
    expect((await answer(declared, HEAD())).headers).toEqual({ "content-length": "999" });
  });

  test("GET sends Content-Length: 0 (no bytes follow)", async () => {
    expect((await answer(declared)).headers).toEqual({ "content-length": "0" });
  });

  test("with a body, the body's length wins for HEAD and GET", async () => {
    const make = () => new Response("abc", { headers: { "content-length": "999" } });
    expect((await answer(make)).headers["content-length"]).toBe("3");
    const head = await onBoth(() => ({ fetch: make }), async (s) => summarize(await exchange(s.port, HEAD())));
    expect(head.bun.headers["content-length"]).toBe("3");
    expect(head.ours.headers["content-length"]).toBe("3");
  });

  test("a declared length that is not a number is dropped", async () => {
    const make = () => new Response(null, { headers: { "content-length": "abc" } });
    expect((await answer(make, HEAD())).headers).toEqual({ "content-length": "0" });
  });
});

describe("101 from a fetch handler, without an upgrade", () => {
  test("Bun sends a bare 101 and goes on with HTTP; we answer 500 (kept on purpose)", async () => {
    const { bun, ours } = await onBoth(
      () => ({ development: false, fetch: () => new Response("x", { status: 101 }) }),
      async (s) => {
        const c = await RawClient.connect(s.port);
        try {
          await c.send(GET());
          const r = await c.response();
          return { status: r.status, reason: r.reason, length: r.header("content-length") };
        } finally {
          c.close();
        }
      },
    );
    // Bun: an interim-looking 101 with no Upgrade field, then no final response for this request;
    // a client waits for one forever. A 500 at least ends the exchange.
    expect(bun).toEqual({ status: 101, reason: "Switching protocols", length: undefined });
    expect(ours.status).toBe(500);
  });
});
