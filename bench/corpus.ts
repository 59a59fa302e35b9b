// Named, realistic request bytes for the parser benchmarks: what browsers, API clients and load tools send.

export interface CorpusEntry {
  name: string;
  bytes: Uint8Array;
  /** Complete requests in `bytes`. */
  requests: number;
  /** Decoded body bytes over all requests. */
  bodyBytes: number;
}

const encoder = new TextEncoder();

/** A request head from its lines: CRLF after each line, then the blank line. */
function head(lines: string[]): string {
  return `${lines.join("\r\n")}\r\n\r\n`;
}

/** Deterministic printable filler, so chunk data looks like payload and not like repeated bytes. */
function filler(length: number, seed: number): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/";
  let out = "";
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out += alphabet[(x >>> 16) & 63];
  }
  return out;
}

/** A top-level navigation from Chrome 131 on Linux, with a session cookie. */
export const BROWSER_GET: Uint8Array = encoder.encode(
  head([
    "GET /dashboard/projects?tab=overview&sort=recent HTTP/1.1",
    "Host: app.example.com",
    "Connection: keep-alive",
    'sec-ch-ua: "Google Chrome";v="131", "Chromium";v="131", "Not_A Brand";v="24"',
    "sec-ch-ua-mobile: ?0",
    'sec-ch-ua-platform: "Linux"',
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
    "Sec-Fetch-Site: same-origin",
    "Sec-Fetch-Mode: navigate",
    "Sec-Fetch-Dest: document",
    "Accept-Encoding: gzip, deflate, br, zstd",
    "Accept-Language: en-US,en;q=0.9,fr;q=0.8",
    "Cookie: session=9f3c2a7be1d04c58a6f1e2d3c4b5a697; theme=dark; _ga=GA1.1.1234567890.1731000000",
  ]),
);

const JSON_BODY = '{"name":"Ada Lovelace","email":"ada@example.com","role":"admin"}';

/** An API client creating a resource: fixed-length JSON body. */
export const SMALL_JSON_POST: Uint8Array = encoder.encode(
  head([
    "POST /api/users HTTP/1.1",
    "Host: api.example.com",
    "User-Agent: node-fetch/3.3.2",
    "Accept: application/json",
    "Content-Type: application/json",
    `Content-Length: ${JSON_BODY.length}`,
    "Connection: keep-alive",
  ]) + JSON_BODY,
);

const CHUNK_SIZES = [1024, 512, 93];

/** A streaming upload (curl -T - style): three data chunks, then the last chunk and an empty trailer section. */
export const CHUNKED_UPLOAD: Uint8Array = encoder.encode(
  head([
    "POST /upload/logs HTTP/1.1",
    "Host: ingest.example.com",
    "User-Agent: curl/8.5.0",
    "Accept: */*",
    "Content-Type: application/octet-stream",
    "Transfer-Encoding: chunked",
  ]) +
    CHUNK_SIZES.map((n, i) => `${n.toString(16)}\r\n${filler(n, i + 1)}\r\n`).join("") +
    "0\r\n\r\n",
);

const PIPELINE_DEPTH = 16;

/** What a pipelining load generator (wrk with a pipeline script) sends: 16 small GETs in one read. */
export const PIPELINED_GETS: Uint8Array = encoder.encode(
  Array.from({ length: PIPELINE_DEPTH }, (_, i) =>
    head([`GET /static/js/chunk-${i}.js HTTP/1.1`, "Host: localhost:8080", "Accept: */*"]),
  ).join(""),
);

export const CORPUS: readonly CorpusEntry[] = [
  { name: "browser GET", bytes: BROWSER_GET, requests: 1, bodyBytes: 0 },
  { name: "small JSON POST", bytes: SMALL_JSON_POST, requests: 1, bodyBytes: JSON_BODY.length },
  { name: "chunked upload", bytes: CHUNKED_UPLOAD, requests: 1, bodyBytes: CHUNK_SIZES.reduce((a, b) => a + b, 0) },
  { name: "16 pipelined GETs", bytes: PIPELINED_GETS, requests: PIPELINE_DEPTH, bodyBytes: 0 },
];
