import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// `seismo train --exclude FILE` (what the refit child runs): a bad file is a config error that
// names the file and what is wrong, before any training.
const CLI = new URL('../../dist/cli.js', import.meta.url).pathname;

describe('seismo train --exclude', () => {
  const dir = mkdtempSync(join(tmpdir(), 'seismo-exclude-'));
  writeFileSync(join(dir, 'data.ndjson'), Array.from({ length: 50 }, (_, i) => JSON.stringify({ entity: 'e', ts: i * 60_000, values: { a: Math.sin(i) } })).join('\n') + '\n');
  const train = (content: string) => {
    writeFileSync(join(dir, 'excluded.json'), content);
    return spawnSync('node', [CLI, 'train', '-d', join(dir, 'data.ndjson'), '--exclude', join(dir, 'excluded.json'), '-o', join(dir, 'model')], { encoding: 'utf8', timeout: 60_000 });
  };

  it('refuses a file that is not JSON, naming it', () => {
    const r = train('{"e": [[1, 2]');
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toContain(`SEISMO_CONFIG_INVALID: --exclude ${join(dir, 'excluded.json')}:`);
  });

  it('refuses intervals that are not [fromMs, toMs] pairs, naming the entity', () => {
    const r = train('{"e": [[1, "2"]]}');
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toContain('entity "e": expected a list of [fromMs, toMs] pairs of numbers');
  });
});
