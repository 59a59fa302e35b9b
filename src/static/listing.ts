// Directory listings: an HTML page (sortable without JavaScript, readable on a phone) or JSON.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Reply } from "../server/reply.ts";
import type { ServerRequest } from "../server/request.ts";
import { isInsideRoot, throwIfOutOfDescriptors } from "./file-system.ts";
import { NEVER_SERVED } from "./resolve.ts";

export interface ListingEntry {
  name: string;
  type: "directory" | "file";
  size: number;
  /** ISO 8601. */
  modified: string;
  mtimeMs: number;
}

export type SortKey = "name" | "size" | "date";

/**
 * Reads a directory, hiding dotfiles unless allowed; entries that vanish or are special are skipped.
 * With `root` (a real path), symlinks leading outside it are skipped too: they would 404 anyway, and
 * listing them tells a stranger the size and date of a file outside the root. The root's rule files
 * (serve.json…) are never listed; `hide` leaves out more names (serve.json's `unlisted`).
 */
export function readListing(dir: string, showHidden: boolean, root?: string, hide?: (name: string) => boolean): ListingEntry[] {
  const out: ListingEntry[] = [];
  for (const dirent of readdirSync(dir, { withFileTypes: true })) {
    const name = dirent.name;
    if (!showHidden && name.startsWith(".") && name !== ".well-known") continue;
    if (dir === root && NEVER_SERVED.has(name)) continue;
    if (hide !== undefined && hide(name)) continue;
    // A name with a control character or a backslash could not be asked for (resolve.ts refuses such
    // paths with 400): no link that cannot work.
    if (!linkable(name)) continue;
    if (root !== undefined && dirent.isSymbolicLink() && !isInsideRoot(join(dir, name), root)) continue;
    let st;
    try {
      st = statSync(join(dir, name), { throwIfNoEntry: false });
    } catch {
      continue; // a symlink loop or a dangling path (ELOOP, ENAMETOOLONG) must not hide the rest
    }
    if (st === undefined || (!st.isFile() && !st.isDirectory())) continue;
    out.push({
      name,
      type: st.isDirectory() ? "directory" : "file",
      size: st.isDirectory() ? 0 : st.size,
      modified: st.mtime.toISOString(),
      mtimeMs: st.mtimeMs,
    });
  }
  return out;
}

/** Directories first, then files, each group by the key. */
export function sortListing(entries: ListingEntry[], key: SortKey, descending: boolean): ListingEntry[] {
  const dir = descending ? -1 : 1;
  return entries.sort((a, b) => {
    if (a.type !== b.type) return a.type === "directory" ? -1 : 1;
    let d = 0;
    if (key === "size") d = a.size - b.size;
    else if (key === "date") d = a.mtimeMs - b.mtimeMs;
    if (d === 0) d = a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
    return d * dir;
  });
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Whether a name can be asked for as a path segment: no control character, DEL or backslash. */
function linkable(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || c === 92) return false;
  }
  return true;
}

/** Percent-encodes a file name for use as one path segment of a link. */
export function encodeSegment(name: string): string {
  return encodeURIComponent(name).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function formatSize(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/** The directory's path as a person reads it; as it came if it does not decode. */
function decodedPath(urlPath: string): string {
  try {
    return decodeURIComponent(urlPath);
  } catch {
    return urlPath;
  }
}

function formatDate(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

/**
 * The listing as a page. `urlPath` is the directory's path as requested (percent-encoded); without
 * its '/' (serve.json's `trailingSlash: false`), the links say the directory's name first.
 */
export function renderListingHtml(urlPath: string, entries: ListingEntry[], key: SortKey, descending: boolean): string {
  const title = `Index of ${escapeHtml(decodedPath(urlPath))}`;
  const sortLink = (k: SortKey, label: string) => {
    const nextDesc = k === key ? !descending : k !== "name";
    const arrow = k === key ? (descending ? " ↓" : " ↑") : "";
    return `<a href="?sort=${k}&amp;order=${nextDesc ? "desc" : "asc"}">${label}${arrow}</a>`;
  };
  const rows: string[] = [];
  const slashed = urlPath.endsWith("/");
  const base = slashed ? "" : `${urlPath.slice(urlPath.lastIndexOf("/") + 1)}/`;
  if (urlPath !== "/") {
    rows.push(`<tr class="dir"><td class="name"><a href="${slashed ? "../" : "./"}" rel="up">../</a></td><td class="size"></td><td class="date"></td></tr>`);
  }
  for (const e of entries) {
    const isDir = e.type === "directory";
    const href = base + encodeSegment(e.name) + (isDir ? "/" : "");
    const label = escapeHtml(e.name) + (isDir ? "/" : "");
    rows.push(
      `<tr class="${isDir ? "dir" : "file"}"><td class="name"><a href="${href}">${label}</a></td>` +
        `<td class="size">${isDir ? "—" : formatSize(e.size)}</td>` +
        `<td class="date"><time datetime="${e.modified}">${formatDate(e.modified)}</time></td></tr>`,
    );
  }
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>
:root { color-scheme: light dark; --fg: #1b1f24; --muted: #6b7280; --bg: #fbfbfa; --line: #e5e7eb; --accent: #c2410c; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e6e3; --muted: #9ca3af; --bg: #16181b; --line: #2a2d33; --accent: #fb923c; } }
body { margin: 0; font: 16px/1.5 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
main { max-width: 56rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.35rem; font-weight: 600; word-break: break-all; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: .45rem .5rem; border-bottom: 1px solid var(--line); }
th a { color: var(--muted); text-decoration: none; font-weight: 600; }
td.name a { color: var(--accent); text-decoration: none; word-break: break-all; }
td.name a:hover { text-decoration: underline; }
tr.dir td.name a { font-weight: 600; }
.size, .date { white-space: nowrap; color: var(--muted); font-variant-numeric: tabular-nums; }
.size { text-align: right; }
@media (max-width: 36rem) { .date { display: none; } th, td { padding: .55rem .35rem; } }
footer { margin-top: 1rem; color: var(--muted); font-size: .85rem; }
</style>
</head>
<body>
<main>
<h1>${title}</h1>
<table>
<thead><tr><th>${sortLink("name", "Name")}</th><th class="size">${sortLink("size", "Size")}</th><th class="date">${sortLink("date", "Modified")}</th></tr></thead>
<tbody>
${rows.join("\n")}
</tbody>
</table>
<footer>${entries.length} ${entries.length === 1 ? "entry" : "entries"} · bunhttp</footer>
</main>
</body>
</html>
`;
}

export function renderListingJson(urlPath: string, entries: ListingEntry[]): string {
  return JSON.stringify({
    path: decodedPath(urlPath),
    entries: entries.map((e) => ({ name: e.name, type: e.type, size: e.size, modified: e.modified })),
  });
}

/** `?sort=name|size|date&order=asc|desc`; anything else sorts by name, ascending. */
export function listingOrder(query: URLSearchParams): { sort: SortKey; descending: boolean } {
  const sort = query.get("sort");
  return { sort: sort === "size" || sort === "date" ? sort : "name", descending: query.get("order") === "desc" };
}

/** JSON for a client that asks for it and not for HTML (a browser's navigation always names text/html). */
export function wantsJsonListing(accept: string): boolean {
  return accept.includes("application/json") && !accept.includes("text/html");
}

/** The listing of directory `dir` (inside `root`) for this request; null when it cannot be read. */
export function listingReply(req: ServerRequest, dir: string, showHidden: boolean, root: string, hide?: (name: string) => boolean): Reply | null {
  const { sort, descending } = listingOrder(req.query);
  let entries;
  try {
    entries = sortListing(readListing(dir, showHidden, root, hide), sort, descending);
  } catch (err) {
    throwIfOutOfDescriptors(err);
    return null;
  }
  const urlPath = req.head.path;
  const json = wantsJsonListing(req.head.header("accept") ?? "");
  return {
    status: 200,
    headers: [
      ["Content-Type", json ? "application/json; charset=utf-8" : "text/html; charset=utf-8"],
      ["Cache-Control", "no-cache"],
      // The same URL answers HTML or JSON by Accept.
      ["Vary", "Accept"],
      ["X-Content-Type-Options", "nosniff"],
    ],
    body: json ? renderListingJson(urlPath, entries) : renderListingHtml(urlPath, entries, sort, descending),
  };
}
