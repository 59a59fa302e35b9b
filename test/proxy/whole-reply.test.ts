// A whole small upstream answer written straight into the cork buffer, and its parts when the engine
// sends it otherwise. The body is read from inside poison bytes, so an offset mistake shows.
import { expect, test } from "bun:test";
import { getDateLine } from "../../src/http/date.ts";
import { OutBuffer } from "../../src/http/response.ts";
import { WholeReply } from "../../src/proxy/whole-reply.ts";

const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const text = (b: Uint8Array) => String.fromCharCode(...b);

test("writeRaw: status line, the fields, Date, Server, Content-Length, then the body", () => {
  const chunk = latin1("XXXXXXXhelloYYYY");
  const fields = latin1("Content-Type: text/plain\r\nX-A: 1\r\n");
  const reply = new WholeReply(404, fields, chunk, 7, 5);
  const out = new OutBuffer(16); // small: writeRaw must make room
  out.bytes(latin1("before|"));
  reply.writeRaw(out);
  expect(text(out.buf.subarray(0, out.len))).toBe(
    `before|HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nX-A: 1\r\n${text(getDateLine())}Server: bunhttp\r\nContent-Length: 5\r\n\r\nhello`,
  );
  expect(reply.length).toBe(5);
  expect(text(reply.body)).toBe("hello");
  expect(text(reply.headers as Uint8Array)).toBe("Content-Type: text/plain\r\nX-A: 1\r\n");
});

test("an empty body", () => {
  const out = new OutBuffer(64);
  new WholeReply(200, new Uint8Array(0), latin1("XX"), 1, 0).writeRaw(out);
  expect(text(out.buf.subarray(0, out.len))).toBe(`HTTP/1.1 200 OK\r\n${text(getDateLine())}Server: bunhttp\r\nContent-Length: 0\r\n\r\n`);
});
