// Connection limit: past it, new connections get 503 and close; the ones we have keep working.
import { expect, test } from "bun:test";
import { defaultMaxConnections, serve } from "../../src/server/server.ts";
import { pollUntil } from "../helpers/poll.ts";
import { RawClient } from "../helpers/raw-client.ts";

const GET = "GET /x HTTP/1.1\r\nHost: t\r\n\r\n";

test("the default connection limit follows the open-file limit", () => {
  expect(defaultMaxConnections()).toBeGreaterThanOrEqual(16);
});

test("past --max-connections a new connection gets 503 with Retry-After; existing ones keep working", async () => {
  using server = serve({ port: 0, log: "off", maxConnections: 3, handler: () => "ok" });
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
