#!/usr/bin/env node
// Runs the README's `npx seismo ...` examples verbatim, in order, from the repository root (as
// a newcomer would after `npm ci`), and says which fail. Kafka examples (config/kafka.yaml)
// need a broker and are skipped unless --kafka is given. SKAB examples need ../shared/data/skab.
// Usage: node scripts/readme-examples.mjs [--kafka]
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const root = new URL('../', import.meta.url).pathname;
const withKafka = process.argv.includes('--kafka');
const readme = readFileSync(`${root}README.md`, 'utf8');
const examples = readme
  .split('\n')
  .filter((l) => /^ {4}npx seismo /.test(l))
  .map((l) => l.trim().replace(/\s+#.*$/, '').replace(/\s*&$/, ''));
let failed = 0;
for (const cmd of examples) {
  if (!withKafka && /kafka\.yaml/.test(cmd)) {
    process.stdout.write(`skip  ${cmd} (needs a broker: --kafka)\n`);
    continue;
  }
  const started = Date.now();
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', cmd], { cwd: root, encoding: 'utf8', timeout: 600_000, maxBuffer: 1 << 26 });
  const ok = r.status === 0;
  if (!ok) failed++;
  process.stdout.write(`${ok ? 'ok  ' : 'FAIL'}  ${cmd} (${((Date.now() - started) / 1000).toFixed(1)} s${ok ? '' : `, exit ${r.status ?? r.signal}`})\n`);
  if (!ok) process.stdout.write(`${(r.stderr || r.stdout).trim().split('\n').slice(-5).map((l) => `      ${l}`).join('\n')}\n`);
}
process.stdout.write(`${examples.length - failed} of ${examples.length} examples ran${failed ? `; ${failed} failed` : ''}\n`);
process.exitCode = failed > 0 ? 1 : 0;
