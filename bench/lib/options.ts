// The command line of every benchmark script: one table of options (flags with whole-number or
// decimal values, comma lists, words, booleans, repeatable values), parsed in one loop, with the
// usage text made from the same table. A bad argument prints the usage and exits 2.
import { die } from "./children.ts";

interface Base {
  /** One line for --help. */
  help: string;
  /** The placeholder after the flag in the usage ("N", "S", "DIR"); a default from the kind. */
  value?: string;
}
export type OptionSpec =
  | (Base & { kind: "whole"; default: number; min?: number })
  | (Base & { kind: "number"; default: number; min?: number })
  | (Base & { kind: "text"; default: string; choices?: readonly string[] })
  | (Base & { kind: "list"; default: readonly string[]; choices?: readonly string[] })
  | (Base & { kind: "wholes"; default: readonly number[]; min?: number })
  | (Base & { kind: "repeat"; default: readonly string[] })
  | (Base & { kind: "flag"; default?: false });

export type OptionTable = Record<string, OptionSpec>;

type ValueOf<S extends OptionSpec> = S extends { kind: "whole" | "number" }
  ? number
  : S extends { kind: "text" }
    ? string
    : S extends { kind: "wholes" }
      ? number[]
      : S extends { kind: "list" | "repeat" }
        ? string[]
        : boolean;

export type OptionValues<T extends OptionTable> = { -readonly [K in keyof T]: ValueOf<T[K]> };

export interface Parsed<T extends OptionTable> {
  values: OptionValues<T>;
  /** The bare words given (scenarios, say), in order; each one of `words.choices`. */
  words: string[];
  /** The options given on the command line (keys of the table): a preset such as --quick yields to them. */
  given: Set<keyof T>;
}

export interface CommandLine<T extends OptionTable> {
  /** "bench/load.ts". */
  script: string;
  options: T;
  /** Bare words the script takes (none when absent). */
  words?: readonly string[];
  /** Lines after the option list: defaults that depend on each other, what --quick does. */
  notes?: string;
}

/** `--pub-batch` for the key `pubBatch`. */
export function flagOf(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

const PLACEHOLDER: Record<OptionSpec["kind"], string> = { whole: "N", number: "S", text: "X", list: "A,B", wholes: "N,M", repeat: "X", flag: "" };

/** The --help text: a synopsis, one line per option with its default, then the notes. */
export function usage<T extends OptionTable>(c: CommandLine<T>): string {
  const lines = [`usage: bun run ${c.script}${c.words?.length ? ` [${c.words.join("] [")}]` : ""} [options]`];
  const rows = Object.entries(c.options).map(([key, s]) => {
    const v = s.value ?? ("choices" in s && s.choices ? s.choices.join(s.kind === "list" ? "," : "|") : PLACEHOLDER[s.kind]);
    const left = `${flagOf(key)}${v ? ` ${v}` : ""}${s.kind === "repeat" ? " (repeatable)" : ""}`;
    const d = s.kind === "flag" ? "" : Array.isArray(s.default) ? (s.default.length ? s.default.join(",") : "") : String(s.default);
    return [left, `${s.help}${d === "" ? "" : ` (default ${d})`}`] as const;
  });
  const w = Math.max(...rows.map(([l]) => l.length));
  for (const [l, r] of rows) lines.push(`  ${l.padEnd(w)}  ${r}`);
  lines.push(`  ${"--help".padEnd(w)}  this text`);
  if (c.notes) lines.push(...c.notes.split("\n").map((l) => `  ${l}`));
  return lines.join("\n");
}

/** Parses `argv` against the table; exits 2 with the usage on anything it does not know. */
export function parseCommandLine<T extends OptionTable>(c: CommandLine<T>, argv: string[] = process.argv.slice(2)): Parsed<T> {
  const help = usage(c);
  const values: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(c.options)) values[key] = s.kind === "flag" ? false : Array.isArray(s.default) ? [...s.default] : s.default;
  const byFlag = new Map(Object.keys(c.options).map((k) => [flagOf(k), k]));
  const words: string[] = [];
  const given = new Set<keyof T>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--help" || a === "-h") {
      console.log(help);
      process.exit(0);
    }
    const key = byFlag.get(a);
    if (key === undefined) {
      if (c.words?.includes(a)) words.push(a);
      else die(`unknown argument ${a}\n${help}`);
      continue;
    }
    const s = c.options[key]!;
    given.add(key);
    if (s.kind === "flag") {
      values[key] = true;
      continue;
    }
    const raw = argv[++i];
    if (raw === undefined) die(`${a} needs a value\n${help}`);
    const wrong = (what: string): never => die(`${a} ${what}, not "${raw}"\n${help}`);
    const num = (text: string, whole: boolean, min: number): number => {
      const v = Number(text);
      if (text === "" || !Number.isFinite(v) || (whole && !Number.isInteger(v)) || v < min) wrong(`needs ${whole ? "whole numbers" : "a number"} ≥ ${min}`);
      return v;
    };
    const pick = (v: string, choices: readonly string[] | undefined) => {
      if (choices && !choices.includes(v)) wrong(`takes ${choices.join(", ")}`);
      return v;
    };
    switch (s.kind) {
      case "whole":
      case "number":
        values[key] = num(raw, s.kind === "whole", s.min ?? 0);
        break;
      case "text":
        values[key] = pick(raw, s.choices);
        break;
      case "list": {
        const items = raw.split(",").filter((x) => x !== "");
        if (items.length === 0) wrong("needs at least one item");
        values[key] = items.map((x) => pick(x, s.choices));
        break;
      }
      case "wholes":
        values[key] = raw.split(",").map((x) => num(x, true, s.min ?? 0));
        break;
      case "repeat":
        (values[key] as string[]).push(raw);
        break;
    }
  }
  return { values: values as OptionValues<T>, words, given };
}

/** The usual benchmark options: rounds, duration and warm-up in seconds, and retries of a noisy run. */
export function timingOptions(d: { rounds: number; duration: number; warmup: number }) {
  return {
    quick: { kind: "flag", help: "1 round of 3 s (--rounds and --duration still win)" },
    rounds: { kind: "whole", default: d.rounds, min: 1, help: "timed rounds per server" },
    duration: { kind: "whole", default: d.duration, min: 1, value: "S", help: "seconds per timed run" },
    warmup: { kind: "whole", default: d.warmup, value: "S", help: "seconds of untimed warm-up per server (0: none)" },
    retries: { kind: "whole", default: 2, help: "re-runs of a run during which other processes took > 5% of a core" },
  } as const satisfies OptionTable;
}

/** Applies --quick (1 round of 3 s) unless --rounds or --duration was given. */
export function applyQuick<T extends ReturnType<typeof timingOptions>>(p: Parsed<T>): void {
  const v = p.values as { quick: boolean; rounds: number; duration: number };
  if (!v.quick) return;
  if (!p.given.has("rounds")) v.rounds = 1;
  if (!p.given.has("duration")) v.duration = 3;
}
