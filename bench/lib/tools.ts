// The programs a benchmark needs (wrk, nginx, h2o…): installed from Debian's packages with apt-get
// when missing and we may (root), else a message saying what to install.
import { existsSync } from "node:fs";

export interface Tool {
  /** A command looked up in PATH, or an absolute path. */
  path: string;
  /** The Debian package that has it. */
  pkg: string;
}

const have = (t: Tool) => (t.path.startsWith("/") ? existsSync(t.path) : Bun.which(t.path) !== null);

export function ensureTools(tools: Tool[]): void {
  const missing = [...new Set(tools.filter((t) => !have(t)).map((t) => t.pkg))];
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0 || Bun.which("apt-get") === null) {
    throw new Error(`missing ${missing.join(", ")}: apt-get install ${missing.join(" ")}`);
  }
  console.error(`installing ${missing.join(", ")} with apt-get…`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  Bun.spawnSync(["apt-get", "update", "-qq"], { env, stdout: "ignore", stderr: "inherit" });
  const r = Bun.spawnSync(["apt-get", "install", "-y", "-qq", ...missing], { env, stdout: "ignore", stderr: "inherit" });
  if (r.exitCode !== 0) throw new Error(`apt-get install ${missing.join(" ")} failed`);
  const still = tools.filter((t) => !have(t));
  if (still.length) throw new Error(`still missing after apt-get: ${still.map((t) => t.path).join(", ")}`);
}
