// `Response.error()` returned from `fetch`: Bun.serve treats it as a thrown error. Its `error`
// handler gets an Error with Bun's message, and answers; without one, the answer is a 500.
import { describe, expect, test } from "bun:test";
import { RESPONSE_ERROR_MESSAGE } from "../../src/app/fetch.ts";
import { serve } from "../../src/serve.ts";
import { withBunServeChild } from "../helpers/bun-child.ts";
import { sameOnBoth } from "../helpers/compat.ts";
import { exchange } from "../helpers/raw-client.ts";
import { GET, summarize } from "../helpers/wire.ts";

const BUN_500 = {
  status: 500,
  reason: "Internal Server Error",
  headers: { "content-type": "text/plain", "content-length": "21" },
  body: "Something went wrong!",
};

describe.each([
  ["sync", () => Response.error(), "() => Response.error()"],
  ["async", async () => Response.error(), "async () => Response.error()"],
])("Response.error() from a %s fetch", (_kind, fetch, source) => {
  test("reaches the error handler as an Error with Bun's message", async () => {
    const seen: string[] = [];
    const bun = await sameOnBoth(
      () => ({
        development: false,
        fetch,
        error(err: unknown) {
          seen.push(`${(err as Error).constructor.name}: ${(err as Error).message}`);
          return new Response(`hooked: ${(err as Error).message}`, { status: 502 });
        },
      }),
      async (s) => summarize(await exchange(s.port, GET())),
    );
    expect(bun.status).toBe(502);
    expect(bun.body).toBe(`hooked: ${RESPONSE_ERROR_MESSAGE}`);
    expect(seen).toEqual([`Error: ${RESPONSE_ERROR_MESSAGE}`, `Error: ${RESPONSE_ERROR_MESSAGE}`]);
  });

  test.each([
    ["no error handler", "", {}],
    ["an error handler that returns Response.error() again", ", error: () => Response.error()", { error: () => Response.error() }],
  ])("with %s: a 500, not a loop", async (_name, extra, options) => {
    // Bun's side runs in a child: it logs the error as uncaught, which would fail this test.
    const bun = await withBunServeChild(`{ development: false, fetch: ${source}${extra} }`, async (port) =>
      summarize(await exchange(port, GET())),
    );
    expect(bun).toEqual(BUN_500);
    const errors: unknown[] = [];
    const log = console.error;
    console.error = (...args: unknown[]) => void errors.push(args);
    using server = serve({ port: 0, hostname: "127.0.0.1", fetch, ...options });
    try {
      // Our 500 keeps its own body (src/server/reply.ts); the status is Bun's, and the error is logged.
      expect((await exchange(server.port, GET())).status).toBe(500);
    } finally {
      console.error = log;
    }
    expect(errors.length).toBe(1);
  });
});
