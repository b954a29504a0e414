/**
 * One file's evaluation as a self-contained SVG (no plotting dependency): window score over
 * time on a log scale, each method's threshold, labelled anomalies shaded, and each method's
 * predicted rows as a band underneath.
 */
export interface PlotInput {
  title: string;
  subtitle: string;
  ts: ArrayLike<number>;
  scores: ArrayLike<number>;
  anomaly: ArrayLike<number>;
  trainRows: number;
  thresholds: Array<{ name: string; value: number; color: string }>;
  predictions: Array<{ name: string; rows: ArrayLike<number>; color: string }>;
}

const W = 960;
const H = 360;
const M = { left: 60, right: 150, top: 44, bottom: 40 };
const BAND = 10;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Runs of consecutive positive rows as [from, to] index pairs. */
function runs(rows: ArrayLike<number>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let start = -1;
  for (let i = 0; i <= rows.length; i++) {
    const on = i < rows.length && (rows[i] as number) > 0;
    if (on && start < 0) start = i;
    if (!on && start >= 0) {
      out.push([start, i - 1]);
      start = -1;
    }
  }
  return out;
}

export function plotSvg(p: PlotInput): string {
  const n = p.ts.length;
  const bands = p.predictions.length * (BAND + 4);
  const plotH = H - M.top - M.bottom - bands;
  const t0 = p.ts[0] as number;
  const t1 = p.ts[n - 1] as number;
  const x = (i: number) => M.left + (((p.ts[i] as number) - t0) / Math.max(1, t1 - t0)) * (W - M.left - M.right);
  const finite = Array.from(p.scores).filter((s) => Number.isFinite(s) && s > 0);
  const lo = Math.log10(Math.max(1e-9, Math.min(...finite, ...p.thresholds.map((t) => t.value))));
  const hi = Math.log10(Math.max(...finite, ...p.thresholds.map((t) => t.value)));
  const yMin = Math.floor(lo);
  const yMax = Math.max(yMin + 1, Math.ceil(hi));
  const y = (v: number) => M.top + plotH - ((Math.log10(Math.max(v, 10 ** yMin)) - yMin) / (yMax - yMin)) * plotH;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${M.left}" y="16" font-size="14" font-weight="bold">${esc(p.title)}</text>`);
  parts.push(`<text x="${M.left}" y="32" fill="#444">${esc(p.subtitle)}</text>`);
  for (const [a, b] of runs(p.anomaly)) parts.push(`<rect x="${x(a).toFixed(1)}" y="${M.top}" width="${Math.max(1, x(b) - x(a)).toFixed(1)}" height="${plotH}" fill="#f4a6a6" fill-opacity="0.45"/>`);
  if (p.trainRows > 0 && p.trainRows < n) parts.push(`<rect x="${M.left}" y="${M.top}" width="${(x(p.trainRows - 1) - M.left).toFixed(1)}" height="${plotH}" fill="#cfe3f7" fill-opacity="0.5"/><text x="${M.left + 4}" y="${M.top + 12}" fill="#2a5d8f">training rows</text>`);
  for (let e = yMin; e <= yMax; e++) {
    parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y(10 ** e).toFixed(1)}" y2="${y(10 ** e).toFixed(1)}" stroke="#eee"/>`);
    parts.push(`<text x="${M.left - 6}" y="${(y(10 ** e) + 4).toFixed(1)}" text-anchor="end">1e${e}</text>`);
  }
  let path = '';
  let pen = false;
  for (let i = 0; i < n; i++) {
    const s = p.scores[i] as number;
    if (!Number.isFinite(s)) {
      pen = false;
      continue;
    }
    path += `${pen ? 'L' : 'M'}${x(i).toFixed(1)},${y(s).toFixed(1)}`;
    pen = true;
  }
  parts.push(`<path d="${path}" fill="none" stroke="#222" stroke-width="1"/>`);
  p.thresholds.forEach((t, k) => {
    const ty = y(t.value).toFixed(1);
    parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${ty}" y2="${ty}" stroke="${t.color}" stroke-width="1.5" stroke-dasharray="6 3"/>`);
    parts.push(`<text x="${W - M.right + 4}" y="${(Number(ty) + 4 + k * 12).toFixed(1)}" fill="${t.color}">${esc(t.name)}</text>`);
  });
  p.predictions.forEach((pred, k) => {
    const by = M.top + plotH + 8 + k * (BAND + 4);
    parts.push(`<text x="${W - M.right + 4}" y="${by + BAND - 1}" fill="${pred.color}">${esc(pred.name)}</text>`);
    for (const [a, b] of runs(pred.rows)) parts.push(`<rect x="${x(a).toFixed(1)}" y="${by}" width="${Math.max(1, x(b) - x(a)).toFixed(1)}" height="${BAND}" fill="${pred.color}"/>`);
  });
  const minutes = (t1 - t0) / 60000;
  parts.push(`<text x="${M.left}" y="${H - 8}" fill="#444">0</text><text x="${W - M.right}" y="${H - 8}" text-anchor="end" fill="#444">${minutes.toFixed(1)} min</text>`);
  parts.push(`<text x="${(W - M.right + M.left) / 2}" y="${H - 8}" text-anchor="middle" fill="#444">window score (log) · shaded: labelled anomaly · bands: predicted</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}
