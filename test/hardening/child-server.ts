// A server in its own process for the hardening tests: `bun child-server.ts <root> '<serve options as JSON>'`.
// Prints its port, then serves <root> plus two routes of its own:
//   /__stats  a full GC, then {rss, heapUsed, connections, refused} as JSON (for leak measurements)
//   /echo     the request body back (so fuzzed bodies reach a handler)
import { serve, type Server } from "../../src/index.ts";

const root = process.argv[2] || undefined;
const options = JSON.parse(process.argv[3] ?? "{}") as Record<string, unknown>;

let server: Server;
server = serve({
  port: 0,
  log: "off",
  ...options,
  root,
  handler(req) {
    if (req.path === "/__stats") {
      Bun.gc(true);
      const m = process.memoryUsage();
      return JSON.stringify({
        rss: m.rss,
        heapUsed: m.heapUsed,
        connections: server.connectionCount,
        refused: server.refusedConnections,
      });
    }
    if (req.path === "/echo") return req.bytes();
    return null;
  },
});
process.stdout.write(`${server.port}\n`);
