// One entry for the "app" scenario: `--kind ours-routes|ours-light|ours-fetch|ours-hono|bun-routes|bun-fetch|bun-hono`.
//   ours-light: our routes returning our light values (a string, or { headers, body }) instead of Response.
import { serve } from "../../src/index.ts";
import { fetchHandler, HELLO, honoApp, JSON_BODY, routes } from "./app-handlers.ts";

const argv = process.argv.slice(2);
const kind = argv[argv.indexOf("--kind") + 1];
const port = Number(argv[argv.indexOf("--port") + 1]);
const JSON_TYPE: [string, string][] = [["Content-Type", "application/json;charset=utf-8"]];

let stop: () => Promise<void>;
if (kind === "bun-routes" || kind === "bun-fetch" || kind === "bun-hono") {
  const s = Bun.serve({
    port,
    hostname: "127.0.0.1",
    development: false,
    ...(kind === "bun-routes" ? { routes, fetch: fetchHandler } : { fetch: kind === "bun-hono" ? honoApp.fetch : fetchHandler }),
  } as Parameters<typeof Bun.serve>[0]);
  stop = () => s.stop(true);
} else {
  // As the CLI runs apps: with the Response tracker (src/app/known-bodies.ts); TRACK=0 measures without.
  const trackResponses = process.env.TRACK !== "0";
  const s =
    kind === "ours-fetch" || kind === "ours-hono"
      ? serve({ port, hostname: "127.0.0.1", log: "off", trackResponses, fetch: kind === "ours-hono" ? honoApp.fetch : fetchHandler })
      : kind === "ours-light"
        ? serve({
            port,
            hostname: "127.0.0.1",
            log: "off",
            trackResponses,
            routes: {
              "/hello": () => HELLO,
              "/json": () => ({ headers: JSON_TYPE, body: JSON.stringify(JSON_BODY) }),
              "/users/:id": (req) => ({ headers: JSON_TYPE, body: JSON.stringify({ id: req.params.id, name: `user ${req.params.id}` }) }),
            },
          })
        : serve({ port, hostname: "127.0.0.1", log: "off", trackResponses, routes });
  stop = () => s.stop(true);
}
process.stderr.write(`app ${kind} listening on 127.0.0.1:${port} (pid ${process.pid})\n`);
const quit = () => void stop().then(() => process.exit(0));
process.on("SIGTERM", quit);
process.on("SIGINT", quit);
