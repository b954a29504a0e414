import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module script without types
import { classify, docExamples, examplesOf } from '../scripts/doc-examples.mjs';

// The shell examples of README.md and docs/*.md run verbatim on a fresh clone, or are marked
// with the reason they cannot (issue 14). scripts/readme-examples.mjs runs them all; this test
// keeps the marking honest and runs the quick ones.

interface Example {
  file: string;
  command: string;
  kind: string;
  reason: string;
}

const root = new URL('../', import.meta.url).pathname;
const examples = (docExamples as (root: string) => Example[])(root);

describe('documentation examples', () => {
  it('extracts commands from indented blocks and sh fences, joins continued lines, drops comments and a trailing &', () => {
    const text = ['Intro', '', '    npx seismo demo   # a comment', '    {"json": "not a command"}', '    node dist/cli.js evaluate -d x \\', '      --seeds 1', '', '```sh', 'npx tsc -p .', "kcat -f '%k #s'", '```', '```jsonc', 'npx not-shell', '```', '    npx seismo run -c config/kafka.yaml &'].join('\n');
    expect((examplesOf as (t: string) => string[])(text)).toEqual(['npx seismo demo', 'node dist/cli.js evaluate -d x --seeds 1', 'npx tsc -p .', "kcat -f '%k #s'", 'npx seismo run -c config/kafka.yaml']);
  });

  it('marks what a fresh clone without a broker cannot run, with the reason; runs everything else', () => {
    const kind = (c: string) => (classify as (c: string) => { kind: string }).call(null, c).kind;
    expect(kind('npx seismo run -c config/kafka.yaml')).toBe('broker');
    expect(kind('kcat -b 127.0.0.1:9092 -L')).toBe('broker');
    expect(kind('npm ci && npm test')).toBe('long');
    expect(kind('docker build -t seismo .')).toBe('container');
    expect(kind('npx seismo evaluate -c config/skab.yaml -d ../shared/data/skab --seeds 1,2,3 --report /tmp/r')).toBe('long');
    expect(kind('npx seismo train -c config/skab.yaml -d ../shared/data/skab/valve1/0.csv')).toBe('run');
    // The five-minute tour runs, every command of it.
    const tour = examples.filter((e) => e.file === 'README.md' && e.command.startsWith('npx seismo'));
    expect(tour.length).toBeGreaterThanOrEqual(6);
    expect(tour.filter((e) => e.kind !== 'run')).toEqual([]);
    for (const e of examples) if (e.kind !== 'run') expect(e.reason, e.command).not.toBe('');
  });

  it('every file a runnable example names is in the repository or in ../shared', () => {
    for (const e of examples.filter((x) => x.kind === 'run')) {
      for (const path of e.command.match(/(?:\.\.\/shared\/|config\/)[\w./-]+/g) ?? []) expect(existsSync(join(root, path)), `${e.file}: ${e.command}: ${path}`).toBe(true);
    }
  });

  it('the quick runnable examples run verbatim (exit 0)', () => {
    const quick = examples.filter((e) => e.kind === 'run' && /validate-config|seismo simulate|getBackend|native:check/.test(e.command));
    expect(quick.length).toBeGreaterThanOrEqual(3);
    for (const e of quick) {
      const r = spawnSync('bash', ['-o', 'pipefail', '-c', e.command], { cwd: root, encoding: 'utf8', timeout: 120_000 });
      expect(r.status, `${e.file}: ${e.command}\n${r.stderr}`).toBe(0);
    }
  });
});
