// A site's rule file in its root (serve.json, _redirects, _headers): read at start-up, where a bad
// one is an error that stops the server, then read again whenever it changes: at once through
// fs.watch on the root, and, should an event be missed or watching fail, when its mtime or size is
// seen to change (one stat every two seconds); one watcher and one timer serve all of a root's files.
// A bad file at run time (whatever the parser throws) is one line on stderr, once for that text, and
// the rules read before stay; a file removed gives null.
import { type FSWatcher, readFileSync, statSync, watch } from "node:fs";
import { join, relative } from "node:path";
import { RuleFileError } from "./rule-file-error.ts";

/** Larger rule files are refused: they are read whole, and again on every change. */
export const MAX_RULE_FILE_BYTES = 1024 * 1024;
const POLL_MS = 2000;

export interface RuleFile<T> {
  /** The rules in force: null when there is no file. */
  readonly current: T | null;
}

/** The path as the user knows it: relative to the working directory when inside it. */
export function shownPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel !== "" && !rel.startsWith("..") && !rel.startsWith("/") ? rel : path;
}

/** One file of a RuleFiles: how to tell it changed, and what to do then. */
interface Watched {
  readonly name: string;
  readonly path: string;
  seen: string;
  reload(): void;
}

/**
 * The rule files of one root, watched together: one fs.watch on the root and one timer, whatever
 * the number of files (serve.json, _redirects and _headers are three).
 */
export class RuleFiles {
  readonly #root: string;
  readonly #files: Watched[] = [];
  #watcher: FSWatcher | null = null;
  #timer: ReturnType<typeof setInterval> | null;

  constructor(root: string) {
    this.#root = root;
    this.#timer = setInterval(() => this.#poll(), POLL_MS);
    this.#timer.unref();
    try {
      this.#watcher = watch(root, { persistent: false }, (_event, changed) => this.#changed(changed));
      this.#watcher.on("error", () => {
        this.#watcher?.close();
        this.#watcher = null;
      });
    } catch {
      // (the mtime check alone then)
    }
  }

  /**
   * Reads `root/name` with `parse` (which throws RuleFileError for a bad file); throws that error
   * now when the file is bad at start. `onChange` gets each new value once the file changed and parsed.
   */
  add<T>(name: string, parse: (text: string, file: string) => T, onChange: (value: T | null) => void): RuleFile<T> {
    const path = join(this.#root, name);
    const file = shownPath(path);
    const log = (err: unknown) => console.error(`${err instanceof Error ? err.message : String(err)}; the rules read before stay`);
    let lastText: string | null = read(path, file);
    let current: T | null = lastText === null ? null : parse(lastText, file);

    const reload = () => {
      let text: string | null;
      try {
        text = read(path, file);
      } catch (err) {
        log(err);
        return;
      }
      if (text === lastText) return;
      // Seen, good or bad: the same text is not parsed (nor logged) again on every event.
      lastText = text;
      let next: T | null = null;
      if (text !== null) {
        try {
          next = parse(text, file);
        } catch (err) {
          // Any error (a RangeError from a parser too): this runs in fs.watch's callback, where a
          // throw would end the process.
          log(err);
          return;
        }
      }
      current = next;
      onChange(next);
    };
    this.#files.push({ name, path, seen: versionOf(path), reload });
    return {
      get current() {
        return current;
      },
    };
  }

  /** Stops watching every file. */
  close(): void {
    this.#files.length = 0;
    this.#watcher?.close();
    this.#watcher = null;
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  #changed(changed: string | null): void {
    for (const f of this.#files) {
      if (changed !== null && changed !== f.name) continue;
      f.seen = versionOf(f.path);
      f.reload();
    }
  }

  #poll(): void {
    for (const f of this.#files) {
      const v = versionOf(f.path);
      if (v === f.seen) continue;
      f.seen = v;
      f.reload();
    }
  }
}

/** One rule file watched on its own: a RuleFiles of one, closed with it. */
export function watchRuleFile<T>(
  root: string,
  name: string,
  parse: (text: string, file: string) => T,
  onChange: (value: T | null) => void,
): RuleFile<T> & { close(): void } {
  const files = new RuleFiles(root);
  try {
    const one = files.add(name, parse, onChange);
    return {
      get current() {
        return one.current;
      },
      close: () => files.close(),
    };
  } catch (err) {
    files.close();
    throw err;
  }
}

/** What tells a changed file: its mtime and size ("" when it is missing). */
function versionOf(path: string): string {
  try {
    const st = statSync(path);
    return `${st.mtimeMs}:${st.size}`;
  } catch {
    return "";
  }
}

/** The file's text, null when there is none; a RuleFileError when it cannot be read or is too large. */
function read(path: string, file: string): string | null {
  let size: number;
  try {
    const st = statSync(path, { throwIfNoEntry: false });
    if (st === undefined) return null;
    if (!st.isFile()) throw new RuleFileError(file, 0, "is not a regular file");
    size = st.size;
  } catch (err) {
    if (err instanceof RuleFileError) throw err;
    return null;
  }
  if (size > MAX_RULE_FILE_BYTES) throw new RuleFileError(file, 0, `is larger than ${MAX_RULE_FILE_BYTES} bytes`);
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new RuleFileError(file, 0, `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}
