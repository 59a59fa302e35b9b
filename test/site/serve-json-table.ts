// serve.json cases: a config, then requests and what comes back (status, Location, the file whose
// bytes are the body, listing names, header fields). serve-json.test.ts runs every row against our
// server AND vercel's serve-handler 6.1.8, so each expectation is serve's real behaviour; a row where
// we differ on purpose says why (`differs`) and what serve-handler answers instead.

/** The fixture tree every group is served from (a symlink and a dotfile are made beside it). */
export const FIXTURE: Record<string, string> = {
  "index.html": "home page\n",
  "about.html": "about page\n",
  "contact/index.html": "contact index\n",
  "blog.html": "blog page\n",
  "blog/post.html": "a post\n",
  "docs/readme.md": "# readme\n",
  "docs/guide.txt": "guide\n",
  "docs/secret.txt": "secret\n",
  "docs/1.4/index.html": "docs 1.4\n",
  "single/only.txt": "the only file\n",
  "assets/app.js": "console.log(1);\n",
  "assets/style.css": "body{}\n",
  "404.html": "custom not found\n",
  "with space.html": "spaced\n",
  ".env": "SECRET=1\n",
  "dot-only/.env": "SECRET=2\n",
  "dot-and-one/.env": "SECRET=3\n",
  "dot-and-one/only.txt": "beside a dotfile\n",
  "lone/lone.md": "unlisted, alone\n",
};
/** Symlinks: name → target (relative). */
export const LINKS: Record<string, string> = { "guide-link.txt": "docs/guide.txt", "outside-link.txt": "../outside.txt" };
/** Written beside each group's root, where only a symlink can lead. */
export const OUTSIDE = "outside the root\n";

/** What a response must show; fields left out are not compared. */
export interface Expect {
  status: number;
  location?: string;
  /** The body is this fixture file's bytes. */
  file?: string;
  /** The body is NOT this fixture file's bytes (a file that must not leak). */
  notFile?: string;
  /** A listing: names it shows, and names it must not. */
  lists?: string[];
  hides?: string[];
  /** Header fields: a value, "*" for present, null for absent. */
  headers?: Record<string, string | null>;
}

export interface Case extends Expect {
  path: string;
  /** GET unless given (a POST is sent with an empty body). */
  method?: string;
  /** We answer otherwise on purpose: why, and serve-handler's answer. */
  differs?: { why: string; serve: Expect };
}

export interface Group {
  name: string;
  config: Record<string, unknown>;
  /** The tree to serve instead of FIXTURE (and no symlinks), serve.json apart. */
  files?: Record<string, string>;
  cases: Case[];
}

const QUERY_KEPT = "we keep the query on our clean-URL and slash redirects (serve-handler drops it)";
const NEVER_SERVED = "serve.json is never served (serve-handler sends it)";
const DOTFILES = "dotfiles stay hidden (--dotfiles deny); serve-handler serves them";
const STATIC_METHODS = "a file answers GET and HEAD: POST is 405 and OPTIONS 204, both with Allow (serve-handler sends the file for any method)";
const SINGLE_DOT = "a dotfile is never a directory's one file to render (serve-handler serves it): the directory is listed, empty";

export const GROUPS: Group[] = [
  {
    name: "defaults (an empty serve.json: cleanUrls on)",
    config: {},
    cases: [
      { path: "/", status: 200, file: "index.html" },
      { path: "/about", status: 200, file: "about.html" },
      { path: "/about.html", status: 301, location: "/about" },
      { path: "/about.html?x=1", status: 301, location: "/about?x=1", differs: { why: QUERY_KEPT, serve: { status: 301, location: "/about" } } },
      { path: "/index.html", status: 301, location: "/index" },
      { path: "/index", status: 301, location: "/" },
      { path: "/contact", status: 200, file: "contact/index.html" },
      { path: "/contact/", status: 200, file: "contact/index.html" },
      { path: "/contact/index.html", status: 301, location: "/contact/index" },
      { path: "/blog", status: 200, file: "blog.html" },
      { path: "/blog/", status: 200, file: "blog.html" },
      { path: "/blog/post", status: 200, file: "blog/post.html" },
      { path: "/docs", status: 200, lists: ["readme.md", "guide.txt", "1.4"] },
      { path: "/docs/1.4", status: 200, file: "docs/1.4/index.html" },
      { path: "/docs/guide.txt", status: 200, file: "docs/guide.txt" },
      { path: "/assets/app.js", status: 200, file: "assets/app.js" },
      { path: "/with%20space", status: 200, file: "with space.html" },
      { path: "/missing", status: 404, file: "404.html" },
      { path: "/missing.html", status: 301, location: "/missing" },
      { path: "/guide-link.txt", status: 404, file: "404.html" },
      { path: "/%E0%A4%A", status: 400 },
      { path: "/%2e%2e/outside.txt", status: 400 },
      { path: "/docs/%2e%2e/%2e%2e/outside.txt", status: 400 },
      { path: "/serve.json", status: 404, differs: { why: NEVER_SERVED, serve: { status: 200 } } },
      { path: "/.env", status: 404, differs: { why: DOTFILES, serve: { status: 200, file: ".env" } } },
    ],
  },
  {
    name: "cleanUrls: false",
    config: { cleanUrls: false },
    cases: [
      { path: "/about", status: 404, file: "404.html" },
      { path: "/about.html", status: 200, file: "about.html" },
      // No index file without clean URLs: serve-handler lists the directory.
      { path: "/contact/", status: 200, lists: ["index.html"] },
      { path: "/", status: 200, lists: ["about.html", "contact"], hides: ["serve.json"], differs: { why: NEVER_SERVED + " nor listed", serve: { status: 200, lists: ["about.html", "serve.json"] } } },
    ],
  },
  {
    name: "cleanUrls: globs",
    config: { cleanUrls: ["/blog/**"] },
    cases: [
      { path: "/blog/post", status: 200, file: "blog/post.html" },
      { path: "/blog/post.html", status: 301, location: "/blog/post" },
      { path: "/about", status: 404 },
      { path: "/about.html", status: 200, file: "about.html" },
    ],
  },
  {
    name: "trailingSlash: true",
    config: { trailingSlash: true },
    cases: [
      { path: "/contact", status: 301, location: "/contact/" },
      { path: "/contact/", status: 200, file: "contact/index.html" },
      { path: "/about", status: 301, location: "/about/" },
      { path: "/about/", status: 200, file: "about.html" },
      { path: "/assets/app.js", status: 200, file: "assets/app.js" },
      { path: "/contact?x=1", status: 301, location: "/contact/?x=1", differs: { why: QUERY_KEPT, serve: { status: 301, location: "/contact/" } } },
      { path: "/about.html", status: 301, location: "/about" },
    ],
  },
  {
    name: "trailingSlash: false",
    config: { trailingSlash: false },
    cases: [
      { path: "/contact/", status: 301, location: "/contact" },
      { path: "/contact", status: 200, file: "contact/index.html" },
      { path: "/docs", status: 200, lists: ["guide.txt"] },
      { path: "/", status: 200, file: "index.html" },
      { path: "/docs//guide.txt", status: 301, location: "/docs/guide.txt" },
    ],
  },
  {
    name: "redirects",
    config: {
      redirects: [
        { source: "/old", destination: "/about" },
        { source: "/user/:id", destination: "/profile/:id", type: 302 },
        { source: "/a/**", destination: "/b" },
        { source: "/ext", destination: "https://example.com/x", type: 307 },
        { source: "/files/:name.txt", destination: "/docs/:name.md", type: 308 },
        { source: "/opt/:v?", destination: "/o/:v?", type: 303 },
        { source: "/about", destination: "/never" },
      ],
    },
    cases: [
      { path: "/old", status: 301, location: "/about" },
      { path: "/OLD", status: 301, location: "/about" },
      { path: "/old/", status: 301, location: "/about" },
      { path: "/old?q=1", status: 301, location: "/about" },
      { path: "/user/42", status: 302, location: "/profile/42" },
      { path: "/user/a%20b", status: 302, location: "/profile/a%2520b" },
      { path: "/user/42/more", status: 404, file: "404.html" },
      { path: "/a/x/y", status: 301, location: "/b" },
      { path: "/ext", status: 307, location: "https://example.com/x" },
      { path: "/files/guide.txt", status: 308, location: "/docs/guide.md" },
      { path: "/opt", status: 303, location: "/o" },
      { path: "/opt/7", status: 303, location: "/o/7" },
      { path: "/about", status: 301, location: "/never" },
      { path: "/about.html", status: 301, location: "/about" },
    ],
  },
  {
    name: "rewrites",
    config: {
      rewrites: [
        { source: "/app/**", destination: "/index.html" },
        { source: "/p/:id", destination: "/blog/:id.html" },
        { source: "/chain1", destination: "/chain2" },
        { source: "/chain2", destination: "/about.html" },
        { source: "/assets/app.js", destination: "/about.html" },
        { source: "/gone", destination: "/nothing.html" },
        { source: "/docs-list", destination: "/docs/" },
        { source: "/x2", destination: "/about.html" },
        { source: "/x1", destination: "/x2" },
      ],
    },
    cases: [
      { path: "/app/x", status: 200, file: "index.html" },
      { path: "/app/x/y.png", status: 200, file: "index.html" },
      { path: "/p/post", status: 200, file: "blog/post.html" },
      { path: "/chain1", status: 200, file: "about.html" },
      { path: "/assets/app.js", status: 200, file: "assets/app.js" },
      { path: "/gone", status: 404, file: "404.html" },
      { path: "/about", status: 200, file: "about.html" },
      { path: "/docs-list", status: 200, lists: ["guide.txt"] },
      { path: "/x1", status: 200, file: "about.html" },
      { method: "HEAD", path: "/p/post", status: 200, notFile: "blog/post.html", headers: { "content-length": "7" } },
      { method: "POST", path: "/p/post", status: 405, headers: { allow: "GET, HEAD, OPTIONS" }, differs: { why: STATIC_METHODS, serve: { status: 200, file: "blog/post.html" } } },
      { method: "OPTIONS", path: "/p/post", status: 204, headers: { allow: "GET, HEAD, OPTIONS" }, differs: { why: STATIC_METHODS, serve: { status: 200, file: "blog/post.html" } } },
      { method: "HEAD", path: "/app/x", status: 200, headers: { "content-length": "10" } },
    ],
  },
  {
    name: "a rewrite with trailingSlash",
    config: { trailingSlash: true, rewrites: [{ source: "/app/**", destination: "/index.html" }, { source: "/p/:id", destination: "/blog/:id.html" }] },
    cases: [
      { path: "/app/x", status: 301, location: "/app/x/" },
      { path: "/app/x/", status: 200, file: "index.html" },
      { path: "/p/post", status: 301, location: "/p/post/" },
      { path: "/p/post/", status: 200, file: "blog/post.html" },
      { path: "/app/x.png", status: 200, file: "index.html" },
    ],
  },
  {
    name: "a rewrite with trailingSlash: false",
    config: { trailingSlash: false, rewrites: [{ source: "/app/**", destination: "/index.html" }] },
    cases: [
      { path: "/app/x/", status: 301, location: "/app/x" },
      { path: "/app/x", status: 200, file: "index.html" },
    ],
  },
  // A rule for /docs/secret.txt or /assets/** holds however the path is spelt: doubled slashes, "."
  // and ".." segments, encoded or not, are matched as the path they resolve to.
  {
    name: "headers and redirects against // and .. spellings",
    config: {
      cleanUrls: false,
      redirects: [{ source: "/docs/secret.txt", destination: "/login", type: 302 }, { source: "/blog/**", destination: "/b", type: 302 }],
      headers: [{ source: "/assets/**", headers: [{ key: "X-A", value: "1" }] }],
    },
    cases: [
      { path: "/docs/secret.txt", status: 302, location: "/login" },
      { path: "//docs/secret.txt", status: 302, location: "/login" },
      { path: "/docs//secret.txt", status: 302, location: "/login" },
      { path: "/x/../docs/secret.txt", status: 302, location: "/login" },
      { path: "/docs/./secret.txt", status: 302, location: "/login" },
      { path: "/docs/%2e/secret.txt", status: 302, location: "/login" },
      { path: "/x/%2e%2e/docs/secret.txt", status: 302, location: "/login" },
      { path: "//blog/post.html", status: 302, location: "/b" },
      { path: "/assets/app.js", status: 200, headers: { "x-a": "1" } },
      { path: "//assets/app.js", status: 200, file: "assets/app.js", headers: { "x-a": "1" } },
      { path: "/assets//app.js", status: 200, file: "assets/app.js", headers: { "x-a": "1" } },
      { path: "/x/../assets/app.js", status: 200, file: "assets/app.js", headers: { "x-a": "1" } },
      { path: "/assets/./app.js", status: 200, file: "assets/app.js", headers: { "x-a": "1" } },
      { path: "/x/%2e%2e/assets/app.js", status: 200, file: "assets/app.js", headers: { "x-a": "1" } },
    ],
  },
  {
    name: "a single-page app's catch-all rewrite",
    config: { rewrites: [{ source: "**", destination: "/index.html" }] },
    cases: [
      { path: "/deep/link", status: 200, file: "index.html" },
      { path: "/about", status: 200, file: "index.html" },
      { path: "/assets/app.js", status: 200, file: "assets/app.js" },
      { path: "/missing.js", status: 200, file: "index.html" },
      { path: "/about.html", status: 301, location: "/about" },
    ],
  },
  {
    name: "headers",
    config: {
      headers: [
        { source: "**/*.html", headers: [{ key: "X-Html", value: "1" }] },
        { source: "/assets/**", headers: [{ key: "Cache-Control", value: "max-age=7" }] },
        { source: "**", headers: [{ key: "X-All", value: "a" }] },
        { source: "/about.html", headers: [{ key: "X-All", value: "b" }] },
        { source: "**/*.@(js|css)", headers: [{ key: "X-Asset", value: "yes" }] },
      ],
    },
    cases: [
      { path: "/about", status: 200, file: "about.html", headers: { "x-html": "1", "x-all": "b" } },
      { path: "/assets/style.css", status: 200, headers: { "cache-control": "max-age=7", "x-all": "a", "x-html": null, "x-asset": "yes" } },
      { path: "/assets/app.js", status: 200, headers: { "x-asset": "yes" } },
      { path: "/missing", status: 404, file: "404.html", headers: { "x-html": "1", "x-all": "a" } },
      { path: "/docs", status: 200, lists: ["guide.txt"], headers: { "x-all": null } },
      { path: "/about.html", status: 301, headers: { "x-all": null } },
    ],
  },
  {
    name: "directoryListing: false",
    config: { directoryListing: false },
    cases: [
      { path: "/docs", status: 404, file: "404.html" },
      { path: "/contact", status: 200, file: "contact/index.html" },
    ],
  },
  {
    name: "directoryListing: globs",
    config: { directoryListing: ["/docs"] },
    cases: [
      { path: "/docs", status: 200, lists: ["guide.txt"] },
      { path: "/docs/", status: 200, lists: ["guide.txt"] },
      { path: "/single", status: 404 },
    ],
  },
  {
    name: "unlisted",
    config: { unlisted: ["secret.txt", "*.md"] },
    cases: [{ path: "/docs", status: 200, lists: ["guide.txt"], hides: ["secret.txt", "readme.md"] }],
  },
  {
    name: "renderSingle",
    config: { renderSingle: true, unlisted: ["lone.md"] },
    cases: [
      { path: "/single", status: 200, file: "single/only.txt" },
      { path: "/docs", status: 200, lists: ["guide.txt"] },
      // An unlisted name still counts and is served, as at its own path.
      { path: "/lone", status: 200, file: "lone/lone.md" },
      { path: "/dot-only", status: 200, notFile: "dot-only/.env", hides: [".env"], differs: { why: SINGLE_DOT, serve: { status: 200, file: "dot-only/.env" } } },
      { path: "/dot-only/", status: 200, notFile: "dot-only/.env", hides: [".env"], differs: { why: SINGLE_DOT, serve: { status: 200, file: "dot-only/.env" } } },
      {
        path: "/dot-and-one",
        status: 200,
        file: "dot-and-one/only.txt",
        differs: { why: "a dotfile does not count, so only.txt is the one file (serve-handler counts two, and lists both)", serve: { status: 200, lists: ["only.txt", ".env"] } },
      },
    ],
  },
  {
    name: "renderSingle in a root holding only serve.json",
    config: { renderSingle: true },
    files: {},
    cases: [{ path: "/", status: 200, notFile: "serve.json", hides: ["serve.json"], differs: { why: `${NEVER_SERVED}, not as a directory's one file either`, serve: { status: 200, file: "serve.json" } } }],
  },
  {
    name: "symlinks: true",
    config: { symlinks: true },
    cases: [
      { path: "/guide-link.txt", status: 200, file: "docs/guide.txt" },
      { path: "/outside-link.txt", status: 404, differs: { why: "a symlink never leads out of the root (serve-handler follows it anywhere)", serve: { status: 200, file: "../outside.txt" } } },
    ],
  },
  {
    name: "etag",
    config: { etag: true },
    cases: [{ path: "/about", status: 200, file: "about.html", headers: { etag: "*" } }],
  },
  {
    name: "etag: false (ours sends ETag anyway)",
    config: { etag: false },
    cases: [
      {
        path: "/about",
        status: 200,
        headers: { etag: "*", "last-modified": "*" },
        differs: { why: "we always send ETag and Last-Modified (serve-handler: only Last-Modified)", serve: { status: 200, headers: { etag: null, "last-modified": "*" } } },
      },
    ],
  },
];
