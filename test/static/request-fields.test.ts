// scanFields finds, in one pass, the fields a file's answer depends on; fieldValue reads them back.
import { describe, expect, test } from "bun:test";
import { RequestHead } from "../../src/http/head.ts";
import { parseRequestHead } from "../../src/http/parser.ts";
import { FIELD, fieldValue, scanFields } from "../../src/static/request-fields.ts";

function scanned(...lines: string[]): RequestHead {
  const bytes = new TextEncoder().encode(`GET /f HTTP/1.1\r\nHost: x\r\n${lines.map((l) => `${l}\r\n`).join("")}\r\n`);
  const head = new RequestHead();
  if (parseRequestHead(bytes, 0, bytes.length, head) <= 0) throw new Error("did not parse");
  scanFields(head);
  return head;
}

describe("scanFields and fieldValue", () => {
  test("every field, whatever the case of its name", () => {
    const head = scanned(
      "IF-MATCH: a",
      "if-none-match: b",
      "If-Modified-Since: c",
      "iF-uNmOdIfIeD-sInCe: d",
      "Range: e",
      "If-Range: f",
      "Accept-Encoding: g",
    );
    expect(fieldValue(head, FIELD.IF_MATCH)).toBe("a");
    expect(fieldValue(head, FIELD.IF_NONE_MATCH)).toBe("b");
    expect(fieldValue(head, FIELD.IF_MODIFIED_SINCE)).toBe("c");
    expect(fieldValue(head, FIELD.IF_UNMODIFIED_SINCE)).toBe("d");
    expect(fieldValue(head, FIELD.RANGE)).toBe("e");
    expect(fieldValue(head, FIELD.IF_RANGE)).toBe("f");
    expect(fieldValue(head, FIELD.ACCEPT_ENCODING)).toBe("g");
  });

  test("absent fields are undefined", () => {
    const head = scanned("Accept: */*");
    for (const id of Object.values(FIELD)) expect(fieldValue(head, id)).toBeUndefined();
  });

  test("names of the same length that differ are not taken", () => {
    // "if-rang3" has the length of if-range; the others have a field's name as a prefix or the reverse.
    const head = scanned("if-rangex: 1", "if-rang3: 2", "ranges: 3", "rang: 4");
    expect(fieldValue(head, FIELD.IF_RANGE)).toBeUndefined();
    expect(fieldValue(head, FIELD.RANGE)).toBeUndefined();
  });

  test("a repeated list field is joined, as one value (RFC 9110 §5.3)", () => {
    const head = scanned('If-None-Match: "a"', "Accept: */*", 'If-None-Match: "b"');
    expect(fieldValue(head, FIELD.IF_NONE_MATCH)).toBe('"a", "b"');
  });

  test("each scan forgets the previous head", () => {
    const first = scanned("Range: bytes=0-1");
    expect(fieldValue(first, FIELD.RANGE)).toBe("bytes=0-1");
    const second = scanned("Accept-Encoding: br");
    expect(fieldValue(second, FIELD.RANGE)).toBeUndefined();
    expect(fieldValue(second, FIELD.ACCEPT_ENCODING)).toBe("br");
  });
});
