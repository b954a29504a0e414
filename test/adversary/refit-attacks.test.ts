import { spawnSync } from 'node:child_process';
import { linkSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { checkShadowTarget } from '../../src/refit/shadow-target.js';
import { childConfig } from '../../src/refit/trainer.js';
import { DAY_MS, seasonalMismatch } from '../../src/window/seasonal.js';
import { trainFromData } from '../../src/jobs/train-job.js';
import { saveArtifact } from '../../src/model/artifact.js';
import { levelShiftStream, MODEL_YAML } from '../refit/level-shift.js';

const CLI = new URL('../../dist/cli.js', import.meta.url).pathname;

describe('adversary: the shadow file is never the flags file, however it is spelt', () => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'seismo-adv-shadow-')));
  const flags = join(dir, 'flags.ndjson');
  writeFileSync(flags, '');
  const cfg = (shadowPath: string, deadLetterPath?: string) => parseConfig(`sink:\n  kind: file\n  path: ${flags}\n${deadLetterPath !== undefined ? `  deadLetterPath: ${deadLetterPath}\n` : ''}refit:\n  enabled: true\n  shadowPath: ${shadowPath}\n`, 'adv.yaml');

  it('a symlink to the flags file is refused (resolve() alone compared the link, not the file)', () => {
    const link = join(dir, 'shadow-link.ndjson');
    symlinkSync(flags, link);
    expect(() => checkShadowTarget(cfg(link))).toThrow(/refit\.shadowPath .*shadow-link\.ndjson is the flags file/);
  });

  it('a hard link to the flags file is refused', () => {
    const hard = join(dir, 'shadow-hard.ndjson');
    linkSync(flags, hard);
    expect(() => checkShadowTarget(cfg(hard))).toThrow(/refit\.shadowPath .*shadow-hard\.ndjson is the flags file/);
  });

  it('a path through a symlinked directory is refused', () => {
    const alias = join(dir, 'alias');
    symlinkSync(dir, alias);
    expect(() => checkShadowTarget(cfg(join(alias, 'flags.ndjson')))).toThrow(/is the flags file/);
  });

  it('the dead-letter file is refused too (dead-letter readers would take shadow flags for poison)', () => {
    expect(() => checkShadowTarget(cfg(join(dir, 'dead.ndjson'), join(dir, 'dead.ndjson')))).toThrow(/refit\.shadowPath .* is the dead-letter file/);
  });

  it('on Kafka, the shadow topic may be neither the flags topic nor the dead-letter topic, spelt out or by default', () => {
    const kafka = (refit: string, dlq = 'seismo.dead-letter') => parseConfig(`sink:\n  kind: kafka\n  topic: flags\n  deadLetterTopic: ${dlq}\nrefit:\n  enabled: true\n${refit}`, 'adv.yaml');
    expect(() => checkShadowTarget(kafka('  shadowTopic: flags\n'))).toThrow(/refit\.shadowTopic is the flags topic/);
    expect(() => checkShadowTarget(kafka('  shadowTopic: seismo.dead-letter\n'))).toThrow(/refit\.shadowTopic is the dead-letter topic \(sink\.deadLetterTopic seismo\.dead-letter\)/);
    expect(() => checkShadowTarget(kafka('', 'flags.shadow'))).toThrow(/is the dead-letter topic/);
    expect(() => checkShadowTarget(kafka(''))).not.toThrow();
  });

  it('a file of its own, not yet created, is accepted', () => {
    expect(() => checkShadowTarget(cfg(join(dir, 'shadow.ndjson')))).not.toThrow();
  });

  it('`seismo run` refuses a symlinked shadow path at start, naming it, and writes no flags', { timeout: 120_000 }, async () => {
    const all = levelShiftStream(400);
    const trained = await trainFromData(parseConfig(MODEL_YAML, 'm.yaml'), { byEntity: new Map([['pump', all.slice(0, 300)]]), features: ['a', 'b'], poison: [] });
    const model = join(dir, 'model');
    await saveArtifact(model, trained.artifact);
    writeFileSync(join(dir, 'replay.ndjson'), all.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const link = join(dir, 'run-shadow.ndjson');
    symlinkSync(flags, link);
    writeFileSync(join(dir, 'run.yaml'), `${MODEL_YAML}artifactDir: ${model}\nhttp:\n  enabled: false\nrefit:\n  enabled: true\n  shadowPath: ${link}\n`);
    const run = spawnSync('node', [CLI, 'run', '-c', join(dir, 'run.yaml'), '--data', join(dir, 'replay.ndjson'), '--out', flags], { encoding: 'utf8' });
    expect(run.stderr).toMatch(/SEISMO_CONFIG_INVALID: refit\.shadowPath .*run-shadow\.ndjson is the flags file/);
    expect(run.status).not.toBe(0);
  });
});

describe('adversary: refit on a model whose seasonal columns a candidate may not share', () => {
  const base = parseConfig(`training:\n  seasonal: auto\n`, 'adv.yaml');

  it('a live model without seasonal columns has its candidates trained without them (else every promotion is refused at the swap)', () => {
    const child = childConfig(base, ['a'], 5, undefined) as { training: { seasonal: string } };
    expect(child.training.seasonal).toBe('none');
  });

  it('a live seasonal model has its candidates trained with its own recorded columns, not a fresh auto choice', () => {
    const running = { periodMs: DAY_MS, toleranceMs: 30_000, of: ['a'], capacity: 1900 };
    const child = childConfig(base, ['a'], 5, running) as { training: { seasonal: unknown } };
    expect(child.training.seasonal).toEqual(running);
  });

  it('seasonalMismatch names both sides when they differ, and nothing when they agree', () => {
    const s = { periodMs: DAY_MS, toleranceMs: 30_000, of: ['a'], capacity: 1900 };
    expect(seasonalMismatch(s, { ...s })).toBeUndefined();
    expect(seasonalMismatch(undefined, undefined)).toBeUndefined();
    expect(seasonalMismatch(undefined, s)).toMatch(/seasonal columns none, the running model has .*"of":\["a"\]/);
    expect(seasonalMismatch({ ...s, toleranceMs: 29_000 }, s)).toMatch(/29000/);
  });
});
