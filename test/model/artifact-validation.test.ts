import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { loadArtifact, saveArtifact } from '../../src/model/artifact.js';
import { trainFromData } from '../../src/jobs/train-job.js';
import { SeismoError } from '../../src/errors.js';
import { simulatedReadings, smallConfig } from '../helpers.js';

// A real trained artifact, then one copy per case with a single file damaged the way a
// hand edit, a half copy or another version could damage it.
describe('artifact validation at load', async () => {
  const cfg = smallConfig();
  const trained = await trainFromData(cfg, simulatedReadings(200));
  const root = mkdtempSync(join(tmpdir(), 'seismo-artifact-check-'));
  const good = join(root, 'good');
  await saveArtifact(good, trained.artifact);
  let n = 0;
  const variant = (edit: (dir: string) => void): string => {
    const dir = join(root, `v${n++}`);
    cpSync(good, dir, { recursive: true });
    edit(dir);
    return dir;
  };
  const editJson = (file: string, change: (json: Record<string, unknown>) => void) => (dir: string) => {
    const json = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown>;
    change(json);
    writeFileSync(join(dir, file), JSON.stringify(json));
  };
  const failure = async (dir: string) => {
    const before = tf.memory().numTensors;
    const err = await loadArtifact(dir).then(() => undefined, (e: unknown) => e);
    expect(err, 'loading should fail').toBeInstanceOf(SeismoError);
    // Nothing a failed load created stays alive.
    expect(tf.memory().numTensors).toBe(before);
    return err as SeismoError;
  };

  it('refuses a scaler whose features are the manifest\'s in another order', async () => {
    const dir = variant(
      editJson('scaler.json', (s) => {
        for (const k of ['features', 'offset', 'scale'] as const) (s[k] as unknown[]).reverse();
      }),
    );
    const err = await failure(dir);
    expect(err.code).toBe('SEISMO_MODEL_INVALID');
    expect(err.message).toContain(join(dir, 'scaler.json'));
    expect(err.message).toContain('"features"');
    expect(err.message).toContain('same order');
  });

  it.each([
    ['scale 0', 'scale', 0, /"scale" of feature "\w+" \(index 1\) must be > 0/],
    ['scale null', 'scale', null, /"scale" of feature "\w+" \(index 1\) must be a finite number, got null/],
    ['negative scale', 'scale', -2, /must be > 0/],
    ['offset null', 'offset', null, /"offset" of feature "\w+" \(index 1\) must be a finite number/],
    ['offset a string', 'offset', '3', /"offset" of feature .* must be a finite number, got "3"/],
  ])('refuses a scaler with %s', async (_, field, value, message) => {
    const dir = variant(editJson('scaler.json', (s) => ((s[field] as unknown[])[1] = value)));
    const err = await failure(dir);
    expect(err.code).toBe('SEISMO_MODEL_INVALID');
    expect(err.message).toContain(join(dir, 'scaler.json'));
    expect(err.message).toMatch(message);
  });

  it('refuses a scaler with fewer scales than features', async () => {
    const err = await failure(variant(editJson('scaler.json', (s) => (s.scale as unknown[]).pop())));
    expect(err.message).toMatch(/"scale" must list \d+ numbers/);
  });

  it.each([
    ['0', 0, /"value" must be a finite number > 0, got 0/],
    ['negative', -1, /got -1/],
    ['a string', 'abc', /got "abc"/],
    ['null', null, /got null/],
  ])('refuses threshold %s', async (_, value, message) => {
    const dir = variant(editJson('threshold.json', (t) => (t.value = value)));
    const err = await failure(dir);
    expect(err.code).toBe('SEISMO_MODEL_INVALID');
    expect(err.message).toContain(join(dir, 'threshold.json'));
    expect(err.message).toMatch(message);
  });

  it('refuses another format version, naming manifest.json', async () => {
    const dir = variant(editJson('manifest.json', (m) => (m.formatVersion = 2)));
    const err = await failure(dir);
    expect(err.code).toBe('SEISMO_MODEL_INCOMPATIBLE');
    expect(err.message).toContain(join(dir, 'manifest.json'));
    expect(err.message).toContain('format version 2, this Seismo reads 1');
  });

  it('refuses a network whose shapes are not [lookback, features]', async () => {
    // Manifest and scaler agree on one feature more than the network was built for.
    const dir = variant((d) => {
      editJson('manifest.json', (m) => (m.features as string[]).push('extra'))(d);
      editJson('scaler.json', (s) => {
        (s.features as string[]).push('extra');
        (s.offset as number[]).push(0);
        (s.scale as number[]).push(1);
      })(d);
    });
    const err = await failure(dir);
    expect(err.code).toBe('SEISMO_MODEL_INVALID');
    expect(err.message).toContain(join(dir, 'model.json'));
    const F = trained.artifact.manifest.features.length;
    expect(err.message).toContain(`maps [6, ${F}] to [6, ${F}]; manifest.json needs [lookback, features] = [6, ${F + 1}]`);
    // And a lookback the network was not built for.
    const err2 = await failure(variant(editJson('manifest.json', (m) => (m.lookback = 8))));
    expect(err2.message).toContain(`needs [lookback, features] = [8, ${F}]`);
  });

  it.each(['scaler.json', 'model.json', 'weights.bin'])('says which file is missing: %s', async (file) => {
    const dir = variant((d) => rmSync(join(d, file)));
    const err = await failure(dir);
    expect(err.code).toBe('SEISMO_MODEL_MISSING');
    expect(err.message).toContain(join(dir, file));
  });

  it.each(['manifest.json', 'scaler.json', 'threshold.json', 'model.json'])('says which file is corrupt: %s', async (file) => {
    const dir = variant((d) => writeFileSync(join(d, file), '{"truncated": '));
    const err = await failure(dir);
    expect(err.code).toBe('SEISMO_MODEL_INVALID');
    expect(err.message).toContain(`${join(dir, file)} is not valid JSON`);
  });

  it('refuses truncated weights without leaking tensors', async () => {
    const dir = variant((d) => writeFileSync(join(d, 'weights.bin'), readFileSync(join(d, 'weights.bin')).subarray(0, 100)));
    const err = await failure(dir);
    expect(err.code).toBe('SEISMO_MODEL_INVALID');
    expect(err.message).toContain(join(dir, 'weights.bin'));
    expect(err.message).toMatch(/holds 100 bytes, model.json's weights need \d+/);
  });

  it('a loaded model holds no tensors beyond its weights: load + dispose leaves the count unchanged', async () => {
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) (await loadArtifact(good)).model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
