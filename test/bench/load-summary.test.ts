// bench/load-summary.ts: the summary picks the faster of nginx's two settings and h2o, names it, and
// divides ours by it, by the ceiling and by Bun.serve; the chart has a group per comparable case.
import { describe, expect, test } from "bun:test";
import { chartData, contenders, doorsTable, summaryTable, type CaseResult } from "../../bench/load-summary.ts";

const staticCase = (nginxOff: number, nginxOn: number, h2o: number): CaseResult => ({
  case: { title: "static 1 KiB file, keep-alive", short: "1 KiB keep-alive" },
  servers: [
    { name: "ours", role: "ours" },
    { name: "nginx sendfile off", role: "nginx" },
    { name: "nginx sendfile on", role: "nginx" },
    { name: "h2o", role: "h2o" },
    { name: "Bun.serve Bun.file", role: "bun" },
    { name: "ceiling (from memory)", role: "ceiling" },
  ],
  med: [
    { rps: 100_000, cpu: 10 },
    { rps: nginxOff, cpu: 11 },
    { rps: nginxOn, cpu: 12 },
    { rps: h2o, cpu: 13 },
    { rps: 50_000, cpu: 20 },
    { rps: 125_000, cpu: 8 },
  ],
});

describe("contenders", () => {
  test.each([
    ["nginx off fastest", 90_000, 80_000, 70_000, "nginx sendfile off", "nginx sendfile off"],
    ["nginx on fastest", 80_000, 90_000, 70_000, "nginx sendfile on", "nginx sendfile on"],
    ["h2o fastest", 80_000, 70_000, 95_000, "nginx sendfile off", "h2o"],
  ])("%s", (_what, off, on, h2o, nginx, rival) => {
    const c = contenders(staticCase(off, on, h2o));
    expect(c.nginx?.name).toBe(nginx);
    expect(c.rival?.name).toBe(rival);
    expect(c.ceiling?.m.rps).toBe(125_000);
  });
});

describe("summaryTable", () => {
  test("one row per case, ratios to the best, the ceiling and Bun.serve", () => {
    const t = summaryTable([staticCase(80_000, 90_000, 70_000)]);
    const row = t.split("\n")[2]!;
    expect(row).toContain("nginx sendfile on: 90,000 (12.0)");
    expect(row).toContain("**1.11**"); // 100k / 90k
    expect(row).toContain("| 0.80 |"); // ÷ ceiling
    expect(row).toContain("| 2.00 | 2.00 |"); // ÷ Bun.serve in req/s, and its CPU ÷ ours
    expect(t.split("\n")).toHaveLength(3);
  });
});

describe("doorsTable", () => {
  test("our rows that name a Bun.serve row, against it; empty without any", () => {
    const app: CaseResult = {
      case: { title: "app: JSON", short: "app: JSON" },
      servers: [
        { name: "ours, fetch", role: "ours", vs: "Bun.serve, fetch" },
        { name: "Bun.serve, fetch", role: "bun" },
      ],
      med: [
        { rps: 110, cpu: 9 },
        { rps: 100, cpu: 10 },
      ],
    };
    expect(doorsTable([app])).toContain("| app: JSON | ours, fetch ÷ Bun.serve, fetch | 1.10 | 1.11 |");
    expect(doorsTable([staticCase(1, 1, 1)])).toBe("");
  });
});

describe("chartData", () => {
  test("relative to the ceiling; ours' note names the best", () => {
    const d = chartData([staticCase(80_000, 90_000, 70_000)], "sub");
    expect(d.groups).toHaveLength(1);
    expect(d.groups[0]!.values).toEqual([0.8, 0.72, 0.56, 0.4, 1]);
    expect(d.groups[0]!.note).toBe("0.80× ceiling, 1.11× nginx");
  });

  test("without a ceiling, relative to the largest bar; a case with ours alone has no group", () => {
    const hello: CaseResult = {
      case: { title: "app", short: "app" },
      servers: [
        { name: "ours", role: "ours" },
        { name: "Bun.serve", role: "bun" },
      ],
      med: [
        { rps: 50, cpu: 1 },
        { rps: 100, cpu: 1 },
      ],
    };
    const alone: CaseResult = { case: { title: "log", short: "log" }, servers: [{ name: "ours", role: "ours" }], med: [{ rps: 1, cpu: 1 }] };
    const d = chartData([hello, alone], "sub");
    expect(d.groups.map((g) => g.label)).toEqual(["app"]);
    expect(d.groups[0]!.values).toEqual([0.5, null, null, 1, null]);
    expect(d.groups[0]!.note).toBe("0.50× Bun.serve");
  });
});
