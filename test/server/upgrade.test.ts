// The upgrade seam: after a 101 the protocol a handler returned owns the socket, gets the bytes that
// came after the request, writes through the connection's output, and hears close and its deadline.
import { describe, expect, test } from "bun:test";
import { serve } from "../../src/index.ts";
import type { Reply } from "../../src/server/reply.ts";
import type { Protocol, UpgradedConnection } from "../../src/server/upgrade.ts";
import { RawClient } from "../helpers/raw-client.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const UPGRADE_REQUEST = "GET /chat HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n";

function deferred<T = void>() {
  let resolve!: (v?: T) => void;
  const promise = new Promise<T>((r) => (resolve = r as (v?: T) => void));
  return { promise, resolve };
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, Bun.sleep(ms).then(() => Promise.reject(new Error(`timed out waiting for ${what}`)))]);
}

/** What a test sees of its protocol. */
interface Probe {
  received: Uint8Array | null;
  conn: UpgradedConnection | null;
  closed: ReturnType<typeof deferred>;
  timedOut: ReturnType<typeof deferred<number>>;
  ended: ReturnType<typeof deferred>;
  /** When setDeadline was called, performance.now(). */
  deadlineSetAt: number;
}

function newProbe(): Probe {
  return { received: null, conn: null, closed: deferred(), timedOut: deferred<number>(), ended: deferred(), deadlineSetAt: 0 };
}

/**
 * An echo protocol: every byte back, through the cork buffer and one flush. "bye" makes it answer
 * "goodbye" and end(); "deadline:N" arms setDeadline(N).
 */
function echoProtocol(probe: Probe) {
  return (conn: UpgradedConnection, received: Uint8Array): Protocol => {
    probe.conn = conn;
    probe.received = received.slice();
    const echo = (chunk: Uint8Array) => {
      const s = dec.decode(chunk);
      if (s === "bye") {
        conn.output.cork().bytes(enc.encode("goodbye"));
        conn.output.flush();
        conn.end();
        return;
      }
      const m = /^deadline:(\d+)$/.exec(s);
      if (m) {
        probe.deadlineSetAt = performance.now();
        conn.setDeadline(Number(m[1]));
        return;
      }
      conn.output.cork().bytes(chunk);
      conn.output.flush();
    };
    if (received.length > 0) echo(received);
    return {
      onData: echo,
      onDrain() {},
      onEnd() {
        probe.ended.resolve();
        conn.end();
      },
      onClose() {
        probe.closed.resolve();
      },
      onTimeout() {
        probe.timedOut.resolve(performance.now());
      },
    };
  };
}

function upgradeServer(probe: Probe, async = false) {
  const reply = (): Reply => ({ status: 101, headers: [["Upgrade", "echo"]], upgrade: echoProtocol(probe) });
  return serve({
    port: 0,
    hostname: "127.0.0.1",
    log: "off",
    handler: (req) => {
      if (req.path !== "/chat") return "plain";
      return async ? Bun.sleep(20).then(reply) : reply();
    },
  });
}

const text = (c: RawClient) => dec.decode(c.pending);

describe("upgrade", () => {
  test("101 Switching Protocols with Connection: Upgrade; later bytes are echoed", async () => {
    const probe = newProbe();
    using server = upgradeServer(probe);
    const c = await RawClient.connect(server.port);
    await c.send(UPGRADE_REQUEST);
    const res = await c.response();
    expect(res.status).toBe(101);
    expect(dec.decode(res.raw).startsWith("HTTP/1.1 101 Switching Protocols\r\n")).toBe(true);
    expect(res.header("connection")).toBe("Upgrade");
    expect(res.header("upgrade")).toBe("echo");
    expect(res.header("content-length")).toBeUndefined();
    expect(res.header("transfer-encoding")).toBeUndefined();
    expect(probe.received?.length).toBe(0);
    await c.send("ping");
    await c.until(() => text(c) === "ping", 5000, "the echo");
    // Bytes that look like HTTP are the protocol's now, not a request.
    await c.send(" GET / HTTP/1.1\r\n\r\n");
    await c.until(() => text(c) === "ping GET / HTTP/1.1\r\n\r\n", 5000, "the second echo");
    c.close();
    await within(probe.closed.promise, 5000, "onClose");
  });

  test("bytes sent in the same write as the request are handed over as `received`", async () => {
    const probe = newProbe();
    using server = upgradeServer(probe);
    const c = await RawClient.connect(server.port);
    await c.send(`${UPGRADE_REQUEST}early bytes`);
    const res = await c.response();
    expect(res.status).toBe(101);
    expect(dec.decode(probe.received!)).toBe("early bytes");
    await c.until(() => text(c) === "early bytes", 5000, "the echo of the early bytes");
    await c.send(" and later");
    await c.until(() => text(c) === "early bytes and later", 5000, "the later echo");
    c.close();
  });

  test("an async handler: bytes sent while it works are handed over too", async () => {
    const probe = newProbe();
    using server = upgradeServer(probe, true);
    const c = await RawClient.connect(server.port);
    await c.send(UPGRADE_REQUEST);
    await c.send("sent while the handler works");
    const res = await c.response();
    expect(res.status).toBe(101);
    await c.until(() => text(c) === "sent while the handler works", 5000, "the echo");
    expect(dec.decode(probe.received!)).toBe("sent while the handler works");
    c.close();
  });

  test("an upgrade after a keep-alive request on the same connection", async () => {
    const probe = newProbe();
    using server = upgradeServer(probe);
    const c = await RawClient.connect(server.port);
    await c.send(`GET /plain HTTP/1.1\r\nHost: t\r\n\r\n${UPGRADE_REQUEST}after`);
    expect((await c.response()).text()).toBe("plain");
    expect((await c.response()).status).toBe(101);
    await c.until(() => text(c) === "after", 5000, "the echo");
    c.close();
  });

  test("onClose is called when the client closes", async () => {
    const probe = newProbe();
    using server = upgradeServer(probe);
    const c = await RawClient.connect(server.port);
    await c.send(UPGRADE_REQUEST);
    await c.response();
    c.reset();
    await within(probe.closed.promise, 5000, "onClose after the client reset");
    expect(server.connectionCount).toBe(0);
  });

  test("a client half-close reaches onEnd", async () => {
    const probe = newProbe();
    using server = upgradeServer(probe);
    const c = await RawClient.connect(server.port);
    await c.send(UPGRADE_REQUEST);
    await c.response();
    c.shutdown();
    await within(probe.ended.promise, 5000, "onEnd");
    await c.closedByServer();
  });

  test("conn.end() closes after its output has gone", async () => {
    const probe = newProbe();
    using server = upgradeServer(probe);
    const c = await RawClient.connect(server.port);
    await c.send(UPGRADE_REQUEST);
    await c.response();
    await c.send("bye");
    await c.closedByServer();
    expect(text(c)).toBe("goodbye");
    await within(probe.closed.promise, 5000, "onClose after end()");
  });

  test("conn.end() sends a large output whole before closing", async () => {
    const big = new Uint8Array(4 * 1024 * 1024).map((_, i) => (i * 13) & 255);
    using server = serve({
      port: 0,
      hostname: "127.0.0.1",
      log: "off",
      handler: () => ({
        status: 101,
        headers: [["Upgrade", "bulk"]],
        upgrade: (conn) => {
          conn.output.send(big);
          conn.end();
          return { onData() {}, onDrain() {}, onEnd() {}, onClose() {}, onTimeout() {} };
        },
      }),
    });
    const c = await RawClient.connect(server.port);
    await c.send(UPGRADE_REQUEST);
    await c.response();
    await c.closedByServer(10_000);
    expect(c.pending.length).toBe(big.length);
    expect(Buffer.from(c.pending).equals(Buffer.from(big))).toBe(true);
  });

  test("setDeadline fires onTimeout, no earlier than asked", async () => {
    const probe = newProbe();
    using server = upgradeServer(probe);
    const c = await RawClient.connect(server.port);
    await c.send(UPGRADE_REQUEST);
    await c.response();
    await c.send("deadline:300");
    const firedAt = await within(probe.timedOut.promise, 5000, "onTimeout");
    const after = firedAt - probe.deadlineSetAt;
    expect(after).toBeGreaterThanOrEqual(290);
    // The sweep runs about once a second.
    expect(after).toBeLessThan(2500);
    c.close();
  });

  test("setDeadline(0) clears the deadline", async () => {
    const probe = newProbe();
    let fired = 0;
    using server = serve({
      port: 0,
      hostname: "127.0.0.1",
      log: "off",
      handler: () => ({
        status: 101,
        headers: [["Upgrade", "x"]],
        upgrade: (conn) => {
          conn.setDeadline(200);
          conn.setDeadline(0);
          probe.conn = conn;
          return { onData() {}, onDrain() {}, onEnd() {}, onClose() {}, onTimeout: () => void fired++ };
        },
      }),
    });
    const c = await RawClient.connect(server.port);
    await c.send(UPGRADE_REQUEST);
    await c.response();
    // Two sweeps pass.
    await Bun.sleep(2200);
    expect(fired).toBe(0);
    expect(c.closed).toBe(false);
    c.close();
  });

  test("an upgraded connection is not closed by the HTTP idle timeout", async () => {
    const probe = newProbe();
    using server = serve({
      port: 0,
      hostname: "127.0.0.1",
      log: "off",
      keepAliveTimeout: 300,
      handler: () => ({ status: 101, headers: [["Upgrade", "echo"]], upgrade: echoProtocol(probe) }),
    });
    const c = await RawClient.connect(server.port);
    await c.send(UPGRADE_REQUEST);
    await c.response();
    await Bun.sleep(1500);
    expect(c.closed).toBe(false);
    await c.send("still here");
    await c.until(() => text(c) === "still here", 5000, "the echo");
    c.close();
  });

  test("a 101 to a request whose body is still arriving: no body byte reaches the protocol", async () => {
    let got = "";
    const entered = deferred();
    using server = serve({
      port: 0,
      hostname: "127.0.0.1",
      log: "off",
      handler: () => {
        entered.resolve();
        return {
          status: 101,
          headers: [["Upgrade", "x"]],
          upgrade: (_conn, received) => {
            got += dec.decode(received);
            return { onData: (chunk) => void (got += dec.decode(chunk)), onDrain() {}, onEnd() {}, onClose() {}, onTimeout() {} };
          },
        };
      },
    });
    const c = await RawClient.connect(server.port);
    await c.send("POST /chat HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: x\r\nContent-Length: 5\r\n\r\nhe");
    await within(entered.promise, 5000, "the handler to be entered");
    await c.send("llo");
    await c.send("proto");
    // Either the server finished the body before switching (the protocol sees "proto"), or it refused
    // the switch; it must not take the rest of the request body for protocol bytes.
    const settled = () => got.includes("proto") || c.closed || /^HTTP\/1\.1 [45]/.test(text(c));
    await c.until(settled, 3000, "the protocol or a refusal").catch(() => {});
    expect(got.replace("proto", "")).toBe("");
    c.close();
  });

  test("a 101 without `upgrade` is a 500", async () => {
    using server = serve({
      port: 0,
      hostname: "127.0.0.1",
      log: "off",
      handler: (req) => (req.path === "/ok" ? "ok" : { status: 101, headers: [["Upgrade", "echo"]] }),
    });
    const c = await RawClient.connect(server.port);
    await c.send(UPGRADE_REQUEST);
    const res = await c.response();
    expect(res.status).toBe(500);
    await c.send("GET /ok HTTP/1.1\r\nHost: t\r\n\r\n");
    expect((await c.response()).text()).toBe("ok");
    c.close();
  });

  test("an upgrade function that throws closes the connection", async () => {
    using server = serve({
      port: 0,
      hostname: "127.0.0.1",
      log: "off",
      handler: () => ({
        status: 101,
        headers: [["Upgrade", "echo"]],
        upgrade: () => {
          throw new Error("protocol refused");
        },
      }),
    });
    const c = await RawClient.connect(server.port);
    await c.send(UPGRADE_REQUEST);
    await c.closedByServer();
  });
});
