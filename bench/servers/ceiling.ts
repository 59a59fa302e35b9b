// The ceiling of our architecture: a minimal Bun.listen responder with no HTTP parsing at all.
// It counts "\r\n\r\n" per data event (request heads; the benchmark sends no bodies), and answers
// every one with the same precomputed response bytes, in one batched write per read. What it
// serves: "Hello, World!" by default, or --file PATH from memory (application/octet-stream).
// --close: every response says "Connection: close" and the socket ends after it (one per connection).
//
// socket.write() takes what the kernel accepts and drops the rest (shared/BUN-NOTES.md), so the
// unsent tail is kept and resumed on drain; large responses are queued by reference, not copied.
import { readFileSync } from "node:fs";
import type { Socket } from "bun";
import { announce, parseServerArgs } from "./args.ts";

const args = parseServerArgs();
const body: Buffer = args.file !== undefined ? readFileSync(args.file) : Buffer.from("Hello, World!");
const contentType = args.file !== undefined ? "application/octet-stream" : "text/plain; charset=utf-8";

/** Responses up to this size are batched by copying; larger ones are queued as references. */
const BATCH_LIMIT = 64 * 1024;

let response = build();
/** response repeated n times, for n pipelined requests in one read (small responses only). */
let batches: Buffer[] = [];

function build(): Buffer {
  const head =
    `HTTP/1.1 200 OK\r\nContent-Type: ${contentType}\r\nContent-Length: ${body.length}\r\n` +
    `Date: ${new Date().toUTCString()}\r\n${args.close ? "Connection: close\r\n" : ""}\r\n`;
  return Buffer.concat([Buffer.from(head, "latin1"), body]);
}

// The Date line changes once a second: rebuild the precomputed bytes then, never per request.
setInterval(() => {
  response = build();
  batches = [];
}, 1000);

function batch(n: number): Buffer {
  let b = batches[n];
  if (b === undefined) {
    b = Buffer.allocUnsafe(response.length * n);
    for (let i = 0; i < n; i++) response.copy(b, i * response.length);
    batches[n] = b;
  }
  return b;
}

const CRLFCRLF = Buffer.from("\r\n\r\n");

interface State {
  /** The last ≤ 3 bytes of the previous read, for a "\r\n\r\n" split across reads. */
  tail: Buffer | null;
  queue: Buffer[];
  offset: number;
  ending: boolean;
}

function countHeads(st: State, chunk: Buffer): number {
  let n = 0;
  let from = 0;
  if (st.tail !== null) {
    const joined = Buffer.concat([st.tail, chunk.subarray(0, 3)]);
    const p = joined.indexOf(CRLFCRLF);
    if (p >= 0) {
      n++;
      from = p + 4 - st.tail.length;
    }
  }
  for (;;) {
    const i = chunk.indexOf(CRLFCRLF, from);
    if (i < 0) break;
    n++;
    from = i + 4;
  }
  // Keep the last ≤ 3 bytes after the last match; a short chunk with no match extends the old tail.
  const rest = chunk.length - from;
  if (rest >= 3) st.tail = chunk.subarray(chunk.length - 3);
  else if (from > 0 || st.tail === null) st.tail = rest > 0 ? chunk.subarray(from) : null;
  else st.tail = Buffer.concat([st.tail, chunk]).subarray(-3);
  return n;
}

function flush(socket: Socket<State>): void {
  const st = socket.data;
  const q = st.queue;
  while (q.length > 0) {
    const buf = q[0]!;
    const w = socket.write(buf, st.offset, buf.length - st.offset);
    if (w < 0) {
      q.length = 0;
      return;
    }
    st.offset += w;
    if (st.offset < buf.length) return; // the kernel is full: drain resumes
    q.shift();
    st.offset = 0;
  }
  if (st.ending) socket.end();
}

const listener = Bun.listen<State>({
  hostname: "127.0.0.1",
  port: args.port,
  socket: {
    open(socket) {
      socket.data = { tail: null, queue: [], offset: 0, ending: false };
    },
    data(socket, chunk: Buffer) {
      const st = socket.data;
      if (st.ending) return;
      let n = countHeads(st, chunk);
      if (n === 0) return;
      if (args.close) {
        n = 1;
        st.ending = true;
      }
      // With output still pending, the drain handler carries on from the queue.
      const idle = st.queue.length === 0;
      if (n === 1) st.queue.push(response);
      else if (response.length * n <= BATCH_LIMIT) st.queue.push(batch(n));
      else for (let i = 0; i < n; i++) st.queue.push(response);
      if (idle) flush(socket);
    },
    drain(socket) {
      flush(socket);
    },
    close() {},
    error() {},
  },
});
announce(`ceiling${args.file !== undefined ? " (file)" : ""}${args.close ? " (close)" : ""}`, listener.port);
const stop = () => {
  listener.stop(true);
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
