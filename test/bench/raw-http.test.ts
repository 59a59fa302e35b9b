// bench/lib/raw-http.ts's response parser, as the benchmarks' checks read servers with it: framing by
// Content-Length, chunked and the close; 1xx, 204 and 304 end at their head; any split of the bytes.
import { describe, expect, test } from "bun:test";
import { parseResponses, ResponseReader, type RawResponse } from "../../bench/lib/raw-http.ts";

// The last column: parse at the close (a close-delimited body). Every row has it: a test function taking
// more parameters than its row gives is called with a `done` callback instead.
const CASES: [string, string, { status: string; body: string }[], boolean][] = [
  ["Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", [{ status: "HTTP/1.1 200 OK", body: "hello" }], false],
  ["chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n", [{ status: "HTTP/1.1 200 OK", body: "hello" }], false],
  ["304 with the representation's Content-Length", "HTTP/1.1 304 Not Modified\r\nContent-Length: 1024\r\nETag: \"x\"\r\n\r\n", [{ status: "HTTP/1.1 304 Not Modified", body: "" }], false],
  ["100 Continue, then the answer", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", [{ status: "HTTP/1.1 100 Continue", body: "" }, { status: "HTTP/1.1 200 OK", body: "ok" }], false],
  ["204", "HTTP/1.1 204 No Content\r\n\r\n", [{ status: "HTTP/1.1 204 No Content", body: "" }], false],
  ["close-delimited, at the close", "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nto the end", [{ status: "HTTP/1.1 200 OK", body: "to the end" }], true],
  ["two pipelined", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 404 Not Found\r\nContent-Length: 1\r\n\r\nb", [{ status: "HTTP/1.1 200 OK", body: "a" }, { status: "HTTP/1.1 404 Not Found", body: "b" }], false],
];

const simple = (rs: RawResponse[]) => rs.map((r) => ({ status: r.statusLine, body: r.body.toString("latin1") }));

describe("parseResponses", () => {
  test.each(CASES)("%s, whole", (_name, wire, want, eof) => {
    const out: RawResponse[] = [];
    const buf = Buffer.from(wire, "latin1");
    expect(parseResponses(buf, out, eof)).toBe(buf.length);
    expect(simple(out)).toEqual(want);
  });

  test.each(CASES)("%s: a prefix gives no response it has not all of", (_name, wire, want) => {
    const buf = Buffer.from(wire, "latin1");
    for (let n = 0; n < buf.length; n++) {
      const out: RawResponse[] = [];
      parseResponses(buf.subarray(0, n), out, false);
      expect(out.length).toBeLessThanOrEqual(want.length);
      for (const [i, r] of simple(out).entries()) expect(r).toEqual(want[i]!);
    }
  });
});

describe("ResponseReader", () => {
  test.each(CASES)("%s, at every split into two pieces", (_name, wire, want, eof) => {
    const buf = Buffer.from(wire, "latin1");
    for (let cut = 0; cut <= buf.length; cut++) {
      const r = new ResponseReader();
      const got = [...r.feed(buf.subarray(0, cut)), ...r.feed(buf.subarray(cut), eof)];
      expect(simple(got)).toEqual(want);
      expect(r.pending).toBe(0);
    }
  });
});
