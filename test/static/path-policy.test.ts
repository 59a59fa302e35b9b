// The path policy is pure once the file system is a table: request path in, decision out.
import { describe, expect, test } from "bun:test";
import { METHOD } from "../../src/http/parser.ts";
import { directoryLocation, type FileKind, fallbacksFor, findTarget, type PathPolicy, planFallbacks, type Target } from "../../src/static/path-policy.ts";

const ROOT = "/srv/www";
const FILE: FileKind = { isFile: () => true, isDirectory: () => false };
const DIR: FileKind = { isFile: () => false, isDirectory: () => true };
const FIFO: FileKind = { isFile: () => false, isDirectory: () => false };

/** What stat() finds inside the root (everything else: missing, or outside). */
const TREE: Record<string, FileKind> = {
  [ROOT]: DIR,
  [`${ROOT}/index.html`]: FILE,
  [`${ROOT}/a.txt`]: FILE,
  [`${ROOT}/with space.txt`]: FILE,
  [`${ROOT}/sub`]: DIR,
  [`${ROOT}/sub/index.htm`]: FILE,
  [`${ROOT}/noindex`]: DIR,
  [`${ROOT}/noindex/index.html`]: DIR, // a directory named like an index is not one
  [`${ROOT}/ü ber`]: DIR,
  [`${ROOT}/pipe`]: FIFO,
  [`${ROOT}/.env`]: FILE,
  [`${ROOT}/.git`]: DIR,
  [`${ROOT}/.git/config`]: FILE,
  [`${ROOT}/.well-known`]: DIR,
  [`${ROOT}/.well-known/security.txt`]: FILE,
};
const stat = (path: string) => TREE[path] ?? null;

const POLICY: PathPolicy = { root: ROOT, allowDotfiles: false, listing: true, indexNames: ["index.html", "index.htm"] };

const file = (path: string, name: string): Target<FileKind> => ({ kind: "file", path: `${ROOT}${path}`, name, stats: FILE });
const redirect = (location: string): Target<FileKind> => ({ kind: "redirect", location });
const listing = (path: string): Target<FileKind> => ({ kind: "listing", path: `${ROOT}${path}` });
const NOT_FOUND: Target<FileKind> = { kind: "not-found" };
const BAD: Target<FileKind> = { kind: "bad-path" };

describe("findTarget", () => {
  /** [what, request path, search, policy changes, expected] */
  const cases: [string, string, string, Partial<PathPolicy>, Target<FileKind>][] = [
    ["a file", "/a.txt", "", {}, file("/a.txt", "a.txt")],
    ["a percent-encoded name", "/with%20space.txt", "", {}, file("/with space.txt", "with space.txt")],
    ["a missing file", "/nope.txt", "", {}, NOT_FOUND],
    ["a bad escape", "/%zz", "", {}, BAD],
    ["above the root", "/../etc/passwd", "", {}, BAD],
    ["the root serves its index", "/", "", {}, file("/index.html", "index.html")],
    ["index names are tried in order", "/sub/", "", {}, file("/sub/index.htm", "index.htm")],
    ["no index: a listing", "/noindex/", "", {}, listing("/noindex")],
    ["no index, listing off: not found", "/noindex/", "", { listing: false }, NOT_FOUND],
    ["no index names: a listing even where index.html exists", "/", "", { indexNames: [] }, listing("")],
    ["a directory without its slash: redirect", "/sub", "", {}, redirect("/sub/")],
    ["the redirect keeps the query", "/sub", "?a=1&b", {}, redirect("/sub/?a=1&b")],
    ["an empty query is kept too", "/sub", "?", {}, redirect("/sub/?")],
    ["the redirect is built from the segments: //sub stays on this host", "//sub", "", {}, redirect("/sub/")],
    ["the redirect re-encodes names", "/%C3%BC%20ber", "", {}, redirect("/%C3%BC%20ber/")],
    ["/sub/.. is the root", "/sub/..", "", {}, file("/index.html", "index.html")],
    ["a file with a trailing slash: not found", "/a.txt/", "", {}, NOT_FOUND],
    ["a FIFO: not found", "/pipe", "", {}, NOT_FOUND],
    ["a dotfile: not found", "/.env", "", {}, NOT_FOUND],
    ["inside a dot-directory: not found", "/.git/config", "", {}, NOT_FOUND],
    ["an encoded dotfile: not found", "/%2eenv", "", {}, NOT_FOUND],
    ["dotfiles allowed", "/.git/config", "", { allowDotfiles: true }, file("/.git/config", "config")],
    ["/.well-known is never hidden", "/.well-known/security.txt", "", {}, file("/.well-known/security.txt", "security.txt")],
  ];
  for (const [what, path, search, changes, expected] of cases) {
    test(`${what}: ${path}${search}`, () => {
      expect(findTarget(path, search, { ...POLICY, ...changes }, stat)).toEqual(expected);
    });
  }

  test("stat is not asked about hidden paths", () => {
    const asked: string[] = [];
    findTarget("/.git/config", "", POLICY, (p) => (asked.push(p), stat(p)));
    expect(asked).toEqual([]);
  });
});

describe("directoryLocation", () => {
  test("the root", () => expect(directoryLocation([])).toBe("/"));
  test("segments, each encoded as one segment", () => expect(directoryLocation(["a b", "c?d", "é"])).toBe("/a%20b/c%3Fd/%C3%A9/"));
});

describe("fallback pages", () => {
  const HTML = "text/html,application/xhtml+xml,*/*;q=0.8";
  const plain = planFallbacks(ROOT, ["index.html"], false);
  const spa = planFallbacks(ROOT, ["app.html", "index.html"], true);
  const names = (pages: readonly { name: string; status: number }[]) => pages.map((p) => `${p.name} ${p.status}`);

  test("404.html for any GET", () => {
    expect(names(fallbacksFor(METHOD.GET, HTML, plain))).toEqual(["404.html 404"]);
    expect(names(fallbacksFor(METHOD.GET, undefined, plain))).toEqual(["404.html 404"]);
  });
  test("paths under the root, keys apart from each other", () => {
    const [index, notFound] = fallbacksFor(METHOD.GET, HTML, spa);
    expect(index).toEqual({ key: "/", path: `${ROOT}/app.html`, name: "app.html", status: 200 });
    expect(notFound).toEqual({ key: "/404.html", path: `${ROOT}/404.html`, name: "404.html", status: 404 });
  });
  test("spa: the first index name for HTML navigations, then 404.html", () => {
    expect(names(fallbacksFor(METHOD.HEAD, HTML, spa))).toEqual(["app.html 200", "404.html 404"]);
  });
  test("spa: a request that does not accept HTML gets 404.html only", () => {
    expect(names(fallbacksFor(METHOD.GET, "application/json", spa))).toEqual(["404.html 404"]);
    expect(names(fallbacksFor(METHOD.GET, undefined, spa))).toEqual(["404.html 404"]);
  });
  test("spa with no index names: index.html", () => {
    expect(names(fallbacksFor(METHOD.GET, HTML, planFallbacks(ROOT, [], true)))).toEqual(["index.html 200", "404.html 404"]);
  });
  test("no page for other methods", () => {
    expect(fallbacksFor(METHOD.POST, HTML, spa)).toEqual([]);
    expect(fallbacksFor(METHOD.OPTIONS, HTML, plain)).toEqual([]);
  });
});
