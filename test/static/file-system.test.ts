// The file-system calls over a real temporary tree: what counts as inside the root, what opens, and
// that running out of descriptors is a 503, not a 404.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { closeSync, fstatSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HttpException } from "../../src/server/http-exception.ts";
import { isInsideRoot, openFile, readWholeFile, statInside, statOrNull, throwIfOutOfDescriptors } from "../../src/static/file-system.ts";

let tmp: string;
let root: string;

beforeAll(() => {
  tmp = realpathSync(mkdtempSync(join(tmpdir(), "bunhttp-fs-")));
  root = join(tmp, "root");
  mkdirSync(root);
  mkdirSync(join(tmp, "root-sibling")); // shares the root's name as a prefix
  writeFileSync(join(root, "a.txt"), "hello");
  writeFileSync(join(tmp, "root-sibling", "secret.txt"), "secret");
  writeFileSync(join(tmp, "outside.txt"), "outside");
  symlinkSync("a.txt", join(root, "link-in.txt"));
  symlinkSync(join(tmp, "outside.txt"), join(root, "link-out.txt"));
  symlinkSync(join(tmp, "root-sibling"), join(root, "link-sibling"));
  symlinkSync("loop", join(root, "loop"));
  if (Bun.spawnSync(["mkfifo", join(root, "pipe")]).exitCode !== 0) throw new Error("mkfifo failed");
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("statOrNull", () => {
  test("a file", () => expect(statOrNull(join(root, "a.txt"))?.size).toBe(5n));
  test("missing, ENOTDIR and ELOOP are all null", () => {
    expect(statOrNull(join(root, "nope"))).toBeNull();
    expect(statOrNull(join(root, "a.txt", "x"))).toBeNull();
    expect(statOrNull(join(root, "loop"))).toBeNull();
  });
});

describe("isInsideRoot and statInside", () => {
  test("the root itself and what is in it", () => {
    expect(isInsideRoot(root, root)).toBe(true);
    expect(isInsideRoot(join(root, "a.txt"), root)).toBe(true);
    expect(isInsideRoot(join(root, "link-in.txt"), root)).toBe(true);
  });
  test("a symlink out of the root is outside", () => {
    expect(isInsideRoot(join(root, "link-out.txt"), root)).toBe(false);
    expect(statInside(join(root, "link-out.txt"), root)).toBeNull();
  });
  test("a directory whose name starts with the root's is outside", () => {
    expect(isInsideRoot(join(root, "link-sibling", "secret.txt"), root)).toBe(false);
    expect(isInsideRoot(join(root, "link-sibling", "secret.txt"), `${root}/`)).toBe(false);
  });
  test("statInside follows a symlink that stays inside", () => {
    expect(statInside(join(root, "link-in.txt"), root)?.isFile()).toBe(true);
  });
  test("a missing path is null", () => expect(statInside(join(root, "nope"), root)).toBeNull());
});

describe("openFile", () => {
  test("a regular file gives a descriptor", () => {
    const fd = openFile(join(root, "a.txt"));
    expect(fd).toBeGreaterThanOrEqual(0);
    expect(fstatSync(fd).size).toBe(5);
    closeSync(fd);
  });
  test("a FIFO is not opened for reading (and does not block)", () => expect(openFile(join(root, "pipe"))).toBe(-1));
  test("a directory or a missing file is -1", () => {
    expect(openFile(root)).toBe(-1);
    expect(openFile(join(root, "nope"))).toBe(-1);
  });
});

describe("readWholeFile", () => {
  test("the bytes", () => expect(new TextDecoder().decode(readWholeFile(join(root, "a.txt"), 5)!)).toBe("hello"));
  test("a file shorter than expected gives what there is", () => {
    expect(new TextDecoder().decode(readWholeFile(join(root, "a.txt"), 64)!)).toBe("hello");
  });
  test("a missing file is null", () => expect(readWholeFile(join(root, "nope"), 5)).toBeNull());
});

describe("throwIfOutOfDescriptors", () => {
  for (const code of ["EMFILE", "ENFILE"]) {
    test(`${code} → 503 with Retry-After`, () => {
      let thrown: unknown;
      try {
        throwIfOutOfDescriptors(Object.assign(new Error(code), { code }));
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(HttpException);
      expect((thrown as HttpException).status).toBe(503);
      expect((thrown as HttpException).headers).toContainEqual(["Retry-After", "1"]);
    });
  }
  test("anything else is left to the caller", () => {
    expect(() => throwIfOutOfDescriptors(Object.assign(new Error("ENOENT"), { code: "ENOENT" }))).not.toThrow();
    expect(() => throwIfOutOfDescriptors(null)).not.toThrow();
  });
});
