// A small self-contained SVG bar chart, with no dependencies: groups stacked top to bottom (one per
// workload), a horizontal bar per series in each, lengths relative to a reference (1.0 = the
// reference line), and a note printed after the first series' bar. A pure function: data in, text out.

export interface Series {
  name: string;
  /** Any SVG colour. */
  color: string;
}

export interface Group {
  label: string;
  /** One per series, relative to the group's reference (1 = as fast); null: no such bar in this group. */
  values: (number | null)[];
  /** Printed after the first series' bar (ours), in bold: its ratios. */
  note?: string;
  /** Under the label, small: what 1.0 is in this group ("ceiling", "largest"). */
  reference?: string;
}

export interface ChartData {
  title: string;
  subtitle?: string;
  series: Series[];
  groups: Group[];
  /** Total width in px (default 900). */
  width?: number;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const BAR = 12;
const BAR_GAP = 2;
const GROUP_GAP = 14;
const LABEL_W = 190;
const NOTE_W = 150;

export function barChart(d: ChartData): string {
  const width = d.width ?? 900;
  const plotX = LABEL_W;
  const plotW = width - LABEL_W - NOTE_W;
  // The legend: one line, entries as wide as their names (about 6.6 px a character at 12 px), wrapped.
  const legend: string[] = [];
  let lx = 16;
  let ly = 58;
  for (const s of d.series) {
    const w = 36 + Math.ceil(s.name.length * 6.6);
    if (lx + w > width - 16 && lx > 16) {
      lx = 16;
      ly += 18;
    }
    legend.push(`<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${esc(s.color)}"/><text class="legend" x="${lx + 17}" y="${ly}">${esc(s.name)}</text>`);
    lx += w;
  }
  const top = ly + 22;
  const max = Math.max(1, ...d.groups.flatMap((g) => g.values.filter((v): v is number => v !== null)));
  // Round the axis up to the next quarter so that the 1.0 line and its ticks sit on whole positions.
  const axisMax = Math.ceil(max * 4) / 4;
  const x = (v: number) => plotX + (v / axisMax) * plotW;
  const out: string[] = [];
  let y = top;
  for (const g of d.groups) {
    const bars = g.values.map((v, i) => [v, i] as const).filter(([v]) => v !== null) as [number, number][];
    const h = Math.max(bars.length, 1) * (BAR + BAR_GAP) - BAR_GAP;
    out.push(`<g class="group">`);
    out.push(`<text class="label" x="${plotX - 8}" y="${y + h / 2 - (g.reference ? 3 : -4)}" text-anchor="end">${esc(g.label)}</text>`);
    if (g.reference) out.push(`<text class="ref" x="${plotX - 8}" y="${y + h / 2 + 11}" text-anchor="end">1.0 = ${esc(g.reference)}</text>`);
    bars.forEach(([v, i], k) => {
      const by = y + k * (BAR + BAR_GAP);
      const s = d.series[i]!;
      out.push(
        `<rect class="bar" x="${plotX}" y="${by}" width="${Math.max(1, x(v) - plotX).toFixed(1)}" height="${BAR}" fill="${esc(s.color)}"><title>${esc(`${g.label}: ${s.name} ${v.toFixed(2)}`)}</title></rect>`,
      );
      const text = i === 0 && g.note ? `<tspan font-weight="bold">${esc(g.note)}</tspan>` : v.toFixed(2);
      out.push(`<text class="value" x="${(x(v) + 4).toFixed(1)}" y="${by + BAR - 2}">${text}</text>`);
    });
    out.push(`</g>`);
    y += h + GROUP_GAP;
  }
  const bottom = y - GROUP_GAP + 8;
  const ticks: string[] = [];
  for (let t = 0; t <= axisMax + 1e-9; t += 0.25) {
    const tx = x(t).toFixed(1);
    const strong = Math.abs(t - 1) < 1e-9;
    ticks.push(`<line x1="${tx}" y1="${top - 6}" x2="${tx}" y2="${bottom}" stroke="${strong ? "#444" : "#ddd"}" stroke-width="${strong ? 1.5 : 1}"${strong ? "" : ' stroke-dasharray="2,3"'}/>`);
    ticks.push(`<text class="tick" x="${tx}" y="${bottom + 14}" text-anchor="middle">${t.toFixed(2)}</text>`);
  }
  const height = bottom + 26;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif">`,
    `<style>.label{font-size:12px;fill:#222}.ref{font-size:10px;fill:#777}.value{font-size:10px;fill:#333;paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}.tick{font-size:10px;fill:#666}.legend{font-size:12px;fill:#222}</style>`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="16" y="20" font-size="15" font-weight="bold" fill="#111">${esc(d.title)}</text>`,
    d.subtitle ? `<text x="16" y="37" font-size="11" fill="#555">${esc(d.subtitle)}</text>` : "",
    ...legend,
    ...ticks,
    ...out,
    `</svg>`,
    "",
  ].join("\n");
}
