// CompressingSource: a body source compressed as it streams. Each read gives the bytes that decode to
// everything read from the inner source so far (a flush a piece), empty pieces are skipped, and every
// way it ends (the end, close(), close() mid-read) frees its slot: at most MAX_STREAMS at once, and
// past that the reply filter sends a stream as it is.
import { afterEach, describe, expect, test } from "bun:test";
import zlib from "node:zlib";
import { BR, type Coding, CODINGS, GZIP, ZSTD } from "../../src/compress/negotiate.ts";
import { compressReply } from "../../src/compress/reply-filter.ts";
import { activeStreams, CompressingSource, MAX_STREAMS, streamSlotFree } from "../../src/compress/stream-compressor.ts";
import type { BodySource } from "../../src/server/body.ts";
import type { Reply } from "../../src/server/reply.ts";
import type { ServerRequest } from "../../src/server/request.ts";

const enc = new TextEncoder();
const ALL: Coding[] = [BR, ZSTD, GZIP];
const name = (c: Coding) => CODINGS[c].name;

/** An inner source: the pieces given (sync or async reads, by turns), then the end; records close(). */
class FakeSource implements BodySource {
  closed = 0;
  reads = 0;
  #pieces: Uint8Array[];
  constructor(pieces: Uint8Array[]) {
    this.#pieces = [...pieces];
  }
  read(): Uint8Array | null | Promise<Uint8Array | null> {
    const piece = this.#pieces.shift() ?? null;
    return this.reads++ % 2 === 0 ? piece : Promise.resolve(piece);
  }
  close(): void {
    this.closed++;
  }
}

/** An inner source whose reads wait until `give` is called (a stream whose next event is not there yet). */
class WaitingSource implements BodySource {
  closed = 0;
  #waiting: ((piece: Uint8Array | null) => void) | null = null;
  read(): Promise<Uint8Array | null> {
    return new Promise((resolve) => (this.#waiting = resolve));
  }
  give(piece: Uint8Array | null): void {
    const w = this.#waiting;
    this.#waiting = null;
    w?.(piece);
  }
  get waiting(): boolean {
    return this.#waiting !== null;
  }
  close(): void {
    this.closed++;
    this.give(null); // as a cancelled stream's pending read resolves done
  }
}

function decoder(coding: Coding) {
  const z = coding === BR ? zlib.createBrotliDecompress() : coding === ZSTD ? zlib.createZstdDecompress() : zlib.createGunzip();
  const out: Uint8Array[] = [];
  let error: Error | null = null;
  z.on("data", (d: Uint8Array) => out.push(d));
  z.on("error", (e: Error) => (error = e));
  return {
    /** Everything decoded once `bytes` are taken in too. */
    push: (bytes: Uint8Array) =>
      new Promise<string>((resolve, reject) => {
        z.write(bytes);
        z.flush(() => (error ? reject(error) : resolve(Buffer.concat(out).toString())));
      }),
    end: () =>
      new Promise<string>((resolve, reject) => {
        z.once("end", () => resolve(Buffer.concat(out).toString()));
        z.once("error", reject);
        z.end();
      }),
  };
}

const event = (i: number) => enc.encode(`id: ${i}\nevent: tick\ndata: {"n":${i},"text":"${"payload ".repeat(i % 7)}"}\n\n`);

afterEach(() => {
  // Every test leaves no compressor behind.
  expect(activeStreams()).toBe(0);
});

describe("reads", () => {
  for (const coding of ALL) {
    test(`${name(coding)}: each read decodes, with those before, to every piece read so far`, async () => {
      const pieces = [event(0), new Uint8Array(0), event(1), event(2), enc.encode("x".repeat(100_000)), new Uint8Array(0), event(3)];
      const inner = new FakeSource(pieces);
      const s = new CompressingSource(inner, coding);
      expect(activeStreams()).toBe(1);
      const d = decoder(coding);
      const expected: string[] = [];
      const nonEmpty = pieces.filter((p) => p.length > 0);
      for (const piece of nonEmpty) {
        const out = await s.read();
        expect(out).not.toBeNull();
        expect(out!.length).toBeGreaterThan(0);
        expected.push(new TextDecoder().decode(piece));
        expect(await d.push(out!)).toBe(expected.join(""));
      }
      // The end: the compressor's last bytes, then null; the slot is free before close().
      const last = await s.read();
      expect(activeStreams()).toBe(0);
      if (last !== null) await d.push(last);
      expect(await s.read()).toBeNull();
      expect(await d.end()).toBe(expected.join(""));
      s.close();
      expect(inner.closed).toBe(1);
      expect(activeStreams()).toBe(0);
    });

    test(`${name(coding)}: an empty inner source gives a valid empty stream`, async () => {
      const s = new CompressingSource(new FakeSource([]), coding);
      const out: Uint8Array[] = [];
      for (let piece = await s.read(); piece !== null; piece = await s.read()) out.push(piece);
      const whole = Buffer.concat(out);
      const decoded = coding === BR ? zlib.brotliDecompressSync(whole) : coding === ZSTD ? zlib.zstdDecompressSync(whole) : zlib.gunzipSync(whole);
      expect(decoded.length).toBe(0);
      s.close();
    });
  }

  test("an event is given as soon as it is read, with no later piece needed", async () => {
    const inner = new WaitingSource();
    const s = new CompressingSource(inner, GZIP);
    const first = s.read();
    inner.give(event(1));
    const out = await first;
    expect(zlib.gunzipSync(out!, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).toString()).toBe(new TextDecoder().decode(event(1)));
    // It now waits on the inner source, holding nothing back.
    const second = s.read();
    await Bun.sleep(0);
    expect(inner.waiting).toBe(true);
    s.close();
    expect(await second).toBeNull();
  });
});

describe("slots", () => {
  test("close() before the end releases the slot, once however often it is called", async () => {
    const inner = new FakeSource([event(1), event(2)]);
    const a = new CompressingSource(inner, BR);
    const b = new CompressingSource(new FakeSource([]), GZIP);
    expect(activeStreams()).toBe(2);
    expect(await a.read()).not.toBeNull();
    a.close();
    a.close();
    expect(inner.closed).toBe(2);
    expect(activeStreams()).toBe(1);
    expect(await a.read()).toBeNull(); // closed: nothing more
    b.close();
    expect(activeStreams()).toBe(0);
  });

  test("close() while a read waits on the inner source: the read ends with null, the slot is free", async () => {
    for (const coding of ALL) {
      const inner = new WaitingSource();
      const s = new CompressingSource(inner, coding);
      const pending = s.read();
      expect(activeStreams()).toBe(1);
      s.close();
      expect(activeStreams()).toBe(0);
      expect(await pending).toBeNull();
      expect(inner.closed).toBe(1);
    }
  });

  test("close() while a large piece is being compressed: the read still settles, the slot is free", async () => {
    for (const coding of ALL) {
      const big = enc.encode("lorem ipsum dolor sit amet ".repeat(200_000)); // 5 MiB: still compressing at close()
      const s = new CompressingSource({ read: () => big, close: () => {} }, coding);
      const pending = s.read();
      await Bun.sleep(0);
      s.close();
      expect(activeStreams()).toBe(0);
      const settled = await Promise.race([pending.then(() => "settled"), Bun.sleep(5000).then(() => "still pending after 5 s")]);
      expect(settled).toBe("settled");
    }
  });

  test("an inner source that fails: the read rejects, and close() still frees the slot", async () => {
    const failing: BodySource = { read: () => Promise.reject(new Error("app stream broke")), close: () => {} };
    const s = new CompressingSource(failing, ZSTD);
    await expect(s.read()).rejects.toThrow("app stream broke");
    s.close();
    expect(activeStreams()).toBe(0);
  });

  test(`at MAX_STREAMS (${MAX_STREAMS}) compressing at once, the reply filter sends a stream as it is`, async () => {
    const req = { head: { header: (n: string) => (n === "accept-encoding" ? "gzip, br" : undefined) } } as unknown as ServerRequest;
    const streamReply = (): Reply => ({
      status: 200,
      headers: [["Content-Type", "text/event-stream"]],
      body: new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(event(0)) }),
    });
    const encodingOf = (r: Reply) => (r.headers as [string, string][]).find(([n]) => n.toLowerCase() === "content-encoding")?.[1];
    const varyOf = (r: Reply) => (r.headers as [string, string][]).find(([n]) => n.toLowerCase() === "vary")?.[1];

    const held: BodySource[] = [];
    try {
      for (let i = 0; i < MAX_STREAMS - 1; i++) {
        const r = compressReply(streamReply(), req, { minSize: 1024 }) as Reply;
        expect(encodingOf(r)).toBe("br");
        held.push(r.body as BodySource);
      }
      expect(streamSlotFree()).toBe(true);
      const last = compressReply(streamReply(), req, { minSize: 1024 }) as Reply;
      expect(encodingOf(last)).toBe("br");
      held.push(last.body as BodySource);
      expect(activeStreams()).toBe(MAX_STREAMS);
      expect(streamSlotFree()).toBe(false);

      // One more: identity, its own stream untouched, still Vary.
      const over = streamReply();
      const body = over.body;
      const r = compressReply(over, req, { minSize: 1024 }) as Reply;
      expect(encodingOf(r)).toBeUndefined();
      expect(varyOf(r)).toBe("Accept-Encoding");
      expect(r.body).toBe(body);
      expect(activeStreams()).toBe(MAX_STREAMS);

      // A slot freed: the next is compressed again.
      held.shift()!.close();
      expect(streamSlotFree()).toBe(true);
      const again = compressReply(streamReply(), req, { minSize: 1024 }) as Reply;
      expect(encodingOf(again)).toBe("br");
      held.push(again.body as BodySource);
    } finally {
      for (const s of held) s.close();
    }
    expect(activeStreams()).toBe(0);
  });
});
