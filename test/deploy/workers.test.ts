// --workers: a supervisor with N worker processes sharing one port (SO_REUSEPORT); a worker that dies
// is restarted; SIGTERM stops them all and the supervisor exits 0.
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { exchange } from "../helpers/raw-client.ts";
import { exitWithin, killAll, runCli, startCli } from "../helpers/child.ts";
import { pollUntil } from "../helpers/poll.ts";
import { childrenOf, freePort, isAlive, listenersOn, removeTemps, tempDir } from "./helpers.ts";

const dir = tempDir();
const root = join(dir, "root");
mkdirSync(root, { recursive: true });
writeFileSync(join(root, "a.txt"), "hi\n");
// An app that tells which process answered.
const app = join(dir, "pid-app.ts");
writeFileSync(app, `export default { routes: { "/pid": () => new Response(String(process.pid)) } };\n`);

const stray = new Set<number>();
afterAll(async () => {
  for (const pid of stray) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
  await killAll();
  removeTemps();
});

/** One request on a new connection (so the kernel picks a worker each time); the answering pid. */
async function whoAnswers(port: number): Promise<number> {
  const r = await exchange(port, "GET /pid HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  if (r.status !== 200) throw new Error(`status ${r.status}`);
  return Number(r.text());
}

/** Whether process `pid` has `path` open (Linux /proc/<pid>/fd links; a renamed file no longer matches). */
function hasOpen(pid: number, path: string): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`) === path;
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

/** Workers of the supervisor, remembered so that afterAll can kill them whatever happens. */
function workersOf(supervisor: number): number[] {
  const pids = childrenOf(supervisor);
  for (const p of pids) stray.add(p);
  return pids;
}

test("--workers 2: two workers serve the port; kill -9 one and it is replaced; SIGTERM stops all, exit 0", async () => {
  const port = freePort();
  const cli = await startCli(["--workers", "2", "--port", String(port), "--root", root, "--app", app, "--log", "off"]);
  try {
    expect(cli.port).toBe(port);
    expect(cli.stderr()).toContain("(2 workers)");

    // Two worker processes, children of the supervisor, each with its own listening socket.
    const workers = await pollUntil(() => (workersOf(cli.pid).length === 2 ? workersOf(cli.pid) : null), 5000, "two workers");
    await pollUntil(() => listenersOn(port) === 2, 5000, "two listening sockets");
    for (const pid of workers) expect(readFileSync(`/proc/${pid}/cmdline`, "utf8")).toContain("src/index.ts");

    // Both answer: new connections are spread over them by the kernel.
    const seen = new Set<number>();
    await pollUntil(
      async () => {
        seen.add(await whoAnswers(port));
        return seen.size === 2;
      },
      10_000,
      "answers from both workers",
      { every: 0 },
    );
    expect([...seen].sort((a, b) => a - b)).toEqual(workers);

    // Many requests, some at once: all succeed, and only the workers answer.
    const answers = await Promise.all(Array.from({ length: 200 }, () => whoAnswers(port)));
    for (const pid of answers) expect(workers).toContain(pid);

    // kill -9 one worker: the supervisor starts a new one; requests keep succeeding meanwhile.
    const [victim, survivor] = workers as [number, number];
    process.kill(victim, "SIGKILL");
    // Until the victim's listening socket is closed it can still take connections (which then die with
    // it: SO_REUSEPORT does not hand them over unless net.ipv4.tcp_migrate_req=1). The pid alone does not
    // tell: the main thread of a multi-threaded process turns zombie before its other threads, which
    // hold the descriptors, are gone. /proc/net/tcp does.
    await pollUntil(() => listenersOn(port) === 1, 3000, "the killed worker's socket to close");
    let during = 0;
    const replacement = await pollUntil(
      async () => {
        const pid = await whoAnswers(port); // throws (fails the test) if a request fails
        expect(pid).not.toBe(victim);
        during++;
        const now = workersOf(cli.pid);
        return now.length === 2 && !now.includes(victim) && listenersOn(port) === 2 ? now.find((p) => p !== survivor) : undefined;
      },
      5000,
      "a replacement worker",
      { every: 10 },
    );
    expect(during).toBeGreaterThan(0);
    expect(replacement).not.toBe(victim);
    expect(cli.stderr()).toMatch(/worker \d exited \(SIGKILL\); restarting in \d+ ms/);

    // The replacement serves too.
    const after = new Set<number>();
    await pollUntil(
      async () => {
        after.add(await whoAnswers(port));
        return after.has(replacement!) && after.has(survivor);
      },
      10_000,
      "answers from the replacement and the survivor",
      { every: 0 },
    );
    for (const pid of after) expect([survivor, replacement]).toContain(pid);

    // SIGTERM to the supervisor: every worker exits, then the supervisor with 0.
    cli.kill("SIGTERM");
    expect(await exitWithin(cli.exited, 5000)).toBe(0);
    await pollUntil(() => !isAlive(survivor) && !isAlive(replacement!), 3000, "the workers to exit");
  } finally {
    for (const pid of workersOf(cli.pid)) process.kill(pid, "SIGKILL");
    cli.kill("SIGKILL");
    await cli.exited;
  }
}, 25_000);

test("--workers: SIGHUP to the supervisor reaches the workers (log reopened)", async () => {
  const port = freePort();
  const log = join(dir, "workers.log");
  const cli = await startCli(["--workers", "2", "--port", String(port), "--root", root, "--log", "common", "--log-file", log]);
  const lines = (p: string) => (existsSync(p) ? readFileSync(p, "utf8").split("\n").filter((l) => l !== "") : []);
  try {
    const workers = await pollUntil(() => (workersOf(cli.pid).length === 2 ? workersOf(cli.pid) : null), 5000, "two workers");
    // Each worker has the log open (so it is open before the rename).
    await pollUntil(() => workers.every((pid) => hasOpen(pid, log)), 5000, "both workers to open the log");
    const r0 = await exchange(port, "GET /a.txt?before HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    expect(r0.status).toBe(200);
    await pollUntil(() => lines(log).length >= 1, 5000, "the first line");
    renameSync(log, `${log}.1`);
    cli.kill("SIGHUP");
    // Every worker reopens: the file at the original path is open in both.
    await pollUntil(() => workers.every((pid) => hasOpen(pid, log)), 5000, "both workers to reopen the log");
    for (let i = 0; i < 10; i++) {
      const r = await exchange(port, `GET /a.txt?after${i} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`);
      expect(r.status).toBe(200);
    }
    await pollUntil(() => lines(log).length >= 10, 5000, "ten lines in the new file");
    expect(lines(log).every((l) => l.includes("/a.txt?after"))).toBe(true);
    expect(lines(`${log}.1`)).toHaveLength(1);
    expect(workersOf(cli.pid)).toEqual(workers); // HUP does not restart anyone
    cli.kill("SIGTERM");
    expect(await exitWithin(cli.exited, 5000)).toBe(0);
  } finally {
    for (const pid of workersOf(cli.pid)) process.kill(pid, "SIGKILL");
    cli.kill("SIGKILL");
    await cli.exited;
  }
}, 20_000);

test("--workers 2 --port 0: exit 1 with a clear message, no worker started", async () => {
  const r = await runCli(["--workers", "2", "--port", "0", "--root", root]);
  expect(r.code).toBe(1);
  expect(r.stderr).toBe("bunhttp: --workers needs a fixed --port (0 would give each worker its own)\n");
  expect(r.stdout).toBe("");
});

test("--workers 2 with a bad root fails before starting workers", async () => {
  const r = await runCli(["--workers", "2", "--port", String(freePort()), "--root", join(dir, "missing")]);
  expect(r.code).toBe(1);
  expect(r.stderr).toStartWith("bunhttp: root directory not found");
  expect(r.stderr.trim().split("\n")).toHaveLength(1);
});

test("--workers 2 on a port in use: exit 1 with one clear line", async () => {
  const holder = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  try {
    const r = await runCli(["--workers", "2", "--port", String(holder.port), "--root", root], {}, 4000);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`bunhttp: port ${holder.port} on 127.0.0.1 is already in use\n`);
  } finally {
    holder.stop(true);
  }
});
