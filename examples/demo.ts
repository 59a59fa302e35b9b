// The demo app behind public/index.html: `bun run src/index.ts --app examples/demo.ts`.
// An app module exports what Bun.serve takes (routes, fetch, error); the CLI adds the static files.
import type { ServeOptions } from "../src/index.ts";

const started = Date.now();

export default {
  routes: {
    "/api/echo": {
      async POST(req) {
        const type = req.headers.get("content-type") ?? "";
        const fields = type.includes("json")
          ? ((await req.json()) as Record<string, unknown>)
          : Object.fromEntries(
              // An uploaded file shows as its name, type and size (a File would show as {}).
              [...(await req.formData()).entries()].map(([k, v]) => [k, typeof v === "string" ? v : { name: v.name, type: v.type, size: v.size }]),
            );
        return Response.json({
          method: req.method,
          path: new URL(req.url).pathname,
          contentType: type.split(";")[0],
          fields,
          receivedAt: new Date().toISOString(),
        });
      },
    },
    "/api/status": () => Response.json({ uptimeSeconds: Math.round((Date.now() - started) / 1000), pid: process.pid }),
    "/api/hello/:name": (req) => Response.json({ hello: req.params.name }),
  },
} satisfies Pick<ServeOptions, "routes" | "fetch" | "error">;
