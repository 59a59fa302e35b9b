// Driving a serve() without the kernel: the socket handlers it gives Bun.listen, caught, and fake
// sockets that take every write. What bench/inproc.ts and bench/ws-inproc.ts measure our code with.
import { serve } from "../../src/index.ts";

export type Handlers = {
  open(s: unknown): void;
  data(s: unknown, chunk: Uint8Array): void;
  close(s: unknown): void;
  drain(s: unknown): void;
};

/** Starts a server with `options` (on a real port, never used), catching its socket handlers. */
export function capture(options: Parameters<typeof serve>[0]): { handlers: Handlers; stop: () => Promise<void> } {
  const listen = Bun.listen;
  let handlers: Handlers | undefined;
  (Bun as { listen: unknown }).listen = (o: { socket: Handlers }) => {
    handlers = o.socket;
    return listen(o as Parameters<typeof listen>[0]);
  };
  try {
    const s = serve({ port: 0, hostname: "127.0.0.1", log: "off", ...options });
    return { handlers: handlers!, stop: () => s.stop(true) };
  } finally {
    (Bun as { listen: unknown }).listen = listen;
  }
}

/** Bytes the fake sockets were given, all together. */
export const writes = { bytes: 0 };

/** A socket that takes every write whole. */
export function fakeSocket(port = 40000) {
  return {
    data: undefined as unknown,
    remoteAddress: "127.0.0.1",
    remotePort: port,
    write(_buf: Uint8Array, off = 0, len = _buf.length - off) {
      writes.bytes += len;
      return len;
    },
    pause() {},
    resume() {},
    end() {},
    shutdown() {},
    flush() {},
    timeout() {},
    terminate() {},
  };
}
