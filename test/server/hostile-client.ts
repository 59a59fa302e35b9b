// The load of test/server/hostile.test.ts, in its own process so it does not share an event loop with
// the test runner: `bun hostile-client.ts '<Plan as JSON>'`. It opens `conns` connections to
// 127.0.0.1, runs the plan on each, stops by itself after `ms` at the latest, and prints one line of
// JSON (a Report).
//
// Every write respects socket.write()'s return value: what the kernel did not take is written again
// on `drain`, so the client never sends more than it means to and blocks when the server pushes back.
import type { Socket } from "bun";

export interface Plan {
  port: number;
  /**
   * upload:   a POST with a body; stops writing once answered (or closed), unless `wholeBody`.
   * pipeline: GET requests, `batch` per write, as fast as the socket takes them; never reads.
   * download: one GET; reads the first chunk of the answer, then never again.
   */
  mode: "upload" | "pipeline" | "download";
  conns: number;
  path: string;
  /** Stop everything after this many ms. */
  ms: number;
  /** upload: "length" sends `size` bytes with Content-Length; "chunked" sends 16 KiB chunks until stopped. */
  framing?: "length" | "chunked";
  size?: number;
  /** upload: send the whole body and read the whole answer (its text lands in the report). */
  wholeBody?: boolean;
  /** pipeline: requests per write. */
  batch?: number;
  /** Connections being opened at once (the listen backlog is 512). */
  opening?: number;
  /** Replace each finished connection with a new one until time runs out (`conns` stay open at once). */
  reopen?: boolean;
}

export interface Report {
  /** Connections tried, and opened (more than `conns` with `reopen`). */
  connections: number;
  opened: number;
  /** Connections that failed to open, or that saw a socket error. */
  errors: number;
  /** Status code → connections answered with it. */
  statuses: Record<string, number>;
  /** Answers carrying Allow, and Connection: close. */
  withAllow: number;
  withClose: number;
  /** Closed by the server before any answer. */
  closedUnanswered: number;
  /** Neither answered nor closed when time ran out. */
  timedOut: number;
  /** Body (upload) or request (pipeline) bytes the kernel took, summed and largest per connection. */
  sentTotal: number;
  sentMax: number;
  /** Requests fully written (pipeline). */
  requests: number;
  /** Writes that the kernel took only part of (or none of). */
  shortWrites: number;
  /** ms from open to the answer's head, over answered connections. */
  answerMsP50: number;
  answerMsMax: number;
  /** wholeBody: the answers' bodies, and the sha256 of what each connection sent. */
  bodies: string[];
  sentSha256: string[];
  elapsedMs: number;
}

const CHUNK = 16 * 1024;
/** Body bytes repeat a pseudo-random pattern of a prime length, so a lost or repeated piece changes the hash. */
const PATTERN_LENGTH = 1_000_003;

function makePattern(): Uint8Array {
  // Twice the pattern, so a write of up to PATTERN_LENGTH bytes from any phase is one view.
  const p = new Uint8Array(2 * PATTERN_LENGTH);
  let x = 0x9e3779b9;
  for (let i = 0; i < PATTERN_LENGTH; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    p[i] = p[i + PATTERN_LENGTH] = x & 0xff;
  }
  return p;
}

interface Conn {
  socket: Socket<Conn> | null;
  openedAt: number;
  /** Body or request bytes the kernel took. */
  sent: number;
  /** The piece being written and how far. */
  piece: Uint8Array | null;
  offset: number;
  head: string;
  status: number;
  answeredAt: number;
  allow: boolean;
  close: boolean;
  closed: boolean;
  finished: boolean;
  /** wholeBody: the answer's body so far, and its length once known. */
  body: string;
  bodyLength: number;
  hasher: Bun.CryptoHasher | null;
  requests: number;
}

async function run(plan: Plan): Promise<Report> {
  const started = performance.now();
  const pattern = plan.mode === "upload" && plan.framing !== "chunked" ? makePattern() : null;
  const chunk = new TextEncoder().encode(`${CHUNK.toString(16)}\r\n${"x".repeat(CHUNK)}\r\n`);
  const requestHead = new TextEncoder().encode(
    plan.mode === "upload"
      ? `POST ${plan.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n` +
          (plan.framing === "chunked" ? "Transfer-Encoding: chunked\r\n\r\n" : `Content-Length: ${plan.size}\r\n\r\n`)
      : `GET ${plan.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`,
  );
  const batch = plan.mode === "pipeline" ? new Uint8Array((plan.batch ?? 1) * requestHead.length) : null;
  if (batch !== null) for (let i = 0; i < batch.length; i += requestHead.length) batch.set(requestHead, i);

  const conns: Conn[] = [];
  let errors = 0;
  let shortWrites = 0;
  let stopping = false;
  let allDone: () => void = () => {};
  const done = new Promise<void>((resolve) => (allDone = resolve));
  let live = 0;

  const finish = (c: Conn) => {
    if (c.finished) return;
    c.finished = true;
    c.piece = null;
    c.socket?.end();
    live--;
    if (plan.reopen && !stopping) void open();
    else if (live === 0 && conns.length >= plan.conns) allDone();
  };

  /** The next piece to write, or null when there is nothing more to send. */
  const nextPiece = (c: Conn): Uint8Array | null => {
    if (plan.mode === "pipeline") return batch;
    if (plan.mode === "download") return null;
    if (plan.framing === "chunked") return chunk;
    const left = plan.size! - c.sent;
    if (left <= 0) return null;
    const phase = c.sent % PATTERN_LENGTH;
    return pattern!.subarray(phase, phase + Math.min(left, PATTERN_LENGTH));
  };

  /** Writes while the kernel takes everything; a short write waits for `drain`. */
  const pump = (c: Conn) => {
    const s = c.socket!;
    while (!c.finished && !stopping) {
      if (c.piece === null) {
        c.piece = nextPiece(c);
        c.offset = 0;
        if (c.piece === null) return;
      }
      const len = c.piece.length - c.offset;
      const n = s.write(c.piece, c.offset, len);
      if (n < 0) return finish(c);
      if (n > 0) {
        c.hasher?.update(c.piece.subarray(c.offset, c.offset + n));
        c.sent += n;
        c.offset += n;
      }
      if (n < len) {
        shortWrites++;
        return;
      }
      if (plan.mode === "pipeline") c.requests += plan.batch ?? 1;
      c.piece = null;
    }
  };

  const onData = (c: Conn, data: Uint8Array) => {
    if (c.finished) return;
    if (c.status === 0) {
      c.head += Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("latin1");
      const end = c.head.indexOf("\r\n\r\n");
      if (end < 0) return;
      const head = c.head.slice(0, end);
      c.status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? -1);
      c.answeredAt = performance.now();
      c.allow = /\r\nallow: /i.test(head);
      c.close = /\r\nconnection: close\r?$/im.test(head);
      c.bodyLength = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? 0);
      c.body = c.head.slice(end + 4);
      c.head = "";
      if (plan.mode === "download") {
        c.socket!.pause(); // and never read again
        return;
      }
      if (!plan.wholeBody) return finish(c); // answered: stop sending
    } else {
      c.body += Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("latin1");
    }
    if (c.body.length >= c.bodyLength) finish(c);
  };

  const open = async (): Promise<void> => {
    const c: Conn = {
      socket: null,
      openedAt: performance.now(),
      sent: 0,
      piece: null,
      offset: 0,
      head: "",
      status: 0,
      answeredAt: 0,
      allow: false,
      close: false,
      closed: false,
      finished: false,
      body: "",
      bodyLength: 0,
      hasher: plan.wholeBody ? new Bun.CryptoHasher("sha256") : null,
      requests: 0,
    };
    conns.push(c);
    live++;
    try {
      const s = await Bun.connect<Conn>({
        hostname: "127.0.0.1",
        port: plan.port,
        data: c,
        socket: {
          open(s) {
            c.socket = s;
            c.openedAt = performance.now();
            if (plan.mode === "pipeline") s.pause(); // never reads
            const n = s.write(requestHead, 0, requestHead.length);
            if (n < requestHead.length) {
              // A fresh socket takes a hundred bytes; if not, count it as a failure rather than guess.
              errors++;
              return finish(c);
            }
            if (plan.mode === "pipeline") {
              // The first request went out alone; the rest come in batches.
              c.sent = n;
              c.requests = 1;
            }
            pump(c);
          },
          data: (_s, data) => onData(c, data),
          drain: () => pump(c),
          close() {
            c.closed = true;
            finish(c);
          },
          error() {
            errors++;
            finish(c);
          },
        },
      });
      c.socket = s;
      if (stopping) finish(c);
    } catch {
      errors++;
      c.closed = true;
      finish(c);
    }
  };

  const timer = setTimeout(() => {
    stopping = true;
    allDone();
  }, plan.ms);
  // Open with at most `opening` connects in flight.
  const opening = plan.opening ?? 256;
  let next = 0;
  const opener = async () => {
    while (next < plan.conns && !stopping) {
      next++;
      await open();
    }
  };
  await Promise.all(Array.from({ length: Math.min(opening, plan.conns) }, opener));
  if (live === 0) allDone();
  await done;
  clearTimeout(timer);
  stopping = true;

  // The report describes the moment time ran out (or the last connection finished); then close.
  const answered = conns.filter((c) => c.status !== 0).map((c) => c.answeredAt - c.openedAt);
  answered.sort((a, b) => a - b);
  const statuses: Record<string, number> = {};
  for (const c of conns) if (c.status !== 0) statuses[c.status] = (statuses[c.status] ?? 0) + 1;
  const report: Report = {
    connections: conns.length,
    opened: conns.filter((c) => c.socket !== null).length,
    errors,
    statuses,
    withAllow: conns.filter((c) => c.allow).length,
    withClose: conns.filter((c) => c.close).length,
    closedUnanswered: conns.filter((c) => c.status === 0 && c.closed).length,
    timedOut: conns.filter((c) => c.status === 0 && !c.closed).length + Math.max(0, plan.conns - conns.length),
    sentTotal: conns.reduce((a, c) => a + c.sent, 0),
    sentMax: conns.reduce((a, c) => Math.max(a, c.sent), 0),
    requests: conns.reduce((a, c) => a + c.requests, 0),
    shortWrites,
    answerMsP50: answered.length > 0 ? answered[Math.floor(answered.length / 2)]! : -1,
    answerMsMax: answered.length > 0 ? answered[answered.length - 1]! : -1,
    bodies: plan.wholeBody ? conns.map((c) => c.body) : [],
    sentSha256: plan.wholeBody ? conns.map((c) => c.hasher!.digest("hex")) : [],
    elapsedMs: performance.now() - started,
  };
  for (const c of conns) {
    c.finished = true;
    c.socket?.terminate();
  }
  return report;
}

const report = await run(JSON.parse(process.argv[2]!) as Plan);
process.stdout.write(`${JSON.stringify(report)}\n`);
process.exit(0);
