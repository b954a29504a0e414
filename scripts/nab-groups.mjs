#!/usr/bin/env node
// Pooled NAB scores of category groups from one or more `seismo evaluate --protocol nab --report`
// results.json files (each file is evaluated on its own, so a group's figures equal those of a
// run with `--categories` set to that group). Usage:
//   node scripts/nab-groups.mjs REPORT_DIR[,REPORT_DIR...] groupA=cat1,cat2 groupB=cat3 ...
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NAB_PROFILES, normalisedNab } from '../dist/evaluate/nab-score.js';

const [dirs, ...groupArgs] = process.argv.slice(2);
if (!dirs) throw new Error('usage: nab-groups.mjs REPORT_DIR[,DIR...] name=cat1,cat2 ...');
const runs = dirs.split(',').flatMap((d) => JSON.parse(readFileSync(join(d, 'results.json'), 'utf8')).runs);
const groups = [...groupArgs.map((g) => g.split('=')), ['all', '']].map(([name, cats]) => ({ name, cats: cats ? cats.split(',') : undefined }));
const seeds = [...new Set(runs.map((r) => r.seed))].sort((a, b) => a - b);
const ms = (xs) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const s = xs.length > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1)) : 0;
  return xs.length > 1 ? `${m.toFixed(1)} ± ${s.toFixed(1)}` : m.toFixed(1);
};
console.log(`| group | files | ${NAB_PROFILES.map((p) => p.name).join(' | ')} | alerts after probation (per seed) | seeds |`);
console.log('|---|---|---|---|---|---|---|');
for (const g of groups) {
  const mine = runs.filter((r) => !g.cats || g.cats.includes(r.file.split('/')[0]));
  const per = seeds.map((s) => mine.filter((r) => r.seed === s));
  const cells = NAB_PROFILES.map((p, k) => ms(per.map((rs) => normalisedNab(rs.map((r) => r.nab[k]), p))));
  const alerts = per.map((rs) => rs.reduce((a, r) => a + r.openings.filter((i) => i >= r.probation).length, 0)).join('/');
  console.log(`| ${g.name} | ${per[0]?.length ?? 0} | ${cells.join(' | ')} | ${alerts} | ${seeds.join(',')} |`);
}
