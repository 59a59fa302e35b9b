// Runs a server in its own process (for RSS and descriptor measurements); prints its port, then waits.
import { serve } from "../../src/index.ts";

const root = process.argv[2];
const server = serve({ port: 0, root, log: "off" });
process.stdout.write(`${server.port}\n`);
