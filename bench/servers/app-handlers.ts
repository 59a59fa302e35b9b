// The same application handlers for every server in the "app" scenario of bench/load.ts:
// a hello-world text, a JSON object, and a parameter route; also as a Hono app (a real fetch app).
import { Hono } from "hono";
export const HELLO = "Hello, World!";
export const JSON_BODY = { message: "Hello, World!", items: [1, 2, 3], ok: true };

/** Route handlers written for Bun.serve (Request in, Response out); our routes take them unchanged. */
export const routes = {
  "/hello": () => new Response(HELLO),
  "/json": () => Response.json(JSON_BODY),
  "/users/:id": (req: { params: Record<string, string> }) => Response.json({ id: req.params.id, name: `user ${req.params.id}` }),
};

/** The same app as one fetch handler. */
export function fetchHandler(req: Request): Response {
  const url = req.url;
  const path = url.slice(url.indexOf("/", 8));
  if (path === "/hello") return new Response(HELLO);
  if (path === "/json") return Response.json(JSON_BODY);
  if (path.startsWith("/users/")) {
    const id = path.slice(7);
    return Response.json({ id, name: `user ${id}` });
  }
  return new Response("Not Found", { status: 404 });
}

/** The same app in Hono (text and JSON helpers, a :param route), for its fetch door. */
export const honoApp = new Hono()
  .get("/hello", (c) => c.text(HELLO))
  .get("/json", (c) => c.json(JSON_BODY))
  .get("/users/:id", (c) => {
    const id = c.req.param("id");
    return c.json({ id, name: `user ${id}` });
  });
