import { cpSync, mkdtempSync, realpathSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Daemon } from '../../src/daemon.js';
import { trainFromData } from '../../src/jobs/train-job.js';
import { saveArtifact } from '../../src/model/artifact.js';
import { createLogger } from '../../src/observability/logger.js';
import { LogDeadLetterSink } from '../../src/sink/stream-sink.js';
import type { RecordProcessor, Source } from '../../src/source/source.js';
import { simulatedReadings, smallConfig } from '../helpers.js';

class IdleSource implements Source {
  private release: (() => void) | undefined;
  start(_processor: RecordProcessor): Promise<void> {
    return new Promise((resolve) => (this.release = resolve));
  }
  pause(): void {}
  resume(): void {}
  async stop(): Promise<void> {
    this.release?.();
  }
}

class NoSink {
  async send(): Promise<void> {}
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}

// /readyz names the model directory the daemon runs, also after a hot swap to another one.
describe('/readyz modelDir', async () => {
  const cfg = smallConfig();
  const trained = await trainFromData(cfg, simulatedReadings(200));
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'seismo-modeldir-')));
  const v1 = join(root, 'v1');
  const v2 = join(root, 'v2');
  await saveArtifact(v1, trained.artifact);
  cpSync(v1, v2, { recursive: true });
  const current = join(root, 'current');
  symlinkSync(v1, current);
  const daemon = new Daemon({ config: { ...cfg, artifactDir: current }, log: createLogger('silent'), source: new IdleSource(), sink: new NoSink(), deadLetter: new LogDeadLetterSink(createLogger('silent')) });
  await daemon.start();
  afterAll(() => daemon.stop());

  it('at start: the configured directory and, for a symlink, where it leads', () => {
    expect(daemon.readiness().detail).toMatchObject({ modelDir: current, modelDirResolved: v1 });
  });

  it('after a hot swap to another directory: that directory', async () => {
    await daemon.reloadModel(v2);
    const detail = daemon.readiness().detail;
    expect(detail.modelDir).toBe(v2);
    expect(detail).not.toHaveProperty('modelDirResolved');
  });
});
