// The Bun.serve counterpart of ours-hello: new Response("Hello, World!"), whose default
// Content-Type is text/plain;charset=utf-8 (Bun adds Date and Content-Length, as we do).
import { announce, parseServerArgs } from "./args.ts";

const { port } = parseServerArgs();
const server = Bun.serve({
  port,
  hostname: "127.0.0.1",
  development: false,
  fetch: () => new Response("Hello, World!"),
});
announce("bun-serve-hello", server.port!);
const stop = () => void server.stop(true).then(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
