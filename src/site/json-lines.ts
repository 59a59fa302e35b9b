// JSON.parse that also says on which line each value sits, for rule files whose errors must name a
// line: a syntax error gives its own line, and a checker can ask where "redirects/2/type" was written.
// Strict JSON (RFC 8259): no comments, no trailing commas.

export class JsonSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

export interface JsonWithLines {
  value: unknown;
  /** The line (1-based) of the value at this path ("" the whole, "headers/0/source"), or 0 if unknown. */
  lineOf(path: string): number;
}

export function parseJsonWithLines(text: string): JsonWithLines {
  const lines = new Map<string, number>();
  let i = 0;
  let line = 1;
  const fail = (message: string): never => {
    throw new JsonSyntaxError(line, message);
  };
  const space = () => {
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) line++;
      else if (c !== 32 && c !== 9 && c !== 13) break;
    }
  };
  const char = () => (i < text.length ? JSON.stringify(text[i]) : "the end of the file");
  const string = (): string => {
    const start = i;
    i++; // '"'
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 34) break; // '"'
      if (c === 92) i++; // '\\'
      else if (c < 0x20) fail("a control character inside a string");
    }
    if (i >= text.length) fail("a string that is never closed");
    i++;
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      return fail("a bad escape in a string");
    }
  };
  const value = (path: string): unknown => {
    space();
    lines.set(path, line);
    const c = text[i];
    if (c === "{") {
      i++;
      const obj: Record<string, unknown> = {};
      space();
      if (text[i] === "}") {
        i++;
        return obj;
      }
      for (;;) {
        space();
        if (text[i] !== '"') fail(`expected a key in quotes, found ${char()}`);
        const key = string();
        space();
        if (text[i] !== ":") fail(`expected ':' after "${key}", found ${char()}`);
        i++;
        const keyPath = path === "" ? key : `${path}/${key}`;
        obj[key] = value(keyPath);
        space();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return obj;
        }
        fail(`expected ',' or '}', found ${char()}`);
      }
    }
    if (c === "[") {
      i++;
      const arr: unknown[] = [];
      space();
      if (text[i] === "]") {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value(`${path}/${arr.length}`));
        space();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return arr;
        }
        fail(`expected ',' or ']', found ${char()}`);
      }
    }
    if (c === '"') return string();
    const m = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(i, i + 400));
    if (m === null) return fail(`unexpected ${char()}`);
    i += m[0].length;
    return JSON.parse(m[0]);
  };
  const v = value("");
  space();
  if (i < text.length) fail(`unexpected ${char()} after the end of the JSON value`);
  return { value: v, lineOf: (path) => lines.get(path) ?? 0 };
}
