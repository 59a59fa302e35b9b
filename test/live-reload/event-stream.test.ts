// One page's event stream: the opening piece, events in order, waiting reads, the bound on what a
// client that does not read leaves queued, the end, and the close that tells its owner.
import { describe, expect, test } from "bun:test";
import { encodeEvent, EventStream, HEARTBEAT, RELOAD_EVENT } from "../../src/live-reload/event-stream.ts";
import { urlPath } from "../../src/live-reload/watcher.ts";

const dec = new TextDecoder();
const text = (p: Uint8Array | null) => (p === null ? null : dec.decode(p));

describe("EventStream", () => {
  test("opens with retry and a comment, then waits for an event", async () => {
    const s = new EventStream(() => {});
    expect(text(s.read() as Uint8Array)).toBe("retry: 1000\n: bunhttp live reload\n\n");
    const waiting = s.read();
    expect(waiting).toBeInstanceOf(Promise);
    s.push(encodeEvent("css", '["/a.css"]'));
    expect(text(await waiting)).toBe('event: css\ndata: ["/a.css"]\n\n');
  });

  test("a client that does not read: at most 8 queued, then one reload stands for them all", () => {
    const s = new EventStream(() => {});
    s.read(); // the opening
    for (let i = 0; i < 100; i++) s.push(encodeEvent("css", `["/${i}.css"]`));
    const got: (string | null)[] = [];
    for (let p = s.read(); !(p instanceof Promise); p = s.read()) got.push(text(p));
    expect(got.length).toBeLessThanOrEqual(8);
    expect(got[0]).toBe(text(RELOAD_EVENT));
    expect(got.at(-1)).toBe('event: css\ndata: ["/99.css"]\n\n');
  });

  test("a heartbeat is not queued behind something already on its way", () => {
    const s = new EventStream(() => {});
    s.push(HEARTBEAT); // behind the opening: dropped
    s.read();
    s.push(HEARTBEAT); // nothing queued: kept
    s.push(HEARTBEAT);
    expect(text(s.read() as Uint8Array)).toBe(": ping\n\n");
    expect(s.read()).toBeInstanceOf(Promise);
  });

  test("end(): what is queued goes, then null; close() tells the owner once", async () => {
    const closed: EventStream[] = [];
    const s = new EventStream((x) => closed.push(x));
    s.read();
    const waiting = s.read();
    s.end();
    expect(await waiting).toBeNull();
    expect(s.read()).toBeNull();
    s.push(HEARTBEAT); // ignored once ended
    expect(s.read()).toBeNull();
    s.close();
    s.close();
    expect(closed).toEqual([s]);
  });

  test("close() while a read waits settles it with null", async () => {
    const s = new EventStream(() => {});
    s.read();
    const waiting = s.read();
    s.close();
    expect(await waiting).toBeNull();
  });
});

describe("urlPath", () => {
  const cases: [string, string][] = [
    ["index.html", "/index.html"],
    ["css/site.css", "/css/site.css"],
    [".git/index", ""],
    ["src/.index.html.swp", ""],
    ["notes.txt~", ""],
    ["a b/é.html", "/a b/é.html"],
  ];
  for (const [name, want] of cases) test(`${JSON.stringify(name)} → ${JSON.stringify(want)}`, () => expect(urlPath(name)).toBe(want));
});
