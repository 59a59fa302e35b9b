// Added field lines and the field they yield to: found in every form a response's fields take, in any
// case, and only as a whole field name at the start of a line of the head.
import { describe, expect, test } from "bun:test";
import { type AddedFields, addedLines, addedLinesRaw, hasField } from "../../src/http/added-fields.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const LINES = enc("X-Added: 1\r\n");
const INSTEAD = enc("Vary: Origin\r\n");
const YIELDING: AddedFields = { lines: LINES, yieldTo: "x-own", instead: INSTEAD };

describe("hasField", () => {
  test.each([
    ["a record", { "Content-Type": "text/plain", "X-OWN": "1" }, true],
    ["a record without it", { "X-Owner": "1", "Content-Type": "x" }, false],
    ["pairs", [["content-type", "x"], ["X-Own", "1"]], true],
    ["pairs without it", [["X-Ow", "1"]], false],
    ["Headers", new Headers({ "x-own": "1" }), true],
    ["empty Headers", new Headers(), false],
    ["lines", enc("A: b\r\nx-oWn: 1\r\n"), true],
    ["lines: a longer name", enc("X-Owns: 1\r\n"), false],
    ["lines: the name in a value", enc("A: X-Own: 1\r\n"), false],
    ["lines: the name at the very end, no colon", enc("A: b\r\nX-Own"), false],
    ["no lines", new Uint8Array(0), false],
  ] as const)("%s: %p", (_name, headers, want) => {
    expect(hasField(headers as never, "x-own")).toBe(want);
  });

  test("an inherited key of a record does not count", () => {
    const record = Object.create({ "x-own": "1" }) as Record<string, string>;
    expect(hasField(record, "x-own")).toBe(false);
  });
});

describe("addedLines", () => {
  test("the lines, or what goes instead when the response sets the field; always the lines when nothing is yielded to", () => {
    expect(addedLines(YIELDING, undefined)).toBe(LINES);
    expect(addedLines(YIELDING, [["A", "b"]])).toBe(LINES);
    expect(addedLines(YIELDING, { "X-Own": "1" })).toBe(INSTEAD);
    expect(addedLines({ ...YIELDING, instead: null }, { "X-Own": "1" })).toBeNull();
    expect(addedLines({ lines: LINES, yieldTo: null, instead: null }, { "X-Own": "1" })).toBe(LINES);
  });

  test("a whole response: only its head is searched, after the status line", () => {
    const raw = (head: string, body: string) => enc(`HTTP/1.1 200 OK\r\n${head}\r\n${body}`);
    expect(addedLinesRaw(YIELDING, raw("Content-Length: 3\r\nX-Own: 1\r\n", "abc"))).toBe(INSTEAD);
    expect(addedLinesRaw(YIELDING, raw("Content-Length: 9\r\n", "X-Own: 1\n"))).toBe(LINES);
    expect(addedLinesRaw(YIELDING, raw("", "X-Own: 1\r\n"))).toBe(LINES);
  });
});
