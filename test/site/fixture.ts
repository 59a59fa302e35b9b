// What the site tests that start servers share: a temporary folder for their roots (a fresh one per
// call of nextRoot), every server they track stopped after each test, and the folder and any child
// process gone after all of them.
import { afterAll, afterEach } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Server } from "../../src/index.ts";
import { killAll } from "../helpers/child.ts";

export function siteFixture(prefix: string): { nextRoot(): string; track(s: Server): Server } {
  const tmp = mkdtempSync(join(tmpdir(), prefix));
  let n = 0;
  const servers: Server[] = [];
  afterAll(async () => {
    await killAll();
    rmSync(tmp, { recursive: true, force: true });
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop(true)));
  });
  return {
    nextRoot: () => join(tmp, `r${n++}`),
    track: (s) => {
      servers.push(s);
      return s;
    },
  };
}
