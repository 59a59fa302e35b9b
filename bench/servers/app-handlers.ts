// The same application handlers for every server in the "app" scenario of bench/load.ts:
// a hello-world text, a JSON object, and a parameter route.
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
