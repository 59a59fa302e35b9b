// How serve-handler 6.1.8 matches a serve.json `source` against a path: the source made absolute and
// normalised ("slashed"), then tried as a path-to-regexp pattern (its first '*' read as "(.*)"), then
// as a minimatch glob, both against the path resolved (no trailing '/', no "." or ".." segments).
// Headers, `unlisted`, `cleanUrls` and `directoryListing` globs take the glob only.
import { posix } from "node:path";
import { compileGlob, type Glob } from "./glob.ts";
import { compileDestination, compilePathPattern, type Destination, type PathPattern } from "./path-pattern.ts";

/** glob-slash: "/"-rooted and normalised, a leading '!' kept. */
export function slash(value: string): string {
  const normalize = (v: string) => posix.normalize(posix.join("/", v));
  return value.charCodeAt(0) === 33 ? `!${normalize(value.slice(1))}` : normalize(value);
}

/** A request path percent-decoded as serve-handler decodes it (decodeURIComponent); null for a bad escape. */
export function safeDecode(path: string): string | null {
  try {
    return decodeURIComponent(path);
  } catch {
    return null;
  }
}

/** A decoded request path as serve-handler matches it: path.posix.resolve's answer. */
export function resolvedPath(decodedPath: string): string {
  return posix.resolve("/", decodedPath);
}

/** A source matched by glob only. */
export function globSource(source: string): Glob {
  return compileGlob(slash(source));
}

export type Params = Record<string, string | undefined>;

/** A redirect's or rewrite's source and destination, compiled. */
export class SourceRule {
  readonly #pattern: PathPattern;
  readonly #glob: Glob;
  readonly #destination: Destination;

  constructor(source: string, destination: string) {
    const slashed = slash(source);
    this.#pattern = compilePathPattern(slashed.replace("*", "(.*)"));
    this.#glob = compileGlob(slashed);
    // A destination with a scheme is a URL, written as it is; else it is slashed too.
    this.#destination = compileDestination(/^[a-z][a-z0-9+.-]*:/i.test(destination) ? destination : slash(destination));
  }

  /**
   * The destination for this path (decoded, then resolvedPath()'s), or null when the source does not
   * match it (or the destination names a parameter the match did not give: path-to-regexp throws).
   */
  target(path: string): string | null {
    const m = this.#pattern.regex.exec(path);
    const props: Params = {};
    if (m !== null) {
      const keys = this.#pattern.keys;
      for (let i = 0; i < keys.length; i++) props[keys[i]!] = m[i + 1];
    } else if (!this.#glob(path)) return null;
    return this.#destination(props);
  }
}
