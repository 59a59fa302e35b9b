// Python's `websockets` (Debian's python3-websockets) against our serve(): permessage-deflate is
// negotiated (websockets offers it by default), text and binary messages, one of 100 KiB, come back
// intact and compressed, and the client's close code reaches the server. Skips without the module.
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { serve } from "../../src/serve.ts";
import { killAll, run } from "../helpers/child.ts";
import { pollUntil, Wakeup } from "../helpers/poll.ts";

// Debian's interpreter, where python3-websockets installs: the python3 first on PATH may be another.
const PYTHON = "/usr/bin/python3";
const SCRIPT = join(import.meta.dir, "fixtures", "deflate_client.py");
const probe = Bun.spawnSync([PYTHON, "-c", "import websockets"], { stdout: "ignore", stderr: "ignore" });
const haveWebsockets = probe.exitCode === 0;
if (!haveWebsockets) console.warn(`python tests skipped: no websockets module for ${PYTHON} (apt-get install python3-websockets)`);

afterAll(killAll);

describe.skipIf(!haveWebsockets)("Python websockets", () => {
  test("permessage-deflate echo of text and binary, then a close with 4000", async () => {
    const closes: { code: number; reason: string }[] = [];
    const wake = new Wakeup();
    const server: any = serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch(req, srv) {
        if (srv.upgrade(req)) return;
        return new Response("not a WebSocket request", { status: 400 });
      },
      websocket: {
        perMessageDeflate: true,
        message(ws: any, m: string | Buffer) {
          ws.send(m, true);
        },
        close(_ws: any, code: number, reason: string) {
          closes.push({ code, reason });
          wake.fire();
        },
      },
    });
    try {
      const r = await run([PYTHON, SCRIPT, `ws://127.0.0.1:${server.port}/py`], { ms: 30_000 });
      if (r.code !== 0 && !r.stdout) throw new Error(`the client exited with ${r.code}: ${r.stderr}`);
      const report = JSON.parse(r.stdout);
      expect(report.echoes).toEqual(Array(7).fill("ok"));
      expect(report.extensions).toEqual(["permessage-deflate"]);
      expect(report.extensions_header).toStartWith("permessage-deflate");
      // The server sent every echo with compress set; the two 100 KiB ones, at least, went out compressed.
      expect(report.rsv1).toHaveLength(7);
      expect(report.rsv1.slice(5)).toEqual([true, true]);
      expect(report.close_code).toBe(4000); // the server's answer (its reason: clients.test.ts)
      expect(r.code).toBe(0);
      await pollUntil(() => closes.length > 0, 5000, "the server's close handler", { wake });
      expect(closes).toEqual([{ code: 4000, reason: "bye" }]);
    } finally {
      await server.stop(true);
    }
  }, 40_000);
});
