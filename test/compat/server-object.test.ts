// The Server object serve() returns, against Bun.serve's: its members, pendingRequests, server.fetch,
// reload() (connections stay open), timeout(), unref(), and what it reports of where it listens.
import { describe, expect, test } from "bun:test";
import { onBoth, sameOnBoth } from "../helpers/compat.ts";
import { REPO, run } from "../helpers/child.ts";
import { pollUntil } from "../helpers/poll.ts";
import { RawClient } from "../helpers/raw-client.ts";

const MEMBERS = [
  "port", "hostname", "url", "address", "protocol", "id", "development", "pendingRequests", "pendingWebSockets",
  "stop", "reload", "fetch", "timeout", "requestIP", "ref", "unref", "closeIdleConnections",
];

test("the members Bun.serve's server has, with the same types", async () => {
  const types = await sameOnBoth(
    () => ({ fetch: () => new Response("x") }),
    async ({ server }) => Object.fromEntries(MEMBERS.map((m) => [m, typeof server[m]])),
  );
  expect(types.reload).toBe("function");
  expect(types.pendingRequests).toBe("number");
});

test("what it reports of where it listens", async () => {
  const seen = await sameOnBoth(
    () => ({ fetch: () => new Response("x") }),
    async ({ server, port }) => ({
      hostname: server.hostname,
      url: server.url.href.replace(String(port), "PORT"),
      address: { ...server.address, port: server.address.port === port },
      protocol: server.protocol,
      id: server.id,
    }),
  );
  expect(seen.url).toBe("http://127.0.0.1:PORT/");
});

test("no hostname: every interface, reported as localhost", async () => {
  const seen = await sameOnBoth(
    () => ({ hostname: undefined, fetch: () => new Response("x") }),
    async ({ server, port }) => {
      const r = await fetch(`http://127.0.0.1:${port}/`);
      return { hostname: server.hostname, url: server.url.href.replace(String(port), "PORT"), status: r.status, family: server.address.family };
    },
  );
  expect(seen).toEqual({ hostname: "localhost", url: "http://localhost:PORT/", status: 200, family: "IPv6" });
});

test("pendingRequests counts the requests being answered", async () => {
  const counts = await sameOnBoth(
    () => {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      return {
        async fetch(req: Request) {
          if (new URL(req.url).pathname === "/go") release();
          else await gate;
          return new Response("done");
        },
      };
    },
    async ({ server, url }) => {
      const before = server.pendingRequests;
      const slow = fetch(new URL("/slow", url)).then((r) => r.text());
      await pollUntil(() => server.pendingRequests === 1, 2000, "the slow request to be pending");
      const during = server.pendingRequests;
      await fetch(new URL("/go", url)).then((r) => r.text());
      await slow;
      await pollUntil(() => server.pendingRequests === 0, 2000, "no request pending");
      return { before, during, after: server.pendingRequests, ws: server.pendingWebSockets };
    },
  );
  expect(counts).toEqual({ before: 0, during: 1, after: 0, ws: 0 });
});

test("server.fetch calls the fetch handler in-process, with a path or a Request", async () => {
  const seen = await sameOnBoth(
    () => ({ fetch: (req: Request) => new Response(`${req.method} ${new URL(req.url).pathname}`) }),
    async ({ server }) => {
      const a = await server.fetch("/a");
      const b = await server.fetch(new Request("http://example.test/b", { method: "POST" }));
      return [a.status, await a.text(), b.status, await b.text()];
    },
  );
  expect(seen).toEqual([200, "GET /a", 200, "POST /b"]);
});

describe("reload()", () => {
  test("swaps fetch and routes; the open connection gets the new answers", async () => {
    const seen = await sameOnBoth(
      () => ({ fetch: () => new Response("A"), routes: { "/old": () => new Response("old") } }),
      async ({ server, port }) => {
        const c = await RawClient.connect(port);
        const ask = async (path: string) => {
          await c.send(`GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`);
          const r = await c.response();
          return `${r.status} ${r.text()}`;
        };
        const out = [await ask("/"), await ask("/old")];
        server.reload({ routes: { "/r": () => new Response("r") } });
        out.push(await ask("/"), await ask("/old"), await ask("/r"));
        server.reload({ fetch: () => new Response("B") });
        out.push(await ask("/"), await ask("/r"));
        server.reload({});
        out.push(await ask("/"));
        out.push(c.closed ? "closed" : "open");
        c.close();
        return out;
      },
    );
    expect(seen).toEqual(["200 A", "200 old", "200 A", "200 A", "200 r", "200 B", "200 r", "200 B", "open"]);
  });

  test("a new error handler answers for a fetch that throws", async () => {
    const seen = await sameOnBoth(
      () => ({ fetch: () => new Response("A"), error: () => new Response("errA", { status: 500 }) }),
      async ({ server, url }) => {
        server.reload({
          fetch: () => {
            throw new Error("boom");
          },
        });
        const a = await fetch(url);
        server.reload({ error: () => new Response("errB", { status: 503 }) });
        const b = await fetch(url);
        return [a.status, await a.text(), b.status, await b.text()];
      },
    );
    expect(seen).toEqual([500, "errA", 503, "errB"]);
  });
});

test("timeout(request, seconds) cuts a response that sends nothing for that long", async () => {
  const seen = await onBoth(
    () => ({
      fetch(req: Request, server: { timeout(r: Request, s: number): void }) {
        server.timeout(req, 1);
        return new Promise<Response>(() => {}); // never answers
      },
    }),
    async ({ port }) => {
      const c = await RawClient.connect(port);
      const t0 = performance.now();
      await c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
      await c.until(() => c.ended, 8000, "the server to close");
      return { ms: performance.now() - t0, got: c.received };
    },
  );
  // Bun's timers tick every 4 s, ours every second: both close. Ours not before the second is up;
  // Bun's first tick may come at once (a CI run saw a cut after 249 ms, which ours, armed 1 s after
  // the request came, cannot give).
  for (const r of [seen.bun, seen.ours]) {
    expect(r.got).toBe(0);
    expect(r.ms).toBeLessThan(6500);
  }
  expect(seen.ours.ms).toBeGreaterThan(900);
}, 20_000);

test("unref(): a process whose only server is unref'd exits by itself", async () => {
  for (const kind of ["bun", "ours"]) {
    const script =
      kind === "bun"
        ? `const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("x") }); s.unref(); s.ref(); s.unref(); console.log("up");`
        : `import { serve } from "${REPO}/src/serve.ts"; const s = serve({ port: 0, hostname: "127.0.0.1", log: "off", fetch: () => new Response("x") }); s.unref(); s.ref(); s.unref(); console.log("up");`;
    const r = await run([process.execPath, "-e", script], { ms: 5000 });
    expect([kind, r.code, r.stdout.trim()]).toEqual([kind, 0, "up"]);
  }
});

test("reload() that names no handler, on a server without fetch, is refused; the old routes stay", async () => {
  const seen = await sameOnBoth(
    () => ({ routes: { "/": new Response("static") } }),
    async ({ server, url }) => {
      let error = "accepted";
      try {
        server.reload({ development: false });
      } catch (err) {
        error = (err as Error).message.split("\n")[0]!;
      }
      return [error, await (await fetch(url)).text()];
    },
  );
  expect(seen).toEqual(["Bun.serve() needs either:", "static"]);
});

test("server.fetch without a fetch handler rejects with Bun's error", async () => {
  const seen = await sameOnBoth(
    () => ({ routes: { "/test": () => new Response("test") } }),
    async ({ server }) => server.fetch("/test").then(() => "resolved", (err: Error) => err.message),
  );
  expect(seen).toBe("fetch() requires the server to have a fetch handler");
});

test("reload() that names no routes keeps the handler routes and drops the static ones", async () => {
  const seen = await sameOnBoth(
    () => ({ routes: { "/s": new Response("static"), "/f": () => new Response("fn") } }),
    async ({ server, url }) => {
      server.reload({ development: false });
      const s = await fetch(new URL("/s", url));
      const f = await fetch(new URL("/f", url));
      return [s.status, f.status, await f.text()];
    },
  );
  expect(seen).toEqual([404, 200, "fn"]);
});
