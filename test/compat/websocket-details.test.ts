// Smaller members of Bun's WebSocket API, compared with Bun.serve in the same run (sameOnBoth: the
// same app on both servers, the same check, equal results): server.reload({ websocket }) reaching
// open sockets, server.publish compressing by default, publish's -1 under backpressure, the long
// close reason as the handler hears it, and what Bun refuses or coerces in its arguments.
import { expect, test } from "bun:test";
import { sameOnBoth } from "../helpers/compat.ts";
import { RawClient } from "../helpers/raw-client.ts";
import { OP, WsRaw } from "../helpers/ws-raw.ts";
import { closeOf, EventLog, openWs, roundTrip, upgradeRequest, wsApp } from "../ws/api-helpers.ts";

test("server.reload({ websocket }) gives open sockets the new handlers too", async () => {
  const seen = await sameOnBoth(
    () => wsApp({ message: (ws: any) => ws.send("v1") }),
    async ({ server, port }) => {
      const before = await openWs(port, "/a");
      const first = await roundTrip(before, "x");
      server.reload({ fetch: wsApp({}).fetch, websocket: { message: (ws: any) => ws.send("v2") } });
      const after = await openWs(port, "/b");
      const result = [first, await roundTrip(before, "x"), await roundTrip(after, "x")];
      before.socket.close();
      after.socket.close();
      return result;
    },
  );
  expect(seen).toEqual(["v1", "v2", "v2"]);
});

test("server.publish compresses by default for sockets that negotiated permessage-deflate; ws.publish does not", async () => {
  const seen = await sameOnBoth(
    () => ({
      ...wsApp({
        perMessageDeflate: true,
        open: (ws: any) => ws.subscribe("t"),
        message(ws: any, m: string) {
          if (m === "server") ws.data.server.publish("t", "hello hello hello hello hello");
          else ws.publish("t", "hello hello hello hello hello");
        },
      }, () => ({ server: serverRef.current })),
    }),
    async ({ server, port }) => {
      serverRef.current = server;
      const sub = await WsRaw.connect(port, { extensions: "permessage-deflate" });
      const pub = await WsRaw.connect(port, { extensions: "permessage-deflate" });
      await pub.sendMessage("server");
      const viaServer = await sub.nextMessage();
      await pub.sendMessage("ws");
      const viaWs = await sub.nextMessage();
      sub.close();
      pub.close();
      return { server: [viaServer.compressed, viaServer.text()], ws: [viaWs.compressed, viaWs.text()] };
    },
  );
  expect(seen).toEqual({ server: [true, "hello hello hello hello hello"], ws: [false, "hello hello hello hello hello"] });
});
const serverRef: { current: unknown } = { current: null };

test("publish returns -1 once a subscriber is behind queued output", async () => {
  const seen = await sameOnBoth(
    () =>
      wsApp({
        open(ws: any) {
          if (ws.data === "/sub") ws.subscribe("t");
        },
        message(ws: any) {
          // The subscriber reads nothing: publish until the frames wait behind queued output.
          const big = new Uint8Array(256 * 1024);
          const results = new Set<number>();
          for (let i = 0; i < 64 && !results.has(-1); i++) {
            const r = ws.publish("t", big);
            results.add(r > 0 ? 1 : r);
          }
          ws.send(JSON.stringify([...results].sort()));
        },
      }),
    async ({ port }) => {
      const sub = await RawClient.connect(port, { keep: false });
      sub.pause();
      await sub.send(upgradeRequest("/sub"));
      const pub = await openWs(port, "/pub");
      await Bun.sleep(50); // (the subscriber's open() must have run: it is in another connection)
      const result = JSON.parse((await roundTrip(pub, "go", 10_000)) as string) as number[];
      pub.socket.close();
      sub.reset();
      return result.includes(-1);
    },
  );
  expect(seen).toBe(true);
});

test("a close reason past 123 bytes reaches the close handler cut, as it went out", async () => {
  const log = new EventLog<[string, number, number]>();
  const seen = await sameOnBoth(
    () => wsApp({ message: (ws: any) => ws.close(4000, "é".repeat(100)), close: (ws: any, code: number, reason: string) => log.push([ws.data, code, Buffer.byteLength(reason)]) }),
    async ({ port }) => {
      const c = await openWs(port, "/cut");
      c.socket.send("close please");
      const client = await closeOf(c);
      await log.until((e) => e.length > 0, 5000, "the close handler");
      const handler = log.entries.pop()!;
      return { client: [client.code, Buffer.byteLength(client.reason)], handler: [handler[1], handler[2]] };
    },
  );
  expect(seen.client[0]).toBe(4000);
  expect(seen.client[1]).toBeLessThanOrEqual(123);
  expect(seen.handler).toEqual(seen.client);
});

test("arguments: ping data over 125 bytes, a close code that is not a number, an empty topic throw; send(123) sends text", async () => {
  const seen = await sameOnBoth(
    () =>
      wsApp({
        message(ws: any) {
          const threw = (f: () => unknown) => {
            try {
              f();
              return false;
            } catch (e) {
              return `${(e as Error).constructor.name}: ${(e as Error).message}`;
            }
          };
          const result = {
            longPing: threw(() => ws.ping("x".repeat(200))),
            stringCode: threw(() => ws.close("4000")),
            emptyTopic: threw(() => ws.subscribe("")),
          };
          ws.send(JSON.stringify(result));
          ws.send(123);
        },
      }),
    async ({ port }) => {
      const raw = await WsRaw.connect(port, { path: "/args" });
      await raw.sendMessage("go");
      const first = JSON.parse((await raw.nextMessage()).text());
      const second = await raw.nextMessage();
      raw.close();
      return { ...first, number: [second.opcode === OP.TEXT, second.text()] };
    },
  );
  expect(seen).toEqual({
    longPing: "RangeError: The data size must not be greater than 125 bytes. Received 200 bytes.",
    stringCode: "TypeError: close requires a numeric code or undefined",
    emptyTopic: "Error: subscribe requires a non-empty topic name",
    number: [true, "123"],
  });
});
