import type { MeanStd } from './metrics.js';
import type { MethodSummary } from './summary.js';

export function fmt(m: MeanStd, digits: number, scale = 1): string {
  if (!Number.isFinite(m.mean)) return 'n/a';
  const mean = (m.mean * scale).toFixed(digits);
  return m.std > 0 ? `${mean} ± ${(m.std * scale).toFixed(digits)}` : mean;
}

/** The headline table: one row per method, pooled point metrics and NAB, mean ± std over seeds. */
export function summaryTable(summaries: MethodSummary[]): string {
  const rows = summaries.map((s) => {
    const episodes = s.perSeed[0]?.episodes ?? 0;
    const detected = s.perSeed.map((p) => p.detectedEpisodes).join('/');
    return `| ${s.method} | ${fmt(s.f1, 3)} | ${fmt(s.far, 2, 100)} | ${fmt(s.mar, 2, 100)} | ${fmt(s.nab.standard ?? { mean: NaN, std: 0 }, 2)} | ${fmt(s.nab.lowFP ?? { mean: NaN, std: 0 }, 2)} | ${fmt(s.nab.lowFN ?? { mean: NaN, std: 0 }, 2)} | ${fmt(s.meanDelaySeconds, 1)} | ${detected} of ${episodes} |`;
  });
  return [
    '| method | F1 | FAR % | MAR % | NAB standard | NAB low FP | NAB low FN | mean delay s | episodes detected (per seed) |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

/** Per file, the seed-averaged point metrics of each method side by side. */
export function perFileTable(summaries: MethodSummary[]): string {
  const files = summaries[0]?.perFile.map((f) => f.file) ?? [];
  const head = `| file | ${summaries.map((s) => `${s.method} F1 | FAR % | MAR % | NAB std`).join(' | ')} |`;
  const sep = `|---|${summaries.map(() => '---|---|---|---|').join('')}`;
  const rows = files.map((file) => {
    const cells = summaries.map((s) => {
      const f = s.perFile.find((x) => x.file === file);
      return f ? `${fmt(f.f1, 2)} | ${fmt(f.far, 1, 100)} | ${fmt(f.mar, 1, 100)} | ${fmt(f.nabStandard, 1)}` : 'n/a | n/a | n/a | n/a';
    });
    return `| ${file} | ${cells.join(' | ')} |`;
  });
  return [head, sep, ...rows].join('\n');
}

/** Each seed on its own (rows after training), so a mean that meets a target can be checked seed by seed. */
export function perSeedTable(summaries: MethodSummary[]): string {
  const rows = summaries.flatMap((s) =>
    s.perSeed.map((p) => `| ${s.method} | ${p.seed} | ${p.points.f1.toFixed(3)} | ${(p.points.far * 100).toFixed(2)} | ${(p.points.mar * 100).toFixed(2)} | ${(p.nab.standard ?? NaN).toFixed(2)} | ${p.detectedEpisodes} of ${p.episodes} |`),
  );
  return ['| method | seed | F1 | FAR % | MAR % | NAB standard | episodes detected |', '|---|---|---|---|---|---|---|', ...rows].join('\n');
}
