// Parser microbenchmark: our head parser + body framing against http-parser-js and undici's llhttp (wasm).
//
// Every parser does the same work per iteration: parse every head in the buffer, frame every body
// (Content-Length skipped, chunked decoded into a no-op sink), and count requests, headers, target bytes
// and body bytes. Offsets are recorded, strings are not built, except where a parser cannot avoid it
// (http-parser-js makes strings of every line by design). Run: bun run bench/parser.bench.ts
import { HTTPParser } from "http-parser-js";
import { bench, do_not_optimize, group, run, summary } from "mitata";
import { ERROR as LLHTTP_ERROR, METHODS as LLHTTP_METHODS, TYPE as LLHTTP_TYPE } from "undici/lib/llhttp/constants.js";
import { ChunkedDecoder, type BodySink } from "../src/http/chunked.ts";
import { RequestHead } from "../src/http/head.ts";
import { parseRequestHead } from "../src/http/parser.ts";
import { CORPUS, type CorpusEntry } from "./corpus.ts";

/** What one pass over a corpus entry saw; equal across parsers, or the comparison means nothing. */
interface Tally {
  requests: number;
  headers: number;
  targetBytes: number;
  bodyBytes: number;
}

/** One request as a string summary: built only by the correctness check, never while timing. */
interface RequestSummary {
  method: string;
  target: string;
  headers: string[];
  bodyBytes: number;
}

type Describe = ((r: RequestSummary) => void) | null;

function newTally(): Tally {
  return { requests: 0, headers: 0, targetBytes: 0, bodyBytes: 0 };
}

function clearTally(t: Tally): void {
  t.requests = 0;
  t.headers = 0;
  t.targetBytes = 0;
  t.bodyBytes = 0;
}

const latin1 = new TextDecoder("latin1");
function ascii(bytes: Uint8Array, start: number, end: number): string {
  return latin1.decode(bytes.subarray(start, end));
}

// ---------------------------------------------------------------------------------------------------
// Ours: stateless head parser, then Content-Length skipped or ChunkedDecoder run, looped for pipelining.

const ours = (() => {
  const tally = newTally();
  const head = new RequestHead();
  const decoder = new ChunkedDecoder();
  const sink: BodySink = {
    onBodyData(_buf, start, end) {
      tally.bodyBytes += end - start;
    },
  };
  let describe: Describe = null;

  function parse(buf: Uint8Array): Tally {
    clearTally(tally);
    const end = buf.length;
    let p = 0;
    while (p < end) {
      const n = parseRequestHead(buf, p, end, head);
      if (n < 0) throw new Error(`ours: head parse returned ${n}: ${head.describeError()}`);
      p += n;
      const bodyBefore = tally.bodyBytes;
      if (head.chunked) {
        decoder.reset();
        const m = decoder.decode(buf, p, end, sink);
        if (m < 0 || !decoder.done) throw new Error(`ours: chunked body ended early (${m}, error ${decoder.error})`);
        p += m;
      } else if (head.contentLength > 0) {
        const cl = head.contentLength;
        if (end - p < cl) throw new Error("ours: Content-Length body is incomplete");
        sink.onBodyData(buf, p, p + cl);
        p += cl;
      }
      tally.requests++;
      tally.headers += head.headerCount;
      tally.targetBytes += head.targetEnd - head.targetStart;
      if (describe !== null) {
        const headers: string[] = [];
        for (const [name, value] of head.entries()) headers.push(name, value);
        describe({ method: head.methodName, target: head.target, headers, bodyBytes: tally.bodyBytes - bodyBefore });
      }
    }
    return tally;
  }

  return {
    parse,
    setDescribe(d: Describe) {
      describe = d;
    },
  };
})();

// ---------------------------------------------------------------------------------------------------
// http-parser-js: one REQUEST parser, reused. After each complete message it reinitializes itself
// (nextRequest), so a buffer of whole requests leaves it ready for the next iteration.

const httpParserJs = (() => {
  const tally = newTally();
  const parser = new HTTPParser(HTTPParser.REQUEST);
  let describe: Describe = null;
  let info: { method: number; url: string; headers: string[] } | null = null;
  let bodyBefore = 0;

  parser[HTTPParser.kOnHeadersComplete] = (i) => {
    tally.headers += i.headers.length >> 1;
    tally.targetBytes += i.url.length;
    if (describe !== null) info = i;
  };
  parser[HTTPParser.kOnBody] = (_chunk, _offset, length) => {
    tally.bodyBytes += length;
  };
  parser[HTTPParser.kOnMessageComplete] = () => {
    tally.requests++;
    if (describe !== null && info !== null) {
      describe({
        method: HTTPParser.methods[info.method]!,
        target: info.url,
        headers: info.headers.slice(),
        bodyBytes: tally.bodyBytes - bodyBefore,
      });
      bodyBefore = tally.bodyBytes;
    }
  };

  function parse(buf: Buffer): Tally {
    clearTally(tally);
    bodyBefore = 0;
    const r = parser.execute(buf, 0, buf.length);
    if (r instanceof Error) throw new Error(`http-parser-js: ${r.message}`);
    if (r !== buf.length) throw new Error(`http-parser-js consumed ${r} of ${buf.length} bytes`);
    return tally;
  }

  return {
    parse,
    setDescribe(d: Describe) {
      describe = d;
    },
  };
})();

// ---------------------------------------------------------------------------------------------------
// llhttp, as undici ships it (lib/llhttp/*-wasm.js) and wires it (lib/dispatcher/client-h1.js), but set up
// as a REQUEST parser. Span callbacks receive wasm addresses; like ours, they record offsets only.

interface LlhttpExports {
  memory: WebAssembly.Memory;
  malloc(size: number): number;
  llhttp_alloc(type: number): number;
  llhttp_execute(parser: number, data: number, len: number): number;
  llhttp_get_method(parser: number): number;
  llhttp_get_error_reason(parser: number): number;
  llhttp_reset(parser: number): void;
}

function loadLlhttpModule(): { module: WebAssembly.Module; simd: boolean } {
  // undici prefers the SIMD build and falls back to the plain one when the engine rejects it.
  try {
    return { module: new WebAssembly.Module(require("undici/lib/llhttp/llhttp_simd-wasm.js")), simd: true };
  } catch {
    return { module: new WebAssembly.Module(require("undici/lib/llhttp/llhttp-wasm.js")), simd: false };
  }
}

const llhttp = (() => {
  const tally = newTally();
  const MAX_FIELDS = 100;
  /** [fieldAt, fieldLen, valueAt, valueLen] per header, as wasm addresses: the analogue of head.offsets. */
  const offsets = new Int32Array(MAX_FIELDS * 4);
  let fields = 0;
  let targetAt = 0;
  let targetLen = 0;
  let describe: Describe = null;
  let bodyBefore = 0;

  const { module, simd } = loadLlhttpModule();
  const instance = new WebAssembly.Instance(module, {
    env: {
      wasm_on_message_begin: (_p: number) => {
        fields = 0;
        targetLen = 0;
        return 0;
      },
      wasm_on_url: (_p: number, at: number, len: number) => {
        if (targetLen === 0) targetAt = at;
        targetLen += len;
        return 0;
      },
      wasm_on_status: (_p: number, _at: number, _len: number) => 0,
      wasm_on_header_field: (_p: number, at: number, len: number) => {
        const o = fields << 2;
        offsets[o] = at;
        offsets[o + 1] = len;
        fields++;
        return 0;
      },
      wasm_on_header_value: (_p: number, at: number, len: number) => {
        const o = (fields - 1) << 2;
        offsets[o + 2] = at;
        offsets[o + 3] = len;
        return 0;
      },
      wasm_on_headers_complete: (_p: number, _status: number, _upgrade: number, _keepAlive: number) => {
        tally.headers += fields;
        tally.targetBytes += targetLen;
        return 0;
      },
      wasm_on_body: (_p: number, _at: number, len: number) => {
        tally.bodyBytes += len;
        return 0;
      },
      wasm_on_message_complete: (p: number) => {
        tally.requests++;
        if (describe !== null) describeRequest(p);
        return 0;
      },
    },
  });
  const wasm = instance.exports as unknown as LlhttpExports;
  const ptr = wasm.llhttp_alloc(LLHTTP_TYPE.REQUEST!);

  // One input buffer in wasm memory, sized in 4 KiB steps as undici does; the view is re-made if memory grows.
  const capacity = Math.ceil(Math.max(...CORPUS.map((e) => e.bytes.length)) / 4096) * 4096;
  const dataPtr = wasm.malloc(capacity);
  let view = new Uint8Array(wasm.memory.buffer, dataPtr, capacity);

  const methodNames: string[] = [];
  for (const [name, code] of Object.entries(LLHTTP_METHODS)) methodNames[code] = name;

  function describeRequest(p: number): void {
    const mem = new Uint8Array(wasm.memory.buffer);
    const headers: string[] = [];
    for (let i = 0; i < fields; i++) {
      const o = i << 2;
      headers.push(ascii(mem, offsets[o]!, offsets[o]! + offsets[o + 1]!));
      headers.push(ascii(mem, offsets[o + 2]!, offsets[o + 2]! + offsets[o + 3]!));
    }
    describe!({
      method: methodNames[wasm.llhttp_get_method(p)]!,
      target: ascii(mem, targetAt, targetAt + targetLen),
      headers,
      bodyBytes: tally.bodyBytes - bodyBefore,
    });
    bodyBefore = tally.bodyBytes;
  }

  function parse(buf: Uint8Array): Tally {
    clearTally(tally);
    bodyBefore = 0;
    if (view.buffer !== wasm.memory.buffer) view = new Uint8Array(wasm.memory.buffer, dataPtr, capacity);
    // The copy into wasm linear memory is part of llhttp's real cost in JS: undici's Parser.execute()
    // does exactly this (currentBuffer.set(chunk)) for every chunk a socket delivers.
    view.set(buf);
    const ret = wasm.llhttp_execute(ptr, dataPtr, buf.length);
    if (ret !== LLHTTP_ERROR.OK) {
      const reasonPtr = wasm.llhttp_get_error_reason(ptr);
      const mem = new Uint8Array(wasm.memory.buffer);
      const reason = reasonPtr ? ascii(mem, reasonPtr, mem.indexOf(0, reasonPtr)) : "";
      wasm.llhttp_reset(ptr);
      throw new Error(`llhttp: error ${ret} ${reason}`);
    }
    return tally;
  }

  return {
    name: simd ? "llhttp (wasm simd)" : "llhttp (wasm)",
    parse,
    setDescribe(d: Describe) {
      describe = d;
    },
  };
})();

// ---------------------------------------------------------------------------------------------------
// Correctness first: all three must see the same requests, or the timings compare different work.

interface Contender {
  name: string;
  parse(entry: Prepared): Tally;
  setDescribe(d: Describe): void;
}

interface Prepared {
  entry: CorpusEntry;
  bytes: Uint8Array;
  /** The same bytes as a Buffer view (no copy): http-parser-js decodes lines with Buffer#toString. */
  buffer: Buffer;
}

const contenders: Contender[] = [
  { name: "ours", parse: (e) => ours.parse(e.bytes), setDescribe: ours.setDescribe },
  { name: "http-parser-js", parse: (e) => httpParserJs.parse(e.buffer), setDescribe: httpParserJs.setDescribe },
  { name: llhttp.name, parse: (e) => llhttp.parse(e.bytes), setDescribe: llhttp.setDescribe },
];

const prepared: Prepared[] = CORPUS.map((entry) => ({
  entry,
  bytes: entry.bytes,
  buffer: Buffer.from(entry.bytes.buffer, entry.bytes.byteOffset, entry.bytes.byteLength),
}));

function verify(p: Prepared): void {
  const fail = (msg: string): never => {
    console.error(`\nMISMATCH in "${p.entry.name}": ${msg}`);
    process.exit(1);
  };
  let reference: { name: string; requests: RequestSummary[]; tally: Tally } | null = null;
  for (const c of contenders) {
    const requests: RequestSummary[] = [];
    c.setDescribe((r) => requests.push(r));
    let tally: Tally;
    try {
      tally = { ...c.parse(p) };
    } catch (err) {
      return fail(`${c.name} threw: ${(err as Error).message}`);
    } finally {
      c.setDescribe(null);
    }
    // The timed path (no describe hook) must produce the same counts as the described one.
    const timed = { ...c.parse(p) };
    if (JSON.stringify(timed) !== JSON.stringify(tally)) fail(`${c.name}: timed pass ${JSON.stringify(timed)} ≠ ${JSON.stringify(tally)}`);
    if (tally.requests !== p.entry.requests) fail(`${c.name} saw ${tally.requests} requests, corpus has ${p.entry.requests}`);
    if (tally.bodyBytes !== p.entry.bodyBytes) fail(`${c.name} saw ${tally.bodyBytes} body bytes, corpus has ${p.entry.bodyBytes}`);
    if (requests.length !== tally.requests) fail(`${c.name} described ${requests.length} of ${tally.requests} requests`);
    if (reference === null) {
      reference = { name: c.name, requests, tally };
      continue;
    }
    if (JSON.stringify(tally) !== JSON.stringify(reference.tally)) {
      fail(`${c.name} ${JSON.stringify(tally)} ≠ ${reference.name} ${JSON.stringify(reference.tally)}`);
    }
    for (let i = 0; i < requests.length; i++) {
      const a = JSON.stringify(requests[i]);
      const b = JSON.stringify(reference.requests[i]);
      if (a !== b) fail(`request ${i}: ${c.name} ${a}\n  ≠ ${reference.name} ${b}`);
    }
  }
}

for (const p of prepared) verify(p);
console.log(
  `verified: ${prepared.map((p) => `${p.entry.name} (${p.bytes.length} B, ${p.entry.requests} req)`).join(", ")}\n`,
);

// ---------------------------------------------------------------------------------------------------
// Timing: one group per corpus entry; ours is the baseline so summary prints the peers relative to it.

const order: { entry: string; contender: string }[] = [];
for (const p of prepared) {
  group(p.entry.name, () => {
    summary(() => {
      for (const c of contenders) {
        const b = bench(c.name, () => do_not_optimize(c.parse(p)));
        if (c.name === "ours") b.baseline(true);
        order.push({ entry: p.entry.name, contender: c.name });
      }
    });
  });
}

const results = await run({});

// mitata reports trials in registration order; their aliases are only the parser names.
const avg = new Map<string, number>();
results.benchmarks.forEach((trial, i) => {
  const o = order[i]!;
  if (trial.alias !== o.contender) throw new Error(`unexpected trial order: ${trial.alias} at ${i}`);
  const stats = trial.runs[0]?.stats;
  if (stats) avg.set(`${o.entry}\0${o.contender}`, stats.avg);
});

const peers = contenders.slice(1).map((c) => c.name);
const rows = [["corpus", "ours ns/iter", ...peers.map((n) => `${n} ns/iter`), ...peers.map((n) => `${n} / ours`)]];
for (const p of prepared) {
  const time = (c: string) => avg.get(`${p.entry.name}\0${c}`) ?? NaN;
  const base = time("ours");
  rows.push([
    p.entry.name,
    base.toFixed(1),
    ...peers.map((n) => time(n).toFixed(1)),
    ...peers.map((n) => `${(time(n) / base).toFixed(2)}x`),
  ]);
}
const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)));
console.log(
  `\n${rows.map((r) => r.map((cell, col) => (col === 0 ? cell.padEnd(widths[col]!) : cell.padStart(widths[col]!))).join("  ")).join("\n")}`,
);
