import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { Daemon } from '../../src/daemon.js';
import type { Flag, WindowScore } from '../../src/domain/types.js';
import { trainFromData } from '../../src/jobs/train-job.js';
import { saveArtifact } from '../../src/model/artifact.js';
import type { Logger } from '../../src/observability/logger.js';
import { WorkerScorer } from '../../src/score/worker-scorer.js';
import type { PoisonRecord } from '../../src/domain/types.js';
import type { RecordProcessor, Source } from '../../src/source/source.js';
import { simulatedReadings, smallConfig } from '../helpers.js';

/** Hands the test the pipeline, so it can feed readings while the worker is killed. */
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

// A real daemon (scoring.worker: true) on a really trained model: a scoring worker killed in the
// middle of a chunk is seen (error log, metrics, /readyz detail) and loses no window; a hot swap
// gets a worker of its own; stop ends the worker.
describe('daemon with scoring.worker', async () => {
  const cfg = smallConfig();
  const data = simulatedReadings(300);
  const trained = await trainFromData(cfg, data);
  const dir = join(mkdtempSync(join(tmpdir(), 'seismo-daemon-worker-')), 'model');
  await saveArtifact(dir, trained.artifact);
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) }) as unknown as Logger;
  const source = new HeldSource();
  const scores: WindowScore[] = [];
  const dead: PoisonRecord[] = [];
  const daemon = new Daemon({
    config: { ...cfg, artifactDir: dir, scoring: { ...cfg.scoring, worker: true, maxBatch: 16 } },
    log,
    source,
    sink: { send: async (_f: Flag[]) => {}, flush: async () => {}, close: async () => {} },
    deadLetter: { send: async (p) => void dead.push(...p), close: async () => {} },
    onScore: (s) => scores.push(s),
  });
  await daemon.start();
  afterAll(() => daemon.stop());
  // The running model's scorer: private to the daemon, reached here only to kill its thread.
  const workerOf = () => (daemon as unknown as { model: { scorer: unknown } }).model.scorer as WorkerScorer;
  const entity = [...data.byEntity.keys()][0] as string;
  const readings = data.byEntity.get(entity) ?? [];
  let fed = 0;
  const chunk = (n: number) => {
    const part = readings.slice(fed, fed + n);
    fed += n;
    return part.map((reading, i) => ({ kind: 'reading' as const, reading, position: { source: 'test', line: fed + i } }));
  };
  const metric = async (name: 'scoringWorkerFailures' | 'scoringWorkerRestarts') => (await daemon.metrics[name].get()).values[0]?.value ?? 0;

  it('scores in a worker and says so in /readyz', async () => {
    expect(workerOf()).toBeInstanceOf(WorkerScorer);
    const r = daemon.readiness();
    expect(r.ready).toBe(true);
    expect(r.detail.scoringWorker).toEqual({ state: 'running', restarts: 0 });
    await source.processor?.process(chunk(40));
    expect(scores.length).toBeGreaterThan(0);
  });

  it('a worker killed mid-chunk: error logged, counted, in /readyz; the chunk is scored in full by its replacement', async () => {
    const before = scores.length;
    const records = chunk(100);
    const processing = source.processor?.process(records);
    await workerOf().crashWorker();
    await processing;
    // Every reading of the chunk completes a window (the entity's ring is full): 100 scores, none dead-lettered.
    expect(scores.length - before).toBe(100);
    expect(dead).toEqual([]);
    expect(await metric('scoringWorkerFailures')).toBe(1);
    expect(await metric('scoringWorkerRestarts')).toBe(1);
    const error = lines.find((l) => l.level === 50 && String(l.msg).startsWith('scoring worker failed'));
    expect(error?.reason).toMatch(/the scoring worker died: exited with code/);
    const r = daemon.readiness();
    expect(r.ready).toBe(true);
    expect(r.detail.scoringWorker).toMatchObject({ state: 'running', restarts: 1, lastError: expect.stringMatching(/died/) });
  });

  it('a hot swap starts a worker for the new model and ends the retired one after its batches', async () => {
    const retired = workerOf();
    await daemon.reloadModel(dir);
    await daemon.reloadsSettled();
    expect(workerOf()).not.toBe(retired);
    expect(retired.health().state).toBe('stopped');
    const before = scores.length;
    await source.processor?.process(chunk(20));
    expect(scores.length - before).toBe(20);
  });

  it('stop ends the worker thread', async () => {
    const worker = workerOf();
    await daemon.stop();
    expect(worker.health().state).toBe('stopped');
    expect(daemon.lifecycle).toBe('stopped');
  });
});
