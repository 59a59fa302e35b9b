// bench/lib/bar-chart.ts: the SVG is well-formed (every tag closed, in order; attributes quoted;
// text escaped), and has each group's label, each series' name and one bar per value given.
import { describe, expect, test } from "bun:test";
import { barChart, type ChartData } from "../../bench/lib/bar-chart.ts";

/** Checks tag nesting the way an XML parser would; returns the element names in document order. */
function elements(svg: string): string[] {
  const names: string[] = [];
  const open: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let at = 0;
  for (let m = tag.exec(svg); m !== null; m = tag.exec(svg)) {
    const between = svg.slice(at, m.index);
    expect(between).not.toMatch(/[<>]|&(?!(amp|lt|gt|quot|#\d+);)/);
    at = tag.lastIndex;
    const [, close, name, , self] = m;
    if (close) expect(open.pop()).toBe(name!);
    else {
      names.push(name!);
      if (!self) open.push(name!);
    }
  }
  expect(svg.slice(at).trim()).toBe("");
  expect(open).toEqual([]);
  return names;
}

const data: ChartData = {
  title: "req/s <relative> & more",
  subtitle: "a \"quoted\" subtitle",
  series: [
    { name: "ours", color: "#d9480f" },
    { name: "nginx", color: "#2f9e44" },
    { name: "h2o", color: "#1971c2" },
    { name: "ceiling", color: "#868e96" },
  ],
  groups: [
    { label: "1 KiB keep-alive", values: [0.94, 0.9, 0.88, 1], note: "0.94× ceiling, 1.04× nginx", reference: "ceiling" },
    { label: "64 KiB ×16", values: [1.2, null, 0.7, 1], reference: "ceiling" },
    { label: "app: <hello> & co", values: [1, 0.8, null, null], note: "1.25× nginx" },
  ],
};

describe("barChart", () => {
  const svg = barChart(data);

  test("is well-formed: one <svg> root, every element closed in order", () => {
    const names = elements(svg);
    expect(names[0]).toBe("svg");
    expect(svg.startsWith("<svg ")).toBe(true);
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
  });

  test("escapes text", () => {
    expect(svg).toContain("req/s &lt;relative&gt; &amp; more");
    expect(svg).toContain("a &quot;quoted&quot; subtitle");
    expect(svg).toContain("app: &lt;hello&gt; &amp; co");
  });

  test.each(data.groups.map((g) => [g.label, g] as const))("group %p: its label, a bar per value, ours' note", (_label, g) => {
    const esc = g.label.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
    expect(svg).toContain(`>${esc}</text>`);
    const group = svg.slice(svg.indexOf(`>${esc}</text>`));
    const own = group.slice(0, group.indexOf("</g>"));
    expect(own.match(/<rect class="bar"/g)?.length).toBe(g.values.filter((v) => v !== null).length);
    if (g.note) expect(own).toContain(g.note);
  });

  test("each series in the legend, in its colour", () => {
    for (const s of data.series) {
      expect(svg).toContain(`>${s.name}</text>`);
      expect(svg).toContain(`fill="${s.color}"`);
    }
  });

  test("bars are proportional: 1.2 is 1.2 times 1.0's length", () => {
    const widths = [...svg.matchAll(/<rect class="bar" x="[\d.]+" y="[\d.]+" width="([\d.]+)"/g)].map((m) => Number(m[1]));
    // Group 2: 1.2, 0.7, 1 in that order.
    const [a, , c] = widths.slice(4, 7);
    expect(a! / c!).toBeCloseTo(1.2, 2);
  });

  test("fits the width asked for", () => {
    expect(barChart({ ...data, width: 700 })).toContain('width="700"');
  });
});
