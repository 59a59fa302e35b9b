// The server bench/soak.ts runs: our static files over the directory given, log off, and /__stats
// (after a full GC: RSS, heap, open connections). Prints its port on stdout, then serves until killed.
import { serve } from "../../src/index.ts";

const server = serve({
  port: 0,
  hostname: "127.0.0.1",
  log: "off",
  root: process.argv[2]!,
  handler(req) {
    if (req.path !== "/__stats") return null;
    Bun.gc(true);
    const m = process.memoryUsage();
    return JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed, connections: server.connectionCount });
  },
});
process.stdout.write(`${server.port}\n`);
