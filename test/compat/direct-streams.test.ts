// `type: "direct"` streams: what `pull` writes is the body, and it ends when `pull`'s promise
// resolves, as under Bun.serve. (Read through a reader, Bun calls `pull` again and again; we drive the
// source ourselves: src/app/direct-streams.ts, DirectSource in src/server/direct-source.ts.)
import { describe, expect, test } from "bun:test";
import { onBoth, sameOnBoth } from "../helpers/compat.ts";
import { RawClient } from "../helpers/raw-client.ts";
import { GET } from "../helpers/wire.ts";

type Controller = { write(c: unknown): number; flush(): unknown; end(): void; close(): void };
const direct = (pull: (c: Controller) => unknown, init?: ResponseInit) =>
  new Response(new ReadableStream({ type: "direct", pull } as never), init);
const tick = () => new Promise((r) => setTimeout(r, 2));

async function wire(port: number, done: (text: string) => boolean): Promise<{ text: string; closed: boolean }> {
  const c = await RawClient.connect(port);
  try {
    await c.send(GET());
    await c.until(() => done(c.text()) || c.ended, 2000);
    return { text: c.text().replace(/\r\n(Date|Server): [^\r]*/gi, "").replace(/content-type/i, "Content-Type"), closed: c.ended };
  } finally {
    c.close();
  }
}
const ended = (t: string) => t.endsWith("0\r\n\r\n");
const CHUNKED = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";

describe("direct streams", () => {
  test("the body ends when pull's promise resolves", async () => {
    const bun = await sameOnBoth(
      () => ({
        fetch: () =>
          direct(async (c) => {
            c.write("a");
            await c.flush();
            await tick();
            c.write("bc");
            await c.flush();
          }),
      }),
      (s) => wire(s.port, ended),
    );
    expect(bun.text).toBe(`${CHUNKED}1\r\na\r\n2\r\nbc\r\n0\r\n\r\n`);
  });

  test("close() and end() end it too; bytes and ArrayBuffers are written as they are", async () => {
    for (const finish of ["close", "end"] as const) {
      const bun = await sameOnBoth(
        () => ({
          fetch: () =>
            direct(async (c) => {
              c.write(new Uint8Array([104, 105]));
              await c.flush();
              await tick();
              c.write(new Uint8Array([33]).buffer);
              c[finish]();
            }),
        }),
        (s) => wire(s.port, ended),
      );
      expect(bun.text).toBe(`${CHUNKED}2\r\nhi\r\n1\r\n!\r\n0\r\n\r\n`);
    }
  });

  test("an event written and flushed reaches the client while pull still waits", async () => {
    const bun = await sameOnBoth(
      () => ({
        fetch: () =>
          direct(
            async (c) => {
              c.write("data: x\n\n");
              await c.flush();
              await new Promise(() => {});
            },
            { headers: { "Content-Type": "text/event-stream" } },
          ),
      }),
      (s) => wire(s.port, (t) => t.includes("data: x")),
    );
    expect(bun).toEqual({
      text: "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n9\r\ndata: x\n\n\r\n",
      closed: false,
    });
  });

  test("a pull that fails after writing: the chunks so far, then the connection is cut", async () => {
    const bun = await sameOnBoth(
      () => ({
        fetch: () =>
          direct(async (c) => {
            c.write("a");
            await c.flush();
            await tick();
            throw new Error("boom");
          }),
        error: () => new Response("E"),
      }),
      (s) => wire(s.port, () => false),
    );
    expect(bun).toEqual({ text: `${CHUNKED}1\r\na\r\n`, closed: true });
  });

  test("a pull that returns at once: Bun never ends the body; we do (kept on purpose)", async () => {
    const { bun, ours } = await onBoth(
      () => ({ fetch: () => direct((c) => void (c.write("a"), c.write("bc"))) }),
      (s) => wire(s.port, (t) => t.includes("abc")),
    );
    expect(bun).toEqual({ text: `${CHUNKED}3\r\nabc\r\n`, closed: false });
    expect(ours).toEqual({ text: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc", closed: false });
  });

  test("instanceof, subclasses and ordinary streams are unchanged by the tracking", async () => {
    await sameOnBoth(() => ({ fetch: () => new Response("x") }), async () => null); // tracking on
    const s = new ReadableStream({ type: "direct", pull() {} } as never);
    expect(s).toBeInstanceOf(ReadableStream);
    const RS = ReadableStream as unknown as new () => object;
    class Sub extends RS {}
    expect(new Sub()).toBeInstanceOf(ReadableStream);
    expect(await new Response(new ReadableStream({ start: (c) => (c.enqueue("ok"), c.close()) })).text()).toBe("ok");
    expect((ReadableStream as unknown as { from: unknown }).from).toBeFunction();
  });
});
