// Our server's static file handler over --root (the same as `bun run src/index.ts --root DIR --log off`).
import { serve } from "../../src/index.ts";
import { announce, parseServerArgs } from "./args.ts";

const { port, root } = parseServerArgs();
if (root === undefined) throw new Error("need --root DIR");
const server = serve({ port, hostname: "127.0.0.1", log: "off", root });
announce("ours-static", server.port);
const stop = () => void server.stop(true).then(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
