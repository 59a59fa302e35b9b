// Where we differ from Bun.serve on purpose: Bun.serve never compresses a response, and sends no
// Vary; ours (compression on, as serve() has it by default) sends br, zstd or gzip as the client
// asks, with Vary: Accept-Encoding. onBoth runs ours with compress: false unless told otherwise; here
// `compress: true` turns it on (Bun.serve ignores an option it does not know, as checked below).
import { describe, expect, test } from "bun:test";
import zlib from "node:zlib";
import { onBoth, sameOnBoth } from "../helpers/compat.ts";
import { exchange, type RawResponse } from "../helpers/raw-client.ts";
import { GET, summarize } from "../helpers/wire.ts";

const TEXT = "The quick brown fox jumps over the lazy dog.\n".repeat(120).slice(0, 5 * 1024);
const SMALL = "x".repeat(500);

/** What matters here: status, coding, framing, Vary, and the body decoded. */
function look(r: RawResponse) {
  const coding = r.header("content-encoding");
  const body = coding === "br" ? zlib.brotliDecompressSync(r.body) : coding === "gzip" ? zlib.gunzipSync(r.body) : r.body;
  return {
    status: r.status,
    coding,
    vary: r.header("vary"),
    length: r.header("content-length"),
    chunked: r.header("transfer-encoding") === "chunked",
    wireBytes: r.body.length,
    decoded: new TextDecoder().decode(body),
  };
}

const text = () => new Response(TEXT);
const stream = () =>
  new Response(
    new ReadableStream<Uint8Array>({
      async pull(c) {
        await Bun.sleep(1); // pieces over time: chunked on both
        c.enqueue(new TextEncoder().encode(TEXT));
        c.close();
      },
    }),
    { headers: { "Content-Type": "text/plain" } },
  );

describe("a 5 KiB text body, Accept-Encoding: br", () => {
  test("Bun.serve: identity, no Vary; ours: br with Vary, the same text decoded", async () => {
    const { bun, ours } = await onBoth(
      () => ({ fetch: text, compress: true }),
      async (s) => look(await exchange(s.port, GET("/", "Accept-Encoding: br\r\n"))),
    );
    expect(bun).toEqual({ status: 200, coding: undefined, vary: undefined, length: String(TEXT.length), chunked: false, wireBytes: TEXT.length, decoded: TEXT });
    expect(ours.coding).toBe("br");
    expect(ours.vary).toBe("Accept-Encoding");
    expect(ours.length).toBe(String(ours.wireBytes));
    expect(ours.wireBytes).toBeLessThan(TEXT.length / 4);
    expect(ours.decoded).toBe(TEXT);
  });

  test("without Accept-Encoding both send identity; only ours says Vary", async () => {
    const { bun, ours } = await onBoth(
      () => ({ fetch: text, compress: true }),
      async (s) => look(await exchange(s.port, GET())),
    );
    expect(bun.vary).toBeUndefined();
    expect(ours.vary).toBe("Accept-Encoding");
    expect({ ...ours, vary: undefined as string | undefined }).toEqual(bun);
  });

  test("a stream: chunked on both, br only on ours", async () => {
    const { bun, ours } = await onBoth(
      () => ({ fetch: stream, compress: true }),
      async (s) => look(await exchange(s.port, GET("/", "Accept-Encoding: gzip, br\r\n"))),
    );
    expect(bun).toMatchObject({ coding: undefined, vary: undefined, chunked: true, decoded: TEXT });
    expect(ours).toMatchObject({ coding: "br", vary: "Accept-Encoding", chunked: true, decoded: TEXT });
  });
});

describe("where compression does not apply, the two agree", () => {
  const answer = async (s: { port: number }, extra: string) => {
    const r = await exchange(s.port, GET("/", extra));
    return { ...summarize(r), coding: r.header("content-encoding") ?? null, vary: r.header("vary") ?? null };
  };

  test("onBoth's default (ours with compress: false): the same answer to Accept-Encoding: br", async () => {
    await sameOnBoth(() => ({ fetch: text }), (s) => answer(s, "Accept-Encoding: br\r\n"));
  });

  test("a body under the minimum size, compression on", async () => {
    const bun = await sameOnBoth(() => ({ fetch: () => new Response(SMALL), compress: true }), (s) => answer(s, "Accept-Encoding: br\r\n"));
    expect(bun.body).toBe(SMALL);
    expect(bun.vary).toBeNull();
  });

  test("an image, compression on", async () => {
    const png = () => new Response(TEXT, { headers: { "Content-Type": "image/png" } });
    const bun = await sameOnBoth(() => ({ fetch: png, compress: true }), (s) => answer(s, "Accept-Encoding: br\r\n"));
    expect(bun.coding).toBeNull();
  });
});
