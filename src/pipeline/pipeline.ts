import type { Metrics } from '../observability/metrics.js';
import type { AlertSnapshot, AlertTracker } from '../detect/alerts.js';
import type { DeadLetterSink, Sink } from '../sink/sink.js';
import { recordToReading, type LaneCheckpoint, type ProcessOptions, type RecordProcessor, type SourceRecord } from '../source/source.js';
import type { BatchScorer } from '../score/batcher.js';
import type { Scaler } from '../window/scaler.js';
import type { Windower, WindowerStats } from '../window/windower.js';
import type { Flag, PoisonRecord, Window, WindowScore } from './types.js';

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

  async process(records: SourceRecord[], opts: ProcessOptions = {}): Promise<void> {
    const { metrics } = this.parts;
    const lane = this.lane(opts.lane ?? DEFAULT_LANE);
    const model = this.model;
    if (lane.model !== this.generation) {
      lane.windower.setScaler(model.scaler);
      lane.alerts.setModel(model.threshold, model.version);
      lane.model = this.generation;
    }
    const windows: Window[] = [];
    const history: Window[] = [];
    const poison: PoisonRecord[] = [];
    let replayed = 0;
    for (const record of records) {
      const position = record.kind === 'poison' ? record.poison.position : record.position;
      // Below replayBelow the records were processed before a restart: they only rebuild the
      // window rings; their windows were scored and their poison dead-lettered already.
      const replay = opts.replayBelow !== undefined && position.offset !== undefined && Number(position.offset) < opts.replayBelow;
      const decoded = recordToReading(record, this.parts.maxMessageBytes);
      if (!decoded.ok) {
        if (!replay) poison.push(decoded.poison);
        continue;
      }
      const known = this.parts.knownEntities;
      if (known !== undefined && !known.has(decoded.reading.entity)) {
        if (!replay) poison.push({ reason: 'unknown_entity', detail: `entity ${JSON.stringify(decoded.reading.entity)} is not in input.entities`, position, raw: record.kind === 'raw' ? record.text : JSON.stringify(decoded.reading), ...(record.kind === 'raw' && record.original ? { original: record.original } : {}) });
        continue;
      }
      const pushed = lane.windower.push(decoded.reading, position);
      if (pushed.kind === 'poison') {
        if (record.kind === 'raw' && record.original) pushed.poison.original = record.original;
        if (!replay) poison.push(pushed.poison);
        continue;
      }
      if (decoded.reading.ts > lane.clock) lane.clock = decoded.reading.ts;
      if (replay) {
        replayed++;
        if (pushed.kind === 'window' && (this.parts.historyWindows ?? 0) > 0) history.push(pushed.window);
        continue;
      }
      metrics.readings.inc();
      if (pushed.kind === 'window') windows.push(pushed.window);
    }
    if (replayed > 0) metrics.replayedReadings.inc(replayed);

    if (history.length > 0) {
      for (const s of await this.parts.batcher.score(history, model.scorer)) lane.alerts.remember(s);
    }
    const flags: Flag[] = [];
    if (windows.length > 0) {
      const scores = await this.parts.batcher.score(windows, model.scorer);
      metrics.windowsScored.inc(windows.length);
      for (const s of scores) {
        metrics.score.observe(s.score / model.threshold);
        this.parts.onScore?.(s);
        const flag = lane.alerts.observe(s);
        if (flag) {
          flags.push(flag);
          metrics.flags.inc({ state: flag.state });
          this.parts.onFlag?.(flag);
        }
      }
    }
    for (const p of poison) metrics.poison.inc({ reason: p.reason });
    this.exportLaneStats(lane);
    await Promise.all([this.parts.sink.send(flags), this.parts.deadLetter.send(poison)]);
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
      lane = { windower, alerts: this.parts.newAlerts(m.threshold, m.version), model: this.generation, clock: -Infinity, exported: { ...windower.stats } };
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
    metrics.entitiesEvicted.inc({ cause: 'idle' }, stats.evictedIdle - was.evictedIdle);
    metrics.entitiesEvicted.inc({ cause: 'capacity' }, stats.evictedCapacity - was.evictedCapacity);
    metrics.forwardFilled.inc(stats.forwardFilled - was.forwardFilled);
    lane.exported = { ...stats };
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
