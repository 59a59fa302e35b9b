// Settings from flags, environment variables and a JSON config file, described by one table.
// Precedence: defaults < config file < environment < flags. Every error names the bad key.
import { readFileSync } from "node:fs";
import { parseUpstreamUrl } from "./proxy/upstream.ts";
import { DEFAULT_CACHE_FILE_LIMIT } from "./static/serve-static.ts";

export class ConfigError extends Error {}

/** "prefixes": PREFIX=URL pairs; the flag repeats, the file takes an object, the environment a comma list. */
type Kind = "string" | "path" | "int" | "port" | "bool" | "workers" | "prefixes" | { enum: readonly string[] };

interface Setting {
  key: keyof Settings;
  kind: Kind;
  group: string;
  arg?: string;
  help: string;
  /** Shown in --help; the real default is in DEFAULTS. */
  shownDefault?: string;
  /** Only a flag (or env var): not a config file key. */
  flagOnly?: boolean;
}

export interface Settings {
  host: string;
  port: number;
  root: string;
  app?: string;
  workers: number | "auto";
  config?: string;
  dotfiles: "allow" | "deny";
  listing: boolean;
  spa: boolean;
  watch: boolean;
  cleanUrls: boolean;
  cacheControl?: string;
  cacheFileLimit: number;
  cacheSize: number;
  compress: boolean;
  compressMinSize: number;
  compressCacheSize: number;
  maxBody: number;
  maxHeaderSize: number;
  maxRequestLine: number;
  maxHeaders: number;
  maxConnections?: number;
  bodyBufferSize: number;
  outputHighWater: number;
  bodyBudget: number;
  outputBudget: number;
  headerTimeout: number;
  bodyTimeout: number;
  keepAliveTimeout: number;
  sendTimeout: number;
  handlerTimeout: number;
  shutdownTimeout: number;
  log: "off" | "common" | "combined" | "json";
  logFile?: string;
  tlsCert?: string;
  tlsKey?: string;
  httpRedirectPort?: number;
  proxyProtocol: boolean;
  sendfile: boolean;
  trustProxy?: string;
  proxy?: Record<string, string>;
  proxyTimeout: number;
  health?: string;
  metrics?: string;
  cors: boolean;
  corsOrigin?: string;
  auth?: string;
  authFile?: string;
  open: boolean;
  help: boolean;
  /** The settings the user gave (file, environment or flag), as opposed to defaults. */
  given?: ReadonlySet<keyof Settings>;
}

export const DEFAULTS: Settings = {
  host: "127.0.0.1",
  port: 8888,
  root: "public",
  workers: 1,
  dotfiles: "deny",
  listing: true,
  spa: false,
  watch: false,
  cleanUrls: false,
  cacheFileLimit: DEFAULT_CACHE_FILE_LIMIT,
  cacheSize: 64 * 1024 * 1024,
  compress: true,
  compressMinSize: 1024,
  compressCacheSize: 64 * 1024 * 1024,
  maxBody: 10 * 1024 * 1024,
  maxHeaderSize: 64 * 1024,
  maxRequestLine: 8 * 1024,
  maxHeaders: 100,
  bodyBufferSize: 64 * 1024,
  outputHighWater: 64 * 1024,
  bodyBudget: 16 * 1024 * 1024,
  outputBudget: 32 * 1024 * 1024,
  headerTimeout: 10_000,
  bodyTimeout: 30_000,
  keepAliveTimeout: 60_000,
  sendTimeout: 60_000,
  handlerTimeout: 0,
  shutdownTimeout: 10_000,
  log: "common",
  proxyProtocol: false,
  sendfile: true,
  proxyTimeout: 60_000,
  cors: false,
  open: false,
  help: false,
};

export const SETTINGS: Setting[] = [
  { key: "host", kind: "string", group: "Server", arg: "address", help: "address to listen on" },
  { key: "port", kind: "port", group: "Server", arg: "n", help: "port; 0 picks a free one (also $PORT)" },
  { key: "root", kind: "path", group: "Server", arg: "dir", help: "directory to serve" },
  { key: "app", kind: "path", group: "Server", arg: "module", help: "app module whose default export is what Bun.serve takes ({ routes, fetch, error })" },
  { key: "workers", kind: "workers", group: "Server", arg: "n|auto", help: "processes sharing the port (SO_REUSEPORT); auto = one per core" },
  { key: "config", kind: "path", group: "Server", arg: "file", help: "JSON file with any of these settings (keys in camelCase)", flagOnly: true },
  { key: "health", kind: "string", group: "Server", arg: "path", help: "answer 200 \"ok\" at this path, e.g. /healthz (off by default)" },
  { key: "open", kind: "bool", group: "Server", help: "open the server's URL in the default browser once it listens" },

  { key: "dotfiles", kind: { enum: ["allow", "deny"] }, group: "Static files", arg: "allow|deny", help: 'files and folders starting with "." (/.well-known/ is always served)' },
  { key: "listing", kind: "bool", group: "Static files", help: "list directories without index.html (--no-listing: 404)" },
  { key: "spa", kind: "bool", group: "Static files", help: "single-page app: unknown paths that accept HTML get /index.html" },
  { key: "watch", kind: "bool", group: "Static files", help: "live reload: open HTML pages reload when a file under the root changes (a stylesheet is swapped in place)" },
  { key: "cleanUrls", kind: "bool", group: "Static files", help: "/about serves about.html, /about.html → 301 /about (a serve.json's cleanUrls wins)" },
  { key: "cacheControl", kind: "string", group: "Static files", arg: "value", help: "Cache-Control for every file", shownDefault: "immutable for fingerprinted names, no-cache for HTML" },
  { key: "cacheFileLimit", kind: "int", group: "Static files", arg: "bytes", help: "files up to this size are kept in memory" },
  { key: "sendfile", kind: "bool", group: "Static files", help: "send larger files by sendfile(2) over plain TCP (--no-sendfile: read and write them)" },
  { key: "cacheSize", kind: "int", group: "Static files", arg: "bytes", help: "memory for cached files in all" },

  { key: "compress", kind: "bool", group: "Compression", help: "br, zstd or gzip for text-like files and app responses, as the client asks (--no-compress: precompressed siblings only)" },
  { key: "compressMinSize", kind: "int", group: "Compression", arg: "bytes", help: "smaller bodies are sent as they are" },
  { key: "compressCacheSize", kind: "int", group: "Compression", arg: "bytes", help: "memory for compressed files in all (each compressed once per coding)" },

  { key: "maxBody", kind: "int", group: "Limits", arg: "bytes", help: "largest request body, else 413" },
  { key: "maxHeaderSize", kind: "int", group: "Limits", arg: "bytes", help: "largest request head, else 431" },
  { key: "maxRequestLine", kind: "int", group: "Limits", arg: "bytes", help: "longest request line, else 414" },
  { key: "maxHeaders", kind: "int", group: "Limits", arg: "n", help: "most header fields, else 431" },
  { key: "maxConnections", kind: "int", group: "Limits", arg: "n", help: "open connections at most; more get 503", shownDefault: "open-file limit − 128" },

  { key: "bodyBufferSize", kind: "int", group: "Memory", arg: "bytes", help: "request-body bytes held per connection for its handler; then the socket is not read" },
  { key: "outputHighWater", kind: "int", group: "Memory", arg: "bytes", help: "unsent response bytes per connection before its next requests wait" },
  { key: "bodyBudget", kind: "int", group: "Memory", arg: "bytes", help: "request-body bytes held across all connections; past half of it each gets only its fair share" },
  { key: "outputBudget", kind: "int", group: "Memory", arg: "bytes", help: "unsent response bytes across all connections; past it the heaviest stop being answered" },

  { key: "headerTimeout", kind: "int", group: "Timeouts (milliseconds)", arg: "ms", help: "to send a whole request head, else 408" },
  { key: "bodyTimeout", kind: "int", group: "Timeouts (milliseconds)", arg: "ms", help: "longest pause inside a request body, else 408" },
  { key: "keepAliveTimeout", kind: "int", group: "Timeouts (milliseconds)", arg: "ms", help: "idle keep-alive connections close after this" },
  { key: "sendTimeout", kind: "int", group: "Timeouts (milliseconds)", arg: "ms", help: "a client that reads nothing this long is dropped" },
  { key: "handlerTimeout", kind: "int", group: "Timeouts (milliseconds)", arg: "ms", help: "a response that sends nothing this long (handler at work, stream waiting) is cut; 0: never" },
  { key: "shutdownTimeout", kind: "int", group: "Timeouts (milliseconds)", arg: "ms", help: "on SIGTERM/SIGINT, how long in-flight requests may finish" },

  { key: "log", kind: { enum: ["off", "common", "combined", "json"] }, group: "Logging", arg: "format", help: "access log: off, common, combined or json (with response time)" },
  { key: "logFile", kind: "path", group: "Logging", arg: "file", help: "access log file instead of stdout (reopened on SIGHUP)" },

  { key: "metrics", kind: "string", group: "Observability", arg: "path", help: "answer Prometheus metrics at this path, e.g. /metrics (off by default; with --workers, a scrape gets the counts of the one worker that took it: not added up)" },

  { key: "cors", kind: "bool", group: "Access", help: "CORS: Access-Control-Allow-Origin: * on every response, preflights answered (204)" },
  { key: "corsOrigin", kind: "string", group: "Access", arg: "origins", help: "CORS for these origins only (comma list, e.g. https://app.example): the matching one echoed, with credentials; implies --cors" },
  { key: "auth", kind: "string", group: "Access", arg: "user:password", help: "HTTP Basic auth for all but --health (BUNHTTP_AUTH=user:password keeps it out of ps)" },
  { key: "authFile", kind: "path", group: "Access", arg: "file", help: "HTTP Basic auth: htpasswd file of bcrypt hashes (htpasswd -B)" },

  { key: "tlsCert", kind: "path", group: "TLS", arg: "file", help: "certificate chain (PEM): serve HTTPS" },
  { key: "tlsKey", kind: "path", group: "TLS", arg: "file", help: "private key (PEM)" },
  { key: "httpRedirectPort", kind: "port", group: "TLS", arg: "n", help: "also listen for plain HTTP here and redirect it to HTTPS" },

  { key: "proxyProtocol", kind: "bool", group: "Behind a proxy", help: "expect HAProxy's PROXY protocol (v1 or v2) on every connection" },
  { key: "trustProxy", kind: "string", group: "Behind a proxy", arg: "list", help: "addresses/CIDRs (or 'loopback') whose X-Forwarded-For and Forwarded count" },

  { key: "proxy", kind: "prefixes", group: "Reverse proxy", arg: "prefix=url", help: "send /prefix and below to http://host:port, path and query unchanged; repeatable, longest prefix wins" },
  { key: "proxyTimeout", kind: "int", group: "Reverse proxy", arg: "ms", help: "upstream must start its response this long after the request (else 504), and send each piece within it" },
];

/** camelCase → --kebab-case */
function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}
/** camelCase → BUNHTTP_UPPER_SNAKE */
export function envName(key: string): string {
  return `BUNHTTP_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

const BY_FLAG = new Map(SETTINGS.map((s) => [flagName(s.key), s]));
const BY_KEY = new Map(SETTINGS.map((s) => [s.key as string, s]));

/** Settings where 0 means "none" or "never". */
const ZERO_ALLOWED = new Set<string>(["cacheFileLimit", "cacheSize", "handlerTimeout", "compressMinSize", "compressCacheSize"]);

function convert(s: Setting, raw: unknown, where: string): unknown {
  const bad = (what: string) => new ConfigError(`${where}: ${what}, not ${JSON.stringify(raw)}`);
  const kind = s.kind;
  if (typeof kind === "object") {
    if (typeof raw !== "string" || !kind.enum.includes(raw)) throw bad(`must be one of ${kind.enum.join(", ")}`);
    return raw;
  }
  switch (kind) {
    case "string":
    case "path":
      if (typeof raw !== "string" || raw === "") throw bad("must be a non-empty string");
      return raw;
    case "bool":
      if (typeof raw === "boolean") return raw;
      if (raw === "true" || raw === "1" || raw === "yes") return true;
      if (raw === "false" || raw === "0" || raw === "no") return false;
      throw bad("must be true or false");
    case "int":
    case "port": {
      const n = typeof raw === "number" ? raw : typeof raw === "string" && /^\d{1,15}$/.test(raw) ? Number(raw) : NaN;
      if (!Number.isSafeInteger(n) || n < 0) throw bad("must be a whole number ≥ 0");
      if (kind === "port" && n > 65535) throw bad("must be a port number 0-65535");
      if (kind === "int" && n === 0 && !ZERO_ALLOWED.has(s.key)) throw bad("must be at least 1");
      return n;
    }
    case "workers":
      if (raw === "auto") return "auto";
      return convert({ ...s, kind: "int" }, raw, where);
    case "prefixes":
      return prefixes(raw, where);
  }
}

/** PREFIX=URL pairs: a string (comma-separated), an array of them, or an object { prefix: url }. */
function prefixes(raw: unknown, where: string): Record<string, string> {
  const pairs: [string, unknown][] = [];
  if (typeof raw === "string" || Array.isArray(raw)) {
    const items = typeof raw === "string" ? raw.split(",") : raw;
    for (const item of items) {
      const eq = typeof item === "string" ? item.indexOf("=") : -1;
      if (eq < 0) throw new ConfigError(`${where}: must be PREFIX=URL (e.g. /api=http://127.0.0.1:3000), not ${JSON.stringify(item)}`);
      pairs.push([(item as string).slice(0, eq).trim(), (item as string).slice(eq + 1).trim()]);
    }
  } else if (typeof raw === "object" && raw !== null) {
    pairs.push(...Object.entries(raw));
  } else {
    throw new ConfigError(`${where}: must be PREFIX=URL pairs, not ${JSON.stringify(raw)}`);
  }
  const out: Record<string, string> = {};
  for (const [prefix, url] of pairs) {
    if (!prefix.startsWith("/")) throw new ConfigError(`${where}: the prefix must start with /, not ${JSON.stringify(prefix)}`);
    if (/[^\x21-\x7e]/.test(prefix)) throw new ConfigError(`${where}: write the prefix as it is sent, percent-encoded, not ${JSON.stringify(prefix)}`);
    if (typeof url !== "string") throw new ConfigError(`${where}: ${prefix} must map to a URL string`);
    try {
      parseUpstreamUrl(url);
    } catch (err) {
      throw new ConfigError(`${where}: ${(err as Error).message}`);
    }
    if (prefix in out) throw new ConfigError(`${where}: ${prefix} is given twice`);
    out[prefix] = url;
  }
  return out;
}

/**
 * The nearest candidate to a misspelt name, as " (did you mean …?)": the same once case, dashes and
 * underscores are set aside (--max_body, --maxBody), or within a few edits (--prot, --roots,
 * --max-bdy): 1 for names of up to 4 letters, 2 for longer ones, a swap of neighbours counting as one.
 */
function suggest(name: string, candidates: string[]): string {
  const norm = (s: string) => s.toLowerCase().replace(/[-_]/g, "");
  const want = norm(name);
  if (want === "") return "";
  let best = "";
  let bestDistance = want.length <= 4 ? 2 : 3;
  for (const c of candidates) {
    const d = editDistance(want, norm(c));
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best === "" ? "" : ` (did you mean ${best}?)`;
}

/** Edits (insert, delete, change, swap two neighbours) from a to b: optimal string alignment. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) d.push([i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * Parses command-line flags into a partial settings object. One argument that is not a flag is the
 * directory to serve, as `serve`, `http-server` and `python -m http.server` take it (`--root` too).
 */
export function parseFlags(argv: string[]): Partial<Settings> {
  const out: Partial<Settings> = {};
  const set = (key: keyof Settings, value: unknown) => ((out as Record<string, unknown>)[key] = value);
  let directory: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--help" || arg === "-h") {
      out.help = true;
      continue;
    }
    if (!arg.startsWith("-") && arg !== "") {
      if (directory !== undefined) throw new ConfigError(`two directories to serve: ${directory} and ${arg} (give one)`);
      directory = arg;
      continue;
    }
    let name = arg;
    let value: string | undefined;
    const eq = arg.indexOf("=");
    if (arg.startsWith("--") && eq > 0) {
      name = arg.slice(0, eq);
      value = arg.slice(eq + 1);
    }
    let s = BY_FLAG.get(name);
    if (s === undefined && name.startsWith("--no-")) {
      const positive = BY_FLAG.get(`--${name.slice(5)}`);
      if (positive?.kind === "bool" && value === undefined) {
        set(positive.key, false);
        continue;
      }
    }
    if (s === undefined) throw new ConfigError(`unknown option ${arg}${suggest(name, [...BY_FLAG.keys()])} (see --help)`);
    if (s.kind === "bool" && value === undefined) {
      set(s.key, true);
      continue;
    }
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined || value.startsWith("--")) throw new ConfigError(`${name} needs a value`);
    }
    const v = convert(s, value, name);
    // A repeated --proxy adds prefixes (a prefix given twice is refused).
    set(s.key, s.kind === "prefixes" ? joinPrefixes(out[s.key] as Record<string, string> | undefined, v as Record<string, string>, name) : v);
  }
  if (directory !== undefined) {
    if (out.root !== undefined) throw new ConfigError(`two directories to serve: ${directory} and --root ${out.root} (give one)`);
    out.root = directory;
  }
  return out;
}

function joinPrefixes(a: Record<string, string> | undefined, b: Record<string, string>, where: string): Record<string, string> {
  if (a === undefined) return b;
  for (const prefix of Object.keys(b)) if (prefix in a) throw new ConfigError(`${where}: ${prefix} is given twice`);
  return { ...a, ...b };
}

/** Reads BUNHTTP_* variables (and PORT). */
export function parseEnv(env: Record<string, string | undefined>): Partial<Settings> {
  const out: Record<string, unknown> = {};
  if (env.PORT !== undefined && env.PORT !== "") out.port = convert(BY_KEY.get("port")!, env.PORT, "PORT");
  for (const s of SETTINGS) {
    const name = envName(s.key);
    const v = env[name];
    if (v !== undefined && v !== "") out[s.key] = convert(s, v, name);
  }
  return out as Partial<Settings>;
}

/** Reads and validates a JSON config file. */
export function parseConfigFile(path: string): Partial<Settings> {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new ConfigError(`config ${path}: ${(err as Error).message}`);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new ConfigError(`config ${path}: must be a JSON object of settings`);
  }
  const keys = SETTINGS.filter((s) => !s.flagOnly).map((s) => s.key as string);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) {
    const s = BY_KEY.get(k);
    if (s === undefined || s.flagOnly) throw new ConfigError(`config ${path}: unknown key "${k}"${suggest(k, keys)}`);
    out[k] = convert(s, v, `config ${path}: "${k}"`);
  }
  return out as Partial<Settings>;
}

/** Everything together: defaults < config file < environment < flags. */
export function loadSettings(argv: string[], env: Record<string, string | undefined> = process.env): Settings {
  const flags = parseFlags(argv);
  const fromEnv = parseEnv(env);
  const configPath = flags.config ?? fromEnv.config;
  const fromFile = configPath !== undefined ? parseConfigFile(configPath) : {};
  const settings = { ...DEFAULTS, ...fromFile, ...fromEnv, ...flags } as Settings;
  settings.given = new Set([...Object.keys(fromFile), ...Object.keys(fromEnv), ...Object.keys(flags)] as (keyof Settings)[]);
  if ((settings.tlsCert === undefined) !== (settings.tlsKey === undefined)) {
    throw new ConfigError("--tls-cert and --tls-key go together");
  }
  if (settings.metrics !== undefined && !settings.metrics.startsWith("/")) {
    throw new ConfigError(`--metrics must be a path starting with "/", not ${JSON.stringify(settings.metrics)}`);
  }
  if (settings.httpRedirectPort !== undefined && settings.tlsCert === undefined) {
    throw new ConfigError("--http-redirect-port needs --tls-cert and --tls-key");
  }
  return settings;
}

export function helpText(): string {
  const lines = [
    "bunhttp: a fast, strict HTTP/1.1 server on Bun",
    "",
    "Usage: bunhttp [options] [directory]           (installed: bun link, or npm install -g <checkout>)",
    "       bun run src/index.ts [options] [directory]   (in a checkout)",
    "",
  ];
  const flagOf = (s: Setting) => (s.kind === "bool" ? `${flagName(s.key)}, --no-${flagName(s.key).slice(2)}` : `${flagName(s.key)} <${s.arg}>`);
  // One column for every flag, as wide as the widest (--proxy-protocol, --no-proxy-protocol).
  const width = Math.max(...SETTINGS.map((s) => flagOf(s).length)) + 1;
  const groups = [...new Set(SETTINGS.map((s) => s.group))];
  for (const g of groups) {
    lines.push(`${g}:`);
    for (const s of SETTINGS.filter((x) => x.group === g)) {
      const def = s.shownDefault ?? (DEFAULTS[s.key] !== undefined ? String(DEFAULTS[s.key]) : undefined);
      lines.push(`  ${flagOf(s).padEnd(width)} ${s.help}${def !== undefined ? ` (default: ${def})` : ""}`);
    }
    lines.push("");
  }
  lines.push(`  ${"--help".padEnd(width)} show this help`);
  lines.push("");
  lines.push("The directory to serve may be given alone (bunhttp ./dist) or with --root; the default is ./public.");
  lines.push("Every setting can also come from the environment (BUNHTTP_MAX_BODY=1048576) or a --config file");
  lines.push('({ "maxBody": 1048576 }); flags win over the environment, which wins over the file.');
  return `${lines.join("\n")}\n`;
}
