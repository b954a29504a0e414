import { finiteScore } from '../detect/alerts.js';
import type { SeismoConfig } from '../config/schema.js';
import { Daemon } from '../daemon.js';
import type { Artifact } from '../model/artifact.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { PoisonRecord, Reading, WindowScore } from '../pipeline/types.js';
import type { DeadLetterSink, Sink } from '../sink/sink.js';
import { memorySource } from '../source/replay.js';

/** Evaluation looks at every window score; flags are recomputed from them by the caller. */
class DiscardSink implements Sink {
  async send(): Promise<void> {}
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}

class CollectDeadLetters implements DeadLetterSink {
  readonly records: PoisonRecord[] = [];
  async send(records: PoisonRecord[]): Promise<void> {
    this.records.push(...records);
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}

export interface ReplayResult {
  /** Score of the window ending at each reading (NaN where no window ends: filling, poison). */
  scores: Float64Array;
  /** Per-feature errors of that window, empty where no window ends. */
  featureErrors: Array<Float32Array | undefined>;
  /** The window's run number (windows since its entity's ring (re)started), NaN where no window is scored. */
  runs: Float64Array;
  poison: PoisonRecord[];
}

/**
 * Replays one entity's readings through a real Daemon (file-replay source, windower, batcher,
 * scorer, alert tracker) so an evaluation measures what `seismo run` would do. Scores are mapped
 * back to the reading their window ends at by timestamp, which the windower keeps unique.
 */
export async function replayScores(cfg: SeismoConfig, artifact: Artifact, readings: Reading[], log: Logger, metrics: Metrics): Promise<ReplayResult> {
  const rowOf = new Map<string, number>();
  readings.forEach((r, i) => rowOf.set(`${r.entity}|${r.ts}`, i));
  const scores = new Float64Array(readings.length).fill(NaN);
  const featureErrors: Array<Float32Array | undefined> = new Array<Float32Array | undefined>(readings.length);
  const runs = new Float64Array(readings.length).fill(NaN);
  const deadLetter = new CollectDeadLetters();
  const daemon = new Daemon({
    config: { ...cfg, http: { ...cfg.http, enabled: false } },
    log,
    metrics,
    source: memorySource(readings, 0, cfg.scoring.maxBatch, 'evaluate'),
    sink: new DiscardSink(),
    deadLetter,
    artifact,
    onScore: (s: WindowScore) => {
      const row = rowOf.get(`${s.entity}|${s.endTs}`);
      if (row === undefined) return;
      // As the alert tracker judges it: a non-finite error (an extreme reading overflowing the
      // model) is the maximum score, not a row without a window (NaN means that here).
      scores[row] = finiteScore(s.score);
      featureErrors[row] = Float32Array.from(s.featureErrors, finiteScore);
      runs[row] = s.run ?? NaN;
    },
  });
  try {
    await daemon.start();
    await daemon.finished();
  } finally {
    await daemon.stop();
  }
  return { scores, featureErrors, runs, poison: deadLetter.records };
}
