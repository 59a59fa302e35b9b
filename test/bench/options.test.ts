// bench/lib/options.ts: each kind of option parsed, bare words kept, what was given recorded,
// --quick yielding to explicit values, and the usage made from the same table.
import { describe, expect, test } from "bun:test";
import { applyQuick, flagOf, parseCommandLine, timingOptions, usage } from "../../bench/lib/options.ts";

const LINE = {
  script: "bench/x.ts",
  words: ["echo", "broadcast"],
  options: {
    ...timingOptions({ rounds: 3, duration: 5, warmup: 1 }),
    pubBatch: { kind: "whole", default: 16, min: 1, help: "frames at a time" },
    ratio: { kind: "number", default: 0.5, help: "a share" },
    client: { kind: "text", default: "bun", choices: ["bun", "curl"], help: "which client" },
    sizes: { kind: "list", default: ["1k", "1m"], choices: ["1k", "64k", "1m"], help: "sizes" },
    buffers: { kind: "wholes", default: [], help: "buffer sizes" },
    variant: { kind: "repeat", default: [], value: "DIR", help: "another copy" },
    profile: { kind: "flag", help: "profile too" },
  },
} as const;

describe("parseCommandLine", () => {
  test("defaults when nothing is given", () => {
    const p = parseCommandLine(LINE, []);
    expect(p.values).toEqual({ quick: false, rounds: 3, duration: 5, warmup: 1, retries: 2, pubBatch: 16, ratio: 0.5, client: "bun", sizes: ["1k", "1m"], buffers: [], variant: [], profile: false });
    expect(p.words).toEqual([]);
    expect(p.given.size).toBe(0);
  });

  test("every kind, in kebab-case flags, and words in order", () => {
    const argv = ["broadcast", "--pub-batch", "4", "--ratio", "0.25", "--client", "curl", "--sizes", "64k,1k", "--buffers", "1024,4096", "--variant", "a", "--variant", "b", "--profile", "echo"];
    const p = parseCommandLine(LINE, argv);
    expect(p.values).toMatchObject({ pubBatch: 4, ratio: 0.25, client: "curl", sizes: ["64k", "1k"], buffers: [1024, 4096], variant: ["a", "b"], profile: true });
    expect(p.words).toEqual(["broadcast", "echo"]);
    expect([...p.given].sort()).toEqual(["buffers", "client", "profile", "pubBatch", "ratio", "sizes", "variant"]);
  });

  test.each([
    [["--quick"], 1, 3],
    [["--quick", "--rounds", "2"], 2, 3],
    [["--duration", "7", "--quick"], 1, 7],
    [[], 3, 5],
  ])("%p: rounds %p, duration %p", (argv, rounds, duration) => {
    const p = parseCommandLine(LINE, argv);
    applyQuick(p);
    expect([p.values.rounds, p.values.duration]).toEqual([rounds, duration]);
  });
});

describe("usage", () => {
  const text = usage(LINE);
  test("a synopsis with the words, and a line per option with its default", () => {
    expect(text.split("\n")[0]).toBe("usage: bun run bench/x.ts [echo] [broadcast] [options]");
    expect(text).toMatch(/--pub-batch N +frames at a time \(default 16\)/);
    expect(text).toMatch(/--client bun\|curl +which client \(default bun\)/);
    expect(text).toMatch(/--sizes 1k,64k,1m +sizes \(default 1k,1m\)/);
    expect(text).toMatch(/--variant DIR \(repeatable\) +another copy\n/);
    expect(text).toMatch(/--profile +profile too\n/);
  });
  test("flagOf", () => {
    expect(flagOf("pubInflight")).toBe("--pub-inflight");
    expect(flagOf("rounds")).toBe("--rounds");
  });
});
