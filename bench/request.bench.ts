// What the Web objects of a `fetch` handler cost to make from JavaScript, the part of our fetch door
// that Bun.serve does natively: a Request from a URL string (the URL parse), the subclass we make
// (src/app/web-request.ts, fields filled lazily), and, for scale, the Response a handler makes
// either way. Compare the Request figures with the gap in server CPU per request between our fetch
// and Bun.serve's in `bun run bench/load.ts app`. Run: bun run bench/request.bench.ts
import { bench, do_not_optimize, group, run, summary } from "mitata";
import { RequestHead } from "../src/http/head.ts";
import { parseRequestHead } from "../src/http/parser.ts";
import { ServerRequest } from "../src/server/request.ts";
import { WebRequest } from "../src/app/web-request.ts";

const URL_TEXT = "http://127.0.0.1:8080/hello";
const HEAD_BYTES = new TextEncoder().encode("GET /hello HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n");

// A parsed request as the engine hands it to the fetch door (its head parsed once; from() only reads it).
const head = new RequestHead();
if (parseRequestHead(HEAD_BYTES, 0, HEAD_BYTES.length, head) <= 0) throw new Error("the request did not parse");
const serverRequest = Object.assign(Object.create(ServerRequest.prototype) as ServerRequest, { head, requestBody: null });

class Plain extends Request {}

summary(() => {
  group("a Request for GET /hello", () => {
    bench("new Request(url)", () => do_not_optimize(new Request(URL_TEXT)));
    bench("new (class extends Request)(url)", () => do_not_optimize(new Plain(URL_TEXT)));
    bench("WebRequest.from(parsed request): ours", () => do_not_optimize(WebRequest.from(serverRequest, "localhost")));
  });
  group("a Response, for scale", () => {
    bench('new Response("Hello, World!")', () => do_not_optimize(new Response("Hello, World!")));
  });
});

await run();
