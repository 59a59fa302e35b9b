// Watches a directory tree (fs.watch, recursive) and reports what changed in batches: the events of
// one save (an editor writes, renames, touches) arrive together, after a short quiet spell, and
// never later than MAX_DELAY_MS after the first. Names under a "." segment (.git/, editor swap
// files) and backups ending in "~" are not reported.
import { type FSWatcher, watch } from "node:fs";
import { sep } from "node:path";

/** A batch is reported this long after its first event, at the latest, however busy the tree. */
const MAX_DELAY_MS = 500;

export interface TreeWatcher {
  close(): void;
}

/**
 * Calls `onBatch` with the URL paths ("/css/site.css") that changed, `quietMs` after the last event
 * of a burst; null in the list: a change whose name the system did not give. A tree that cannot be
 * watched (no inotify watches left) is said once on stderr; the server goes on without live reload.
 */
export function watchTree(root: string, quietMs: number, onBatch: (paths: (string | null)[]) => void): TreeWatcher {
  let pending = new Set<string | null>();
  let timer: ReturnType<typeof setTimeout> | null = null;
  let first = 0;
  const flush = () => {
    timer = null;
    const paths = [...pending];
    pending = new Set();
    onBatch(paths);
  };
  const changed = (_event: string, name: string | Buffer | null) => {
    const path = name === null ? null : urlPath(String(name));
    if (path === "") return; // ignored
    pending.add(path);
    const now = Date.now();
    if (timer === null) first = now;
    else clearTimeout(timer);
    timer = setTimeout(flush, Math.max(0, Math.min(quietMs, first + MAX_DELAY_MS - now)));
  };
  let w: FSWatcher | null = null;
  try {
    w = watch(root, { recursive: true, persistent: false }, changed);
    w.on("error", (err) => {
      console.error(`--watch: stopped watching ${root}: ${(err as Error).message}`);
      w?.close();
    });
  } catch (err) {
    console.error(`--watch: cannot watch ${root}: ${(err as Error).message}`);
  }
  return {
    close() {
      w?.close();
      if (timer !== null) clearTimeout(timer);
      timer = null;
    },
  };
}

/** A name relative to the root as a URL path, or "" for one not reported. */
export function urlPath(name: string): string {
  const segments = name.split(sep);
  for (const s of segments) if (s.startsWith(".") || s.endsWith("~")) return "";
  return `/${segments.join("/")}`;
}
