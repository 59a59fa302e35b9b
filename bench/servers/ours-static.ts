// Our server's static file handler over --root (the same as `bun run src/index.ts --root DIR --log off`).
// `--log common|combined|json --log-file PATH` turns the access log on (the "log" scenario measures its cost);
// `--metrics PATH` the metrics endpoint (the "metrics" scenario); BUNHTTP_CACHE_FILE_LIMIT the file cache's limit;
// BUNHTTP_SENDFILE=0 turns sendfile off (as --no-sendfile).
import { serve } from "../../src/index.ts";
import { announce, parseServerArgs } from "./args.ts";

const argv = process.argv.slice(2);
let log: "off" | "common" | "combined" | "json" = "off";
let logFile = "/dev/null";
let metrics: string | undefined;
for (const flag of ["--log", "--log-file", "--metrics"]) {
  const i = argv.indexOf(flag);
  if (i < 0) continue;
  const value = argv[i + 1]!;
  if (flag === "--log") log = value as typeof log;
  else if (flag === "--metrics") metrics = value;
  else logFile = value;
  argv.splice(i, 2);
}
const { port, root } = parseServerArgs(argv);
if (root === undefined) throw new Error("need --root DIR");
// As the CLI, BUNHTTP_CACHE_FILE_LIMIT sets the file cache's limit (to measure it against the default).
const limit = process.env.BUNHTTP_CACHE_FILE_LIMIT;
const sendfile = process.env.BUNHTTP_SENDFILE !== "0";
const server = serve({ port, hostname: "127.0.0.1", log, logWrite: logFile, root, metrics, sendfile, static: limit ? { cacheFileLimit: Number(limit) } : undefined });
announce(`ours-static (log ${log}${metrics ? `, metrics at ${metrics}` : ""})`, server.port);
const stop = () => void server.stop(true).then(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
