// The WebSocket app of bench/ws.ts, the same options object given to our serve() or to Bun.serve:
//   bun bench/servers/ws-echo.ts ours|bun --port N
// - /echo: every message goes back as it came (`ws.send(message)`: text as text, binary as binary);
// - /sub: subscribes to topic "t" in open();
// - /pub: every message is published to "t" (`ws.publish`, so the publisher itself is left out);
// - anything else: 400.
// perMessageDeflate off and the longest idleTimeout Bun allows (960 s), so that neither compression nor
// pings enter the measurement.
import type { ServerWebSocket } from "bun";
import { announce, parseServerArgs } from "./args.ts";

type Role = "echo" | "sub" | "pub";
const ROLES: Record<string, Role> = { "/echo": "echo", "/sub": "sub", "/pub": "pub" };

const [which, ...rest] = process.argv.slice(2);
if (which !== "ours" && which !== "bun") throw new Error("usage: bun bench/servers/ws-echo.ts ours|bun --port N");
const { port } = parseServerArgs(rest);

const options = {
  port,
  hostname: "127.0.0.1",
  development: false,
  // `server` typed by what the app uses of it: Bun's Server and ours both fit.
  fetch(req: Request, server: { upgrade(req: Request, options: { data: { role: Role } }): boolean }): Response | undefined {
    const url = req.url;
    const start = url.indexOf("/", url.indexOf("//") + 2);
    const role = ROLES[url.slice(start)];
    if (role !== undefined && server.upgrade(req, { data: { role } })) return undefined;
    return new Response("not a WebSocket endpoint of this app", { status: 400 });
  },
  websocket: {
    idleTimeout: 960,
    perMessageDeflate: false,
    open(ws: ServerWebSocket<{ role: Role }>) {
      if (ws.data.role === "sub") ws.subscribe("t");
    },
    message(ws: ServerWebSocket<{ role: Role }>, message: string | Buffer<ArrayBuffer>) {
      if (ws.data.role === "echo") ws.send(message);
      else if (ws.data.role === "pub") ws.publish("t", message);
    },
  },
};

// Ours is imported only when asked for: the Bun.serve process loads nothing of ours.
const server = which === "bun" ? Bun.serve(options) : (await import("../../src/serve.ts")).serve(options);
announce(`ws-echo (${which})`, Number(server.port));
const stop = () => void Promise.resolve(server.stop(true)).then(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
