import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { Daemon } from '../../src/daemon.js';
import { trainFromData } from '../../src/jobs/train-job.js';
import { saveArtifact } from '../../src/model/artifact.js';
import { createLogger } from '../../src/observability/logger.js';
import type { WindowScore } from '../../src/domain/types.js';
import { LogDeadLetterSink } from '../../src/sink/stream-sink.js';
import type { Flag } from '../../src/domain/types.js';
import type { RecordProcessor, Source } from '../../src/source/source.js';
import { simulatedReadings, smallConfig } from '../helpers.js';

/** Hands the test the pipeline's processor, so it can feed readings while reloads happen. */
class HeldSource implements Source {
  processor: RecordProcessor | undefined;
  private release: (() => void) | undefined;
  start(processor: RecordProcessor): Promise<void> {
    this.processor = processor;
    return new Promise((resolve) => (this.release = resolve));
  }
  pause(): void {}
  resume(): void {}
  async stop(): Promise<void> {
    this.release?.();
  }
}

class KeptFlags {
  flags: Flag[] = [];
  async send(flags: Flag[]): Promise<void> {
    this.flags.push(...flags);
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}

// A real daemon on a real trained model, reloading real artifacts: good ones, and ones broken
// after the point where the old code had already loaded (or even swapped in) the model.
describe('model hot swap', async () => {
  const cfg = smallConfig();
  const data = simulatedReadings(200);
  const trained = await trainFromData(cfg, data);
  const root = mkdtempSync(join(tmpdir(), 'seismo-reload-'));
  const v1 = join(root, 'v1');
  await saveArtifact(v1, trained.artifact);
  const variant = (name: string, edit: (dir: string) => void): string => {
    const dir = join(root, name);
    cpSync(v1, dir, { recursive: true });
    edit(dir);
    return dir;
  };
  const editJson = (dir: string, file: string, change: (json: Record<string, unknown>) => void) => {
    const json = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown>;
    change(json);
    writeFileSync(join(dir, file), JSON.stringify(json));
  };
  const threshold = trained.artifact.threshold?.value as number;
  const v2 = variant('v2', (d) => {
    editJson(d, 'manifest.json', (m) => (m.version = 'model-v2'));
    editJson(d, 'threshold.json', (t) => (t.value = threshold * 2));
  });
  const broken = [
    variant('no-threshold', (d) => rmSync(join(d, 'threshold.json'))),
    variant('threshold-text', (d) => editJson(d, 'threshold.json', (t) => (t.value = 'abc'))),
    variant('threshold-zero', (d) => editJson(d, 'threshold.json', (t) => (t.value = 0))),
    variant('scaler-reordered', (d) => editJson(d, 'scaler.json', (s) => (s.features as string[]).reverse())),
    variant('scale-zero', (d) => editJson(d, 'scaler.json', (s) => ((s.scale as number[])[0] = 0))),
    variant('weights-short', (d) => writeFileSync(join(d, 'weights.bin'), readFileSync(join(d, 'weights.bin')).subarray(0, 64))),
  ];

  const source = new HeldSource();
  const scores: WindowScore[] = [];
  const daemon = new Daemon({
    config: { ...cfg, artifactDir: v1 },
    log: createLogger('silent'),
    source,
    sink: new KeptFlags(),
    deadLetter: new LogDeadLetterSink(createLogger('silent')),
    onScore: (s) => scores.push(s),
  });
  await daemon.start();
  afterAll(() => daemon.stop());

  const running = async () => {
    const info = (await daemon.metrics.modelInfo.get()).values.map((v) => v.labels.model);
    const t = (await daemon.metrics.threshold.get()).values[0]?.value;
    return { model: info, threshold: t };
  };
  let fed = 0;
  /** Scores a few more windows through the running pipeline. */
  const feed = async (steps: number) => {
    const readings = (data.byEntity.get([...data.byEntity.keys()][0] as string) ?? []).slice(fed, fed + steps);
    fed += steps;
    const before = scores.length;
    await source.processor?.process(readings.map((reading, i) => ({ kind: 'reading', reading, position: { source: 'test', line: fed + i } })));
    await source.processor?.drained();
    return scores.length - before;
  };

  it('a refused artifact leaves the running model running: 409-worthy means not swapped', async () => {
    const v1Name = trained.artifact.manifest.version;
    expect(await running()).toEqual({ model: [v1Name], threshold });
    for (const dir of broken) {
      await expect(daemon.reloadModel(dir), dir).rejects.toMatchObject({ name: 'SeismoError' });
      expect(await running(), dir).toEqual({ model: [v1Name], threshold });
    }
    // Still scores, with the old model's scaling and threshold.
    expect(await feed(20)).toBeGreaterThan(0);
    expect((await daemon.metrics.modelReloads.get()).values.find((v) => v.labels.result === 'failed')?.value).toBe(broken.length);
  });

  it('failed reloads free everything they loaded: live tensors unchanged after each round', async () => {
    const before = tf.memory().numTensors;
    for (let round = 0; round < 3; round++) {
      for (const dir of broken) await daemon.reloadModel(dir).catch(() => {});
      await daemon.reloadsSettled();
      expect(tf.memory().numTensors, `round ${round}`).toBe(before);
    }
  });

  it('good reloads swap and leak nothing once the retired model is freed', async () => {
    const before = tf.memory().numTensors;
    for (let i = 0; i < 6; i++) {
      const dir = i % 2 === 0 ? v2 : v1;
      const result = await daemon.reloadModel(dir);
      expect(result.model).toBe(i % 2 === 0 ? 'model-v2' : trained.artifact.manifest.version);
      expect(await feed(3)).toBe(3);
      await daemon.reloadsSettled();
      expect(tf.memory().numTensors, `after reload ${i + 1}`).toBe(before);
    }
    expect((await running()).model).toEqual([trained.artifact.manifest.version]);
    const swapped = await daemon.reloadModel(v2);
    expect(swapped).toEqual({ model: 'model-v2', previous: trained.artifact.manifest.version });
    expect(await running()).toEqual({ model: ['model-v2'], threshold: threshold * 2 });
    expect(await feed(10)).toBeGreaterThan(0);
  });
});
