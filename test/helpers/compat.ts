// Compatibility checks against Bun.serve: the same options are served by Bun.serve and by our
// serve(), the same check runs against each over TCP, and the test compares what each gave. So every
// expectation in test/compat/ is Bun's real behaviour, measured in the same run.
import { expect } from "bun:test";
import { serve } from "../../src/serve.ts";

export type Kind = "bun" | "ours";

/** What a check gets: the server's address, and the server object itself. */
export interface Served {
  kind: Kind;
  port: number;
  url: URL;
  server: any;
}

/**
 * Serves `options()` (called once per server, so Responses in it are fresh) with Bun.serve, then with
 * ours, runs `check` on each in turn, and returns both results. Both servers are stopped after.
 */
export async function onBoth<T>(options: () => Record<string, unknown>, check: (s: Served) => Promise<T>): Promise<{ bun: T; ours: T }> {
  const results: Partial<Record<Kind, T>> = {};
  for (const kind of ["bun", "ours"] as const) {
    // Bun.serve never compresses; ours does by default (Vary on compressible responses, br for a
    // client that asks). Compared here without it; test/compat/compression.test.ts pins the difference.
    const opts = { port: 0, hostname: "127.0.0.1", ...(kind === "ours" ? { compress: false } : {}), ...options() };
    const server: any = kind === "bun" ? Bun.serve(opts as any) : serve(opts as any);
    try {
      results[kind] = await check({ kind, port: server.port, url: new URL(server.url.href), server });
    } finally {
      await server.stop(true);
    }
  }
  return results as { bun: T; ours: T };
}

/** onBoth, then asserts both gave the same result (deep equality), and returns Bun's. */
export async function sameOnBoth<T>(options: () => Record<string, unknown>, check: (s: Served) => Promise<T>): Promise<T> {
  const { bun, ours } = await onBoth(options, check);
  expect(ours).toEqual(bun);
  return bun;
}
