// Connection limit: past it, new connections get 503 and close; the ones we have keep working.
import { describe, expect, test } from "bun:test";
import { defaultMaxConnections } from "../../src/server/listen.ts";
import { serve } from "../../src/serve.ts";
import { run } from "../helpers/child.ts";
import { pollUntil } from "../helpers/poll.ts";
import { RawClient } from "../helpers/raw-client.ts";

const GET = "GET /x HTTP/1.1\r\nHost: t\r\n\r\n";

// The module defaultMaxConnections comes from, for child processes to import (keep the two together if it moves).
const SERVER_MODULE = Bun.resolveSync("../../src/server/listen.ts", import.meta.dir);

// Prints defaultMaxConnections() of a fresh process. With PROBE_LIMITS set, /proc/self/limits reads as
// that text instead (empty: it cannot be read, as on a system without /proc).
const PROBE = `
const limits = process.env.PROBE_LIMITS;
if (limits !== undefined) {
  const fs = require("node:fs");
  const readFileSync = fs.readFileSync;
  fs.readFileSync = (path, ...rest) => {
    if (path !== "/proc/self/limits") return readFileSync(path, ...rest);
    if (limits === "") throw Object.assign(new Error("ENOENT: no such file or directory"), { code: "ENOENT" });
    return limits;
  };
}
const { defaultMaxConnections } = await import(${JSON.stringify(SERVER_MODULE)});
console.log(defaultMaxConnections());
`;

/** defaultMaxConnections() in a child bun under `ulimit -n ulimitN`, or with /proc/self/limits reading as `limits`. */
async function defaultIn(setup: { ulimitN?: number; limits?: string }): Promise<number> {
  const env: Record<string, string> = { ...(process.env as Record<string, string>) };
  if (setup.limits !== undefined) env.PROBE_LIMITS = setup.limits;
  const r = await run([process.execPath, "-e", PROBE], { ulimitN: setup.ulimitN, env });
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^\d+\n$/);
  return Number(r.stdout);
}

const limitsText = (soft: string) =>
  "Limit                     Soft Limit           Hard Limit           Units     \n" +
  "Max processes             63704                63704                processes \n" +
  `Max open files            ${soft.padEnd(20)} 1048576              files     \n`;

describe("the default connection limit: the soft open-file limit minus 128 for files, logs and the listener", () => {
  test("in this process: from the soft limit `ulimit -Sn` reports", async () => {
    const soft = (await run(["sh", "-c", "ulimit -Sn"])).stdout.trim();
    expect(defaultMaxConnections()).toBe(soft === "unlimited" ? 16384 : Math.max(16, Number(soft) - 128));
  });

  test("under ulimit -n 300: exactly 172; under 1024: 896", async () => {
    expect(await Promise.all([defaultIn({ ulimitN: 300 }), defaultIn({ ulimitN: 1024 })])).toEqual([172, 896]);
  });

  test("never below 16: under ulimit -n 144, 100 and 64", async () => {
    expect(await Promise.all([144, 100, 64].map((n) => defaultIn({ ulimitN: n })))).toEqual([16, 16, 16]);
    expect(await defaultIn({ ulimitN: 145 })).toBe(17);
  });

  test("without /proc/self/limits, or with no number in it (unlimited): 16384", async () => {
    expect(await defaultIn({ limits: "" })).toBe(16384);
    expect(await defaultIn({ limits: limitsText("unlimited") })).toBe(16384);
    // The probe's stand-in file is read like the real one.
    expect(await defaultIn({ limits: limitsText("4096") })).toBe(3968);
  });
});

test("past --max-connections a new connection gets 503 with Retry-After; existing ones keep working", async () => {
  using server = serve({ port: 0, hostname: "127.0.0.1", log: "off", maxConnections: 3, handler: () => "ok" });
  const held = await Promise.all([0, 1, 2].map(() => RawClient.connect(server.port)));
  for (const c of held) {
    await c.send(GET);
    expect((await c.response()).text()).toBe("ok");
  }
  const extra = await RawClient.connect(server.port);
  const r = await extra.response();
  expect(r.status).toBe(503);
  expect(r.header("retry-after")).toBe("1");
  await extra.closedByServer();
  expect(server.refusedConnections).toBe(1);
  // The three held connections still work.
  for (const c of held) {
    await c.send(GET);
    expect((await c.response()).text()).toBe("ok");
  }
  // When one closes, a new connection is accepted again.
  held[0]!.close();
  await pollUntil(() => server.connectionCount <= 2, 3000, "the server to see the close", { every: 10 });
  const again = await RawClient.connect(server.port);
  await again.send(GET);
  expect((await again.response()).text()).toBe("ok");
  again.close();
  for (const c of held.slice(1)) c.close();
});
