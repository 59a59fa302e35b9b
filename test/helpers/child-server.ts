// Runs a server in its own process (for RSS and descriptor measurements); prints its port, then waits.
// Besides the files under the root it has /stream/:mib, a handler streaming that many MiB of zeros
// through a ReadableStream (pulled only as fast as the client reads).
import { serve } from "../../src/index.ts";

const CHUNK = new Uint8Array(64 * 1024);
const root = process.argv[2];
const server = serve({
  port: 0,
  root,
  log: "off",
  routes: {
    "/stream/:mib": (req) => {
      let left = Number(req.params.mib) * 16; // 64 KiB pieces
      return new Response(
        new ReadableStream<Uint8Array>({
          pull(controller) {
            if (left-- > 0) controller.enqueue(CHUNK);
            else controller.close();
          },
        }),
      );
    },
  },
});
process.stdout.write(`${server.port}\n`);
