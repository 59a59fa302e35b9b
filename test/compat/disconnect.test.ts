// A client that goes away, against Bun.serve: request.signal aborts, a response stream is cancelled
// (its cancel() runs), a half-close after the request still gets a response already made in full,
// and a half-close during a stream still producing aborts it.
import { expect, test } from "bun:test";
import { onBoth, sameOnBoth } from "../helpers/compat.ts";
import { pollUntil } from "../helpers/poll.ts";
import { RawClient } from "../helpers/raw-client.ts";

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

const within = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p, new Promise<"timed out">((r) => setTimeout(() => r("timed out"), ms))]);

test("a client that aborts while the handler works: request.signal aborts with an AbortError", async () => {
  const seen = await sameOnBoth(
    () => {
      const w = watcher();
      (globalThis as { __w?: unknown }).__w = w;
      return {
        async fetch(req: Request) {
          w.onAbort(req.signal);
          await w.aborted;
          return new Response("late");
        },
      };
    },
    async ({ port, server }) => {
      const w = (globalThis as { __w?: ReturnType<typeof watcher> }).__w!;
      const c = await RawClient.connect(port);
      await c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
      await pollUntil(() => server.pendingRequests === 1, 3000, "the request to be dispatched");
      c.close();
      return within(w.aborted, 3000);
    },
  );
  expect(seen).toBe("AbortError");
});

test("request.signal and a stream's cancel() when the client goes away mid-stream", async () => {
  const seen = await onBoth(
    () => {
      const w = watcher();
      (globalThis as { __w?: unknown }).__w = w;
      return {
        fetch(req: Request) {
          w.onAbort(req.signal);
          return new Response(
            new ReadableStream({
              pull(controller) {
                controller.enqueue(new TextEncoder().encode("data: hi\n\n"));
                return new Promise(() => {}); // and nothing more
              },
              cancel: w.onCancel,
            }),
            { headers: { "Content-Type": "text/event-stream" } },
          );
        },
      };
    },
    async ({ port }) => {
      const w = (globalThis as { __w?: ReturnType<typeof watcher> }).__w!;
      const c = await RawClient.connect(port);
      await c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
      await c.until(() => c.text().includes("data: hi"), 3000, "the first event");
      c.close();
      return { aborted: await within(w.aborted, 3000), cancelled: await within(w.cancelled.then(() => "cancelled"), 3000) };
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
      await c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
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
    () => {
      const w = watcher();
      (globalThis as { __w?: unknown }).__w = w;
      return {
        fetch(req: Request) {
          w.onAbort(req.signal);
          return new Response(
            new ReadableStream({
              start(controller) {
                controller.enqueue(new TextEncoder().encode("data: hi\n\n"));
              },
              cancel: w.onCancel,
            }),
            { headers: { "Content-Type": "text/event-stream" } },
          );
        },
      };
    },
    async ({ port }) => {
      const w = (globalThis as { __w?: ReturnType<typeof watcher> }).__w!;
      const c = await RawClient.connect(port, { allowHalfOpen: true });
      await c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
      await c.until(() => c.text().includes("data: hi"), 3000, "the first event");
      c.shutdown();
      const r = { aborted: await within(w.aborted, 3000), cancelled: await within(w.cancelled.then(() => "cancelled"), 3000) };
      c.close();
      return r;
    },
  );
  expect(seen.bun).toEqual({ aborted: "AbortError", cancelled: "cancelled" });
  expect(seen.ours).toEqual(seen.bun);
});

test("a stream that has sent nothing yet is cancelled when the client aborts", async () => {
  const seen = await onBoth(
    () => {
      const w = watcher();
      (globalThis as { __w?: unknown }).__w = w;
      return {
        fetch(req: Request) {
          w.onAbort(req.signal);
          // pull() waits for cancel(): only a cancel from the server ends it.
          return new Response(new ReadableStream({ pull: () => w.cancelled, cancel: w.onCancel }));
        },
      };
    },
    async ({ port, server }) => {
      const w = (globalThis as { __w?: ReturnType<typeof watcher> }).__w!;
      const c = await RawClient.connect(port);
      await c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
      await pollUntil(() => server.pendingRequests === 1, 3000, "the request to be dispatched");
      c.close();
      return { aborted: await within(w.aborted, 3000), cancelled: await within(w.cancelled.then(() => "cancelled"), 3000) };
    },
  );
  expect(seen.bun).toEqual({ aborted: "AbortError", cancelled: "cancelled" });
  expect(seen.ours).toEqual(seen.bun);
});
