// A server in its own process: `bun child-server.ts <root> '<serve options as JSON>'`. Prints its port,
// then serves <root> plus routes of its own:
//   /__stats       a full GC, then {rss, heapUsed, connections, refused} as JSON (for leak measurements)
//   /echo          the request body back (so fuzzed bodies reach a handler)
//   /stream/<mib>  that many MiB of zeros through a ReadableStream, pulled only as fast as the client reads
import { serve, type Server } from "../../src/index.ts";

const root = process.argv[2] || undefined;
const options = JSON.parse(process.argv[3] ?? "{}") as Record<string, unknown>;
const CHUNK = new Uint8Array(64 * 1024);

function stream(mib: number): Response {
  let left = mib * 16; // 64 KiB pieces
  return new Response(
    new ReadableStream<Uint8Array>({
      pull(controller) {
        if (left-- > 0) controller.enqueue(CHUNK);
        else controller.close();
      },
    }),
  );
}

let server: Server;
server = serve({
  port: 0,
  hostname: "127.0.0.1",
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
    const m = /^\/stream\/(\d+)$/.exec(req.path);
    if (m) return stream(Number(m[1]));
    return null;
  },
});
process.stdout.write(`${server.port}\n`);
