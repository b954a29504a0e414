#!/usr/bin/env node
// Runs the shell examples of README.md and docs/*.md verbatim, file by file in order, from the
// repository root (as a newcomer would after `npm ci`), and says which fail. Examples that need
// a broker, a container engine, the reader's own files, or a long run are listed with the reason
// and skipped (the rules: scripts/doc-examples.mjs). SKAB examples need ../shared/data/skab.
// Usage: node scripts/readme-examples.mjs [--list] [--with long[,own-files,...]] [--file README.md]
import { spawnSync } from 'node:child_process';
import { docExamples } from './doc-examples.mjs';

const root = new URL('../', import.meta.url).pathname;
const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const listOnly = process.argv.includes('--list');
const also = new Set((arg('--with') ?? '').split(',').filter((k) => k !== ''));
if (also.has('broker') || also.has('self')) {
  process.stderr.write('--with broker/self is not supported: the Kafka walk-through starts a daemon in the background; follow docs/kafka.md by hand, test/kafka/ covers it\n');
  process.exit(2);
}
const only = arg('--file');
const examples = docExamples(root).filter((e) => only === undefined || e.file === only);
let ran = 0;
let failed = 0;
for (const e of examples) {
  if (e.kind !== 'run' && !also.has(e.kind)) {
    process.stdout.write(`skip  ${e.file}: ${e.command} (${e.kind}: ${e.reason})\n`);
    continue;
  }
  if (listOnly) {
    process.stdout.write(`run   ${e.file}: ${e.command}\n`);
    continue;
  }
  const started = Date.now();
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', e.command], { cwd: root, encoding: 'utf8', timeout: 1_800_000, maxBuffer: 1 << 26 });
  const ok = r.status === 0;
  ran++;
  if (!ok) failed++;
  process.stdout.write(`${ok ? 'ok  ' : 'FAIL'}  ${e.file}: ${e.command} (${((Date.now() - started) / 1000).toFixed(1)} s${ok ? '' : `, exit ${r.status ?? r.signal}`})\n`);
  if (!ok) process.stdout.write(`${(r.stderr || r.stdout).trim().split('\n').slice(-5).map((l) => `      ${l}`).join('\n')}\n`);
}
if (!listOnly) process.stdout.write(`${ran - failed} of ${ran} examples ran${failed ? `; ${failed} failed` : ''} (${examples.length - ran} skipped, reasons above)\n`);
process.exitCode = failed > 0 ? 1 : 0;
