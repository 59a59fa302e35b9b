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

// Backpressure, as Bun's own serve tests exercise it: the client stops reading until `pull` has met
// the backpressure (`park` is called where it waits), then reads everything. write() returns its
// length while the connection keeps up and a Promise when it does not; flush(true) waits for the
// drain and flush() does not; a drain settles those Promises and never calls `pull` again.
describe("direct streams under backpressure", () => {
  type Sink = { write(c: unknown): number | Promise<number>; flush(wait?: boolean): number | Promise<number>; end(): unknown };
  interface Probe {
    park(): void;
    writes: number;
    sawPromise: boolean;
    gate: Promise<void>;
  }
  const CHUNK = new Uint8Array(256 * 1024).fill(71);
  const COUNT = 64; // 16 MiB: well past a loopback send buffer
  const TAIL = "the-tail-marker\n";
  const wrote = (p: Probe, w: number | Promise<number>) => {
    if (w instanceof Promise) p.sawPromise = true;
    return w;
  };
  const cases: [string, (c: Sink, p: Probe) => Promise<void>, { stopsEarly: boolean; tail?: boolean }][] = [
    [
      "awaiting the Promise write() returns",
      async (c, p) => {
        for (; p.writes < COUNT; p.writes++) {
          const w = wrote(p, c.write(CHUNK));
          if (w instanceof Promise) {
            p.park();
            await w;
          }
        }
        await c.flush();
      },
      { stopsEarly: true },
    ],
    [
      "awaiting flush(true) when write() returns a Promise",
      async (c, p) => {
        for (; p.writes < COUNT; p.writes++) {
          if (wrote(p, c.write(CHUNK)) instanceof Promise) {
            p.park();
            await c.flush(true);
          }
        }
        await c.end();
      },
      { stopsEarly: true },
    ],
    [
      "ignoring it (awaiting flush(), which does not wait), then parked on something else",
      async (c, p) => {
        for (; p.writes < COUNT; p.writes++) {
          wrote(p, c.write(CHUNK));
          await c.flush();
        }
        p.park();
        await p.gate;
      },
      { stopsEarly: false },
    ],
    [
      "a small write queued under backpressure",
      async (c, p) => {
        while (!(wrote(p, c.write(CHUNK)) instanceof Promise)) p.writes++;
        p.writes++;
        c.write(TAIL);
        p.park();
        await c.flush(true);
        await c.end();
      },
      { stopsEarly: true, tail: true },
    ],
  ];

  interface Run {
    probe: Probe;
    pulls: number;
    parked: Promise<void>;
    open(): void;
  }
  let run: Run | null = null; // the server being checked: onBoth makes one, checks it, then the next
  const fresh = (): Run => {
    const parked = Promise.withResolvers<void>();
    const gate = Promise.withResolvers<void>();
    const probe: Probe = { park: () => parked.resolve(), writes: 0, sawPromise: false, gate: gate.promise };
    return { probe, pulls: 0, parked: parked.promise, open: () => gate.resolve() };
  };

  test.each(cases)("%s: pull runs once, every byte arrives once", async (_name, produce, expected) => {
    const bun = await sameOnBoth(
      () => {
        const r = (run = fresh());
        return {
          fetch: () =>
            direct(async (c) => {
              r.pulls++;
              await produce(c as unknown as Sink, r.probe);
            }),
        };
      },
      async (s) => {
        const r = run!;
        const c = await RawClient.connect(s.port);
        try {
          c.pause();
          await c.send(GET("/", "Connection: close\r\n"));
          await r.parked;
          const atPark = { stopsEarly: r.probe.writes < COUNT, sawPromise: r.probe.sawPromise };
          c.resume();
          const size = () => r.probe.writes * CHUNK.length + (expected.tail ? TAIL.length : 0);
          if (!expected.stopsEarly) {
            // Parked on its gate: everything written reaches the client, and the drain does not pull.
            await c.until(() => c.received >= size(), 20000, "the body");
            atPark.stopsEarly ||= r.pulls !== 1;
            r.open();
          }
          await c.closedByServer(20000);
          const res = await c.response();
          const body = res.body;
          const fill = body.subarray(0, r.probe.writes * CHUNK.length).every((b) => b === 71);
          const tail = new TextDecoder().decode(body.subarray(r.probe.writes * CHUNK.length));
          return { ...atPark, pulls: r.pulls, whole: body.length === size() && fill, tail, chunked: res.header("transfer-encoding") };
        } finally {
          r.open();
          c.close();
        }
      },
    );
    expect(bun).toEqual({
      stopsEarly: expected.stopsEarly,
      sawPromise: true,
      pulls: 1,
      whole: true,
      tail: expected.tail ? TAIL : "",
      chunked: "chunked",
    });
  });
});

test("a direct stream that ignores backpressure: Bun buffers all of it; we cut it past 64 MiB (kept on purpose)", async () => {
  const CHUNK = new Uint8Array(256 * 1024).fill(72);
  const COUNT = 320; // 80 MiB written ahead of a client that is not reading
  let done = Promise.withResolvers<number>();
  const { bun, ours } = await onBoth(
    () => {
      done = Promise.withResolvers<number>();
      const finished = done;
      return {
        fetch: () =>
          direct(async (c) => {
            let refused = 0;
            for (let i = 0; i < COUNT; i++) {
              if ((c.write(CHUNK) as unknown) === 0) refused++;
              await c.flush();
            }
            finished.resolve(refused);
          }),
      };
    },
    async (s) => {
      const c = await RawClient.connect(s.port, { keep: false });
      try {
        c.pause();
        await c.send(GET("/", "Connection: close\r\n"));
        const refused = await done.promise;
        c.resume();
        await c.closedByServer(20000);
        return { refused: refused > 0, whole: c.received >= COUNT * CHUNK.length };
      } finally {
        c.close();
      }
    },
  );
  expect(bun).toEqual({ refused: false, whole: true });
  expect(ours).toEqual({ refused: true, whole: false });
});
