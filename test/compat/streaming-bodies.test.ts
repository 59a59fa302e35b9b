// Response bodies that stream, framed as Bun.serve frames them: an empty piece is never a last
// chunk, pieces enqueued at once make one Content-Length body, later ones go out chunked as they
// come (an event reaches the client while the stream stays open), and a failure mid-way cuts the
// connection. Raw TCP throughout: fetch() would hide the chunk boundaries.
import { describe, expect, test } from "bun:test";
import { onBoth, sameOnBoth } from "../helpers/compat.ts";
import { RawClient } from "../helpers/raw-client.ts";
import { GET } from "../helpers/wire.ts";

/** Everything the server sends for one GET until it closes, or `done` holds; head fields Bun and we differ on removed. */
async function wire(port: number, done: (text: string) => boolean = () => false): Promise<{ text: string; closed: boolean }> {
  const c = await RawClient.connect(port);
  try {
    await c.send(GET());
    await c.until(() => done(c.text()) || c.ended, 2000);
    return { text: c.text().replace(/\r\n(Date|Server): [^\r]*/gi, "").replace(/transfer-encoding/i, "Transfer-Encoding").replace(/content-length/i, "Content-Length").replace(/content-type/i, "Content-Type"), closed: c.ended };
  } finally {
    c.close();
  }
}

/** A stream that waits a turn of the event loop between pieces (so they do not arrive together). */
function paced(pieces: unknown[], then: "close" | "error" | "open" = "close"): ReadableStream {
  let i = 0;
  return new ReadableStream({
    async pull(c) {
      await new Promise((r) => setTimeout(r, 2));
      if (i < pieces.length) c.enqueue(pieces[i++]);
      else if (then === "close") c.close();
      else if (then === "error") c.error(new Error("boom"));
      else await new Promise(() => {});
    },
  });
}
const ended = (t: string) => t.endsWith("0\r\n\r\n");

describe("stream bodies", () => {
  test('"hello", "", " world" enqueued at once: whole, with a Content-Length', async () => {
    const bun = await sameOnBoth(
      () => ({ fetch: () => new Response(new ReadableStream({ start: (c) => (c.enqueue("hello"), c.enqueue(""), c.enqueue(" world"), c.close()) })) }),
      (s) => wire(s.port, (t) => t.endsWith("hello world")),
    );
    expect(bun.text).toBe("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world");
  });

  test('"hello", "", " world" one at a time: chunked, and the empty piece is no chunk', async () => {
    const bun = await sameOnBoth(
      () => ({ fetch: () => new Response(paced([new TextEncoder().encode("hello"), new Uint8Array(0), " world"])) }),
      (s) => wire(s.port, ended),
    );
    expect(bun.text).toBe("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  });

  test("strings as chunks", async () => {
    const bun = await sameOnBoth(() => ({ fetch: () => new Response(paced(["a", "b"])) }), (s) => wire(s.port, ended));
    expect(bun.text).toBe("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n1\r\nb\r\n0\r\n\r\n");
  });

  test("an async generator as the body", async () => {
    const gen = async function* () {
      yield "a";
      await new Promise((r) => setTimeout(r, 2));
      yield new Uint8Array([98]);
    };
    const bun = await sameOnBoth(() => ({ fetch: () => new Response(gen() as never) }), (s) => wire(s.port, ended));
    expect(bun.text).toBe("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n1\r\nb\r\n0\r\n\r\n");
  });

  test("an async iterable that yields at once: whole", async () => {
    const iterable = { async *[Symbol.asyncIterator]() { yield "x"; yield "y"; } };
    const bun = await sameOnBoth(() => ({ fetch: () => new Response(iterable as never) }), (s) => wire(s.port, (t) => t.endsWith("xy")));
    expect(bun.text).toBe("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nxy");
  });

  test("an empty stream, and one of an empty piece: Content-Length: 0", async () => {
    for (const make of [() => new ReadableStream({ start: (c) => c.close() }), () => new ReadableStream({ start: (c) => (c.enqueue(""), c.close()) })]) {
      const bun = await sameOnBoth(() => ({ fetch: () => new Response(make()) }), (s) => wire(s.port, (t) => t.endsWith("\r\n\r\n")));
      expect(bun.text).toBe("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    }
  });

  test("server-sent events: the first event arrives while the stream stays open", async () => {
    const bun = await sameOnBoth(
      () => ({
        fetch: () =>
          new Response(new ReadableStream({ start: (c) => c.enqueue("data: hi\n\n") }), { headers: { "Content-Type": "text/event-stream" } }),
      }),
      (s) => wire(s.port, (t) => t.includes("data: hi")),
    );
    expect(bun).toEqual({
      text: "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\na\r\ndata: hi\n\n\r\n",
      closed: false,
    });
  });

  test("an error mid-way: the chunks so far, then the connection is cut (no last chunk)", async () => {
    const bun = await sameOnBoth(() => ({ fetch: () => new Response(paced(["a"], "error")), error: () => new Response("E") }), (s) => wire(s.port));
    expect(bun).toEqual({ text: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n", closed: true });
  });

  test("an error before the first chunk: Bun closes with no response; we answer 500 (kept on purpose)", async () => {
    const { bun, ours } = await onBoth(
      () => ({ fetch: () => new Response(new ReadableStream({ start: (c) => c.error(new Error("boom")) })), error: () => new Response("E") }),
      (s) => wire(s.port, (t) => t.includes("\r\n\r\n")),
    );
    // Bun: the connection ends with nothing (for an error after a wait, with half a status line),
    // and `error` is not called. A 500 tells the client what happened while a response can still be sent.
    expect(bun).toEqual({ text: "", closed: true });
    expect(ours.text.startsWith("HTTP/1.1 500 Internal Server Error\r\n")).toBe(true);
  });
});
