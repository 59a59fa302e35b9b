#!/usr/bin/env bun
// CPU per request of our whole user-space path, without the kernel or a load generator: the server's
// socket handlers are driven with a fake socket that takes every write. Steadier than wrk on a noisy
// machine, so it is the tool for before/after comparisons of one change; bench/load.ts gives the
// end-to-end numbers against Bun.serve and nginx.
//
//   bun run bench/inproc.ts [--rounds N] [--requests N] [--no-track]
//
// Servers run with the Response tracker on, as the CLI runs apps (src/app/known-bodies.ts);
// --no-track measures plain serve(), which leaves the global Response alone.
//
// Each case sends keep-alive GETs one at a time (one data() call per request, as wrk's 64 connections
// mostly do), and prints µs per request: the median and the best of the rounds (the best is the
// steadier figure on a shared machine).
import type { serve } from "../src/index.ts";
import { BROWSER_GET } from "./corpus.ts";
import { capture, fakeSocket, writes } from "./lib/captured-server.ts";
import { fetchHandler, HELLO, JSON_BODY, routes } from "./servers/app-handlers.ts";

const argv = process.argv.slice(2);
const arg = (name: string, dflt: number) => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : dflt);
const ROUNDS = arg("--rounds", 5);
const TRACK = !argv.includes("--no-track");
const REQUESTS = arg("--requests", 200_000);
const JSON_TYPE: [string, string][] = [["Content-Type", "application/json;charset=utf-8"]];

// wrk's request (one header), or a browser's (Chrome's navigation: 17 headers, a cookie), retargeted.
const wrkRequest = (path: string) => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n`;
const browserRequest = (path: string) => new TextDecoder().decode(BROWSER_GET).replace(/^GET \S+/, `GET ${path}`);

const cases: { name: string; options: Parameters<typeof serve>[0]; path: string; request?: (path: string) => string; async?: boolean }[] = [];
for (const path of ["/hello", "/json", "/users/42"]) {
  cases.push({ name: `routes, Response ${path}`, options: { routes }, path });
  cases.push({
    name: `routes, light ${path}`,
    options: {
      routes: {
        "/hello": () => HELLO,
        "/json": () => ({ headers: JSON_TYPE, body: JSON.stringify(JSON_BODY) }),
        "/users/:id": (req) => ({ headers: JSON_TYPE, body: JSON.stringify({ id: req.params.id, name: `user ${req.params.id}` }) }),
      },
    },
    path,
  });
  cases.push({ name: `fetch ${path}`, options: { fetch: fetchHandler }, path });
}
cases.push({ name: "routes, Response /hello, browser GET", options: { routes }, path: "/hello", request: browserRequest });
const post = (path: string) => `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Type: application/json\r\nContent-Length: 27\r\n\r\n{"name":"ada","admin":true}`;
// (synchronous handlers only: this loop does not wait for promises)
cases.push({
  name: "routes, light POST /echo (27-byte body)",
  options: { routes: { "/echo": { POST: (req) => req.bytes().then((body) => ({ headers: JSON_TYPE, body })) } } },
  path: "/echo",
  request: post,
  async: true,
});
cases.push({ name: "fetch /hello, browser GET", options: { fetch: fetchHandler }, path: "/hello", request: browserRequest });

const results = new Map<string, number[]>();
const started = cases.map((c) => ({ c, ...capture({ ...c.options, trackResponses: TRACK }) }));
for (let round = 0; round < ROUNDS; round++) {
  for (const { c, handlers } of started) {
    const req = new TextEncoder().encode((c.request ?? wrkRequest)(c.path));
    const socket = fakeSocket();
    handlers.open(socket);
    // A fresh copy per request, as Bun gives each read (a view into a fresh chunk has a cost of its own).
    for (let i = 0; i < 20_000; i++) {
      handlers.data(socket, req.slice());
      if (c.async) await null;
    }
    const before = writes.bytes;
    const t0 = performance.now();
    if (c.async) {
      // A handler that returns a promise answers on a microtask: let it run before the next request.
      for (let i = 0; i < REQUESTS; i++) {
        handlers.data(socket, req.slice());
        await null;
      }
    } else {
      for (let i = 0; i < REQUESTS; i++) handlers.data(socket, req.slice());
    }
    const us = ((performance.now() - t0) * 1000) / REQUESTS;
    if (writes.bytes === before) throw new Error(`${c.name}: nothing was written`);
    handlers.close(socket);
    (results.get(c.name) ?? results.set(c.name, []).get(c.name)!).push(us);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
console.log(`| case | µs per request, median of ${ROUNDS} | best | rounds |\n|---|---:|---:|---|`);
for (const [name, xs] of results) {
  console.log(`| ${name} | ${median(xs).toFixed(2)} | ${Math.min(...xs).toFixed(2)} | ${xs.map((x) => x.toFixed(2)).join(" ")} |`);
}
await Promise.all(started.map((s) => s.stop()));
