// A client that goes away, against Bun.serve: request.signal aborts, a response stream is cancelled
// (its cancel() runs), a half-close after the request still gets a response already made in full,
// and a half-close during a stream still producing aborts it.
import type { UnderlyingSource } from "bun";
import { expect, test } from "bun:test";
import { onBoth, sameOnBoth } from "../helpers/compat.ts";
import { pollUntil } from "../helpers/poll.ts";
import { RawClient } from "../helpers/raw-client.ts";

type Watcher = ReturnType<typeof watcher>;

function watcher() {
  let resolveAbort!: (reason: string) => void;
  let resolveCancel!: () => void;
  return {
    aborted: new Promise<string>((r) => (resolveAbort = r)),
    cancelled: new Promise<void>((r) => (resolveCancel = r)),
    onAbort: (signal: AbortSignal) => signal.addEventListener("abort", () => resolveAbort((signal.reason as Error)?.name)),
    onCancel: () => resolveCancel(),
  };
}

/** The watcher of the server being checked: onBoth serves and checks one server at a time. */
let w: Watcher;

const within = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p, new Promise<"timed out">((r) => setTimeout(() => r("timed out"), ms))]);

/** What the watcher saw within 3 s: the abort's name, and whether the stream was cancelled. */
const outcome = async () => ({ aborted: await within(w.aborted, 3000), cancelled: await within(w.cancelled.then(() => "cancelled"), 3000) });

const SSE = { headers: { "Content-Type": "text/event-stream" } };
const event = () => new TextEncoder().encode("data: hi\n\n");

/** Options for a fetch handler that watches its signal and answers a stream of `source` (cancel watched). */
function streamApp(source: (w: Watcher) => UnderlyingSource<Uint8Array>, init?: ResponseInit) {
  return () => {
    const mine = (w = watcher());
    return {
      fetch(req: Request) {
        mine.onAbort(req.signal);
        return new Response(new ReadableStream({ ...source(mine), cancel: mine.onCancel }), init);
      },
    };
  };
}

const GET = "GET / HTTP/1.1\r\nHost: t\r\n\r\n";

test("a client that aborts while the handler works: request.signal aborts with an AbortError", async () => {
  const seen = await sameOnBoth(
    () => {
      const mine = (w = watcher());
      return {
        async fetch(req: Request) {
          mine.onAbort(req.signal);
          await mine.aborted;
          return new Response("late");
        },
      };
    },
    async ({ port, server }) => {
      const c = await RawClient.connect(port);
      await c.send(GET);
      await pollUntil(() => server.pendingRequests === 1, 3000, "the request to be dispatched");
      c.close();
      return within(w.aborted, 3000);
    },
  );
  expect(seen).toBe("AbortError");
});

test("request.signal and a stream's cancel() when the client goes away mid-stream", async () => {
  const seen = await onBoth(
    streamApp(
      () => ({
        pull(controller) {
          controller.enqueue(event());
          return new Promise(() => {}); // and nothing more
        },
      }),
      SSE,
    ),
    async ({ port }) => {
      const c = await RawClient.connect(port);
      await c.send(GET);
      await c.until(() => c.text().includes("data: hi"), 3000, "the first event");
      c.close();
      return outcome();
    },
  );
  expect(seen.bun).toEqual({ aborted: "AbortError", cancelled: "cancelled" });
  expect(seen.ours).toEqual(seen.bun);
});

test("a half-close after the request: a whole 8 MiB body still arrives in full", async () => {
  const BODY = 8 * 1024 * 1024;
  const seen = await sameOnBoth(
    () => ({ fetch: () => new Response(new Uint8Array(BODY).fill(97), { headers: { "content-length": String(BODY) } }) }),
    async ({ port }) => {
      const c = await RawClient.connect(port, { allowHalfOpen: true, keep: false });
      await c.send(GET);
      c.shutdown();
      await c.until(() => c.ended, 10_000, "the end of the response");
      c.close();
      return c.received > BODY;
    },
  );
  expect(seen).toBe(true);
}, 30_000);

test("a half-close during a stream still producing aborts it: signal and cancel()", async () => {
  const seen = await onBoth(
    streamApp(
      () => ({
        start(controller) {
          controller.enqueue(event());
        },
      }),
      SSE,
    ),
    async ({ port }) => {
      const c = await RawClient.connect(port, { allowHalfOpen: true });
      await c.send(GET);
      await c.until(() => c.text().includes("data: hi"), 3000, "the first event");
      c.shutdown();
      const r = await outcome();
      c.close();
      return r;
    },
  );
  expect(seen.bun).toEqual({ aborted: "AbortError", cancelled: "cancelled" });
  expect(seen.ours).toEqual(seen.bun);
});

test("a stream that has sent nothing yet is cancelled when the client aborts", async () => {
  const seen = await onBoth(
    // pull() waits for cancel(): only a cancel from the server ends it.
    streamApp((mine) => ({ pull: () => mine.cancelled })),
    async ({ port, server }) => {
      const c = await RawClient.connect(port);
      await c.send(GET);
      await pollUntil(() => server.pendingRequests === 1, 3000, "the request to be dispatched");
      c.close();
      return outcome();
    },
  );
  expect(seen.bun).toEqual({ aborted: "AbortError", cancelled: "cancelled" });
  expect(seen.ours).toEqual(seen.bun);
});
