// server.upgrade() against Bun.serve's, over raw TCP: its return value, the 101 it writes (Accept, the
// caller's headers, a subprotocol), its error without a `websocket` option, upgrades from `routes` and
// after an `await`, and the handshakes we refuse on purpose (RFC 6455 §4.2.1) where Bun upgrades.
import { describe, expect, test } from "bun:test";
import { onBoth, sameOnBoth } from "../helpers/compat.ts";
import { exchange, RawClient } from "../helpers/raw-client.ts";
import { serve } from "../../src/serve.ts";
import { ACCEPT, KEY, openWs, roundTrip, upgradeRequest } from "../ws/api-helpers.ts";

/** One request on a raw socket: what the client sees of the answer, and what upgrade() returned. */
async function handshake(port: number, raw: string, returned: unknown[]) {
  const c = await RawClient.connect(port);
  try {
    await c.send(raw);
    const r = await c.response();
    return {
      status: r.status,
      accept: r.header("sec-websocket-accept") ?? null,
      version: r.header("sec-websocket-version") ?? null,
      protocol: r.header("sec-websocket-protocol") ?? null,
      upgradeReturned: returned,
    };
  } finally {
    c.close();
  }
}

/** An app that records what each upgrade() returned, and sends a 400 when it is false. */
function recordingApp(returned: unknown[], options: Record<string, unknown> = {}) {
  return {
    fetch(req: Request, server: any) {
      const ok = server.upgrade(req, options);
      returned.push(ok);
      return ok ? undefined : new Response("not a websocket", { status: 400 });
    },
    websocket: { message() {} },
  };
}

describe("server.upgrade()", () => {
  test("returns true; fetch returns undefined; a 101 with Accept, the caller's headers and `data`", async () => {
    let returned: unknown[] = [];
    const seen = await sameOnBoth(
      () => {
        returned = [];
        return {
          fetch(req: Request, server: any) {
            const ok = server.upgrade(req, { data: { user: 7 }, headers: { "X-Custom": "yes", "Set-Cookie": "sid=1" } });
            returned.push(ok);
            return ok ? undefined : new Response("no", { status: 400 });
          },
          websocket: { open: (ws: any) => ws.send(JSON.stringify(ws.data)) },
        };
      },
      async ({ port }) => {
        const c = await RawClient.connect(port);
        try {
          await c.send(upgradeRequest());
          const r = await c.response();
          // The first frame follows the head: a text frame holding ws.data as JSON.
          await c.until(() => c.pendingBytes >= 2 + 10, 5000, "the first frame");
          return {
            status: r.status,
            upgrade: r.header("upgrade")?.toLowerCase(),
            connection: r.header("connection")?.toLowerCase(),
            accept: r.header("sec-websocket-accept"),
            custom: r.header("x-custom"),
            cookie: r.header("set-cookie"),
            protocol: r.header("sec-websocket-protocol") ?? null,
            contentLength: r.header("content-length") ?? null,
            firstFrame: new TextDecoder().decode(c.pending.subarray(2)),
            returned,
          };
        } finally {
          c.close();
        }
      },
    );
    expect(seen).toEqual({
      status: 101,
      upgrade: "websocket",
      connection: "upgrade",
      accept: ACCEPT,
      custom: "yes",
      cookie: "sid=1",
      protocol: null,
      contentLength: null,
      firstFrame: '{"user":7}',
      returned: [true],
    });
  });

  test("returns false for a plain GET, and the app's response goes out", async () => {
    let returned: unknown[] = [];
    const seen = await sameOnBoth(
      () => recordingApp((returned = [])),
      async ({ port }) => {
        const r = await exchange(port, "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        return { status: r.status, body: r.text(), returned };
      },
    );
    expect(seen).toEqual({ status: 400, body: "not a websocket", returned: [false] });
  });

  test("without a `websocket` option it throws Bun's TypeError, even for a real upgrade", async () => {
    const seen = await sameOnBoth(
      () => ({
        fetch(req: Request, server: any) {
          try {
            return new Response(`returned ${server.upgrade(req)}`);
          } catch (e: any) {
            return Response.json({ name: e?.name, message: e?.message, code: e?.code, isTypeError: e instanceof TypeError });
          }
        },
      }),
      async ({ port }) => {
        const ws = await exchange(port, upgradeRequest("/", "Connection: close\r\n"));
        const plain = await exchange(port, "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        return { ws: [ws.status, ws.text()], plain: [plain.status, plain.text()] };
      },
    );
    const error = JSON.stringify({
      name: "TypeError",
      message: 'To enable websocket support, set the "websocket" object in Bun.serve({})',
      code: "ERR_INVALID_ARG_TYPE",
      isTypeError: true,
    });
    expect(seen).toEqual({ ws: [200, error], plain: [200, error] });
  });

  // The issue lists these two as open bugs in Bun.serve. Measured on Bun 1.4.5, both work there (the old
  // bug, an upgrade after an await failing when the client asked for a subprotocol, oven-sh/bun#7514 and
  // #8986, was fixed by #11707), so they are compared like the rest.
  test("works from a `routes` handler (sync and after an await) and after an await in fetch", async () => {
    const upgradeOr400 = (req: Request, server: any) =>
      server.upgrade(req, { data: new URL(req.url).pathname }) ? undefined : new Response("no", { status: 400 });
    const seen = await sameOnBoth(
      () => ({
        routes: {
          "/route": upgradeOr400,
          "/route-async": async (req: Request, server: any) => {
            await Bun.sleep(5);
            return upgradeOr400(req, server);
          },
        },
        async fetch(req: Request, server: any) {
          await Bun.sleep(5);
          await req.text();
          return upgradeOr400(req, server);
        },
        websocket: { open: (ws: any) => ws.send(`open ${ws.data}`) },
      }),
      async ({ port }) => {
        const got: unknown[] = [];
        for (const path of ["/route", "/route-async", "/fetch-async"]) {
          const c = await openWs(port, path);
          got.push(await c.next());
          c.socket.close();
        }
        return got;
      },
    );
    expect(seen).toEqual(["open /route", "open /route-async", "open /fetch-async"]);
  });
});

describe("subprotocols", () => {
  test("one the app passes in upgrade()'s headers is the one sent", async () => {
    const seen = await sameOnBoth(
      () => recordingApp([], { headers: { "Sec-WebSocket-Protocol": "superchat" } }),
      async ({ port }) => {
        const raw = await handshake(port, upgradeRequest("/", "Sec-WebSocket-Protocol: chat, superchat\r\n"), []);
        return { raw: raw.protocol, status: raw.status };
      },
    );
    expect(seen).toEqual({ raw: "superchat", status: 101 });
  });

  test("none chosen by the app: Bun echoes the client's first, we send none", async () => {
    const seen = await onBoth(
      () => recordingApp([]),
      async ({ port }) => handshake(port, upgradeRequest("/", "Sec-WebSocket-Protocol: chat, superchat\r\n"), []),
    );
    expect(seen.bun).toMatchObject({ status: 101, protocol: "chat" });
    expect(seen.ours).toMatchObject({ status: 101, protocol: null });
  });
});

const fields = (version = "13", key = KEY) => `Upgrade: websocket\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: ${version}\r\n`;

describe("handshakes we refuse and Bun upgrades (RFC 6455 §4.2.1)", () => {
  const cases: [string, string][] = [
    ["no Connection header", `GET / HTTP/1.1\r\nHost: t\r\n${fields()}\r\n`],
    ["Connection: keep-alive (no upgrade token)", `GET / HTTP/1.1\r\nHost: t\r\nConnection: keep-alive\r\n${fields()}\r\n`],
    ["HTTP/1.0", `GET / HTTP/1.0\r\nHost: t\r\nConnection: Upgrade\r\n${fields()}\r\n`],
    // A body on the handshake: whatever follows the head would be read as frames (§4.1: none is sent).
    ["a Content-Length body", `GET / HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nContent-Length: 3\r\n${fields()}\r\nabc`],
    ["a chunked body", `GET / HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nTransfer-Encoding: chunked\r\n${fields()}\r\n3\r\nabc\r\n0\r\n\r\n`],
  ];
  for (const [name, raw] of cases) {
    test(`${name}: Bun answers 101, we 400`, async () => {
      let returned: unknown[] = [];
      const seen = await onBoth(
        () => recordingApp((returned = [])),
        ({ port }) => handshake(port, raw, returned),
      );
      expect(seen.bun).toMatchObject({ status: 101, accept: ACCEPT, upgradeReturned: [true] });
      // Refused by the server before the app, or by upgrade() returning false (then the app's 400).
      expect(seen.ours.status).toBe(400);
      expect(seen.ours.accept).toBeNull();
      expect(seen.ours.upgradeReturned).not.toContain(true);
    });
  }
});

test("a malformed handshake gets our 400 whatever the app answers; Bun sends the app's answer", async () => {
  const raw = `GET / HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\n${fields("13", "abc")}\r\n`;
  const teapot = {
    fetch: (req: Request, server: any) => (server.upgrade(req) ? undefined : new Response("no", { status: 418 })),
    websocket: { message() {} },
  };
  const seen = await onBoth(
    () => teapot,
    ({ port }) => handshake(port, raw, []),
  );
  expect([seen.bun.status, seen.ours.status]).toEqual([418, 400]);
});

test("after refused handshakes, a fresh connection upgrades and echoes on the same server", async () => {
  const returned: unknown[] = [];
  const app = recordingApp(returned);
  using server = serve({ port: 0, hostname: "127.0.0.1", ...app, websocket: { message: (ws: any, m: string) => ws.send(m) } });
  const bad = [
    `GET / HTTP/1.1\r\nHost: t\r\n${fields()}\r\n`,
    `GET / HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\n${fields("12")}\r\n`,
    `GET / HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nContent-Length: 3\r\n${fields()}\r\nabc`,
  ];
  const statuses = [];
  for (const raw of bad) statuses.push((await handshake(server.port, raw, returned)).status);
  expect(statuses).toEqual([400, 426, 400]);
  const c = await openWs(server.port, "/");
  expect(await roundTrip(c, "still here")).toBe("still here");
  c.socket.close();
});

describe("handshakes both refuse", () => {
  // Bun: upgrade() returns false for each, and the app's 400 goes out; for a version other than 13 it
  // writes its own 426 with Sec-WebSocket-Version: 13 whatever the app returns, and closes.
  const cases: [string, string, number][] = [
    [
      "no Sec-WebSocket-Key",
      "GET / HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n",
      400,
    ],
    [
      "a key of 18 bytes (24 base64 chars, no padding)",
      `GET / HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\n${fields("13", "A".repeat(24))}\r\n`,
      400,
    ],
    ["a key that is not base64", `GET / HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\n${fields("13", "!".repeat(22) + "==")}\r\n`, 400],
    ["a key too short", `GET / HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\n${fields("13", "abc")}\r\n`, 400],
    ["Sec-WebSocket-Version: 12", `GET / HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\n${fields("12")}\r\n`, 426],
    [
      "no Sec-WebSocket-Version",
      "GET / HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: " + KEY + "\r\n\r\n",
      426,
    ],
    ["POST", `POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nConnection: Upgrade\r\n${fields()}\r\n`, 400],
  ];
  for (const [name, raw, status] of cases) {
    test(`${name}: ${status}`, async () => {
      let returned: unknown[] = [];
      const seen = await sameOnBoth(
        () => recordingApp((returned = [])),
        ({ port }) => handshake(port, raw, returned),
      );
      expect(seen).toMatchObject({ status, accept: null, version: status === 426 ? "13" : null, upgradeReturned: [false] });
    });
  }
});
