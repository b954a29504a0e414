import type { Metrics } from '../observability/metrics.js';
import type { AlertTracker } from '../detect/alerts.js';
import type { Scorer } from '../score/scorer.js';
import type { DeadLetterSink, Sink } from '../sink/sink.js';
import { recordToReading, type SourceRecord } from '../source/source.js';
import type { Windower } from '../window/windower.js';
import type { Flag, PoisonRecord, Window, WindowScore } from './types.js';

export interface PipelineParts {
  windower: Windower;
  scorer: Scorer;
  alerts: AlertTracker;
  threshold: number;
  sink: Sink;
  deadLetter: DeadLetterSink;
  metrics: Metrics;
  maxMessageBytes: number;
  /** Sees every window score (the `score` command and evaluation use it). */
  onScore?: (score: WindowScore) => void;
  onFlag?: (flag: Flag) => void;
}

/**
 * decode -> windower -> scorer (batched) -> alert tracker -> sink, for one chunk of records.
 * process() resolves only when the chunk's flags and dead letters are durable, which is what
 * lets a source commit after it.
 */
export class Pipeline {
  private resetsSeen = { gap: 0, outOfOrder: 0 };

  constructor(private readonly parts: PipelineParts) {}

  async process(records: SourceRecord[]): Promise<void> {
    const { windower, scorer, alerts, metrics } = this.parts;
    const windows: Window[] = [];
    const poison: PoisonRecord[] = [];
    for (const record of records) {
      const decoded = recordToReading(record, this.parts.maxMessageBytes);
      if (!decoded.ok) {
        poison.push(decoded.poison);
        continue;
      }
      const position = record.kind === 'poison' ? record.poison.position : record.position;
      const pushed = windower.push(decoded.reading, position);
      if (pushed.kind === 'poison') poison.push(pushed.poison);
      else {
        metrics.readings.inc();
        if (pushed.kind === 'window') windows.push(pushed.window);
      }
    }

    const flags: Flag[] = [];
    if (windows.length > 0) {
      const stopTimer = metrics.scoringDuration.startTimer();
      const scores = scorer.score(windows);
      stopTimer();
      metrics.batchSize.observe(windows.length);
      metrics.windowsScored.inc(windows.length);
      for (const s of scores) {
        metrics.score.observe(s.score / this.parts.threshold);
        this.parts.onScore?.(s);
        const flag = alerts.observe(s);
        if (flag) {
          flags.push(flag);
          metrics.flags.inc({ state: flag.state });
          this.parts.onFlag?.(flag);
        }
      }
    }
    for (const p of poison) metrics.poison.inc({ reason: p.reason });
    this.exportWindowerStats();
    await Promise.all([this.parts.sink.send(flags), this.parts.deadLetter.send(poison)]);
  }

  private exportWindowerStats(): void {
    const { windower, metrics, alerts } = this.parts;
    metrics.windowResets.inc({ cause: 'gap' }, windower.stats.resetsGap - this.resetsSeen.gap);
    metrics.windowResets.inc({ cause: 'out_of_order' }, windower.stats.resetsOutOfOrder - this.resetsSeen.outOfOrder);
    this.resetsSeen = { gap: windower.stats.resetsGap, outOfOrder: windower.stats.resetsOutOfOrder };
    metrics.entities.set(windower.entityCount);
    metrics.alertsOpen.set(alerts.openCount());
  }
}
