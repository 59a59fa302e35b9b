// HTTPS: the CLI with --tls-cert/--tls-key (checked with curl and with Bun's fetch), keep-alive over
// TLS, a large file byte-exact, the HTTP→HTTPS redirect listener, and serve({ tls }), WebSockets included.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { serve } from "../../src/serve.ts";
import { type Cli, exitWithin, killAll, run, runCli, startCli } from "../helpers/child.ts";
import { canConnect } from "../helpers/raw-client.ts";
import { freePort, removeTemps, tempDir } from "./helpers.ts";

const dir = tempDir();
const certPath = join(dir, "cert.pem");
const keyPath = join(dir, "key.pem");
const root = join(dir, "root");
mkdirSync(join(root, "sub"), { recursive: true });
writeFileSync(join(root, "a.txt"), "hi\n");
writeFileSync(join(root, "sub", "b.txt"), "bee\n");
const BIG = randomBytes(4 * 1024 * 1024);
writeFileSync(join(root, "big.bin"), BIG);

let ca = "";
let cli: Cli;
let redirectPort = 0;

beforeAll(async () => {
  const gen = await run([
    "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", keyPath, "-out", certPath,
    "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
  ]);
  if (gen.code !== 0) throw new Error(`openssl failed: ${gen.stderr}`);
  ca = readFileSync(certPath, "utf8");
  redirectPort = freePort();
  cli = await startCli([
    "--port", "0", "--root", root, "--log", "off", "--tls-cert", certPath, "--tls-key", keyPath,
    "--http-redirect-port", String(redirectPort),
  ]);
});

afterAll(async () => {
  await killAll();
  removeTemps();
});

const url = (path: string) => `https://127.0.0.1:${cli.port}${path}`;

describe("the CLI over TLS", () => {
  test("the banner shows an https URL", () => {
    expect(cli.url.protocol).toBe("https:");
  });

  test("curl --cacert: status and body", async () => {
    const r = await run(["curl", "-sS", "--cacert", certPath, "-w", "\n%{http_code} %{ssl_verify_result}", url("/a.txt")]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("hi\n\n200 0");
  });

  test("curl by host name (the certificate's DNS name)", async () => {
    const r = await run([
      "curl", "-sS", "--cacert", certPath, "--resolve", `localhost:${cli.port}:127.0.0.1`, "-w", " %{http_code}",
      `https://localhost:${cli.port}/sub/b.txt`,
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("bee\n 200");
  });

  test("curl without the CA refuses the self-signed certificate", async () => {
    const r = await run(["curl", "-sS", url("/a.txt")]);
    expect(r.code).toBe(60); // CURLE_PEER_FAILED_VERIFICATION
  });

  test("Bun's fetch with tls.ca", async () => {
    const res = await fetch(url("/sub/b.txt"), { tls: { ca } });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("bee\n");
    const missing = await fetch(url("/nope"), { tls: { ca } });
    expect(missing.status).toBe(404);
    await missing.text();
  });

  test("keep-alive over TLS: curl with two URLs uses one connection", async () => {
    const r = await run(["curl", "-sS", "--cacert", certPath, "-w", "|%{http_code} %{num_connects}\n", url("/a.txt"), url("/sub/b.txt")]);
    expect(r.code).toBe(0);
    // The second transfer made no new connection.
    expect(r.stdout).toBe("hi\n|200 1\nbee\n|200 0\n");
  });

  test("a 4 MiB file over TLS arrives byte-exact (curl and fetch)", async () => {
    const r = await run(["curl", "-sS", "--cacert", certPath, url("/big.bin")]);
    expect(r.code).toBe(0);
    expect(r.stdoutBytes.length).toBe(BIG.length);
    expect(Buffer.from(r.stdoutBytes).equals(BIG)).toBe(true);
    const res = await fetch(url("/big.bin"), { tls: { ca } });
    expect(res.headers.get("content-length")).toBe(String(BIG.length));
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.equals(BIG)).toBe(true);
  });

  test("a range of the big file over TLS", async () => {
    const res = await fetch(url("/big.bin"), { tls: { ca }, headers: { range: "bytes=1000000-1000099" } });
    expect(res.status).toBe(206);
    expect(Buffer.from(await res.arrayBuffer()).equals(BIG.subarray(1_000_000, 1_000_100))).toBe(true);
  });
});

describe("--http-redirect-port", () => {
  test("plain HTTP gets 308 to https, keeping path and query", async () => {
    const res = await fetch(`http://127.0.0.1:${redirectPort}/sub/b.txt?x=1&y=a%20b`, { redirect: "manual" });
    expect(res.status).toBe(308);
    expect(res.headers.get("location")).toBe(`https://127.0.0.1:${cli.port}/sub/b.txt?x=1&y=a%20b`);
    await res.text();
  });

  test("the Host header's name is kept (its port replaced by the HTTPS one)", async () => {
    const r = await run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", "-H", `Host: example.test:${redirectPort}`, `http://127.0.0.1:${redirectPort}/p?q`]);
    expect(r.stdout).toBe(`308 https://example.test:${cli.port}/p?q`);
  });

  test("POST is redirected with 308 (method kept)", async () => {
    const res = await fetch(`http://127.0.0.1:${redirectPort}/form`, { method: "POST", body: "x=1", redirect: "manual" });
    expect(res.status).toBe(308);
    expect(res.headers.get("location")).toBe(`https://127.0.0.1:${cli.port}/form`);
    await res.text();
  });

  test("curl -L follows the redirect to the file", async () => {
    const r = await run(["curl", "-sS", "-L", "--cacert", certPath, "-w", " %{http_code} %{num_redirects}", `http://127.0.0.1:${redirectPort}/a.txt`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("hi\n 200 1");
  });
});

describe("serve({ tls })", () => {
  test("the url starts with https and the server answers over TLS", async () => {
    using server = serve({ port: 0, hostname: "127.0.0.1", log: "off", tls: { cert: ca, key: readFileSync(keyPath, "utf8") }, handler: () => "secure" });
    expect(server.url.href).toStartWith("https://");
    expect(server.url.href).toBe(`https://127.0.0.1:${server.port}/`);
    const res = await fetch(server.url, { tls: { ca } });
    expect(await res.text()).toBe("secure");
  });

  test("Bun.file()s are accepted as cert and key", async () => {
    using server = serve({ port: 0, hostname: "127.0.0.1", log: "off", tls: { cert: Bun.file(certPath), key: Bun.file(keyPath) }, handler: () => "files" });
    const res = await fetch(server.url, { tls: { ca } });
    expect(await res.text()).toBe("files");
  });

  test("WebSocket over TLS (wss://): text and a 100 KB binary message echo, then a clean close", async () => {
    using server = serve({
      port: 0,
      hostname: "127.0.0.1",
      log: "off",
      tls: { cert: ca, key: readFileSync(keyPath, "utf8") },
      fetch: (req, s) => (s.upgrade(req) ? undefined : new Response("no", { status: 400 })),
      websocket: { message: (ws, m) => void ws.send(m) },
    });
    const big = randomBytes(100_000);
    const socket = new WebSocket(`wss://127.0.0.1:${server.port}/`, { tls: { ca } } as never);
    socket.binaryType = "arraybuffer";
    const got: (string | Uint8Array)[] = [];
    const closed = new Promise<CloseEvent>((resolve, reject) => {
      socket.onopen = () => {
        socket.send("over tls");
        socket.send(big);
      };
      socket.onmessage = (e) => {
        got.push(typeof e.data === "string" ? e.data : new Uint8Array(e.data as ArrayBuffer));
        if (got.length === 2) socket.close(1000, "done");
      };
      socket.onclose = resolve;
      socket.onerror = () => reject(new Error("wss error"));
    });
    const e = await closed;
    expect(got[0]).toBe("over tls");
    expect(Buffer.from(got[1] as Uint8Array).equals(big)).toBe(true);
    expect([e.code, e.wasClean]).toEqual([1000, true]);
  });
});

test("SIGTERM stops the HTTPS and the redirect listener and exits 0", async () => {
  const rp = freePort();
  const c = await startCli(["--port", "0", "--root", root, "--log", "off", "--tls-cert", certPath, "--tls-key", keyPath, "--http-redirect-port", String(rp)]);
  try {
    expect((await fetch(`https://127.0.0.1:${c.port}/a.txt`, { tls: { ca } })).status).toBe(200);
    c.kill("SIGTERM");
    expect(await exitWithin(c.exited, 3000)).toBe(0);
    expect(await canConnect(rp)).toBe(false);
  } finally {
    c.kill("SIGKILL");
    await c.exited;
  }
});

test("--http-redirect-port already in use: exit 1 with one line naming that port", async () => {
  const holder = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  try {
    const r = await runCli(["--port", "0", "--root", root, "--tls-cert", certPath, "--tls-key", keyPath, "--http-redirect-port", String(holder.port)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`bunhttp: port ${holder.port} on 127.0.0.1 is already in use\n`);
  } finally {
    holder.stop(true);
  }
});
