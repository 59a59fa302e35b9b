// Settings: flags, BUNHTTP_* environment and PORT, a --config JSON file, precedence, --help.
import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  ConfigError,
  DEFAULTS,
  envName,
  helpText,
  editDistance,
  loadSettings,
  parseConfigFile,
  parseEnv,
  parseFlags,
  SETTINGS,
} from "../../src/config.ts";
import { removeTemps, tempDir } from "./helpers.ts";

afterAll(removeTemps);

/** The ConfigError `f` throws (fails the test if it does not throw one). */
function configError(f: () => unknown): ConfigError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

function configFile(data: unknown): string {
  const path = join(tempDir(), "bunhttp.json");
  writeFileSync(path, typeof data === "string" ? data : JSON.stringify(data));
  return path;
}

describe("flags", () => {
  test("--x v and --x=v give the same settings", () => {
    expect(parseFlags(["--port", "9000", "--root", "site", "--max-body", "1024"])).toEqual({ port: 9000, root: "site", maxBody: 1024 });
    expect(parseFlags(["--port=9000", "--root=site", "--max-body=1024"])).toEqual({ port: 9000, root: "site", maxBody: 1024 });
  });

  test("a value may contain '=' after --x=", () => {
    expect(parseFlags(["--cache-control=max-age=60"])).toEqual({ cacheControl: "max-age=60" });
  });

  test("booleans: --x is true, --no-x is false, --x=false works too", () => {
    expect(parseFlags(["--spa"])).toEqual({ spa: true });
    expect(parseFlags(["--no-listing"])).toEqual({ listing: false });
    expect(parseFlags(["--listing=false", "--proxy-protocol=true"])).toEqual({ listing: false, proxyProtocol: true });
    expect(parseFlags(["--no-proxy-protocol"])).toEqual({ proxyProtocol: false });
    expect(parseFlags(["--no-sendfile"])).toEqual({ sendfile: false });
  });

  test("--no-x for a setting that is not a boolean is unknown", () => {
    expect(configError(() => parseFlags(["--no-port"])).message).toContain("unknown option --no-port");
  });

  test("enums, workers and later flags win", () => {
    expect(parseFlags(["--log", "json", "--dotfiles", "allow", "--workers", "auto"])).toEqual({ log: "json", dotfiles: "allow", workers: "auto" });
    expect(parseFlags(["--workers", "3"])).toEqual({ workers: 3 });
    expect(parseFlags(["--port", "1", "--port", "2"])).toEqual({ port: 2 });
    expect(configError(() => parseFlags(["--log", "xml"])).message).toBe('--log: must be one of off, common, combined, json, not "xml"');
  });

  test("an unknown flag names itself, suggests the right spelling and points at --help", () => {
    const e = configError(() => parseFlags(["--max_body", "10"]));
    expect(e.message).toBe("unknown option --max_body (did you mean --max-body?) (see --help)");
    expect(configError(() => parseFlags(["--maxBody=10"])).message).toContain("did you mean --max-body?");
    expect(configError(() => parseFlags(["--TLS-CERT", "x"])).message).toContain("did you mean --tls-cert?");
    // A few edits away: a swap, a letter too many, a letter missing.
    expect(configError(() => parseFlags(["--prot", "1"])).message).toContain("did you mean --port?");
    expect(configError(() => parseFlags(["--roots", "x"])).message).toContain("did you mean --root?");
    expect(configError(() => parseFlags(["--max-bdy", "1"])).message).toContain("did you mean --max-body?");
    expect(configError(() => parseConfigFile(configFile({ maxBdy: 1 }))).message).toContain("did you mean maxBody?");
    // Nothing close: no suggestion, still the name and --help.
    expect(configError(() => parseFlags(["--frobnicate"])).message).toBe("unknown option --frobnicate (see --help)");
    expect(configError(() => parseFlags(["--x"])).message).toBe("unknown option --x (see --help)");
  });

  test("edit distance: inserts, deletes, changes, and a swap of neighbours as one", () => {
    expect(editDistance("port", "port")).toBe(0);
    expect(editDistance("prot", "port")).toBe(1);
    expect(editDistance("roots", "root")).toBe(1);
    expect(editDistance("maxbdy", "maxbody")).toBe(1);
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("", "abc")).toBe(3);
  });

  test("one argument that is not a flag is the directory to serve; two, or one and --root, are an error", () => {
    expect(parseFlags(["./dist"])).toEqual({ root: "./dist" });
    expect(parseFlags(["--port", "9000", "site", "--log", "off"])).toEqual({ port: 9000, root: "site", log: "off" });
    expect(configError(() => parseFlags(["a", "b"])).message).toBe("two directories to serve: a and b (give one)");
    expect(configError(() => parseFlags(["a", "--root", "b"])).message).toBe("two directories to serve: a and --root b (give one)");
    expect(configError(() => parseFlags(["--root", "b", "a"])).message).toBe("two directories to serve: a and --root b (give one)");
    // It is a flag's: the environment's or a file's root gives way to it.
    expect(loadSettings(["dist"], { BUNHTTP_ROOT: "other" }).root).toBe("dist");
  });

  test("a flag without its value", () => {
    expect(configError(() => parseFlags(["--port"])).message).toBe("--port needs a value");
    expect(configError(() => parseFlags(["--root", "--port", "1"])).message).toBe("--root needs a value");
  });

  test("numbers and ports are checked and the error names the flag and the value", () => {
    expect(configError(() => parseFlags(["--port", "65536"])).message).toBe('--port: must be a port number 0-65535, not "65536"');
    expect(configError(() => parseFlags(["--port", "-1"])).message).toBe('--port: must be a whole number ≥ 0, not "-1"');
    expect(configError(() => parseFlags(["--port=-1"])).message).toBe('--port: must be a whole number ≥ 0, not "-1"');
    expect(configError(() => parseFlags(["--max-body", "1e6"])).message).toContain("--max-body: must be a whole number");
    expect(configError(() => parseFlags(["--max-body", "0"])).message).toBe('--max-body: must be at least 1, not "0"');
    expect(configError(() => parseFlags(["--workers", "many"])).message).toContain("--workers");
    // 0 is allowed where it means "off".
    expect(parseFlags(["--cache-size", "0", "--cache-file-limit", "0", "--port", "0"])).toEqual({ cacheSize: 0, cacheFileLimit: 0, port: 0 });
  });

  test("-h and --help", () => {
    expect(parseFlags(["-h"])).toEqual({ help: true });
    expect(parseFlags(["--help"])).toEqual({ help: true });
  });
});

describe("environment", () => {
  test("env names are BUNHTTP_UPPER_SNAKE of the key", () => {
    expect(envName("maxBody")).toBe("BUNHTTP_MAX_BODY");
    expect(envName("port")).toBe("BUNHTTP_PORT");
    expect(envName("httpRedirectPort")).toBe("BUNHTTP_HTTP_REDIRECT_PORT");
  });

  test("BUNHTTP_* variables are read and converted", () => {
    expect(
      parseEnv({ BUNHTTP_MAX_BODY: "2048", BUNHTTP_LISTING: "false", BUNHTTP_LOG: "json", BUNHTTP_ROOT: "/srv", BUNHTTP_WORKERS: "auto" }),
    ).toEqual({ maxBody: 2048, listing: false, log: "json", root: "/srv", workers: "auto" });
  });

  test("PORT is read; BUNHTTP_PORT wins over it; empty values are ignored", () => {
    expect(parseEnv({ PORT: "3000" })).toEqual({ port: 3000 });
    expect(parseEnv({ PORT: "3000", BUNHTTP_PORT: "4000" })).toEqual({ port: 4000 });
    expect(parseEnv({ PORT: "", BUNHTTP_ROOT: "" })).toEqual({});
  });

  test("a bad value names the variable", () => {
    expect(configError(() => parseEnv({ BUNHTTP_MAX_BODY: "lots" })).message).toBe('BUNHTTP_MAX_BODY: must be a whole number ≥ 0, not "lots"');
    expect(configError(() => parseEnv({ PORT: "http" })).message).toBe('PORT: must be a whole number ≥ 0, not "http"');
    expect(configError(() => parseEnv({ BUNHTTP_SPA: "maybe" })).message).toBe('BUNHTTP_SPA: must be true or false, not "maybe"');
  });

  test("unrelated variables are ignored", () => {
    expect(parseEnv({ HOME: "/root", BUNHTTP_NOPE: "1", port: "5" })).toEqual({});
  });
});

describe("--config file", () => {
  test("camelCase keys; numbers as JSON numbers or strings; booleans", () => {
    const path = configFile({ maxBody: 4096, port: "9090", keepAliveTimeout: "1500", listing: false, spa: "true", trustProxy: "loopback" });
    expect(parseConfigFile(path)).toEqual({ maxBody: 4096, port: 9090, keepAliveTimeout: 1500, listing: false, spa: true, trustProxy: "loopback" });
  });

  test("an unknown key is named, with a suggestion when there is one", () => {
    const e1 = configError(() => parseConfigFile(configFile({ max_body: 1 })));
    expect(e1.message).toContain('unknown key "max_body"');
    expect(e1.message).toContain("(did you mean maxBody?)");
    const e2 = configError(() => parseConfigFile(configFile({ "max-body": 1 })));
    expect(e2.message).toContain("did you mean maxBody?");
    const e3 = configError(() => parseConfigFile(configFile({ colour: "blue" })));
    expect(e3.message).toContain('unknown key "colour"');
    expect(e3.message).not.toContain("did you mean");
  });

  test("the file names the path in its errors", () => {
    const path = configFile({ nope: 1 });
    expect(configError(() => parseConfigFile(path)).message).toStartWith(`config ${path}: `);
  });

  test("the flag-only key `config` is not a file key", () => {
    expect(configError(() => parseConfigFile(configFile({ config: "other.json" }))).message).toContain('unknown key "config"');
  });

  test("a wrong type names the key and shows the value", () => {
    expect(configError(() => parseConfigFile(configFile({ maxBody: true }))).message).toContain('"maxBody": must be a whole number ≥ 0, not true');
    expect(configError(() => parseConfigFile(configFile({ port: 1.5 }))).message).toContain('"port": must be a whole number ≥ 0, not 1.5');
    expect(configError(() => parseConfigFile(configFile({ port: 70000 }))).message).toContain('"port": must be a port number 0-65535');
    expect(configError(() => parseConfigFile(configFile({ root: 5 }))).message).toContain('"root": must be a non-empty string, not 5');
    expect(configError(() => parseConfigFile(configFile({ listing: "sometimes" }))).message).toContain('"listing": must be true or false');
    expect(configError(() => parseConfigFile(configFile({ log: ["json"] }))).message).toContain('"log": must be one of off, common, combined, json');
    expect(configError(() => parseConfigFile(configFile({ maxBody: "12kb" }))).message).toContain('"maxBody"');
  });

  test("not JSON, not an object, missing file: one clear error", () => {
    expect(configError(() => parseConfigFile(configFile("{ port: 1 }"))).message).toStartWith("config ");
    expect(configError(() => parseConfigFile(configFile([1, 2]))).message).toContain("must be a JSON object of settings");
    expect(configError(() => parseConfigFile(configFile("null"))).message).toContain("must be a JSON object of settings");
    const missing = join(tempDir(), "missing.json");
    expect(configError(() => parseConfigFile(missing)).message).toContain(missing);
  });
});

describe("loadSettings: defaults < file < env < flags", () => {
  test("nothing given: the defaults", () => {
    const { given, ...settings } = loadSettings([], {});
    expect(settings).toEqual(DEFAULTS);
    expect([...given!]).toEqual([]);
  });

  test("each layer overrides the one before, key by key", () => {
    const path = configFile({ port: 1001, maxBody: 1002, keepAliveTimeout: 1003, log: "combined" });
    const env = { BUNHTTP_MAX_BODY: "2002", BUNHTTP_KEEP_ALIVE_TIMEOUT: "2003" };
    const s = loadSettings(["--config", path, "--keep-alive-timeout", "3003"], env);
    expect(s.port).toBe(1001); // file
    expect(s.maxBody).toBe(2002); // env over file
    expect(s.keepAliveTimeout).toBe(3003); // flag over env over file
    expect(s.log).toBe("combined"); // file over default
    expect(s.root).toBe(DEFAULTS.root); // default
    expect(s.config).toBe(path);
  });

  test("PORT in the environment beats the file, a flag beats PORT", () => {
    const path = configFile({ port: 1001 });
    expect(loadSettings(["--config", path], { PORT: "2001" }).port).toBe(2001);
    expect(loadSettings(["--config", path, "--port=3001"], { PORT: "2001" }).port).toBe(3001);
  });

  test("BUNHTTP_CONFIG names the file too", () => {
    const path = configFile({ maxHeaders: 7 });
    expect(loadSettings([], { BUNHTTP_CONFIG: path }).maxHeaders).toBe(7);
  });

  test("a false boolean from a later layer overrides a true one", () => {
    const path = configFile({ listing: true, spa: true });
    const s = loadSettings(["--config", path, "--no-spa"], { BUNHTTP_LISTING: "0" });
    expect(s.listing).toBe(false);
    expect(s.spa).toBe(false);
  });

  test("--tls-cert without --tls-key (and the reverse) is an error", () => {
    expect(configError(() => loadSettings(["--tls-cert", "cert.pem"], {})).message).toBe("--tls-cert and --tls-key go together");
    expect(configError(() => loadSettings(["--tls-key", "key.pem"], {})).message).toBe("--tls-cert and --tls-key go together");
    // Split across layers is fine.
    const s = loadSettings(["--tls-key", "key.pem"], { BUNHTTP_TLS_CERT: "cert.pem" });
    expect([s.tlsCert, s.tlsKey]).toEqual(["cert.pem", "key.pem"]);
  });

  test("--http-redirect-port needs TLS", () => {
    expect(configError(() => loadSettings(["--http-redirect-port", "8080"], {})).message).toContain("--http-redirect-port needs --tls-cert");
  });

  test("errors from any layer surface", () => {
    expect(() => loadSettings(["--bogus"], {})).toThrow(ConfigError);
    expect(() => loadSettings([], { BUNHTTP_PORT: "x" })).toThrow("BUNHTTP_PORT");
    expect(() => loadSettings(["--config", configFile({ bogus: 1 })], {})).toThrow('unknown key "bogus"');
  });
});

describe("--proxy PREFIX=URL", () => {
  const A = "http://127.0.0.1:3000";
  const B = "http://[::1]:4000";

  test("repeats as a flag; one map from the file (an object or a list) and from the environment (a comma list)", () => {
    expect(parseFlags(["--proxy", `/api=${A}`, `--proxy=/ws=${B}`]).proxy).toEqual({ "/api": A, "/ws": B });
    expect(parseConfigFile(configFile({ proxy: { "/api": A } })).proxy).toEqual({ "/api": A });
    expect(parseConfigFile(configFile({ proxy: [`/api=${A}`, `/ws=${B}`] })).proxy).toEqual({ "/api": A, "/ws": B });
    expect(parseEnv({ BUNHTTP_PROXY: `/api=${A},/ws=${B}` }).proxy).toEqual({ "/api": A, "/ws": B });
    // A later layer's map replaces an earlier one whole (as any setting does).
    expect(loadSettings(["--proxy", `/a=${A}`], { BUNHTTP_PROXY: `/b=${B}` }).proxy).toEqual({ "/a": A });
    expect(loadSettings([]).proxyTimeout).toBe(60_000);
    expect(parseFlags(["--proxy-timeout", "1500"]).proxyTimeout).toBe(1500);
  });

  test("bad ones name the flag and the problem", () => {
    expect(configError(() => parseFlags(["--proxy", A])).message).toContain("PREFIX=URL");
    expect(configError(() => parseFlags(["--proxy", `api=${A}`])).message).toContain("must start with /");
    expect(configError(() => parseFlags(["--proxy", "/api=https://x"])).message).toContain("only http://");
    expect(configError(() => parseFlags(["--proxy", "/api=http://h:1/base"])).message).toContain("path and query go up unchanged");
    expect(configError(() => parseFlags(["--proxy", "/api=not a url"])).message).toContain("is not a URL");
    expect(configError(() => parseFlags(["--proxy", `/a=${A}`, "--proxy", `/a=${B}`])).message).toContain("/a is given twice");
    expect(configError(() => parseConfigFile(configFile({ proxy: 3 }))).message).toContain('"proxy"');
    expect(configError(() => parseFlags(["--proxy-timeout", "0"])).message).toContain("at least 1");
  });
});

describe("--help", () => {
  const text = helpText();

  test("lists every group and every flag", () => {
    for (const group of new Set(SETTINGS.map((s) => s.group))) expect(text).toContain(`\n${group}:\n`);
    for (const s of SETTINGS) {
      const flag = `--${s.key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
      expect(text).toContain(flag);
      if (s.kind === "bool") expect(text).toContain(`--no-${flag.slice(2)}`);
    }
    expect(text).toContain("--help");
  });

  test("shows the defaults", () => {
    expect(text).toMatch(/--port <n>.*\(default: 8888\)/);
    expect(text).toMatch(/--host <address>.*\(default: 127\.0\.0\.1\)/);
    expect(text).toMatch(/--root <dir>.*\(default: public\)/);
    expect(text).toMatch(/--max-body <bytes>.*\(default: 10485760\)/);
    expect(text).toMatch(/--shutdown-timeout <ms>.*\(default: 10000\)/);
    expect(text).toMatch(/--log <format>.*\(default: common\)/);
    expect(text).toMatch(/--listing, --no-listing.*\(default: true\)/);
    expect(text).toMatch(/--max-connections <n>.*\(default: open-file limit − 128\)/);
    // Every setting with a default shows it.
    for (const s of SETTINGS) {
      const d = DEFAULTS[s.key];
      if (d !== undefined && s.key !== "help") expect(text).toContain(`(default: ${s.shownDefault ?? String(d)})`);
    }
  });

  test("explains the environment and the config file", () => {
    expect(text).toContain("BUNHTTP_");
    expect(text).toContain("--config");
  });
});
