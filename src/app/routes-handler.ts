// The `routes` option as a handler: match, decode params, pick the method's handler (HEAD → GET),
// answer OPTIONS with Allow and other methods with 405 + Allow.
import { METHOD } from "../http/parser.ts";
import type { Handler } from "../server/handler.ts";
import type { Reply } from "../server/reply.ts";
import type { ServerRequest } from "../server/request.ts";
import { decodeParams, Router, type Routes } from "./router.ts";

const TEXT = "text/plain; charset=utf-8";

export function createRoutesHandler<S>(routes: Routes<S>, server: S): { handler: Handler; methods: Set<string> } {
  const router = new Router<S>(routes);
  const methods = new Set<string>();
  for (const r of router.routes) for (const m of r.methods.keys()) methods.add(m);

  const handler: Handler = (req: ServerRequest) => {
    const m = router.match(req.path);
    if (m === null) return null;
    const route = m.route;
    if (m.values.length > 0) req.params = decodeParams(route, m.values);
    const byMethod = route.methods;
    const h =
      byMethod.get(req.method) ?? (req.head.method === METHOD.HEAD ? byMethod.get("GET") : undefined) ?? byMethod.get("*");
    if (h !== undefined) return h(req, server);
    if (req.head.method === METHOD.OPTIONS) return { status: 204, headers: [["Allow", route.allow]] } satisfies Reply;
    return {
      status: 405,
      headers: [
        ["Allow", route.allow],
        ["Content-Type", TEXT],
      ],
      body: "405 Method Not Allowed\n",
    } satisfies Reply;
  };
  return { handler, methods };
}
