import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/**
 * One file's evaluation as a vega-lite chart, rendered to SVG by vega and to PNG by resvg:
 * window score over time (log scale) against each method's threshold, labelled anomalies and
 * the training rows shaded; each method's predicted rows as a band underneath; and the
 * sensors that carried most of the reconstruction error while flagged.
 */
export interface PlotInput {
  title: string;
  ts: ArrayLike<number>;
  scores: ArrayLike<number>;
  anomaly: ArrayLike<number>;
  trainRows: number;
  thresholds: Array<{ name: string; value: number; color: string }>;
  predictions: Array<{ name: string; rows: ArrayLike<number>; color: string }>;
  topSensors: Array<{ name: string; share: number }>;
}

/** Runs of consecutive positive rows as [from, to] index pairs. */
export function runs(rows: ArrayLike<number>): Array<[number, number]> {
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

export function plotSpec(p: PlotInput): TopLevelSpec {
  const t0 = p.ts[0] as number;
  const minutes = (i: number) => ((p.ts[Math.min(i, p.ts.length - 1)] as number) - t0) / 60000;
  const scores = Array.from(p.scores, (s, i) => ({ t: minutes(i), score: s })).filter((d) => Number.isFinite(d.score) && d.score > 0);
  const shaded = [
    ...runs(p.anomaly).map(([a, b]) => ({ from: minutes(a), to: minutes(b), what: 'labelled anomaly' })),
    ...(p.trainRows > 0 ? [{ from: 0, to: minutes(p.trainRows - 1), what: 'training rows' }] : []),
  ];
  const bands = p.predictions.flatMap((pred) => runs(pred.rows).map(([a, b]) => ({ method: pred.name, from: minutes(a), to: minutes(b) })));
  const colors = { domain: p.thresholds.map((t) => t.name), range: p.thresholds.map((t) => t.color) };
  // Every panel spans exactly the file, so the prediction bands line up with the scores above.
  const span = { domain: [0, minutes(p.ts.length - 1)], nice: false };
  const x = { field: 't', type: 'quantitative', title: 'minutes', scale: span } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: p.title,
    config: { font: 'sans-serif', view: { stroke: null } },
    vconcat: [
      {
        width: 820,
        height: 260,
        layer: [
          {
            data: { values: shaded },
            mark: { type: 'rect', opacity: 0.35 },
            encoding: {
              x: { field: 'from', type: 'quantitative', title: 'minutes', scale: span },
              x2: { field: 'to' },
              color: { field: 'what', type: 'nominal', scale: { domain: ['labelled anomaly', 'training rows'], range: ['#f4a6a6', '#cfe3f7'] }, legend: { title: null, orient: 'top' } },
            },
          },
          { data: { values: scores }, mark: { type: 'line', color: '#222', strokeWidth: 1 }, encoding: { x, y: { field: 'score', type: 'quantitative', scale: { type: 'log' }, title: 'window score (MSE, log)' } } },
          {
            data: { values: p.thresholds },
            mark: { type: 'rule', strokeDash: [6, 3], strokeWidth: 1.5 },
            encoding: { y: { field: 'value', type: 'quantitative' }, stroke: { field: 'name', type: 'nominal', scale: colors, legend: { title: 'threshold', orient: 'right' } } },
          },
        ],
        resolve: { scale: { color: 'independent' } },
      },
      {
        width: 820,
        height: 18 * Math.max(1, p.predictions.length),
        data: { values: bands },
        mark: 'rect',
        encoding: {
          x: { field: 'from', type: 'quantitative', title: null, scale: span },
          x2: { field: 'to' },
          y: { field: 'method', type: 'nominal', title: 'predicted', sort: p.predictions.map((d) => d.name) },
          color: { field: 'method', type: 'nominal', scale: { domain: p.predictions.map((d) => d.name), range: p.predictions.map((d) => d.color) }, legend: null },
        },
      },
      {
        width: 820,
        height: 16 * Math.max(1, p.topSensors.length),
        title: 'share of reconstruction error while flagged',
        data: { values: p.topSensors },
        mark: { type: 'bar', color: '#7f7f7f' },
        encoding: {
          y: { field: 'name', type: 'nominal', sort: '-x', title: null },
          x: { field: 'share', type: 'quantitative', axis: { format: '%' }, title: null },
        },
      },
    ],
  } as TopLevelSpec;
}

/**
 * File names for the plots of a report, one per input name: the name with every run of other
 * characters than letters and digits as "_", and "_2", "_3", ... where two names would give the
 * same file (valve1/0.csv and valve1_0.csv), so no plot overwrites another.
 */
export function plotSlugs(names: readonly string[]): string[] {
  const taken = new Set<string>();
  return names.map((name) => {
    const base = name.replace(/[^A-Za-z0-9]+/g, '_');
    let slug = base;
    for (let k = 2; taken.has(slug.toLowerCase()); k++) slug = `${base}_${k}`;
    taken.add(slug.toLowerCase());
    return slug;
  });
}

export async function renderPlot(p: PlotInput): Promise<{ svg: string; png: Uint8Array }> {
  const view = new vega.View(vega.parse(compile(plotSpec(p)).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const png = new Resvg(svg, { background: 'white', font: { loadSystemFonts: true } }).render().asPng();
  return { svg, png };
}
