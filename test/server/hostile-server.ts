// The server of test/server/hostile.test.ts, in its own process so its RSS is its own:
// `bun hostile-server.ts <root|-> '<serve options as JSON>'`. Prints its port, then serves the files
// under <root>, or, given "-", a `fetch` handler with the bodies the tests need:
//   /ignore            a small 200 without reading the body
//   /slow?every=ms     reads one piece every `ms` ms (default 50), then answers with the count
//   /hash              reads the whole body as it streams; answers {"bytes", "sha256"}
//   /stall?ms=&slow=   reads nothing for `ms` ms, one piece every 50 ms for `slow` ms, then the rest
//                      at full speed; answers {"bytes", "sha256"}
//   /__stats           a full GC, then {"connections", "rss"}
import { serve, type Server } from "../../src/index.ts";

const root = process.argv[2] === "-" ? undefined : process.argv[2];
const options = JSON.parse(process.argv[3] ?? "{}") as Record<string, unknown>;

async function hashBody(body: ReadableStream<Uint8Array>, stallMs = 0, slowMs = 0): Promise<Response> {
  const hasher = new Bun.CryptoHasher("sha256");
  let bytes = 0;
  const reader = body.getReader();
  if (stallMs > 0) await Bun.sleep(stallMs);
  const slowUntil = Date.now() + slowMs;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.length;
    hasher.update(value);
    if (Date.now() < slowUntil) await Bun.sleep(50);
  }
  return Response.json({ bytes, sha256: hasher.digest("hex") });
}

async function readSlowly(body: ReadableStream<Uint8Array>, every: number): Promise<Response> {
  let bytes = 0;
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.length;
      await Bun.sleep(every);
    }
  } catch {
    // The client went away mid-body: nobody will see the answer.
  }
  return new Response(`${bytes}\n`);
}

let server: Server;
server = serve({
  port: 0,
  hostname: "127.0.0.1",
  log: "off",
  ...options,
  handler(req) {
    if (req.path !== "/__stats") return null;
    Bun.gc(true);
    return JSON.stringify({ connections: server.connectionCount - 1, rss: process.memoryUsage().rss });
  },
  ...(root !== undefined ? { root } : { fetch }),
});
process.stdout.write(`${server.port}\n`);

function fetch(req: Request): Response | Promise<Response> {
  const url = new URL(req.url);
  const body = req.body;
  switch (url.pathname) {
    case "/ignore":
      return new Response("ignored\n");
    case "/slow":
      return body === null ? new Response("0\n") : readSlowly(body, Number(url.searchParams.get("every") ?? 50));
    case "/hash":
      return body === null ? Response.json({ bytes: 0 }) : hashBody(body);
    case "/stall":
      return body === null
        ? Response.json({ bytes: 0 })
        : hashBody(body, Number(url.searchParams.get("ms") ?? 0), Number(url.searchParams.get("slow") ?? 0));
    default:
      return new Response("not found\n", { status: 404 });
  }
}
