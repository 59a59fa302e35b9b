// A pool of idle keep-alive connections held by this process: each is opened, sends one request,
// reads its whole response (so the server has set the connection up all the way), then stays open
// and silent. What bench/scale.ts measures a server's memory per idle connection with.
import type { Socket } from "bun";
import { parseResponses, type RawResponse } from "./raw-http.ts";

interface State {
  buf: Buffer;
  responses: RawResponse[];
  done: ((err: Error | null) => void) | null;
  /** We are closing it: its close is not the server's doing. */
  closing: boolean;
}

export interface IdlePool {
  /** Connections open and answered. */
  readonly size: number;
  /** Connections the server closed (or that failed) after their response, while we held them. */
  readonly closedByServer: number;
  /** Bytes that arrived after a connection's response (a server should send none to an idle client). */
  readonly strayBytes: number;
  /** Closes every connection (FIN from our side). */
  close(): void;
}

/**
 * Opens `count` connections to 127.0.0.1:`port`, `parallel` at a time (under the server's listen
 * backlog, so that none waits for a SYN retransmission), each sending `request` once and reading
 * its response; `check` throws if a response is not the expected one. Rejects on the first failure
 * (closing what it opened) or when a connection takes more than `timeoutMs`.
 */
export async function openIdlePool(
  port: number,
  count: number,
  request: string,
  check: (r: RawResponse) => void,
  parallel = 256,
  timeoutMs = 10_000,
): Promise<IdlePool> {
  const sockets: Socket<State>[] = [];
  let closedByServer = 0;
  let strayBytes = 0;
  const handlers = {
    data(s: Socket<State>, chunk: Buffer) {
      const st = s.data;
      if (st.done === null) {
        strayBytes += chunk.length;
        return;
      }
      st.buf = st.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([st.buf, chunk]);
      st.buf = st.buf.subarray(parseResponses(st.buf, st.responses, false));
      if (st.responses.length === 0) return;
      const finish = st.done;
      st.done = null;
      if (st.responses.length > 1 || st.buf.length > 0) return finish(new Error(`more than one response to one request`));
      try {
        check(st.responses[0]!);
        finish(null);
      } catch (e) {
        finish(e as Error);
      }
    },
    close(s: Socket<State>) {
      const st = s.data;
      if (st.done !== null) st.done(new Error(`closed by the server before its response`));
      else if (!st.closing) closedByServer++;
      st.done = null;
    },
    error(s: Socket<State>, e: Error) {
      s.data.done?.(e);
    },
  };
  const request1 = Buffer.from(request);

  async function openOne(): Promise<void> {
    const st: State = { buf: Buffer.alloc(0), responses: [], done: null, closing: false };
    let timer: Timer | undefined;
    const answered = new Promise<void>((resolve, reject) => {
      st.done = (err) => (err ? reject(err) : resolve());
      timer = setTimeout(() => st.done?.(new Error(`no response within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const s = await Bun.connect<State>({ hostname: "127.0.0.1", port, data: st, socket: handlers });
      sockets.push(s);
      if (s.write(request1, 0, request1.length) !== request1.length) throw new Error("the request did not go out in one write");
      await answered;
      st.responses.length = 0; // keep nothing but the socket
    } finally {
      clearTimeout(timer);
    }
  }

  const pool: IdlePool = {
    get size() {
      return sockets.length;
    },
    get closedByServer() {
      return closedByServer;
    },
    get strayBytes() {
      return strayBytes;
    },
    close() {
      for (const s of sockets) {
        s.data.closing = true;
        s.end();
      }
      sockets.length = 0;
    },
  };
  let next = 0;
  let failure: Error | null = null;
  const worker = async () => {
    while (next < count && failure === null) {
      next++;
      try {
        await openOne();
      } catch (e) {
        failure ??= e as Error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
  if (failure !== null) {
    pool.close();
    throw new Error(`idle connection ${sockets.length + 1} of ${count}: ${(failure as Error).message}`);
  }
  return pool;
}
