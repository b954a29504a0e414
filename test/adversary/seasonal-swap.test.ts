import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { Daemon } from '../../src/daemon.js';
import type { Flag, Reading } from '../../src/domain/types.js';
import { trainFromData } from '../../src/jobs/train-job.js';
import { saveArtifact } from '../../src/model/artifact.js';
import { createLogger } from '../../src/observability/logger.js';
import { LogDeadLetterSink } from '../../src/sink/stream-sink.js';
import type { RecordProcessor, Source } from '../../src/source/source.js';

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

const sink = { flags: [] as Flag[], async send(f: Flag[]) { sink.flags.push(...f); }, async flush() {}, async close() {} };

// Real models: one with a seasonal column (hourly data with a daily rhythm, five days), one
// without, and the seasonal one with its history size edited. A hot swap between any two of
// them must be refused clearly, and the running model keep running.
describe('adversary: hot swap between models with different seasonal columns', async () => {
  const HOUR = 3_600_000;
  const readings: Reading[] = Array.from({ length: 24 * 5 }, (_, i) => ({ entity: 'e', ts: Date.UTC(2026, 0, 1) + i * HOUR, values: { a: Math.sin((2 * Math.PI * i) / 24) + 0.05 * Math.sin(i * 7.1), b: Math.cos(i * 0.9) } }));
  const yaml = (seasonal: string) => `window:\n  lookback: 3\n  maxGapSeconds: 7200\nmodel:\n  encoderUnits: [4]\n  epochs: 2\n  batchSize: 32\ntraining:\n  seasonal: ${seasonal}\n  seasonalAutocorrelation: 0.3\nhttp:\n  enabled: false\nlog:\n  level: silent\n`;
  const data = { byEntity: new Map([['e', readings]]), features: ['a', 'b'], poison: [] };
  const root = mkdtempSync(join(tmpdir(), 'seismo-adv-swap-'));
  const seasonal = await trainFromData(parseConfig(yaml('auto'), 's.yaml'), data);
  const plain = await trainFromData(parseConfig(yaml('none'), 'p.yaml'), data);
  await saveArtifact(join(root, 'seasonal'), seasonal.artifact);
  await saveArtifact(join(root, 'plain'), plain.artifact);
  cpSync(join(root, 'seasonal'), join(root, 'seasonal-edited'), { recursive: true });
  const scalerFile = join(root, 'seasonal-edited', 'scaler.json');
  const scaler = JSON.parse(readFileSync(scalerFile, 'utf8')) as { seasonal: { capacity: number } };
  scaler.seasonal.capacity += 10;
  writeFileSync(scalerFile, JSON.stringify(scaler));

  const source = new HeldSource();
  const daemon = new Daemon({ config: { ...parseConfig(yaml('auto'), 'run.yaml'), artifactDir: join(root, 'seasonal') }, log: createLogger('silent'), source, sink, deadLetter: new LogDeadLetterSink(createLogger('silent')) });
  await daemon.start();
  afterAll(() => daemon.stop());
  const running = async () => (await daemon.metrics.modelInfo.get()).values.map((v) => v.labels.model);

  it('the premise: one model has a seasonal column, the other none', () => {
    expect(seasonal.artifact.scaler.seasonal?.of).toContain('a');
    expect(plain.artifact.scaler.seasonal).toBeUndefined();
  });

  it.each(['plain', 'seasonal-edited'])('reloading %s is refused, naming the seasonal columns, and the seasonal model keeps running', async (name) => {
    await expect(daemon.reloadModel(join(root, name))).rejects.toThrow(/SEISMO_MODEL_INCOMPATIBLE|does not fit: seasonal columns/);
    await expect(daemon.reloadModel(join(root, name))).rejects.toThrow(/seasonal columns .* the running model has .*"of":\["a"/);
    expect(await running()).toEqual([seasonal.artifact.manifest.version]);
  });
});
