// A serve() that throws (the port taken, a bad htpasswd file, bad routes) leaves no file watcher
// behind: live reload's recursive watch and the rule files' are closed again (counted as the
// process's inotify watches, Linux).
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve } from "../../src/index.ts";

const root = mkdtempSync(join(tmpdir(), "bunhttp-cleanup-"));
writeFileSync(join(root, "index.html"), "<p>hi</p>");
writeFileSync(join(root, "_redirects"), "/a /b 301\n");
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** inotify watches this process holds ("inotify wd:" lines in /proc/self/fdinfo). */
function inotifyWatches(): number {
  let n = 0;
  for (const fd of readdirSync("/proc/self/fdinfo")) {
    let info: string;
    try {
      info = readFileSync(`/proc/self/fdinfo/${fd}`, "utf8");
    } catch {
      continue;
    }
    for (const line of info.split("\n")) if (line.startsWith("inotify wd:")) n++;
  }
  return n;
}

test.skipIf(process.platform !== "linux")("a serve() that throws closes the watchers it made", async () => {
  const holder = serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("x") });
  try {
    const before = inotifyWatches();
    const attempts: (() => unknown)[] = [
      () => serve({ port: holder.port, hostname: "127.0.0.1", root, watch: true }),
      () => serve({ port: 0, hostname: "127.0.0.1", root, watch: true, auth: { file: join(root, "missing.htpasswd") } }),
      () => serve({ port: 0, hostname: "127.0.0.1", root, watch: true, routes: { "/x": 42 as never } }),
    ];
    for (const attempt of attempts) expect(attempt).toThrow();
    // (the same serve() that starts does watch: the count can move)
    const s = serve({ port: 0, hostname: "127.0.0.1", root, watch: true });
    const during = inotifyWatches();
    await s.stop(true);
    expect(during).toBeGreaterThan(before);
    expect(inotifyWatches()).toBe(before);
  } finally {
    await holder.stop(true);
  }
});
