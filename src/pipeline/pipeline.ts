import type { Metrics } from '../observability/metrics.js';
import { finiteScore, type AlertSnapshot, type AlertTracker, type Verdict } from '../detect/alerts.js';
import { explainFlag } from '../detect/explain.js';
import type { DeadLetterSink, Sink } from '../sink/sink.js';
import { recordToReading, type CountChunk, type LaneCheckpoint, type ProcessOptions, type RecordProcessor, type SourceRecord } from '../source/source.js';
import type { BatchScorer } from '../score/batcher.js';
import { ScoringWorkerLost } from '../score/worker-scorer.js';
import type { Scaler } from '../window/scaler.js';
import type { PushResult, Windower, WindowerStats } from '../window/windower.js';
import type { Flag, OriginalMessage, PoisonRecord, Position, Reading, Window, WindowScore } from './types.js';

/** What one loaded model brings: its scorer, the scaler it was trained with, its threshold and version. */
export interface ModelRuntime {
  scorer: BatchScorer;
  scaler: Scaler;
  threshold: number;
  version: string;
}

export interface PipelineParts {
  /** Each lane (a Kafka partition, or the one lane of a file replay) owns its own state. */
  newWindower: (scaler: Scaler) => Windower;
  newAlerts: (threshold: number, version: string) => AlertTracker;
  /** Scores windows; concurrent lanes share model calls. */
  batcher: { score(windows: Window[], scorer: BatchScorer): Promise<WindowScore[]>; readonly queued: number; drained(): Promise<void> };
  model: ModelRuntime;
  sink: Sink;
  deadLetter: DeadLetterSink;
  metrics: Metrics;
  maxMessageBytes: number;
  /** When given, readings of other entities are poison (`unknown_entity`). */
  knownEntities?: ReadonlySet<string>;
  /**
   * Windows before a restart point whose scores the alert trackers need again (score
   * smoothing: alerts.smoothWindows - 1, plus window.warmupWindows so that warm-up decisions
   * repeat). Replayed records that complete such windows have them re-scored into the
   * trackers' history, not judged. 0: replayed windows are not scored.
   */
  historyWindows?: number;
  /** An entity silent this long (by its lane's event clock) restarts its window anyway, so a checkpoint need not replay it. */
  maxGapMs: number;
  /** Sees every window score (the `score` command and evaluation use it). */
  onScore?: (score: WindowScore) => void;
  onFlag?: (flag: Flag) => void;
  /** Sees every reading accepted for the first time (not replayed ones): the refit buffer. */
  onReading?: (reading: Reading) => void;
  /** Sees every judged window with its verdict: the refit buffer, drift test and shadow comparison. */
  onJudged?: (score: WindowScore, verdict: Verdict) => void;
}

/** Per-partition state: window rings and alert state of the entities the partition carries. */
interface Lane {
  windower: Windower;
  alerts: AlertTracker;
  /** The model generation the lane's scaler and alert threshold belong to. */
  model: number;
  /** Newest reading timestamp seen in the lane: the lane's event clock. */
  clock: number;
  /** The windower's counters as last exported to metrics. */
  exported: WindowerStats;
}

const DEFAULT_LANE = 'default';

/**
 * decode -> windower -> scorer (batched) -> alert tracker -> sink, for one chunk of records of
 * one lane. process() resolves only when the chunk's flags and dead letters are durable, which
 * is what lets a source commit after it.
 */
export class Pipeline implements RecordProcessor {
  private readonly lanes = new Map<string, Lane>();

  private model: ModelRuntime;
  private generation = 0;

  constructor(private readonly parts: PipelineParts) {
    this.model = parts.model;
  }

  /**
   * Hot swap: chunks that start from now on use the new model. A lane switches at the start of
   * its next chunk (rescaling its buffered rows, keeping its alert state), so a chunk is built,
   * scored and judged by one model from start to end.
   */
  swapModel(model: ModelRuntime): void {
    this.model = model;
    this.generation++;
  }

  async process(records: SourceRecord[], opts: ProcessOptions = {}): Promise<CountChunk | void> {
    const lane = this.lane(opts.lane ?? DEFAULT_LANE);
    const model = this.model;
    if (lane.model !== this.generation) {
      lane.windower.setScaler(model.scaler);
      lane.alerts.setModel(model.threshold, model.version);
      lane.model = this.generation;
    }
    // Counted only once the chunk's flags and dead letters are durable: a chunk that fails is
    // processed again after the restart, and must not be counted twice.
    const tally = newTally();
    const windows: Window[] = [];
    const windowRecords: SourceRecord[] = [];
    const history: Window[] = [];
    const poison: PoisonRecord[] = [];
    for (const record of records) {
      // Below replayBelow the records were processed before a restart: they only rebuild the
      // window rings; their windows were scored and their poison dead-lettered already.
      const replay = isReplay(record, opts.replayBelow);
      try {
        const pushed = this.accept(record, lane, replay);
        if (pushed.kind === 'poison') {
          if (!replay) poison.push(pushed.poison);
          continue;
        }
        if (replay) {
          tally.replayed++;
          if (pushed.kind === 'window' && (this.parts.historyWindows ?? 0) > 0) history.push(pushed.window);
          continue;
        }
        tally.readings++;
        if (pushed.kind === 'window') {
          windows.push(pushed.window);
          windowRecords.push(record);
        }
      } catch (err) {
        // Containment: whatever one record does to the code, it ends in the dead-letter sink
        // with the error, and the chunk goes on.
        tally.errors.reading++;
        if (!replay) poison.push(processingError(record, 'reading', err));
      }
    }

    if (history.length > 0) {
      for (const s of await this.scoreContained(history, model.scorer)) {
        if (!(s instanceof Error)) lane.alerts.remember(s);
        else tally.errors.scoring++;
      }
    }
    const flagged: Flagged[] = [];
    if (windows.length > 0) {
      const scores = await this.scoreContained(windows, model.scorer);
      scores.forEach((s, i) => {
        const record = windowRecords[i] as SourceRecord;
        if (s instanceof Error) {
          tally.errors.scoring++;
          poison.push(processingError(record, 'scoring', s));
          return;
        }
        tally.windows++;
        if (!Number.isFinite(s.score)) tally.nonFiniteScores++;
        try {
          this.parts.onScore?.(s);
          const flag = lane.alerts.observe(s);
          const verdict = lane.alerts.lastVerdict;
          if (verdict !== undefined) this.parts.onJudged?.(s, verdict);
          tally.severities.push(finiteScore(s.score) / model.threshold);
          if (flag) flagged.push({ flag, window: windows[i] as Window, record });
        } catch (err) {
          tally.errors.judging++;
          poison.push(processingError(record, 'judging', err));
        }
      });
    }
    const flags = this.explain(flagged, model, tally);
    flags.forEach((flag, i) => {
      try {
        this.parts.onFlag?.(flag);
      } catch (err) {
        tally.errors.judging++;
        poison.push(processingError((flagged[i] as Flagged).record, 'judging', err));
      }
    });
    this.exportLaneStats(lane);
    await Promise.all([this.parts.sink.send(flags), this.parts.deadLetter.send(poison)]);
    const count = () => this.count(tally, flags, poison);
    if (opts.deferCounts) return count;
    count();
  }

  /**
   * Open and update flags get their top features' observed and expected values (explain.ts):
   * one extra model call per chunk that flags, none otherwise. If it fails the flags go out
   * without them (seismo_processing_errors_total{stage="explaining"}): a flag is never held back.
   */
  private explain(flagged: Flagged[], model: ModelRuntime, tally: Tally): Flag[] {
    const wanted = flagged.filter((f) => f.flag.state !== 'resolved');
    if (wanted.length > 0 && model.scorer.reconstruct !== undefined) {
      try {
        const reconstruction = model.scorer.reconstruct(wanted.map((f) => f.window));
        wanted.forEach((f, i) => {
          const size = f.window.data.length;
          f.flag = explainFlag(f.flag, f.window, reconstruction.subarray(i * size, (i + 1) * size), model.scaler);
        });
      } catch {
        tally.errors.explaining++;
      }
    }
    return flagged.map((f) => f.flag);
  }

  /** Decode, entity allowlist, windower: what one record becomes. */
  private accept(record: SourceRecord, lane: Lane, replay: boolean): PushResult {
    const decoded = recordToReading(record, this.parts.maxMessageBytes);
    if (!decoded.ok) return { kind: 'poison', poison: decoded.poison };
    const position = positionOf(record);
    const known = this.parts.knownEntities;
    if (known !== undefined && !known.has(decoded.reading.entity)) {
      return { kind: 'poison', poison: { reason: 'unknown_entity', detail: `entity ${JSON.stringify(decoded.reading.entity)} is not in input.entities`, position, raw: rawText(record), ...originalOf(record) } };
    }
    const pushed = lane.windower.push(decoded.reading, position);
    if (pushed.kind === 'poison') {
      if (record.kind === 'raw' && record.original) pushed.poison.original = record.original;
      return pushed;
    }
    if (decoded.reading.ts > lane.clock) lane.clock = decoded.reading.ts;
    if (!replay) this.parts.onReading?.(decoded.reading);
    return pushed;
  }

  /**
   * Scores windows together; when the model call fails, scores them one by one so that only
   * the window at fault (and the record that completed it) is lost to the dead-letter sink.
   * A scoring worker that is gone is no window's fault: that fails the chunk, uncommitted, to
   * be processed again (ScoringWorkerLost).
   */
  private async scoreContained(windows: Window[], scorer: BatchScorer): Promise<(WindowScore | Error)[]> {
    try {
      return await this.parts.batcher.score(windows, scorer);
    } catch (batchError) {
      if (batchError instanceof ScoringWorkerLost) throw batchError;
      const scores: (WindowScore | Error)[] = [];
      for (const w of windows) {
        try {
          const [score] = await scorer.score([w]);
          if (score === undefined) throw new Error('the scorer returned no score');
          scores.push(score);
        } catch (err) {
          if (err instanceof ScoringWorkerLost) throw err;
          scores.push(err instanceof Error ? err : new Error(String(err)));
        }
      }
      return scores;
    }
  }

  private count(tally: Tally, flags: Flag[], poison: PoisonRecord[]): void {
    const { metrics } = this.parts;
    metrics.readings.inc(tally.readings);
    if (tally.replayed > 0) metrics.replayedReadings.inc(tally.replayed);
    metrics.windowsScored.inc(tally.windows);
    for (const sev of tally.severities) metrics.score.observe(sev);
    if (tally.nonFiniteScores > 0) metrics.nonFiniteScores.inc(tally.nonFiniteScores);
    for (const [stage, n] of Object.entries(tally.errors)) if (n > 0) metrics.processingErrors.inc({ stage }, n);
    for (const flag of flags) {
      metrics.flags.inc({ state: flag.state });
      if (flag.stale === true) metrics.staleResolves.inc();
      if (flag.escalatedFrom !== undefined) metrics.escalations.inc();
    }
    for (const p of poison) metrics.poison.inc({ reason: p.reason });
  }

  queuedWindows(): number {
    return this.parts.batcher.queued;
  }

  drained(): Promise<void> {
    return this.parts.batcher.drained();
  }

  /** Forgets a lane's state (its partition was revoked, or must be rebuilt from a checkpoint). */
  dropLane(lane: string): void {
    this.lanes.delete(lane);
  }

  restoreLane(lane: string, alerts: Record<string, AlertSnapshot>, clock?: number): void {
    const state = this.lane(lane);
    for (const [entity, snap] of Object.entries(alerts)) state.alerts.restore(entity, snap);
    if (clock !== undefined) state.windower.resumeClock(clock);
  }

  /**
   * Where a replay must start to rebuild this lane's window rings (the oldest position any
   * live entity's next window needs), and the alert state that a fresh lane would not have.
   * Entities silent for longer than maxGap are not in the windower any more (it evicts them,
   * and their next reading restarts the ring whether or not the daemon restarted).
   */
  checkpoint(lane: string): LaneCheckpoint {
    const state = this.lanes.get(lane);
    if (state === undefined) return { replayFrom: undefined, alerts: {} };
    let oldest: { seq: number; clockBefore: number } | undefined;
    for (const entity of state.windower.entities()) {
      const needed = state.windower.oldestNeeded(entity);
      if (needed !== undefined && (oldest === undefined || needed.seq < oldest.seq)) oldest = needed;
    }
    const clock = oldest !== undefined && Number.isFinite(oldest.clockBefore) ? { clock: oldest.clockBefore } : {};
    return { replayFrom: oldest?.seq, alerts: state.alerts.snapshot(), ...clock };
  }

  private lane(name: string): Lane {
    let lane = this.lanes.get(name);
    if (lane === undefined) {
      const m = this.model;
      const windower = this.parts.newWindower(m.scaler);
      lane = { windower, alerts: this.parts.newAlerts(m.threshold, m.version), model: this.generation, clock: -Infinity, exported: { ...windower.stats, imputedValues: [...windower.stats.imputedValues] } };
      this.lanes.set(name, lane);
    }
    return lane;
  }

  private exportLaneStats(lane: Lane): void {
    const { metrics } = this.parts;
    const { stats } = lane.windower;
    const was = lane.exported;
    metrics.windowResets.inc({ cause: 'gap' }, stats.resetsGap - was.resetsGap);
    metrics.windowResets.inc({ cause: 'out_of_order' }, stats.resetsOutOfOrder - was.resetsOutOfOrder);
    metrics.windowResets.inc({ cause: 'seasonal' }, stats.resetsSeasonal - was.resetsSeasonal);
    metrics.windowResets.inc({ cause: 'seasonal_history_short' }, stats.seasonalHistoryShort - was.seasonalHistoryShort);
    metrics.entitiesEvicted.inc({ cause: 'idle' }, stats.evictedIdle - was.evictedIdle);
    metrics.entitiesEvicted.inc({ cause: 'capacity' }, stats.evictedCapacity - was.evictedCapacity);
    metrics.forwardFilled.inc(stats.forwardFilled - was.forwardFilled);
    if (stats.forwardFilled !== was.forwardFilled) {
      // Input features come first in the model's columns (derived seasonal ones after them).
      stats.imputedValues.forEach((count, j) => {
        const n = count - (was.imputedValues[j] ?? 0);
        if (n > 0) metrics.imputedValues.inc({ feature: lane.windower.features[j] as string }, n);
      });
    }
    lane.exported = { ...stats, imputedValues: [...stats.imputedValues] };
    let entities = 0;
    let open = 0;
    for (const l of this.lanes.values()) {
      entities += l.windower.entityCount;
      open += l.alerts.openCount();
    }
    metrics.entities.set(entities);
    metrics.alertsOpen.set(open);
  }
}

/** A flag with the window that raised it and the record that completed that window. */
interface Flagged {
  flag: Flag;
  window: Window;
  record: SourceRecord;
}

interface Tally {
  readings: number;
  replayed: number;
  windows: number;
  nonFiniteScores: number;
  severities: number[];
  errors: { reading: number; scoring: number; judging: number; explaining: number };
}

function newTally(): Tally {
  return { readings: 0, replayed: 0, windows: 0, nonFiniteScores: 0, severities: [], errors: { reading: 0, scoring: 0, judging: 0, explaining: 0 } };
}

function positionOf(record: SourceRecord): Position {
  return record.kind === 'poison' ? record.poison.position : record.position;
}

function isReplay(record: SourceRecord, replayBelow: number | undefined): boolean {
  const { offset } = positionOf(record);
  return replayBelow !== undefined && offset !== undefined && Number(offset) < replayBelow;
}

function rawText(record: SourceRecord): string {
  if (record.kind === 'raw') return record.text;
  if (record.kind === 'poison') return record.poison.raw;
  // Never throws: a reading may carry a timestamp no Date can print, or values JSON renders as null.
  return JSON.stringify({ entity: record.reading.entity, ts: record.reading.ts, values: record.reading.values });
}

function originalOf(record: SourceRecord): { original?: OriginalMessage } {
  if (record.kind === 'raw' && record.original) return { original: record.original };
  if (record.kind === 'poison' && record.poison.original) return { original: record.poison.original };
  return {};
}

/** The dead letter for a record whose processing threw: the error says what went wrong, at which stage. */
function processingError(record: SourceRecord, stage: 'reading' | 'scoring' | 'judging', err: unknown): PoisonRecord {
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return { reason: 'processing_error', detail: `${stage} failed: ${message}`, position: positionOf(record), raw: rawText(record), ...originalOf(record) };
}
