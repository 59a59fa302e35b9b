// Elysia's app.listen() calls Bun.serve inside: with Bun.serve swapped for our serve(), an Elysia app
// runs unchanged (listen, routes with params, JSON, a 404, reload on a later .listen, stop).
import { afterAll, expect, test } from "bun:test";
import { Elysia } from "elysia";
import { serve } from "../../src/serve.ts";

const realServe = Bun.serve;
afterAll(() => {
  (Bun as { serve: unknown }).serve = realServe;
});

function makeApp() {
  return new Elysia()
    .get("/", () => "hello")
    .get("/users/:id", ({ params }) => ({ id: params.id }))
    .post("/echo", ({ body }) => body)
    .onError(({ code }) => (code === "NOT_FOUND" ? new Response("nope", { status: 404 }) : undefined));
}

async function exercise(kind: "bun" | "ours") {
  (Bun as { serve: unknown }).serve = kind === "bun" ? realServe : serve;
  const app = makeApp().listen({ port: 0, hostname: "127.0.0.1", idleTimeout: 30 });
  const server = app.server!;
  const base = `http://127.0.0.1:${server.port}`;
  try {
    const root = await fetch(`${base}/`);
    const user = await fetch(`${base}/users/42`);
    const echo = await fetch(`${base}/echo`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"a":1}' });
    const missing = await fetch(`${base}/missing`);
    return {
      root: [root.status, root.headers.get("content-type"), await root.text()],
      user: [user.status, await user.json()],
      echo: [echo.status, await echo.json()],
      missing: [missing.status, await missing.text()],
    };
  } finally {
    await app.stop(true);
  }
}

test("an Elysia app's listen() runs on our serve() as on Bun.serve", async () => {
  const bun = await exercise("bun");
  const ours = await exercise("ours");
  expect(bun.user).toEqual([200, { id: "42" }]);
  expect(ours).toEqual(bun);
});
