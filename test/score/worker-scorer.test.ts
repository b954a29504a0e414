import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Window } from '../../src/domain/types.js';
import { activeBackend } from '../../src/model/backend.js';
import { loadArtifact, type Artifact } from '../../src/model/artifact.js';
import { MicroBatcher } from '../../src/score/batcher.js';
import { Scorer } from '../../src/score/scorer.js';
import { ScoringWorkerLost, WorkerScorer } from '../../src/score/worker-scorer.js';
import { cli, MODEL_YAML, SKAB, skabSubset } from '../kafka/harness.js';

// The scoring worker against the in-thread Scorer on a model trained by `seismo train` on SKAB
// (no mock): same scores, failures that are seen and lose nothing, a shutdown that ends the thread.
// The worker runs dist/score/scoring-worker.js: build first (`npx tsc -p .`).
describe('WorkerScorer', () => {
  let artifact: Artifact;
  let local: Scorer;
  let worker: WorkerScorer;
  let windows: Window[];
  const failures: string[] = [];
  const T = 10;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seismo-worker-'));
    const config = join(dir, 'train.yaml');
    writeFileSync(config, `${MODEL_YAML}artifactDir: ${join(dir, 'model')}\nhttp:\n  enabled: false\n`);
    cli(['train', '-c', config, '-d', skabSubset(['0.csv', '1.csv'])]);
    artifact = await loadArtifact(join(dir, 'model'));
    const F = artifact.scaler.features.length;
    local = new Scorer(artifact.model, T, F, 64);
    worker = await WorkerScorer.start(artifact.model, { lookback: T, features: F, maxBatch: 64, backend: 'auto', threads: 0, onFailure: (r) => failures.push(r) });
    // Real readings through the artifact's scaler (offset and scale): SKAB valve1/3.csv, which
    // the model did not train on, as windows of T rows.
    const lines = readFileSync(join(SKAB, 'valve1', '3.csv'), 'utf8').trim().split('\n');
    const header = lines[0]?.split(';') ?? [];
    const rows = lines.slice(1, 400).map((l) => l.split(';'));
    const columns = artifact.scaler.features.map((f) => header.indexOf(f));
    expect(columns.every((c) => c >= 0)).toBe(true);
    windows = [];
    for (let end = T; end <= rows.length; end++) {
      const data = new Float32Array(T * F);
      for (let t = 0; t < T; t++) columns.forEach((c, j) => (data[t * F + j] = (Number(rows[end - T + t]?.[c]) - (artifact.scaler.offset[j] ?? 0)) / (artifact.scaler.scale[j] ?? 1)));
      windows.push({ entity: 'valve1/0', startTs: end - T, endTs: end, data });
    }
  }, 300_000);

  afterAll(async () => {
    await worker?.dispose();
    local?.dispose();
  });

  it('loads on the same backend and path as the in-thread scorer', () => {
    expect(worker.backend?.active).toBe(activeBackend()?.active);
    expect(worker.path).toBe(local.path);
  });

  it('scores real windows like the in-thread scorer: per-window score and per-feature errors within float tolerance', async () => {
    const inThread = local.score(windows);
    const inWorker = await worker.score(windows);
    expect(inWorker).toHaveLength(inThread.length);
    let worst = 0;
    inWorker.forEach((s, i) => {
      const ref = inThread[i];
      expect([s.entity, s.startTs, s.endTs]).toEqual([ref?.entity, ref?.startTs, ref?.endTs]);
      expect(s.featureErrors).toHaveLength(ref?.featureErrors.length ?? -1);
      s.featureErrors.forEach((e, j) => (worst = Math.max(worst, Math.abs(e - (ref?.featureErrors[j] ?? NaN)) / Math.max(1e-12, Math.abs(ref?.featureErrors[j] ?? 0)))));
      expect(Math.abs(s.score - (ref?.score ?? NaN))).toBeLessThanOrEqual(1e-5 * Math.abs(ref?.score ?? 0) + 1e-9);
    });
    // Same batches, same kernels: measured bit-identical here; allow float summation order.
    expect(worst).toBeLessThan(1e-5);
    expect(inWorker.some((s) => s.score > 0)).toBe(true);
  });

  it('explains on this thread with the same reconstruction as the in-thread scorer', () => {
    expect(Array.from(worker.reconstruct(windows.slice(0, 3)))).toEqual(Array.from(local.reconstruct(windows.slice(0, 3))));
  });

  it('feeds the micro-batcher: concurrent callers get their own scores, one batch out at a time', async () => {
    const batches: number[] = [];
    const batcher = new MicroBatcher(worker, { maxBatch: 50, maxDelayMs: 1, onBatch: (n) => batches.push(n) });
    const parts = [windows.slice(0, 40), windows.slice(40, 100), windows.slice(100, 130)];
    const results = await Promise.all(parts.map((p) => batcher.score(p)));
    const reference = local.score(windows.slice(0, 130));
    expect(results.flat().map((s) => s.endTs)).toEqual(reference.map((s) => s.endTs));
    results.flat().forEach((s, i) => expect(s.score).toBeCloseTo(reference[i]?.score ?? NaN, 6));
    expect(batches.reduce((a, b) => a + b, 0)).toBe(130);
    await batcher.afterNextFlush();
  });

  it('survives its worker being killed mid-batch: the failure is reported, a new worker rescores, nothing is lost', async () => {
    const before = worker.health().restarts;
    const pending = worker.score(windows);
    await worker.crashWorker();
    const scores = await pending;
    expect(scores.map((s) => s.endTs)).toEqual(windows.map((w) => w.endTs));
    const reference = local.score(windows);
    scores.forEach((s, i) => expect(s.score).toBeCloseTo(reference[i]?.score ?? NaN, 6));
    expect(failures.at(-1)).toMatch(/the scoring worker died: exited with code/);
    expect(worker.health()).toMatchObject({ state: 'running', restarts: before + 1 });
  });

  it('fails a batch with ScoringWorkerLost when its worker dies twice under it', async () => {
    // Its own scorer, so the second death can be placed exactly: onRestart runs after the
    // replacement is ready and before the batch is re-sent to it, so killing the replacement
    // there means it dies with the batch in hand. (Polling for 'running' and then killing raced
    // the replacement, which sometimes finished the batch first: CI run of session 6.)
    let twice: WorkerScorer | undefined;
    let deaths = 0;
    twice = await WorkerScorer.start(artifact.model, {
      lookback: T, features: artifact.scaler.features.length, maxBatch: 64, backend: 'auto', threads: 0,
      onRestart: () => { if (++deaths === 1) void twice?.crashWorker(); },
    });
    try {
      const pending = twice.score(windows);
      await twice.crashWorker();
      await expect(pending).rejects.toBeInstanceOf(ScoringWorkerLost);
      expect(deaths).toBe(2);
      // The scorer itself recovers for the next batch.
      while (twice.health().state !== 'running') await new Promise((r) => setTimeout(r, 20));
      expect(await twice.score(windows.slice(0, 5))).toHaveLength(5);
    } finally {
      await twice.dispose();
    }
  });

  it('stops: the thread ends, later calls fail clearly', async () => {
    const separate = await WorkerScorer.start(artifact.model, { lookback: T, features: artifact.scaler.features.length, maxBatch: 64, backend: 'auto', threads: 0 });
    await separate.dispose();
    expect(separate.health().state).toBe('stopped');
    await expect(separate.score(windows.slice(0, 1))).rejects.toThrow(/after dispose/);
  });
});
