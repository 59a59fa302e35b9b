// A `fetch` handler that returns something other than a Response: Bun.serve (in production mode)
// logs "Expected a Response object, but received '…'" and answers 204 with no body, without calling
// `error`. A Promise of such a value is the same. (Our own `handler` API takes strings and bytes;
// only the fetch adapter behaves as Bun.)
import { afterEach, describe, expect, spyOn, test } from "bun:test";
import { sameOnBoth } from "../helpers/compat.ts";
import { exchange } from "../helpers/raw-client.ts";
import { GET, summarize } from "../helpers/wire.ts";

const VALUES: [string, unknown, string][] = [
  ["a string", "hello", `'"hello"'`],
  ["a number", 42, "'42'"],
  ["undefined", undefined, "'undefined'"],
  ["null", null, "'null'"],
  ["a plain object", { a: 1 }, "'{\n  a: 1,\n}'"],
  ["bytes", new Uint8Array([1, 2]), "'Uint8Array(2) [ 1, 2 ]'"],
];

let logged: string[] = [];
const spy = spyOn(console, "error").mockImplementation((...args: unknown[]) => void logged.push(args.join(" ")));
afterEach(() => {
  logged = [];
});

describe.each([
  ["returned", (v: unknown) => () => v],
  ["resolved", (v: unknown) => async () => v],
])("a non-Response %s from fetch", (_how, wrap) => {
  test.each(VALUES)("%s: 204, no body, a logged diagnostic, no error() call", async (_name, value, shown) => {
    let errorCalls = 0;
    const bun = await sameOnBoth(
      () => ({
        development: false,
        fetch: wrap(value),
        error: () => {
          errorCalls++;
          return new Response("from error()", { status: 503 });
        },
      }),
      async (s) => summarize(await exchange(s.port, GET())),
    );
    expect(bun).toEqual({ status: 204, reason: "No Content", headers: {}, body: "" });
    expect(errorCalls).toBe(0);
    // Bun logs natively (not through console.error); ours says the same line.
    expect(logged).toEqual([`Expected a Response object, but received ${shown}`]);
  });
});

test("the console spy is in place", () => {
  expect(spy).toBeDefined();
});
