/** Small self-contained SVG line charts for the HTML report (no scripts, no external resources). */

export interface ChartSeries {
  name: string;
  color: string;
  points: [number, number][];
  dashed?: boolean;
  /** draw dots at the points (for sparse measurements such as search probes) */
  dots?: boolean;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: ChartSeries[];
  /** vertical markers, e.g. the knee */
  vlines?: { x: number; label: string; color?: string }[];
  /** horizontal markers, e.g. the SLO bound */
  hlines?: { y: number; label: string; color?: string }[];
  width?: number;
  height?: number;
  logX?: boolean;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

const fmt = (v: number) =>
  Math.abs(v) >= 1000 ? `${Number((v / 1000).toPrecision(3))}k` : String(Number(v.toPrecision(3)));

export function lineChart(o: ChartOptions): string {
  const width = o.width ?? 720;
  const height = o.height ?? 300;
  const m = { l: 60, r: 20, t: 30, b: 60 };
  const pts = o.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (pts.length === 0) {
    return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="60" role="img"><text x="10" y="30" font-size="13">${esc(o.title)}: no data</text></svg>`;
  }
  const tx = (x: number) => (o.logX ? Math.log10(Math.max(x, 1e-9)) : x);
  const xs = [...pts.map(([x]) => tx(x)), ...(o.vlines ?? []).map((v) => tx(v.x))];
  const ys = [...pts.map(([, y]) => y), ...(o.hlines ?? []).map((h) => h.y)];
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const y0 = Math.min(0, ...ys);
  let y1 = Math.max(...ys) * 1.05;
  if (x1 === x0) [x0, x1] = [x0 - 1, x1 + 1];
  if (y1 === y0) y1 = y0 + 1;
  const px = (x: number) => m.l + ((tx(x) - x0) / (x1 - x0)) * (width - m.l - m.r);
  const py = (y: number) => height - m.b - ((y - y0) / (y1 - y0)) * (height - m.t - m.b);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" font-family="sans-serif" font-size="11">`,
    `<title>${esc(o.title)}</title>`,
    `<text x="${m.l}" y="18" font-size="13" font-weight="bold">${esc(o.title)}</text>`,
    `<rect x="${m.l}" y="${m.t}" width="${width - m.l - m.r}" height="${height - m.t - m.b}" fill="none" stroke="#999"/>`,
  ];
  for (const v of niceTicks(y0, y1)) {
    parts.push(
      `<line x1="${m.l}" x2="${width - m.r}" y1="${py(v)}" y2="${py(v)}" stroke="#eee"/>`,
      `<text x="${m.l - 6}" y="${py(v) + 4}" text-anchor="end">${fmt(v)}</text>`,
    );
  }
  const xTicks = o.logX ? niceTicks(x0, x1).map((e) => 10 ** e) : niceTicks(x0, x1);
  for (const v of xTicks) {
    parts.push(`<text x="${px(v)}" y="${height - m.b + 16}" text-anchor="middle">${fmt(v)}</text>`);
  }
  parts.push(
    `<text x="${(m.l + width - m.r) / 2}" y="${height - m.b + 34}" text-anchor="middle">${esc(o.xLabel)}</text>`,
    `<text transform="translate(14 ${(m.t + height - m.b) / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`,
  );
  for (const h of o.hlines ?? []) {
    const c = h.color ?? "#c00";
    parts.push(
      `<line x1="${m.l}" x2="${width - m.r}" y1="${py(h.y)}" y2="${py(h.y)}" stroke="${c}" stroke-dasharray="6 4"/>`,
      `<text x="${width - m.r - 4}" y="${py(h.y) - 4}" text-anchor="end" fill="${c}">${esc(h.label)}</text>`,
    );
  }
  for (const v of o.vlines ?? []) {
    const c = v.color ?? "#080";
    parts.push(
      `<line x1="${px(v.x)}" x2="${px(v.x)}" y1="${m.t}" y2="${height - m.b}" stroke="${c}" stroke-width="2"/>`,
      `<text x="${px(v.x) + 4}" y="${m.t + 12}" fill="${c}">${esc(v.label)}</text>`,
    );
  }
  o.series.forEach((s, i) => {
    const ok = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (ok.length > 0) {
      const d = ok.map(([x, y], j) => `${j ? "L" : "M"}${px(x).toFixed(1)},${py(y).toFixed(1)}`).join("");
      parts.push(
        `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.8"${s.dashed ? ' stroke-dasharray="4 3"' : ""}/>`,
      );
      if (s.dots) for (const [x, y] of ok) parts.push(`<circle cx="${px(x)}" cy="${py(y)}" r="3" fill="${s.color}"/>`);
    }
    const lx = m.l + i * 150;
    parts.push(
      `<line x1="${lx}" x2="${lx + 18}" y1="${height - 10}" y2="${height - 10}" stroke="${s.color}" stroke-width="2"/>`,
      `<text x="${lx + 22}" y="${height - 6}">${esc(s.name)}</text>`,
    );
  });
  parts.push("</svg>");
  return parts.join("\n");
}
