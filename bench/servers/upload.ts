// One entry for bench/upload.ts: a server that reads a whole request body and answers its length.
//   --kind ours-fetch|ours-routes|bun-fetch|bun-routes|sink  --port N  [--max-body N] [--body-buffer N]
// Every kind but `sink` runs the same loop over the body stream (`for await (const chunk of body)`);
// ours-routes reads our light request's `req.body`, the others a Web Request's. `sink` is a bare
// Bun.listen that counts the bytes after the head of a Content-Length request: what the client and
// the kernel can do, with no HTTP server at all.
import type { Socket } from "bun";
import { serve } from "../../src/index.ts";
import { announce } from "./args.ts";

const argv = process.argv.slice(2);
const arg = (name: string): string | undefined => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const kind = arg("--kind") ?? "";
const port = Number(arg("--port"));
const maxBody = Number(arg("--max-body") ?? 4 * 1024 ** 3);
const bodyBuffer = arg("--body-buffer");

async function count(body: ReadableStream<Uint8Array> | null): Promise<string> {
  let n = 0;
  if (body !== null) for await (const chunk of body) n += chunk.length;
  return String(n);
}
const fetchHandler = async (req: Request) => new Response(await count(req.body));

let stop: () => Promise<void>;
if (kind === "bun-fetch" || kind === "bun-routes") {
  const s = Bun.serve({
    port,
    hostname: "127.0.0.1",
    development: false,
    maxRequestBodySize: maxBody,
    ...(kind === "bun-routes" ? { routes: { "/upload": { POST: fetchHandler } }, fetch: () => new Response(null, { status: 404 }) } : { fetch: fetchHandler }),
  });
  stop = () => s.stop(true);
} else if (kind === "ours-fetch" || kind === "ours-routes") {
  const s = serve({
    port,
    hostname: "127.0.0.1",
    log: "off",
    maxBody,
    ...(bodyBuffer !== undefined ? { bodyBufferSize: Number(bodyBuffer) } : {}),
    ...(kind === "ours-routes" ? { routes: { "/upload": { POST: (req) => count(req.body) } } } : { fetch: fetchHandler }),
  });
  stop = () => s.stop(true);
} else if (kind === "sink") {
  const l = startSink();
  stop = async () => l.stop(true);
} else {
  throw new Error(`unknown --kind ${kind}`);
}
announce(`upload ${kind}`, port);
const quit = () => void stop().then(() => process.exit(0));
process.on("SIGTERM", quit);
process.on("SIGINT", quit);

interface SinkState {
  head: Buffer | null;
  /** Body bytes still to come; -1 while the head is incomplete. */
  left: number;
  length: number;
}

function startSink() {
  return Bun.listen<SinkState>({
    hostname: "127.0.0.1",
    port,
    socket: {
      binaryType: "uint8array",
      open(s) {
        s.data = { head: null, left: -1, length: 0 };
      },
      data(s: Socket<SinkState>, chunk: Uint8Array) {
        const st = s.data;
        let body = chunk.length;
        if (st.left < 0) {
          const head: Buffer = st.head === null ? Buffer.from(chunk) : Buffer.concat([st.head, chunk]);
          const end = head.indexOf("\r\n\r\n");
          if (end < 0) {
            st.head = head;
            return;
          }
          const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head.toString("latin1", 0, end));
          if (cl === null) throw new Error("sink: Content-Length uploads only");
          st.head = null;
          st.left = st.length = Number(cl[1]);
          body = head.length - end - 4;
        }
        st.left -= body;
        if (st.left === 0) {
          const text = String(st.length);
          s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${text.length}\r\n\r\n${text}`);
          st.left = -1;
        }
      },
    },
  });
}
