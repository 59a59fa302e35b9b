// The Bun.serve counterpart of ours-static: new Response(Bun.file(root + path)) per request.
// Bun.serve sends a Bun.file body with sendfile(2) where it can.
import { resolve } from "node:path";
import { announce, parseServerArgs } from "./args.ts";

const args = parseServerArgs();
if (args.root === undefined) throw new Error("need --root DIR");
const root = resolve(args.root);
const server = Bun.serve({
  port: args.port,
  hostname: "127.0.0.1",
  development: false,
  fetch(req) {
    // The path without building a URL object: "http://host:port/path?query".
    const url = req.url;
    const start = url.indexOf("/", url.indexOf("//") + 2);
    const q = url.indexOf("?", start);
    const path = decodeURIComponent(q < 0 ? url.slice(start) : url.slice(start, q));
    if (path.includes("..") || path.includes("\0")) return new Response("Not Found\n", { status: 404 });
    return new Response(Bun.file(root + path));
  },
});
announce("bun-serve-static", server.port!);
const stop = () => void server.stop(true).then(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
