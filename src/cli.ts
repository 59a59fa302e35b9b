// Command line: settings (flags, environment, config file) → serve(), signals, workers.
// Errors are one line on stderr and exit code 1.
import { closeSync, existsSync, openSync, readFileSync, statSync } from "node:fs";
import { availableParallelism, networkInterfaces } from "node:os";
import { resolve } from "node:path";
import { parseOrigins } from "./access/cors.ts";
import { HtpasswdError } from "./access/htpasswd.ts";
import { ConfigError, helpText, loadSettings, type Settings } from "./config.ts";
import { RuleFileError } from "./site/rule-file-error.ts";
import type { Reply } from "./server/reply.ts";
import { type Server, serve, type ServeOptions } from "./serve.ts";

/** Set in worker processes started by the supervisor. */
const WORKER_ENV = "BUNHTTP_WORKER_OF";

/** What an app module's default export may hold: what Bun.serve takes. */
type AppOptions = Pick<ServeOptions, "routes" | "fetch" | "error" | "port" | "hostname" | "idleTimeout" | "maxRequestBodySize" | "tls" | "development" | "id">;

/** Bun.serve options an app module may set that we honour (the CLI's own settings win when given). */
const APP_OPTIONS = new Set(["routes", "fetch", "error", "port", "hostname", "idleTimeout", "maxRequestBodySize", "tls", "development", "id", "websocket", "unix", "ipv6Only"]);

/** Loads an app module: its default export (or the module itself) is what Bun.serve would take. */
async function loadApp(path: string): Promise<AppOptions> {
  const file = resolve(path);
  if (!existsSync(file)) throw new ConfigError(`app module not found: ${file}`);
  let mod: Record<string, unknown>;
  try {
    mod = await import(file);
  } catch (err) {
    throw new ConfigError(`cannot load app module ${file}: ${(err as Error).message}`);
  }
  const app = (mod.default ?? mod) as Record<string, unknown>;
  if (typeof app.fetch !== "function" && (typeof app.routes !== "object" || app.routes === null)) {
    throw new ConfigError(`app module ${file} exports neither routes nor fetch`);
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(app)) {
    if (APP_OPTIONS.has(key)) out[key] = app[key];
    // (a module namespace also lists its other exports: only the default export's keys are options)
    else if (mod.default !== undefined && typeof app[key] !== "function") console.warn(`bunhttp: app option \`${key}\` is not supported; ignored`);
  }
  return out as AppOptions;
}

/**
 * An app module's Bun.serve options over the CLI's defaults; a setting the user gave (flag,
 * environment or config file) wins over the module.
 */
function applyApp(opts: ServeOptions, app: AppOptions, s: Settings): void {
  const given = (key: keyof Settings) => s.given?.has(key) === true;
  opts.routes = app.routes;
  opts.fetch = app.fetch;
  opts.error = app.error;
  if (app.port !== undefined && !given("port")) opts.port = app.port;
  if (app.hostname !== undefined && !given("host")) opts.hostname = app.hostname;
  if (app.maxRequestBodySize !== undefined && !given("maxBody")) {
    delete opts.maxBody;
    opts.maxRequestBodySize = app.maxRequestBodySize;
  }
  if (app.idleTimeout !== undefined) {
    // Bun's seconds; serve() turns them into both of ours, unless the user set ours.
    opts.idleTimeout = app.idleTimeout;
    if (!given("keepAliveTimeout")) delete opts.keepAliveTimeout;
    if (!given("handlerTimeout")) delete opts.handlerTimeout;
  }
  if (app.tls !== undefined && !given("tlsCert")) opts.tls = app.tls;
  for (const key of ["development", "id", "websocket", "unix", "ipv6Only"] as const) {
    const v = (app as Record<string, unknown>)[key];
    if (v !== undefined) (opts as Record<string, unknown>)[key] = v; // serve() says what it ignores
  }
}

function readPem(path: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(`cannot read ${what} ${path}: ${(err as Error).message}`);
  }
  if (!text.includes("-----BEGIN ")) throw new ConfigError(`${what} ${path} is not PEM`);
  return text;
}

/** Settings → serve() options. */
export async function toServeOptions(s: Settings, reusePort: boolean): Promise<ServeOptions> {
  const root = resolve(s.root);
  if (!existsSync(root)) throw new ConfigError(`root directory not found: ${root}`);
  if (!statSync(root).isDirectory()) throw new ConfigError(`root ${root} is a file, not a directory`);
  const opts: ServeOptions = {
    hostname: s.host,
    port: s.port,
    root,
    static: {
      dotfiles: s.dotfiles,
      listing: s.listing,
      spa: s.spa,
      cacheControl: s.cacheControl,
      cacheFileLimit: s.cacheFileLimit,
      cacheTotalLimit: s.cacheSize,
    },
    watch: s.watch,
    cleanUrls: s.cleanUrls,
    compress: s.compress ? { minSize: s.compressMinSize, cacheSize: s.compressCacheSize } : false,
    maxBody: s.maxBody,
    maxHeaderSize: s.maxHeaderSize,
    maxRequestLine: s.maxRequestLine,
    maxHeaders: s.maxHeaders,
    maxConnections: s.maxConnections,
    bodyBufferSize: s.bodyBufferSize,
    outputHighWater: s.outputHighWater,
    bodyBudget: s.bodyBudget,
    outputBudget: s.outputBudget,
    headerTimeout: s.headerTimeout,
    bodyTimeout: s.bodyTimeout,
    keepAliveTimeout: s.keepAliveTimeout,
    sendTimeout: s.sendTimeout,
    handlerTimeout: s.handlerTimeout,
    log: s.log,
    logWrite: s.logFile,
    proxyProtocol: s.proxyProtocol,
    sendfile: s.sendfile,
    trustProxy: s.trustProxy,
    proxy: s.proxy,
    proxyTimeout: s.proxyTimeout,
    health: s.health,
    metrics: s.metrics,
    reusePort,
    // The CLI owns the process, so it may wrap the global Response (src/app/known-bodies.ts).
    trackResponses: true,
  };
  if (s.logFile !== undefined) {
    try {
      closeSync(openSync(s.logFile, "a"));
    } catch (err) {
      throw new ConfigError(`cannot open log file ${s.logFile}: ${(err as Error).message}`);
    }
  }
  if (s.tlsCert !== undefined && s.tlsKey !== undefined) {
    opts.tls = { cert: readPem(s.tlsCert, "certificate"), key: readPem(s.tlsKey, "key") };
  }
  if (s.trustProxy !== undefined) {
    const { compileTrust } = await import("./server/proxy.ts");
    try {
      compileTrust(s.trustProxy);
    } catch (err) {
      throw new ConfigError((err as Error).message);
    }
  }
  if (s.cors || s.corsOrigin !== undefined) opts.cors = corsOption(s);
  if (s.auth !== undefined || s.authFile !== undefined) opts.auth = authOption(s);
  if (s.app !== undefined) applyApp(opts, await loadApp(s.app), s);
  return opts;
}

/** --cors is `*`; --cors-origin (which implies it) the origins, checked here. */
function corsOption(s: Settings): ServeOptions["cors"] {
  if (s.corsOrigin === undefined) return true;
  try {
    return parseOrigins(s.corsOrigin);
  } catch (err) {
    throw new ConfigError(`--cors-origin: ${(err as Error).message}`);
  }
}

/**
 * --auth and --auth-file. The file is read once, by serve(): its errors (HtpasswdError, naming the
 * file and line) become one line in listenError.
 */
function authOption(s: Settings): ServeOptions["auth"] {
  if (s.auth !== undefined && s.auth.indexOf(":") <= 0) throw new ConfigError("--auth must be user:password");
  return { credentials: s.auth, file: s.authFile };
}

function listenError(err: unknown, s: Settings, port = s.port): Error {
  const code = (err as { code?: string }).code;
  // A bad serve.json, _redirects or _headers: its one line (file, line, problem).
  if (err instanceof RuleFileError) return new ConfigError(err.message);
  // A bad --auth-file: its one line (file, line, problem).
  if (err instanceof HtpasswdError) return new ConfigError(err.message);
  if (code === "EADDRINUSE") return new ConfigError(`port ${port} on ${s.host} is already in use`);
  if (code === "EACCES") return new ConfigError(`not allowed to listen on port ${port}`);
  if (code === "EADDRNOTAVAIL") return new ConfigError(`cannot listen on ${s.host}: no such local address`);
  if (s.tlsCert !== undefined && /tls|ssl|cert|key|pem/i.test((err as Error).message)) {
    return new ConfigError(`TLS setup failed (${s.tlsCert}, ${s.tlsKey}): ${(err as Error).message}`);
  }
  return err instanceof Error ? err : new Error(String(err));
}

/** A plain-HTTP listener that sends every request to the HTTPS one (308 keeps the method). */
function startRedirect(s: Settings, httpsPort: number): Server {
  return serve({
    hostname: s.host,
    port: s.httpRedirectPort,
    log: "off",
    handler(req): Reply {
      const host = (req.header("host") ?? s.host).replace(/:\d+$/, "");
      const port = httpsPort === 443 ? "" : `:${httpsPort}`;
      return { status: 308, headers: [["Location", `https://${host}${port}${req.url.startsWith("/") ? req.url : "/"}`]], body: "" };
    },
  });
}

/** The addresses other machines reach us at, when listening on every interface (as `serve` lists them). */
export function networkUrls(host: string, port: number, protocol: string): string[] {
  if (host !== "0.0.0.0" && host !== "::") return [];
  const urls: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.internal || (a.family === "IPv6" && (host === "0.0.0.0" || a.address.startsWith("fe80")))) continue;
      urls.push(`${protocol}://${a.family === "IPv6" ? `[${a.address}]` : a.address}:${port}/`);
    }
  }
  return urls;
}

function banner(server: Server, s: Settings, root: string, workers: number): void {
  const color = process.stdout.isTTY && !process.env.NO_COLOR;
  const c = (code: number, text: string) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
  const network = networkUrls(s.host, server.url.port === "" ? s.port : Number(server.url.port), server.url.protocol.slice(0, -1));
  if (process.stdout.isTTY) {
    process.stdout.write(
      `\n  ${c(1, "bunhttp")} serving ${c(36, root)}${workers > 1 ? ` with ${workers} workers` : ""}\n\n` +
        `  ${c(32, "➜")}  Local:   ${c(1, server.url.href)}\n` +
        network.map((u) => `  ${c(32, "➜")}  Network: ${c(1, u)}\n`).join("") +
        "\n",
    );
  } else {
    // One write, so that whoever waits for the first line has the network lines with it.
    process.stderr.write(
      `bunhttp: serving ${root} at ${server.url.href}${workers > 1 ? ` (${workers} workers)` : ""}\n` +
        network.map((u) => `bunhttp: on the network at ${u}\n`).join(""),
    );
  }
}

/** --open: the URL in the default browser, where there is one to start (else one line says so). */
function openBrowser(url: string): void {
  const argv = process.platform === "darwin" ? ["open", url] : process.platform === "win32" ? ["cmd", "/c", "start", "", url] : ["xdg-open", url];
  try {
    Bun.spawn(argv, { stdio: ["ignore", "ignore", "ignore"] }).unref();
  } catch {
    process.stderr.write(`bunhttp: --open: cannot start ${argv[0]} to open ${url}\n`);
  }
}

/** One server in this process, with signals: TERM/INT drain and exit 0, HUP reopens the log. */
async function runServer(s: Settings, reusePort: boolean, quiet: boolean): Promise<void> {
  const opts = await toServeOptions(s, reusePort);
  let server: Server;
  try {
    server = serve(opts);
  } catch (err) {
    throw listenError(err, s);
  }
  let redirect: Server | null = null;
  if (s.httpRedirectPort !== undefined) {
    try {
      redirect = startRedirect(s, server.port);
    } catch (err) {
      await server.stop(true);
      throw listenError(err, s, s.httpRedirectPort);
    }
  }
  if (!quiet) banner(server, s, opts.root!, 1);
  if (!quiet && s.open) openBrowser(server.url.href);
  if (process.send) process.send({ listening: server.port });

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) {
      // A second signal: stop waiting (as nginx's fast shutdown). A worker ignores it: the terminal
      // sends Ctrl-C to the supervisor and its workers at once, and the supervisor forwards it too.
      if (quiet) return; // (quiet: this is a worker)
      process.stderr.write("bunhttp: stopped at once\n");
      void server.stop(true);
      process.exit(signal === "SIGINT" ? 130 : 143);
    }
    stopping = true;
    // Stop accepting, close idle connections, let requests and downloads in flight finish.
    const timer = setTimeout(() => void server.stop(true), s.shutdownTimeout);
    void redirect?.stop(true);
    void server.stop().then(() => {
      clearTimeout(timer);
      process.exit(0);
    });
    // Say what it waits for, rather than sit silent for up to --shutdown-timeout.
    const busy = server.pendingRequests;
    if (busy > 0 && !quiet) {
      process.stderr.write(
        `bunhttp: stopping: waiting for ${busy} request${busy === 1 ? "" : "s"} in flight, up to ${s.shutdownTimeout / 1000} s (${signal === "SIGINT" ? "Ctrl-C" : "a second signal"} again to stop at once)\n`,
      );
    }
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGHUP", () => server.reopenLog());
}

/** The supervisor: N worker processes on one port (SO_REUSEPORT), restarted with backoff, signals forwarded. */
async function runSupervisor(s: Settings, argv: string[], workers: number): Promise<void> {
  if (s.port === 0) throw new ConfigError("--workers needs a fixed --port (0 would give each worker its own)");
  // Fail fast on bad settings before starting anyone.
  await toServeOptions(s, true);
  const script = process.argv[1]!;
  const children = new Map<number, ReturnType<typeof Bun.spawn>>();
  let stopping = false;
  let everListened = false;
  let stoppingCode = 0;

  const start = (slot: number, attempt: number) => {
    const startedAt = Date.now();
    const child = Bun.spawn([process.execPath, script, ...argv], {
      env: { ...process.env, [WORKER_ENV]: String(process.pid) },
      stdio: ["ignore", "inherit", "inherit"],
      ipc(message) {
        if ((message as { listening?: number }).listening === undefined) return;
        if (!everListened) {
          everListened = true;
          // The first worker is up, so the port and settings work: start the others.
          for (let i = 1; i < workers; i++) start(i, 0);
          const url = new URL(`${s.tlsCert ? "https" : "http"}://${s.host.includes(":") ? `[${s.host}]` : s.host}:${s.port}/`);
          banner({ url } as Server, s, resolve(s.root), workers);
          if (s.open) openBrowser(url.href);
        }
      },
      onExit(_proc, code, signal) {
        children.delete(slot);
        if (stopping) {
          if (children.size === 0) process.exit(stoppingCode);
          return;
        }
        if (!everListened && code !== 0) {
          // No worker ever got going (port in use, bad app…): the worker said why; restarting cannot help.
          stopping = true;
          stoppingCode = 1;
          for (const other of children.values()) other.kill("SIGTERM");
          if (children.size === 0) process.exit(1);
          return;
        }
        // A worker that lived a while is restarted at once; one that keeps dying waits longer each time.
        const next = Date.now() - startedAt > 10_000 ? 0 : attempt + 1;
        const delay = Math.min(5000, next === 0 ? 0 : 100 * 2 ** (next - 1));
        process.stderr.write(`bunhttp: worker ${slot} exited (${signal ?? `code ${code}`}); restarting in ${delay} ms\n`);
        setTimeout(() => {
          if (!stopping) start(slot, next);
        }, delay);
      },
    });
    children.set(slot, child);
  };
  // One worker first: if it cannot start (port in use, bad app), we say so once and exit 1.
  start(0, 0);

  let signalled = false;
  const forward = (signal: NodeJS.Signals) => () => {
    if (signal !== "SIGHUP") {
      if (signalled) {
        // A second signal: the workers are not waited for.
        process.stderr.write("bunhttp: stopped at once\n");
        for (const child of children.values()) child.kill("SIGKILL");
        process.exit(signal === "SIGINT" ? 130 : 143);
      }
      signalled = true;
      stopping = true;
    }
    for (const child of children.values()) child.kill(signal);
    if (stopping && children.size === 0) process.exit(0);
  };
  process.on("SIGTERM", forward("SIGTERM"));
  process.on("SIGINT", forward("SIGINT"));
  process.on("SIGHUP", forward("SIGHUP"));
}

export async function main(argv = process.argv.slice(2)): Promise<void> {
  try {
    const s = loadSettings(argv);
    if (s.help) {
      process.stdout.write(helpText());
      return;
    }
    const isWorker = process.env[WORKER_ENV] !== undefined;
    const workers = s.workers === "auto" ? availableParallelism() : s.workers;
    if (workers > 1 && !isWorker) await runSupervisor(s, argv, workers);
    else await runServer(s, workers > 1, isWorker);
  } catch (err) {
    fail(err);
  }
}

function fail(err: unknown): never {
  const message = err instanceof ConfigError ? err.message : err instanceof Error ? err.message : String(err);
  process.stderr.write(`bunhttp: ${message}\n`);
  process.exit(1);
}
