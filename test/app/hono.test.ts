// A real Hono app runs unchanged on our server: same answers as under Bun.serve.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Hono } from "hono";
import { streamText } from "hono/streaming";
import { serve, type Server } from "../../src/index.ts";

function makeApp() {
  const app = new Hono();
  app.use("*", async (c, next) => {
    await next();
    c.header("X-Powered-By", "hono-on-test");
  });
  app.get("/", (c) => c.text("Hello Hono!"));
  app.get("/json/:name", (c) => c.json({ hello: c.req.param("name"), q: c.req.query("q") ?? null }));
  app.post("/echo", async (c) => c.json({ got: await c.req.json(), type: c.req.header("content-type") }));
  app.post("/form", async (c) => {
    const body = await c.req.parseBody();
    return c.json(body);
  });
  app.get("/stream", (c) =>
    streamText(c, async (s) => {
      for (let i = 0; i < 5; i++) await s.write(`line ${i}\n`);
    }),
  );
  app.get("/redirect", (c) => c.redirect("/json/there", 302));
  app.get("/cookie", (c) => {
    c.header("Set-Cookie", "a=1", { append: true });
    c.header("Set-Cookie", "b=2", { append: true });
    return c.text("ok");
  });
  app.notFound((c) => c.text("custom not found", 404));
  app.onError((err, c) => c.text(`handled: ${err.message}`, 500));
  app.get("/error", () => {
    throw new Error("oops");
  });
  return app;
}

let ours: Server;
let theirs: ReturnType<typeof Bun.serve>;

beforeAll(() => {
  // Tracking on (as the CLI has it): Responses built without Content-Type get the type Bun.serve infers.
  ours = serve({ port: 0, hostname: "127.0.0.1", log: "off", fetch: makeApp().fetch, trackResponses: true });
  theirs = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: makeApp().fetch });
});
afterAll(() => {
  ours.stop(true);
  theirs.stop(true);
});

const cases: [string, RequestInit?][] = [
  ["/"],
  ["/json/world?q=1"],
  ["/echo", { method: "POST", body: JSON.stringify({ a: [1, 2] }), headers: { "Content-Type": "application/json" } }],
  ["/form", { method: "POST", body: new URLSearchParams({ x: "1", y: "two words" }) }],
  ["/stream"],
  ["/redirect", { redirect: "manual" }],
  ["/cookie"],
  ["/missing"],
  ["/error"],
  ["/json/x", { method: "DELETE" }],
];

for (const [path, init] of cases) {
  test(`${init?.method ?? "GET"} ${path}: same as under Bun.serve`, async () => {
    const a = await fetch(new URL(path, ours.url), init);
    const b = await fetch(new URL(path, `http://127.0.0.1:${theirs.port}`), init);
    expect(a.status).toBe(b.status);
    expect(await a.text()).toBe(await b.text());
    for (const h of ["x-powered-by", "location"]) expect(a.headers.get(h)).toBe(b.headers.get(h));
    // Including a Response built without Content-Type: we send the type Bun.serve infers from its body.
    expect(a.headers.get("content-type")).toBe(b.headers.get("content-type"));
    expect(a.headers.getSetCookie()).toEqual(b.headers.getSetCookie());
  });
}
