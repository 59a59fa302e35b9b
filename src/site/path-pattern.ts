// serve.json's `:param` patterns, with the semantics of path-to-regexp 3.3.0 (what serve-handler 6.1.8
// uses): `:name`, `:name(re)`, unnamed `(re)` groups, the `?`, `*` and `+` modifiers, `\\` escapes;
// matched case-insensitively, a trailing '/' optional. Compiled once, when the file is read; a pattern
// with more than one repeated parameter is refused (its regex backtracks polynomially).

/** A parameter of a pattern: its name (a number for an unnamed group) and how to write it back. */
interface Token {
  name: string | number;
  prefix: string;
  delimiter: string;
  optional: boolean;
  repeat: boolean;
  pattern: string;
}

type Part = string | Token;

// The tokenizer of path-to-regexp 3.x: an escaped character, or `:name(re)?modifier`, or `(re)modifier`.
const PATH_TOKEN = /(\\.)|(?::(\w+)(?:\(((?:\\.|[^\\()])+)\))?|\(((?:\\.|[^\\()])+)\))([+*?])?/g;

function escapeString(s: string): string {
  return s.replace(/([.+*?=^!:${}()[\]|/\\])/g, "\\$1");
}

function escapeGroup(group: string): string {
  return group.replace(/([=!:$/()])/g, "\\$1");
}

/** The default pattern of a parameter: no delimiter, and not a run of the literal before it. */
function restrictBacktrack(delimiter: string, prevText: string): string {
  const charGroup = `[^${escapeString(delimiter === "/" ? delimiter : delimiter + "/")}]`;
  if (!prevText || prevText.includes(delimiter) || prevText.includes("/")) return `${charGroup}+?`;
  return `${escapeString(prevText)}|(?:(?!${escapeString(prevText)})${charGroup})+?`;
}

function parse(str: string): Part[] {
  const parts: Part[] = [];
  let key = 0;
  let index = 0;
  let path = "";
  let pathEscaped = false;
  PATH_TOKEN.lastIndex = 0;
  for (let res = PATH_TOKEN.exec(str); res !== null; res = PATH_TOKEN.exec(str)) {
    const m = res[0];
    path += str.slice(index, res.index);
    index = res.index + m.length;
    if (res[1] !== undefined) {
      path += res[1][1];
      pathEscaped = true;
      continue;
    }
    let prev = "";
    // Any character before a parameter is its prefix (path-to-regexp's default, no whitelist).
    if (!pathEscaped && path.length > 0) {
      prev = path[path.length - 1]!;
      path = path.slice(0, -1);
    }
    if (path) {
      parts.push(path);
      path = "";
      pathEscaped = false;
    }
    const modifier = res[5];
    const pattern = res[3] ?? res[4];
    const delimiter = prev || "/";
    const last = parts[parts.length - 1];
    const prevText = prev || (typeof last === "string" ? last : "");
    parts.push({
      name: res[2] ?? key++,
      prefix: prev,
      delimiter,
      optional: modifier === "?" || modifier === "*",
      repeat: modifier === "+" || modifier === "*",
      pattern: pattern !== undefined ? escapeGroup(pattern) : restrictBacktrack(delimiter, prevText),
    });
  }
  if (path || index < str.length) parts.push(path + str.slice(index));
  return parts;
}

export interface PathPattern {
  readonly regex: RegExp;
  /** The parameters' names, in the order of the regex's groups. */
  readonly keys: readonly (string | number)[];
}

/**
 * The regex of a source pattern. Throws a SyntaxError for one that makes a bad regex, and for one with
 * more than one repeated parameter (`+` or `*`): where each of several takes one or more segments, the
 * regex tries every way to share the path out among them ("/:a+/:b+/:c+/x" takes a second on a path of
 * a thousand segments that does not match, and grows with the cube of its length).
 */
export function compilePathPattern(source: string): PathPattern {
  const keys: (string | number)[] = [];
  let route = "^";
  const parts = parse(source);
  let repeated = 0;
  for (const part of parts) if (typeof part !== "string" && part.repeat) repeated++;
  if (repeated > 1) throw new SyntaxError(`"${source}" has ${repeated} repeated parameters (one at most: more backtrack without bound)`);
  for (const part of parts) {
    if (typeof part === "string") {
      route += escapeString(part);
      continue;
    }
    keys.push(part.name);
    // A repeated ".*" or ".+" ("/blog/**" is "/blog/(.*)*") takes the same strings, and the same
    // capture, as the pattern alone; written out, "(?:.*)(?:\/(?:.*))*" backtracks exponentially on
    // a path with many '/' that does not match (26 segments: a second, doubling with each more).
    const capture =
      part.repeat && part.pattern !== ".*" && part.pattern !== ".+"
        ? `(?:${part.pattern})(?:${escapeString(part.delimiter)}(?:${part.pattern}))*`
        : part.pattern;
    if (part.optional) route += part.prefix ? `(?:${escapeString(part.prefix)}(${capture}))?` : `(${capture})?`;
    else route += `${escapeString(part.prefix)}(${capture})`;
  }
  route += "(?:\\/)?$";
  return { regex: new RegExp(route, "i"), keys };
}

/** Fills a destination's parameters; null where path-to-regexp's compile would throw (a value missing or not fitting). */
export type Destination = (props: Readonly<Record<string, string | undefined>>) => string | null;

/** The writer of a destination pattern, as path-to-regexp's compile() with its defaults. */
export function compileDestination(destination: string): Destination {
  const parts = parse(destination);
  const checks = parts.map((p) => (typeof p === "string" ? null : new RegExp(`^(?:${p.pattern})$`, "i")));
  return (props) => {
    let path = "";
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      if (typeof part === "string") {
        path += part;
        continue;
      }
      const value = props[part.name];
      if (value === undefined) {
        if (part.optional) continue;
        return null;
      }
      const segment = encodeURIComponent(value);
      if (!checks[i]!.test(segment)) return null;
      path += part.prefix + segment;
    }
    return path;
  };
}
