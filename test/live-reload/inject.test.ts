// Where the live-reload script goes: before the last </body> (any case), else at the end.
import { describe, expect, test } from "bun:test";
import { injectBeforeBody, lastCloseBody } from "../../src/live-reload/inject.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const TAG = "<script></script>";
const inject = (html: string) => dec.decode(injectBeforeBody(enc.encode(html), enc.encode(TAG)));

describe("injectBeforeBody", () => {
  const cases: [string, string, string][] = [
    ["before </body>", "<html><body><p>x</p></body></html>", `<html><body><p>x</p>${TAG}</body></html>`],
    ["uppercase </BODY>", "<HTML><BODY>x</BODY></HTML>", `<HTML><BODY>x${TAG}</BODY></HTML>`],
    ["mixed case </BoDy >", "<body>x</BoDy ></html>", `<body>x${TAG}</BoDy ></html>`],
    ["the last of two", "<body>a</body><!-- </body> -->b</body>", `<body>a</body><!-- </body> -->b${TAG}</body>`],
    ["none: at the end", "<p>fragment", `<p>fragment${TAG}`],
    ["empty file", "", TAG],
    ["</bodyx> is another tag", "<p>a</bodyx>", `<p>a</bodyx>${TAG}`],
    ["</body cut off at the very end", "<p>a</body", `<p>a${TAG}</body`],
    ["</ body> is not a close tag", "<p>a</ body>", `<p>a</ body>${TAG}`],
    ["a newline inside the tag", "<p>a</body\n>", `<p>a${TAG}</body\n>`],
  ];
  for (const [name, html, want] of cases) {
    test(name, () => expect(inject(html)).toBe(want));
  }

  test("bytes that are not UTF-8 are kept as they are", () => {
    const html = new Uint8Array([0xff, 0xfe, ...enc.encode("</body>"), 0x80]);
    const out = injectBeforeBody(html, enc.encode(TAG));
    expect([...out.subarray(0, 2)]).toEqual([0xff, 0xfe]);
    expect(out.at(-1)).toBe(0x80);
    expect(out.length).toBe(html.length + TAG.length);
    expect(lastCloseBody(html)).toBe(2);
  });
});
