// Our server, answering every request with "Hello, World!" (text/plain) from a handler.
import { serve } from "../../src/index.ts";
import { announce, parseServerArgs } from "./args.ts";

const { port } = parseServerArgs();
const server = serve({ port, hostname: "127.0.0.1", log: "off", handler: () => "Hello, World!" });
announce("ours-hello", server.port);
const stop = () => void server.stop(true).then(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
