// bench/load.ts's conclusions from the medians of every case: the summary table (ours against the
// best of nginx and h2o, the ceiling and Bun.serve, in req/s and in server CPU per request), our
// app doors beside Bun.serve's, and the bar chart's data. Pure functions of the results.
import type { ChartData, Group } from "./lib/bar-chart.ts";
import type { Case, ServerSpec } from "./load-cases.ts";

export interface Median {
  rps: number;
  /** Server CPU µs per request. */
  cpu: number;
}

export interface CaseResult {
  case: Pick<Case, "title" | "short">;
  servers: Pick<ServerSpec, "name" | "role" | "vs">[];
  /** One per server, in its order. */
  med: Median[];
}

interface Row {
  name: string;
  m: Median;
}

const rowsOf = (r: CaseResult, role: ServerSpec["role"]): Row[] => r.servers.flatMap((s, i) => (s.role === role ? [{ name: s.name, m: r.med[i]! }] : []));
const best = (rows: Row[]): Row | undefined => rows.reduce<Row | undefined>((b, x) => (b === undefined || x.m.rps > b.m.rps ? x : b), undefined);
const int = (n: number) => Math.round(n).toLocaleString("en-US");
const us = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
const times = (n: number) => `${n.toFixed(2)}`;

/** Ours, the best of nginx (either sendfile) and h2o, the ceiling and Bun.serve of one case. */
export function contenders(r: CaseResult) {
  const ours = rowsOf(r, "ours")[0];
  const nginx = best(rowsOf(r, "nginx"));
  const h2o = rowsOf(r, "h2o")[0];
  return { ours, nginx, h2o, rival: best([nginx, h2o].filter((x): x is Row => x !== undefined)), ceiling: rowsOf(r, "ceiling")[0], bun: rowsOf(r, "bun")[0] };
}

/** The summary table (Markdown): one row per case. CPU ratios are theirs ÷ ours: above 1, ours spends less. */
export function summaryTable(results: CaseResult[]): string {
  const lines = [
    "| case | ours req/s (µs CPU) | best of nginx and h2o | ours ÷ best | µs CPU ours / best | ours ÷ ceiling | ours ÷ Bun.serve, req/s | Bun.serve ÷ ours, CPU |",
    "|---|---:|---|---:|---:|---:|---:|---:|",
  ];
  for (const r of results) {
    const { ours, rival, ceiling, bun } = contenders(r);
    if (ours === undefined) continue;
    const cell = (x: Row | undefined, f: (x: Row) => string) => (x === undefined ? "" : f(x));
    lines.push(
      `| ${r.case.title} | ${int(ours.m.rps)} (${us(ours.m.cpu)}) | ${cell(rival, (x) => `${x.name}: ${int(x.m.rps)} (${us(x.m.cpu)})`)} | ` +
        `${cell(rival, (x) => `**${times(ours.m.rps / x.m.rps)}**`)} | ${cell(rival, (x) => `${us(ours.m.cpu)} / ${us(x.m.cpu)}`)} | ` +
        `${cell(ceiling, (x) => times(ours.m.rps / x.m.rps))} | ${cell(bun, (x) => times(ours.m.rps / x.m.rps))} | ${cell(bun, (x) => times(x.m.cpu / ours.m.cpu))} |`,
    );
  }
  return lines.join("\n");
}

/** Each of our rows that names a Bun.serve counterpart (`vs`), against it: the app doors. "" when none. */
export function doorsTable(results: CaseResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    for (const [i, s] of r.servers.entries()) {
      const j = s.vs === undefined ? -1 : r.servers.findIndex((x) => x.name === s.vs);
      if (j < 0) continue;
      const a = r.med[i]!;
      const b = r.med[j]!;
      lines.push(`| ${r.case.title} | ${s.name} ÷ ${s.vs} | ${times(a.rps / b.rps)} | ${times(b.cpu / a.cpu)} |`);
    }
  }
  if (lines.length === 0) return "";
  return ["| case | door | req/s ratio | CPU ratio (theirs ÷ ours) |", "|---|---|---:|---:|", ...lines].join("\n");
}

export const CHART_SERIES = [
  { name: "ours", color: "#d9480f" },
  { name: "nginx (better sendfile)", color: "#2f9e44" },
  { name: "h2o", color: "#1971c2" },
  { name: "Bun.serve", color: "#f59f00" },
  { name: "ceiling (Bun.listen)", color: "#868e96" },
];

/** The chart: a group per case that has anything to compare ours with; req/s relative to the ceiling, else to the largest bar. */
export function chartData(results: CaseResult[], subtitle: string): ChartData {
  const groups: Group[] = [];
  for (const r of results) {
    const c = contenders(r);
    if (c.ours === undefined) continue;
    const bars = [c.ours, c.nginx, c.h2o, c.bun, c.ceiling];
    if (bars.slice(1).every((x) => x === undefined)) continue;
    const ref = c.ceiling?.m.rps ?? Math.max(...bars.map((x) => x?.m.rps ?? 0));
    const notes = [c.ceiling ? `${times(c.ours.m.rps / c.ceiling.m.rps)}× ceiling` : ""];
    if (c.rival) notes.push(`${times(c.ours.m.rps / c.rival.m.rps)}× ${c.rival.name.split(" ")[0]}`);
    else if (c.bun) notes.push(`${times(c.ours.m.rps / c.bun.m.rps)}× Bun.serve`);
    groups.push({
      label: r.case.short,
      values: bars.map((x) => (x === undefined ? null : x.m.rps / ref)),
      note: notes.filter((n) => n !== "").join(", "),
      reference: c.ceiling ? "ceiling" : "largest",
    });
  }
  return { title: "bunhttp: req/s against nginx, h2o, Bun.serve and the Bun.listen ceiling", subtitle, series: CHART_SERIES, groups };
}
