import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { csvField } from '../../src/jobs/csv-field.js';
import { SMALL_CONFIG_YAML } from '../helpers.js';

const CLI = new URL('../../dist/cli.js', import.meta.url).pathname;

/** A strict RFC 4180 reader: quoted fields may hold commas, doubled quotes, CR and LF. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\n') row.push(field), rows.push(row), (row = []), (field = '');
    else field += c;
  }
  if (field !== '' || row.length > 0) row.push(field), rows.push(row);
  return rows;
}

describe('embed -f csv: RFC 4180 fields', () => {
  it('quotes a field with a comma, a quote, CR or LF (quotes doubled); leaves the others as they are', () => {
    expect(csvField('pump-1')).toBe('pump-1');
    expect(csvField(-0.25)).toBe('-0.25');
    expect(csvField('line 3, pump "A"')).toBe('"line 3, pump ""A"""');
    expect(csvField('a\nb')).toBe('"a\nb"');
    expect(csvField('a\rb')).toBe('"a\rb"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
  });

  it('entity ids with a comma, quotes and a newline keep every row at the header width and read back whole', { timeout: 300_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'seismo-embed-csv-'));
    const data = join(dir, 'data.ndjson');
    const config = join(dir, 'c.yaml');
    const entities = ['line 3, pump "A"', 'tank\nnorth', 'plain'];
    const t0 = Date.UTC(2026, 0, 1);
    writeFileSync(data, entities.flatMap((entity, k) => Array.from({ length: 120 }, (_, i) => JSON.stringify({ entity, ts: t0 + i * 60_000, values: { a: Math.sin(i / 4 + k), b: Math.cos(i / 7) } }))).join('\n') + '\n');
    writeFileSync(config, `${SMALL_CONFIG_YAML.replace('epochs: 3', 'epochs: 2')}artifactDir: ${join(dir, 'model')}\n`);
    const trained = spawnSync('node', [CLI, 'train', '-c', config, '-d', data, '--force'], { encoding: 'utf8' });
    expect(trained.status, trained.stderr).toBe(0);

    const r = spawnSync('node', [CLI, 'embed', '-c', config, '-d', data, '-f', 'csv'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const [header, ...rows] = parseCsv(r.stdout);
    expect(header?.slice(0, 3)).toEqual(['entity', 'windowStart', 'windowEnd']);
    expect(rows.length).toBeGreaterThan(100);
    for (const row of rows) expect(row.length).toBe(header?.length);
    expect(new Set(rows.map((row) => row[0]))).toEqual(new Set(entities));
    for (const row of rows) expect(Number.isFinite(Number(row[3]))).toBe(true);
  });
});
