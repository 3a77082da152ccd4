// A small SVG chart writer for the benchmark report: line charts and grouped
// bar charts, linear or logarithmic axes. Plain strings, no dependencies;
// text is escaped, numbers are rounded so the files diff quietly.

export interface LineSeries {
  readonly name: string;
  readonly points: readonly { readonly x: number; readonly y: number }[];
}

export interface LineChartInput {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly LineSeries[];
  readonly logX?: boolean;
  readonly logY?: boolean;
  /** Horizontal reference lines, e.g. a target. */
  readonly guides?: readonly { readonly y: number; readonly label: string }[];
}

export interface BarChartInput {
  readonly title: string;
  readonly yLabel: string;
  readonly categories: readonly string[];
  /** One value per category; undefined leaves a gap. */
  readonly series: readonly { readonly name: string; readonly values: readonly (number | undefined)[] }[];
  readonly logY?: boolean;
}

const WIDTH = 760;
const HEIGHT = 420;
const MARGIN = { left: 80, right: 170, top: 48, bottom: 90 } as const;
const PLOT_W = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_H = HEIGHT - MARGIN.top - MARGIN.bottom;
/** Colour-blind-safe (Okabe–Ito). */
const COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9'] as const;

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function colour(i: number): string {
  return COLOURS[i % COLOURS.length] as string;
}

function n(value: number): string {
  return (Math.round(value * 10) / 10).toString();
}

/** Short tick labels: 1,500 → 1.5k, 100,000 → 100k, 0.25 → 0.25. */
export function formatTick(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${trim(value / 1e6)}M`;
  if (abs >= 1e3) return `${trim(value / 1e3)}k`;
  return trim(value);
}

function trim(value: number): string {
  return Number(value.toPrecision(3)).toString();
}

interface Axis {
  readonly toPixel: (value: number) => number;
  readonly ticks: readonly number[];
}

/** A linear axis from 0 (or the data minimum when negative) to a round maximum. */
function linearAxis(values: readonly number[], pixels: number): Axis {
  const max = Math.max(...values, 0);
  const min = Math.min(...values, 0);
  const span = max - min || 1;
  const rough = span / 5;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= rough) ?? rough;
  const lo = Math.floor(min / step) * step;
  const hi = Math.ceil(max / step) * step || step;
  const ticks: number[] = [];
  for (let t = lo, i = 0; t <= hi + step / 2 && i < 50; t += step, i++) ticks.push(Number(t.toPrecision(12)));
  return { toPixel: (v) => ((v - lo) / (hi - lo)) * pixels, ticks };
}

/** A logarithmic axis over whole decades that contain every positive value. */
function logAxis(values: readonly number[], pixels: number): Axis {
  const positive = values.filter((v) => v > 0);
  if (positive.length === 0) return { toPixel: () => 0, ticks: [1] };
  const lo = Math.floor(Math.log10(Math.min(...positive)));
  let hi = Math.ceil(Math.log10(Math.max(...positive)));
  if (hi === lo) hi = lo + 1;
  const ticks: number[] = [];
  // Few decades: 2 and 5 of each too, so that the figures can be read off.
  const steps = hi - lo <= 2 ? [1, 2, 5] : [1];
  for (let e = lo; e <= hi; e++) for (const m of steps) if (e < hi || m === 1) ticks.push(Number((m * 10 ** e).toPrecision(12)));
  return { toPixel: (v) => ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * pixels, ticks };
}

function frame(title: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

function yAxis(axis: Axis, label: string): string[] {
  const out: string[] = [];
  for (const tick of axis.ticks) {
    const y = MARGIN.top + PLOT_H - axis.toPixel(tick);
    out.push(`<line x1="${MARGIN.left}" y1="${n(y)}" x2="${MARGIN.left + PLOT_W}" y2="${n(y)}" stroke="#e4e4e4"/>`);
    out.push(`<text x="${MARGIN.left - 6}" y="${n(y + 4)}" text-anchor="end">${escapeXml(formatTick(tick))}</text>`);
  }
  out.push(`<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${MARGIN.top + PLOT_H}" stroke="#333"/>`);
  out.push(`<line x1="${MARGIN.left}" y1="${MARGIN.top + PLOT_H}" x2="${MARGIN.left + PLOT_W}" y2="${MARGIN.top + PLOT_H}" stroke="#333"/>`);
  const cy = MARGIN.top + PLOT_H / 2;
  out.push(`<text x="18" y="${n(cy)}" text-anchor="middle" transform="rotate(-90 18 ${n(cy)})">${escapeXml(label)}</text>`);
  return out;
}

function legend(names: readonly string[]): string[] {
  return names.flatMap((name, i) => {
    const y = MARGIN.top + 10 + i * 20;
    const x = MARGIN.left + PLOT_W + 16;
    return [`<rect x="${x}" y="${y - 9}" width="12" height="12" fill="${colour(i)}"/>`, `<text x="${x + 18}" y="${y + 1}">${escapeXml(name)}</text>`];
  });
}

/** Words in lines of at most `width` characters (a longer word gets a line of its own), four lines at most. */
export function wrapWords(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    const last = lines[lines.length - 1];
    if (last !== undefined && last.length + 1 + word.length <= width) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  return lines.slice(0, 4);
}

export function lineChart(input: LineChartInput): string {
  const points = input.series.flatMap((s) => s.points);
  if (points.length === 0) return frame(input.title, [`<text x="${WIDTH / 2}" y="${HEIGHT / 2}" text-anchor="middle">no figures yet</text>`]);
  const ys = [...points.map((p) => p.y), ...(input.guides ?? []).map((g) => g.y)];
  const xAxis = input.logX === true ? logAxis(points.map((p) => p.x), PLOT_W) : linearAxis(points.map((p) => p.x), PLOT_W);
  const yAx = input.logY === true ? logAxis(ys, PLOT_H) : linearAxis(ys, PLOT_H);
  const px = (x: number): number => MARGIN.left + xAxis.toPixel(x);
  const py = (y: number): number => MARGIN.top + PLOT_H - yAx.toPixel(y);
  const body = yAxis(yAx, input.yLabel);
  for (const tick of xAxis.ticks) {
    body.push(`<line x1="${n(px(tick))}" y1="${MARGIN.top + PLOT_H}" x2="${n(px(tick))}" y2="${MARGIN.top + PLOT_H + 5}" stroke="#333"/>`);
    body.push(`<text x="${n(px(tick))}" y="${MARGIN.top + PLOT_H + 20}" text-anchor="middle">${escapeXml(formatTick(tick))}</text>`);
  }
  body.push(`<text x="${MARGIN.left + PLOT_W / 2}" y="${MARGIN.top + PLOT_H + 44}" text-anchor="middle">${escapeXml(input.xLabel)}</text>`);
  for (const guide of input.guides ?? []) {
    body.push(`<line x1="${MARGIN.left}" y1="${n(py(guide.y))}" x2="${MARGIN.left + PLOT_W}" y2="${n(py(guide.y))}" stroke="#777" stroke-dasharray="5 4"/>`);
    body.push(`<text x="${MARGIN.left + PLOT_W - 4}" y="${n(py(guide.y) - 5)}" text-anchor="end" fill="#555">${escapeXml(guide.label)}</text>`);
  }
  input.series.forEach((series, i) => {
    const sorted = [...series.points].sort((a, b) => a.x - b.x);
    if (sorted.length > 1) body.push(`<polyline fill="none" stroke="${colour(i)}" stroke-width="2" points="${sorted.map((p) => `${n(px(p.x))},${n(py(p.y))}`).join(' ')}"/>`);
    for (const p of sorted) {
      body.push(`<circle cx="${n(px(p.x))}" cy="${n(py(p.y))}" r="4" fill="${colour(i)}"><title>${escapeXml(`${series.name}: ${formatTick(p.x)} → ${trim(p.y)}`)}</title></circle>`);
    }
  });
  body.push(...legend(input.series.map((s) => s.name)));
  return frame(input.title, body);
}

export function barChart(input: BarChartInput): string {
  const values = input.series.flatMap((s) => s.values).filter((v): v is number => v !== undefined && Number.isFinite(v));
  if (values.length === 0 || input.categories.length === 0) return frame(input.title, [`<text x="${WIDTH / 2}" y="${HEIGHT / 2}" text-anchor="middle">no figures yet</text>`]);
  const yAx = input.logY === true ? logAxis(values, PLOT_H) : linearAxis(values, PLOT_H);
  const body = yAxis(yAx, input.yLabel);
  const slot = PLOT_W / input.categories.length;
  const barW = Math.max(4, (slot * 0.8) / Math.max(1, input.series.length));
  input.categories.forEach((category, c) => {
    const x0 = MARGIN.left + c * slot + slot * 0.1;
    input.series.forEach((series, s) => {
      const value = series.values[c];
      if (value === undefined || !Number.isFinite(value)) return;
      const h = yAx.toPixel(value);
      const x = x0 + s * barW;
      const y = MARGIN.top + PLOT_H - h;
      body.push(`<rect x="${n(x)}" y="${n(y)}" width="${n(barW - 2)}" height="${n(h)}" fill="${colour(s)}"><title>${escapeXml(`${series.name}, ${category}: ${trim(value)}`)}</title></rect>`);
      body.push(`<text x="${n(x + (barW - 2) / 2)}" y="${n(y - 3)}" text-anchor="middle" font-size="10">${escapeXml(formatTick(value))}</text>`);
    });
    const cx = MARGIN.left + c * slot + slot / 2;
    wrapWords(category, Math.max(6, Math.floor(slot / 6.5))).forEach((line, l) =>
      body.push(`<text x="${n(cx)}" y="${MARGIN.top + PLOT_H + 18 + l * 14}" text-anchor="middle" font-size="11">${escapeXml(line)}</text>`),
    );
  });
  body.push(...legend(input.series.map((s) => s.name)));
  return frame(input.title, body);
}
