// What a path names under a root with serve.json, as serve-handler 6.1.8 looks it up: a name with an
// extension is tried as it is; then, with clean URLs, "<path>/index.html" and "<path>.html"; then the
// path itself. A directory is listed where `directoryListing` allows (no index file without clean
// URLs, and no redirect to its '/'), or with `renderSingle` its only file is served (of the names
// that would be served: dotfiles and rule files do not count). A symlink is a 404 unless `symlinks`
// is on. Ours kept on top: dotfiles and the rule files are hidden, bad paths are 400, and nothing
// outside the root is ever reached (serve-handler follows links anywhere).
import type { BigIntStats } from "node:fs";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { isInsideRoot, lstatOrNull, statInside, throwIfOutOfDescriptors } from "../static/file-system.ts";
import type { Target } from "../static/path-policy.ts";
import { isHiddenSegments, isNeverServed, resolveRequestPath } from "../static/resolve.ts";
import type { SiteLookup } from "../static/serve-static.ts";

export interface ServeLookupOptions {
  /** The root's real path. */
  root: string;
  allowDotfiles: boolean;
  /** May the directory at this decoded request path be listed (`directoryListing`)? */
  listing: (decodedPath: string) => boolean;
  renderSingle: boolean;
  /** Follow symlinks (inside the root); false: a symlink is a 404, as serve-handler's default. */
  symlinks: boolean;
  /** Names no listing shows (`unlisted`, and serve-handler's .DS_Store and .git). */
  hide: (name: string) => boolean;
}

const NOT_FOUND = { kind: "not-found" } as const;
const BAD_PATH = { kind: "bad-path" } as const;
/** A symlink met while `symlinks` is off: the answer is 404, whatever else might have matched. */
const LINK = "link";

export function createServeLookup(o: ServeLookupOptions): SiteLookup {
  const stat = (path: string): BigIntStats | null | typeof LINK => {
    if (o.symlinks) return statInside(path, o.root);
    const st = lstatOrNull(path);
    if (st === null) return null;
    if (st.isSymbolicLink()) return LINK;
    // A directory on the way may still be a link: what is served must stay inside the root.
    return isInsideRoot(path, o.root) ? st : null;
  };

  function find(path: string, clean: boolean): Target<BigIntStats> {
    const resolved = resolveRequestPath(path);
    if (typeof resolved === "number") return BAD_PATH;
    const { segments, trailingSlash } = resolved;
    if (!o.allowDotfiles && isHiddenSegments(segments)) return NOT_FOUND;
    if (isNeverServed(segments)) return NOT_FOUND;
    const abs = segments.length === 0 ? o.root : join(o.root, ...segments);
    const last = segments.length === 0 ? "" : segments[segments.length - 1]!;
    let file = abs;
    let st: BigIntStats | null | typeof LINK = null;
    // serve-handler stats a name with an extension first ("/docs/1.4", a directory, does not count).
    if (hasExtension(last)) {
      st = stat(abs);
      if (st !== null && st !== LINK && (st.isDirectory() || trailingSlash)) st = null;
    }
    if (st === null && clean) {
      // "/about" → about/index.html, then about.html ("/about/" → about.html too, as serve-handler).
      const candidates = segments.length === 0 ? [join(abs, "index.html")] : [join(abs, "index.html"), `${abs}.html`];
      for (const c of candidates) {
        st = stat(c);
        if (st !== null) {
          file = c;
          break;
        }
      }
    }
    if (st === null) {
      st = stat(abs);
      // "/file.txt/" (ENOTDIR for serve-handler)
      if (st !== null && st !== LINK && !st.isDirectory() && trailingSlash) st = null;
    }
    if (st === null || st === LINK) return NOT_FOUND;
    if (st.isDirectory()) return directory(file, segments, trailingSlash);
    // FIFOs, devices and sockets are never opened.
    if (!st.isFile()) return NOT_FOUND;
    return { kind: "file", path: file, name: file.slice(file.lastIndexOf("/") + 1), stats: st };
  }

  function directory(dir: string, segments: string[], trailingSlash: boolean): Target<BigIntStats> {
    const decoded = `/${segments.join("/")}${trailingSlash && segments.length > 0 ? "/" : ""}`;
    // serve-handler: `renderSingle` reads the directory even where `directoryListing` says no.
    if (!o.listing(decoded) && !o.renderSingle) return NOT_FOUND;
    if (o.renderSingle) {
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch (err) {
        throwIfOutOfDescriptors(err);
        return NOT_FOUND;
      }
      const only = soleServed(names, segments);
      if (only !== null) {
        const path = join(dir, only);
        const st = stat(path);
        if (st === LINK) return NOT_FOUND;
        if (st !== null && st.isFile()) return { kind: "file", path, name: only, stats: st };
      }
    }
    return { kind: "listing", path: dir };
  }

  /**
   * The one name in the directory that find() would serve, or null: dotfiles (unless allowed) and
   * the rule files do not count, so neither is ever sent this way. `unlisted` names do count and are
   * served, as serve-handler does (they are served at their own path too; unlisted only means "not
   * in a listing").
   */
  function soleServed(names: readonly string[], segments: readonly string[]): string | null {
    let only: string | null = null;
    for (const name of names) {
      const child = [...segments, name];
      if (!o.allowDotfiles && isHiddenSegments(child)) continue;
      if (isNeverServed(child)) continue;
      if (only !== null) return null;
      only = name;
    }
    return only;
  }

  return { find, hide: o.hide };
}

/** path.extname's answer is not "": a '.' after the name's first character ("a." counts, ".env" not). */
function hasExtension(name: string): boolean {
  return name.lastIndexOf(".") > 0;
}
