import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkArtifactTarget } from '../../src/model/artifact.js';
import { SMALL_CONFIG_YAML } from '../helpers.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const CLI = join(ROOT, 'dist/cli.js');

// Outputs that would destroy inputs: each used to succeed (or fail only after the damage).
describe('an output path never destroys data', () => {
  const dir = mkdtempSync(join(tmpdir(), 'seismo-output-safety-'));
  const data = join(dir, 'data');
  mkdirSync(data);
  const csv = join(data, 'pump.csv');
  const rows = ['timestamp,a,b', ...Array.from({ length: 60 }, (_, i) => `${new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString()},${Math.sin(i / 3)},${Math.cos(i / 5)}`)];
  writeFileSync(csv, `${rows.join('\n')}\n`);
  writeFileSync(join(data, 'notes.txt'), 'keep me\n');
  const config = join(dir, 'c.yaml');
  writeFileSync(config, `${SMALL_CONFIG_YAML}artifactDir: ${join(dir, 'model')}\n`);
  const cli = (args: string[]) => spawnSync('node', [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  const intact = () => {
    expect(readFileSync(csv, 'utf8')).toBe(`${rows.join('\n')}\n`);
    expect(readdirSync(data).sort()).toEqual(['notes.txt', 'pump.csv']);
  };

  it('train -o <a data directory> is refused before training, naming the directory; nothing is deleted', () => {
    const r = cli(['train', '-c', config, '-d', data, '-o', data]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`SEISMO_CONFIG_INVALID: artifact directory ${data}: holds 2 entries (`);
    expect(r.stderr).not.toContain('epoch'); // refused before training
    intact();
    const file = cli(['train', '-c', config, '-d', data, '-o', csv]);
    expect(file.status).toBe(2);
    expect(file.stderr).toContain('a file is there');
    intact();
  });

  it('score, embed and run refuse an output that is their input or inside their input directory', () => {
    for (const args of [
      ['score', '-c', config, '-d', csv, '-o', csv],
      ['score', '-c', config, '-d', data, '-o', join(data, 'scores.ndjson')],
      ['embed', '-c', config, '-d', csv, '-o', csv],
      ['run', '-c', config, '-d', csv, '-o', csv],
    ]) {
      const r = cli(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/SEISMO_CONFIG_INVALID: (--out|sink\.path) .* (is the input|is inside the input directory)/);
      intact();
    }
  });

  it('checkArtifactTarget: a missing or empty directory, an artifact and a symlink may be replaced; the working directory and its parents may not', () => {
    expect(() => checkArtifactTarget(join(dir, 'new'))).not.toThrow();
    mkdirSync(join(dir, 'empty'));
    expect(() => checkArtifactTarget(join(dir, 'empty'))).not.toThrow();
    mkdirSync(join(dir, 'old-model'));
    writeFileSync(join(dir, 'old-model', 'manifest.json'), '{}');
    expect(() => checkArtifactTarget(join(dir, 'old-model'))).not.toThrow();
    expect(() => checkArtifactTarget('.')).toThrow(/working directory or one of its parents/);
    expect(() => checkArtifactTarget('/')).toThrow(/working directory or one of its parents/);
  });
});
