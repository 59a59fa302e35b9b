// The check every benchmark makes before it times a server: a fetch() of the URL and a raw exchange
// in the mode the load will use (one request; `Connection: close` and the close; 3 pipelined
// requests) must give "HTTP/1.1 200" and exactly the expected body bytes.
import { describeDiff, rawExchange, type RawResponse } from "./raw-http.ts";

export type ExchangeMode = "keepalive" | "close" | "pipeline";

/** The request the checks send (wrk's own adds nothing but Host). */
export function requestText(path: string, close: boolean, agent = "bench"): string {
  return `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: ${agent}\r\nAccept: */*\r\n${close ? "Connection: close\r\n" : ""}\r\n`;
}

/**
 * Checks `name` on 127.0.0.1:`port`; throws "CORRECTNESS CHECK FAILED …" on a wrong answer. Returns a
 * note on the first response (its status line and sizes), with a WARNING when a `close` answer does
 * not say `Connection: close` (wrk then counts a read error per connection).
 */
export async function checkAnswer(name: string, port: number, path: string, expected: Uint8Array, mode: ExchangeMode): Promise<string> {
  const url = `http://127.0.0.1:${port}${path}`;
  const want = Buffer.from(expected);
  const fail = (what: string): never => {
    throw new Error(`CORRECTNESS CHECK FAILED for ${name} (${url}, ${mode}): ${what}`);
  };
  const res = await fetch(url, { keepalive: false });
  const got = new Uint8Array(await res.arrayBuffer());
  if (res.status !== 200) fail(`fetch status ${res.status}`);
  if (!want.equals(got)) fail(`fetch body: ${describeDiff(got, expected)}`);

  const n = mode === "pipeline" ? 3 : 1;
  const req = requestText(path, mode === "close").repeat(n);
  let responses: RawResponse[];
  try {
    responses = await rawExchange(port, req, n, mode === "close");
  } catch (e) {
    return fail(`raw ${mode} exchange: ${(e as Error).message}`);
  }
  for (const [i, x] of responses.entries()) {
    if (!/^HTTP\/1\.1 200 /.test(x.statusLine)) fail(`response ${i + 1}: status line "${x.statusLine}"`);
    if (!x.body.equals(want)) fail(`response ${i + 1}: body ${describeDiff(x.body, expected)}`);
  }
  const first = responses[0]!;
  let note = `${first.statusLine}, head ${first.headBytes} B, body ${first.body.length} B`;
  if (mode === "close" && !/close/i.test(first.headers.get("connection") ?? "")) {
    note += ` — WARNING: no "Connection: close" header (wrk will count a read error per connection)`;
  }
  return note;
}
