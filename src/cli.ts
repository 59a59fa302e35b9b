// Command line: flags → serve() options. Errors are one line on stderr and exit code 1.
import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { serve, type ServeOptions } from "./server/server.ts";
import type { LogFormat } from "./server/access-log.ts";

const HELP = `bunhttp: a fast, strict HTTP/1.1 server on Bun

Usage: bun run src/index.ts [options]

Options:
  --host <address>     address to listen on            (default 127.0.0.1)
  --port <n>           port, 0 for any free one         (default 8888, or $PORT)
  --root <dir>         directory to serve               (default ./public)
  --log <format>       access log: off, common, combined (default common, to stdout)
  --app <module>       an app module whose default export is what Bun.serve takes
                       ({ routes, fetch, error }); static files are served beside it

Static files:
  --dotfiles <mode>    allow or deny files starting with "." (default deny; /.well-known/ always served)
  --no-listing         answer 404 for directories without index.html instead of listing them
  --spa                single-page app: unknown paths that accept HTML get /index.html
  --cache-control <v>  Cache-Control for every file (default: immutable for fingerprinted
                       names like app.3f9a1c2b.js, no-cache for HTML, none otherwise)
  --cache-file-limit <bytes>   files up to this size are kept in memory (default 65536)
  --cache-size <bytes>         memory for cached files in all (default 67108864)

Limits and timeouts:
  --max-body <bytes>           largest request body, else 413 (default 10485760)
  --max-header-size <bytes>    largest request head, else 431 (default 65536)
  --max-request-line <bytes>   longest request line, else 414 (default 8192)
  --max-headers <n>            most header fields, else 431 (default 100)
  --header-timeout <ms>        time to send a whole request head, else 408 (default 10000)
  --body-timeout <ms>          longest pause inside a request body, else 408 (default 30000)
  --idle-timeout <ms>          idle keep-alive connections close after this (default 60000)
  --send-timeout <ms>          a client that reads nothing for this long is dropped (default 60000)
  --max-connections <n>        open connections at most; more get 503 (default: open-file limit − 128)

  --help               show this help
`;

export class CliError extends Error {}

interface CliOptions extends ServeOptions {
  help?: boolean;
  app?: string;
}

export function parseArgs(argv: string[], env: Record<string, string | undefined> = process.env): CliOptions {
  const opts: CliOptions = { hostname: "127.0.0.1", port: 8888, root: "public", log: "common" };
  if (env.PORT !== undefined && env.PORT !== "") opts.port = parsePort(env.PORT, "PORT");
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    let name = arg;
    let value: string | undefined;
    const eq = arg.indexOf("=");
    if (arg.startsWith("--") && eq > 0) {
      name = arg.slice(0, eq);
      value = arg.slice(eq + 1);
    }
    const next = (): string => {
      if (value !== undefined) return value;
      const v = argv[++i];
      if (v === undefined || v.startsWith("--")) throw new CliError(`${name} needs a value`);
      return v;
    };
    switch (name) {
      case "--help":
      case "-h":
        opts.help = true;
        break;
      case "--host":
        opts.hostname = next();
        break;
      case "--port":
        opts.port = parsePort(next(), "--port");
        break;
      case "--root":
        opts.root = next();
        break;
      case "--app":
        opts.app = next();
        break;
      case "--log": {
        const v = next();
        if (v !== "off" && v !== "common" && v !== "combined") {
          throw new CliError(`--log must be off, common or combined, not "${v}"`);
        }
        opts.log = v as LogFormat;
        break;
      }
      case "--dotfiles": {
        const v = next();
        if (v !== "allow" && v !== "deny") throw new CliError(`--dotfiles must be allow or deny, not "${v}"`);
        opts.static = { ...opts.static, dotfiles: v };
        break;
      }
      case "--no-listing":
        opts.static = { ...opts.static, listing: false };
        break;
      case "--spa":
        opts.static = { ...opts.static, spa: true };
        break;
      case "--cache-control":
        opts.static = { ...opts.static, cacheControl: next() };
        break;
      case "--cache-file-limit":
        opts.static = { ...opts.static, cacheFileLimit: parseCount(next(), name) };
        break;
      case "--cache-size":
        opts.static = { ...opts.static, cacheTotalLimit: parseCount(next(), name) };
        break;
      case "--max-body":
        opts.maxBody = parseCount(next(), name);
        break;
      case "--max-header-size":
        opts.maxHeaderSize = parseCount(next(), name, 1);
        break;
      case "--max-request-line":
        opts.maxRequestLine = parseCount(next(), name, 1);
        break;
      case "--max-headers":
        opts.maxHeaders = parseCount(next(), name, 1);
        break;
      case "--header-timeout":
        opts.headerTimeout = parseCount(next(), name, 1);
        break;
      case "--body-timeout":
        opts.bodyTimeout = parseCount(next(), name, 1);
        break;
      case "--idle-timeout":
        opts.idleTimeout = parseCount(next(), name, 1);
        break;
      case "--max-connections":
        opts.maxConnections = parseCount(next(), name, 1);
        break;
      case "--send-timeout":
        opts.sendTimeout = parseCount(next(), name, 1);
        break;
      default:
        throw new CliError(`unknown option ${arg} (see --help)`);
    }
  }
  return opts;
}

function parseCount(text: string, what: string, min = 0): number {
  if (!/^\d{1,15}$/.test(text) || Number(text) < min) throw new CliError(`${what} must be a whole number ≥ ${min}, not "${text}"`);
  return Number(text);
}

function parsePort(text: string, what: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) throw new CliError(`${what} must be a port number 0-65535, not "${text}"`);
  return Number(text);
}

/** Loads an app module: its default export (or the module itself) gives routes, fetch and error. */
async function loadApp(path: string): Promise<Pick<ServeOptions, "routes" | "fetch" | "error">> {
  const file = resolve(path);
  if (!existsSync(file)) throw new CliError(`app module not found: ${file}`);
  let mod: Record<string, unknown>;
  try {
    mod = await import(file);
  } catch (err) {
    throw new CliError(`cannot load app module ${file}: ${(err as Error).message}`);
  }
  const app = (mod.default ?? mod) as Record<string, unknown>;
  if (typeof app.fetch !== "function" && (typeof app.routes !== "object" || app.routes === null)) {
    throw new CliError(`app module ${file} exports neither routes nor fetch`);
  }
  return {
    routes: app.routes as ServeOptions["routes"],
    fetch: app.fetch as ServeOptions["fetch"],
    error: app.error as ServeOptions["error"],
  };
}

export async function main(argv = process.argv.slice(2)): Promise<void> {
  let opts: CliOptions;
  try {
    opts = parseArgs(argv);
  } catch (err) {
    fail(err);
  }
  if (opts.help) {
    process.stdout.write(HELP);
    return;
  }
  const root = resolve(opts.root!);
  if (!existsSync(root) || !statSync(root).isDirectory()) fail(new CliError(`root directory not found: ${root}`));
  opts.root = root;
  if (opts.app !== undefined) {
    try {
      Object.assign(opts, await loadApp(opts.app));
    } catch (err) {
      fail(err);
    }
  }
  let server;
  try {
    server = serve(opts);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "EADDRINUSE") fail(new CliError(`port ${opts.port} on ${opts.hostname} is already in use`));
    if (code === "EACCES") fail(new CliError(`not allowed to listen on port ${opts.port}`));
    fail(new CliError(`cannot listen on ${opts.hostname}:${opts.port}: ${(err as Error).message}`));
  }
  process.stderr.write(`serving ${root} at ${server.url}\n`);
  const shutdown = () => {
    void server.stop(true).then(() => process.exit(0));
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
}

function fail(err: unknown): never {
  const message = err instanceof CliError ? err.message : err instanceof Error ? err.message : String(err);
  process.stderr.write(`bunhttp: ${message}\n`);
  process.exit(1);
}
