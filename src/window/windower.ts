import type { WindowConfig } from '../config/schema.js';
import type { PoisonRecord, Position, Reading, Window } from '../pipeline/types.js';
import { centerWindow } from './relative.js';
import type { Scaler } from './scaler.js';
import { SeasonalHistory } from './seasonal.js';

export type PushResult =
  | { kind: 'window'; window: Window }
  | { kind: 'filling' }
  /** A complete window that window.stride leaves unscored (not the stride-th since the ring started). */
  | { kind: 'skipped' }
  | { kind: 'poison'; poison: PoisonRecord };

/**
 * The window config the windower needs. The bounds are optional so that callers windowing
 * trusted in-memory data (temporalize) need not name them: an absent bound is no bound.
 */
export type WindowPolicy = Pick<WindowConfig, 'lookback' | 'maxGapSeconds' | 'outOfOrder' | 'missing' | 'unknownFeatures'> &
  Partial<Pick<WindowConfig, 'maxFutureSeconds' | 'maxClockJumpSeconds' | 'maxEntities' | 'stride'>> & {
    /** input.maxEntityIdLength: longer entity ids are poison, so no state is keyed by them. */
    maxEntityIdLength?: number;
  };

interface EntityState {
  /** Scaled rows, ring of `lookback` slots of `features` values. */
  rows: Float32Array;
  timestamps: Float64Array;
  /**
   * Source positions (Kafka offsets) of the last lookback - 1 + historyWindows readings, so a
   * source knows how far back to replay to rebuild the ring and the recent windows' scores.
   */
  seqs: Float64Array;
  /** Per seqs slot, the reading's timestamp (how far back its seasonal lookup reached). */
  seqTs: Float64Array;
  /** Per seqs slot, the lane clock just before that reading: where a replay from it must set the clock. */
  seqClocks: Float64Array;
  seqHead: number;
  /** Readings accepted since the ring last (re)started, capped at seqs.length. */
  seqCount: number;
  head: number;
  count: number;
  /** Windows produced since the ring last (re)started. */
  run: number;
  lastTs: number;
  /**
   * The lane clock just after this entity's last accepted reading. Idleness is measured from
   * here, not from lastTs: an entity whose device clock lags the others, but which keeps
   * sending, is not idle. Non-decreasing in the Map's (recency) order.
   */
  seenAt: number;
  /** Last accepted raw values, for forward-fill. */
  lastRaw: Float64Array;
  hasLastRaw: Uint8Array;
  /** Readings of the last period, when the model has seasonal columns (seasonal.ts). */
  season?: SeasonalHistory;
}

/** Counts the windower's own decisions so the daemon can export them. */
export interface WindowerStats {
  resetsGap: number;
  resetsOutOfOrder: number;
  /** Readings with at least one value forward-filled. */
  forwardFilled: number;
  /** Values forward-filled, per input feature (scaler.inputFeatures order: derived seasonal columns are never filled). */
  imputedValues: number[];
  /** Entity states dropped because the lane clock moved on by more than maxGap since they last read. */
  evictedIdle: number;
  /** Entity states dropped, least recently seen first, to make room under maxEntities. */
  evictedCapacity: number;
  /** Rings restarted because no reading lay one period back for a seasonal column (a gap a period ago). */
  resetsSeasonal: number;
  /**
   * Readings that found nothing one period back because the entity's history, full, does not
   * reach that far (readings come faster than the model's training data did): such an entity
   * never yields a window, so each of them is counted rather than left a silent halt.
   */
  seasonalHistoryShort: number;
}

/** Largest epoch-ms value `Date` can represent; anything beyond would make toISOString throw. */
const DATE_LIMIT_MS = 8.64e15;

/** ISO 8601 when `Date` can represent the value, the bare number otherwise: never throws. */
export function describeTs(ts: number): string {
  return Number.isFinite(ts) && Math.abs(ts) <= DATE_LIMIT_MS ? new Date(ts).toISOString() : String(ts);
}

/** Entity ids in poison details are cut to this many characters (the id itself may be the problem). */
const SHOWN_ID_CHARS = 256;

/**
 * Per-entity ring buffers that turn a stream of readings into lookback windows: once an entity
 * has `lookback` readings, every new reading yields the window ending at it (stride 1, the
 * default), or every stride-th one (`window.stride`, fewer windows to score).
 * This is the streaming form of the Keras tutorials' "temporalize"; training uses it too, so
 * offline and online windows are built by the same code.
 *
 * One windower serves one lane (a Kafka partition, or a file replay), and its state is bounded:
 * - the lane clock is the newest accepted reading; an entity that has been silent while the
 *   lane clock moved on by more than maxGap is dropped: its next reading would most likely
 *   restart the ring anyway, and every entity still held is one a restart must rebuild, so a
 *   checkpoint covers exactly these (Pipeline.checkpoint) and a restarted daemon behaves alike;
 * - at most maxEntities entities, the least recently seen one giving way to a new one;
 * - a reading is validated completely before it touches any state, so a rejected reading
 *   creates, resets or moves nothing (one exception: the lane-wide pending clock jump below).
 *
 * Timestamps: a reading more than maxFutureSeconds after the time it arrived (its Kafka record
 * timestamp, or the wall clock) is poison, and so is one more than maxClockJumpSeconds after the
 * lane clock, unless the lane's next reading confirms the jump (a lane that resumes after a long
 * silence loses one reading, not all of them). Neither bound looks at the past: replays of old
 * data work, and an old reading can only be out of order or restart its own entity.
 */
export class Windower {
  /** Map order is recency order: an entity moves to the end whenever it accepts a reading. */
  private readonly states = new Map<string, EntityState>();
  private readonly featureIndex: Map<string, number>;
  private readonly row: Float64Array;
  readonly stats: WindowerStats;
  /** Input features a reading carries (the model's columns minus derived seasonal ones). */
  private inputCount: number;
  /** Input column of each seasonal feature, and the scratch row of their raw values. */
  private seasonalSources: number[];
  private readonly seasonalRaw: Float64Array;
  private laneClock = -Infinity;
  /** Timestamp of the last reading rejected as a clock jump, if the lane's latest reading was one. */
  private pendingJump: number | undefined;
  /** Last wall clock reading (futureOf). */
  private wallClock = -Infinity;
  /**
   * A lower bound of every held entity's seenAt (exact after a sweep; entities re-inserted or
   * added later only have larger ones), so that most readings need no sweep at all.
   */
  private oldestSeenAt = Infinity;
  private readonly maxGapMs: number;
  private readonly maxFutureMs: number;
  private readonly maxJumpMs: number;
  private readonly maxEntities: number;
  private readonly maxIdLength: number;
  private readonly stride: number;

  /**
   * `historyWindows`: how many windows before the next one a restart must be able to re-score
   * (score smoothing needs them), on top of refilling the ring. `now`: the wall clock (tests
   * pass their own).
   */
  constructor(private readonly policy: WindowPolicy, private scaler: Scaler, private readonly historyWindows = 0, private readonly now: () => number = Date.now) {
    this.featureIndex = new Map(scaler.inputFeatures.map((name, i) => [name, i]));
    this.row = new Float64Array(scaler.features.length);
    this.stats = { resetsGap: 0, resetsOutOfOrder: 0, forwardFilled: 0, imputedValues: scaler.inputFeatures.map(() => 0), evictedIdle: 0, evictedCapacity: 0, resetsSeasonal: 0, seasonalHistoryShort: 0 };
    this.inputCount = scaler.inputFeatures.length;
    this.seasonalSources = (scaler.state.seasonal?.of ?? []).map((name) => scaler.inputFeatures.indexOf(name));
    this.seasonalRaw = new Float64Array(this.seasonalSources.length);
    this.maxGapMs = policy.maxGapSeconds * 1000;
    this.maxFutureMs = (policy.maxFutureSeconds ?? Infinity) * 1000;
    this.maxJumpMs = (policy.maxClockJumpSeconds ?? Infinity) * 1000;
    this.maxEntities = policy.maxEntities ?? Infinity;
    this.maxIdLength = policy.maxEntityIdLength ?? Infinity;
    this.stride = policy.stride ?? 1;
    if (!Number.isInteger(this.stride) || this.stride < 1) throw new RangeError(`window.stride must be an integer >= 1, got ${String(policy.stride)}`);
  }

  get features(): string[] {
    return this.scaler.features;
  }

  get entityCount(): number {
    return this.states.size;
  }

  /** Newest accepted reading's timestamp (the lane's event clock); -Infinity before the first. */
  get clock(): number {
    return this.laneClock;
  }

  push(reading: Reading, position: Position = { source: 'stream' }): PushResult {
    const f = this.row.length;
    const T = this.policy.lookback;
    const entity = reading.entity;
    const shownEntity = entity.length > SHOWN_ID_CHARS ? `${entity.slice(0, SHOWN_ID_CHARS)}...` : entity;
    const reject = (reason: PoisonRecord['reason'], detail: string): PushResult => ({
      kind: 'poison',
      poison: { reason, detail: `${shownEntity}: ${detail}`, position, raw: JSON.stringify({ entity: shownEntity, ts: describeTs(reading.ts), values: reading.values }) },
    });

    // 1. Everything that can be judged without the entity's state.
    if (entity.length > this.maxIdLength) return reject('invalid_shape', `entity id is ${entity.length} characters, limit ${this.maxIdLength} (input.maxEntityIdLength)`);
    if (!Number.isFinite(reading.ts) || Math.abs(reading.ts) > DATE_LIMIT_MS) return reject('invalid_timestamp', `ts ${String(reading.ts)} is not a representable time`);
    const arrived = this.futureOf(reading.ts, position.timestamp);
    if (arrived !== undefined) {
      this.pendingJump = undefined;
      return reject('invalid_timestamp', `ts ${describeTs(reading.ts)} is more than ${this.maxFutureMs / 1000} s after it arrived (${describeTs(arrived)}); see window.maxFutureSeconds`);
    }
    // A first reading has no lane clock to jump from: only the bound above applies to it.
    const jump = this.laneClock !== -Infinity && reading.ts - this.laneClock > this.maxJumpMs;
    const previousJump = this.pendingJump;
    this.pendingJump = jump ? reading.ts : undefined;
    if (jump && (previousJump === undefined || Math.abs(reading.ts - previousJump) > this.maxGapMs)) {
      return reject('invalid_timestamp', `ts ${describeTs(reading.ts)} is more than ${this.maxJumpMs / 1000} s after the lane's newest reading ${describeTs(this.laneClock)} (see window.maxClockJumpSeconds); the lane clock jumps only when the lane's next reading confirms it`);
    }
    if (this.policy.unknownFeatures === 'reject') {
      for (const name of Object.keys(reading.values)) {
        if (!this.featureIndex.has(name)) return reject('unknown_feature', `unknown feature "${name}"`);
      }
    }

    // 2. Against the entity's state, without changing it. (Idle states are never found here:
    // evictIdle drops them whenever the lane clock advances, the only time one can become idle.)
    let state = this.states.get(entity);
    let outOfOrder = false;
    if (state !== undefined && reading.ts <= state.lastTs) {
      if (this.policy.outOfOrder === 'drop') return reject('out_of_order', `ts ${describeTs(reading.ts)} is not after the last reading ${describeTs(state.lastTs)}`);
      outOfOrder = true;
    }
    let filled = 0;
    for (let j = 0; j < this.inputCount; j++) {
      const name = this.scaler.features[j] as string;
      const v = reading.values[name];
      if (v !== undefined && Number.isFinite(v)) {
        this.row[j] = v;
        continue;
      }
      const what = v === undefined ? 'missing_feature' : 'non_finite_value';
      if (this.policy.missing === 'reject') return reject(what, `feature "${name}" is ${v === undefined ? 'missing' : String(v)}`);
      if (state === undefined || state.hasLastRaw[j] !== 1) return reject(what, `feature "${name}" is ${v === undefined ? 'missing' : String(v)} and there is no earlier value to forward-fill`);
      this.row[j] = state.lastRaw[j] as number;
      filled++;
    }

    // 3. Accepted: only now does any state change. The entity leaves the Map (it is re-inserted
    // at the end: the Map's order is recency order), then the clock moves and evicts the idle,
    // so a new entity takes the room they leave before a live one's.
    this.pendingJump = undefined;
    if (filled > 0) {
      // Counted only now, when the reading is accepted: a rejected one imputed nothing.
      this.stats.forwardFilled++;
      for (let j = 0; j < this.inputCount; j++) {
        const v = reading.values[this.scaler.features[j] as string];
        if (v === undefined || !Number.isFinite(v)) (this.stats.imputedValues[j] as number)++;
      }
    }
    if (state !== undefined) this.states.delete(entity);
    const clockBefore = this.laneClock;
    if (reading.ts > this.laneClock) {
      this.laneClock = reading.ts;
      this.evictIdle();
    }
    if (state === undefined) {
      state = this.newState(T, f);
    } else {
      if (outOfOrder) {
        restart(state);
        // The history must stay in time order for its lookups: it starts over too.
        if (state.season !== undefined) state.season = new SeasonalHistory(this.scaler.state.seasonal!);
        this.stats.resetsOutOfOrder++;
      } else if (state.count > 0 && reading.ts - state.lastTs > this.maxGapMs) {
        // A long silence means the lookback would mix two unrelated stretches of the process.
        restart(state);
        this.stats.resetsGap++;
      }
    }
    this.states.set(entity, state);
    state.lastTs = reading.ts;
    state.seenAt = this.laneClock;
    if (state.seenAt < this.oldestSeenAt) this.oldestSeenAt = state.seenAt;
    state.lastRaw.set(this.row.subarray(0, this.inputCount));
    state.hasLastRaw.fill(1);
    const seq = position.offset === undefined ? NaN : Number(position.offset);
    if (state.season !== undefined) {
      for (let k = 0; k < this.seasonalSources.length; k++) this.seasonalRaw[k] = this.row[this.seasonalSources[k] as number] as number;
      const found = state.season.differences(reading.ts, this.seasonalRaw, this.row, this.inputCount);
      // Asked before the push, which would overwrite the oldest reading.
      const short = !found && state.season.tooShortFor(reading.ts);
      state.season.push(reading.ts, this.seasonalRaw, seq, clockBefore);
      if (!found) {
        // Nothing one period back (a new entity's first day, or a gap then): no window can
        // carry this reading's seasonal columns, so the ring starts over after it.
        if (short) this.stats.seasonalHistoryShort++;
        else if (state.count > 0) this.stats.resetsSeasonal++;
        restart(state);
        return { kind: 'filling' };
      }
    }
    state.seqClocks[state.seqHead] = clockBefore;
    state.seqTs[state.seqHead] = reading.ts;
    this.scaler.transformInto(this.row, state.rows, state.head * f);
    state.timestamps[state.head] = reading.ts;
    state.seqs[state.seqHead] = seq;
    state.seqHead = (state.seqHead + 1) % state.seqs.length;
    if (state.seqCount < state.seqs.length) state.seqCount++;
    state.head = (state.head + 1) % T;
    if (state.count < T) state.count++;
    if (state.count < T) return { kind: 'filling' };
    state.run++;
    // Stride: the first window of a run and every stride-th after it; the others are not even
    // copied out. Counted per run, so the same windows are chosen however readings are batched.
    if ((state.run - 1) % this.stride !== 0) return { kind: 'skipped' };

    // Oldest slot is at head once the ring is full: copy out chronologically.
    const data = new Float32Array(T * f);
    const tail = (T - state.head) * f;
    data.set(state.rows.subarray(state.head * f), 0);
    data.set(state.rows.subarray(0, state.head * f), tail);
    centerWindow(data, T, f, this.scaler.relativeIndices);
    return { kind: 'window', window: { entity, startTs: state.timestamps[state.head] as number, endTs: reading.ts, data, run: state.run } };
  }

  /**
   * When `ts` lies more than maxFuture after the time its record arrived (the earlier of the
   * record's own timestamp and the wall clock), that time; otherwise undefined. The wall clock
   * is read only when a cached reading of it would reject: it only moves forward.
   */
  private futureOf(ts: number, recordTs: number | undefined): number | undefined {
    if (recordTs !== undefined && Number.isFinite(recordTs) && ts - recordTs > this.maxFutureMs) return recordTs;
    if (ts - this.wallClock <= this.maxFutureMs) return undefined;
    this.wallClock = this.now();
    return ts - this.wallClock > this.maxFutureMs ? this.wallClock : undefined;
  }

  /** A fresh state for a new entity, making room first if the windower is full (idle ones are gone already). */
  private newState(T: number, f: number): EntityState {
    while (this.states.size >= this.maxEntities) {
      const oldest = this.states.keys().next();
      if (oldest.done === true) break;
      this.states.delete(oldest.value);
      this.stats.evictedCapacity++;
    }
    const seasonal = this.scaler.state.seasonal;
    // All of an entity's arrays are views of one ArrayBuffer. Seven arrays of their own meant
    // seven ArrayBuffer objects on the JS heap and five separate backing stores off it, more
    // than the numbers they hold: one buffer took 100,000 entities from 163 to 103 MB of heap
    // and 390 to 268 MB of RSS (docs/BENCHMARKS.md, "Issue 15: memory, where it goes and what
    // cut it"). Float64 parts first, so every view is aligned.
    const S = T + this.historyWindows;
    const n = this.inputCount;
    const buffer = new ArrayBuffer(8 * (T + 3 * S + n) + 4 * T * f + n);
    let at = 0;
    const f64 = (length: number): Float64Array => {
      const view = new Float64Array(buffer, at, length);
      at += 8 * length;
      return view;
    };
    const timestamps = f64(T);
    const seqs = f64(S);
    const seqTs = f64(S);
    const seqClocks = f64(S);
    const lastRaw = f64(n);
    const rows = new Float32Array(buffer, at, T * f);
    const hasLastRaw = new Uint8Array(buffer, at + 4 * T * f, n);
    return {
      rows,
      timestamps,
      seqs,
      seqTs,
      seqClocks,
      seqHead: 0,
      seqCount: 0,
      head: 0,
      count: 0,
      run: 0,
      lastTs: -Infinity,
      seenAt: -Infinity,
      lastRaw,
      hasLastRaw,
      ...(seasonal !== undefined ? { season: new SeasonalHistory(seasonal) } : {}),
    };
  }

  /**
   * Drops the states idle for longer than maxGap by the lane clock. seenAt never decreases in
   * the Map's order, so the idle ones are a prefix: amortised O(1) per reading, and afterwards
   * no idle state is left.
   */
  private evictIdle(): void {
    if (this.laneClock - this.oldestSeenAt <= this.maxGapMs) return;
    this.oldestSeenAt = this.laneClock;
    for (const [entity, state] of this.states) {
      if (this.laneClock - state.seenAt <= this.maxGapMs) {
        this.oldestSeenAt = state.seenAt;
        break;
      }
      this.states.delete(entity);
      this.stats.evictedIdle++;
    }
  }

  /**
   * Switches to another model's scaler (same features) and rescales every buffered row, so
   * windows built right after a model swap are on the new model's scale throughout.
   */
  setScaler(next: Scaler): void {
    if (next.features.join('\u0000') !== this.scaler.features.join('\u0000')) throw new Error('setScaler: the feature list differs');
    if (JSON.stringify(next.state.seasonal ?? null) !== JSON.stringify(this.scaler.state.seasonal ?? null)) throw new Error('setScaler: the seasonal columns differ');
    const f = this.row.length;
    for (const state of this.states.values()) {
      for (let i = 0; i < state.rows.length; i++) {
        const j = i % f;
        state.rows[i] = (this.scaler.inverse(state.rows[i] as number, j) - (next.offset[j] as number)) / (next.scale[j] as number);
      }
    }
    this.scaler = next;
  }

  /** Forget an entity (its partition was revoked, or it went away). */
  drop(entity: string): void {
    this.states.delete(entity);
  }

  entities(): IterableIterator<string> {
    return this.states.keys();
  }

  /** Timestamp of the entity's last accepted reading. */
  lastTs(entity: string): number | undefined {
    return this.states.get(entity)?.lastTs;
  }

  /**
   * Source position (offset) of the oldest reading a restart needs: the last lookback-1
   * accepted readings for the next window, plus one more per history window. Replaying from
   * there rebuilds this ring exactly, and the last historyWindows windows. Undefined when the
   * ring is empty or positions are unknown.
   */
  oldestNeededSeq(entity: string): number | undefined {
    return this.oldestNeeded(entity)?.seq;
  }

  /**
   * oldestNeededSeq, with the lane clock as it was just before that reading: a replay that
   * starts there with resumeClock(clockBefore) makes every idle-eviction decision the running
   * windower made, so the rebuilt state is the same.
   */
  oldestNeeded(entity: string): { seq: number; clockBefore: number } | undefined {
    const state = this.states.get(entity);
    if (state === undefined) return undefined;
    const size = state.seqs.length;
    const keep = state.count === 0 ? 0 : Math.min(state.seqCount, this.policy.lookback - 1 + this.historyWindows);
    const slot = (state.seqHead - keep + size) % size;
    const ring = keep === 0 ? undefined : { seq: state.seqs[slot] as number, clockBefore: state.seqClocks[slot] as number };
    // Seasonal columns: the replay must also rebuild the history the kept readings (and the
    // next ones) look one period back into.
    const history = state.season?.oldestNeeded(keep === 0 ? state.lastTs : (state.seqTs[slot] as number));
    const oldest = history !== undefined && (ring === undefined || history.seq < ring.seq) ? history : ring;
    return oldest === undefined || Number.isNaN(oldest.seq) ? undefined : oldest;
  }

  /**
   * Before a replay from a checkpoint: the lane clock as it was where the replay starts (the
   * clockBefore of the oldest needed reading). Without it the replay's clock starts lower, and an
   * entity whose clock lags the others may be evicted in the replay but not in the original run.
   */
  resumeClock(clock: number): void {
    if (clock > this.laneClock) this.laneClock = clock;
  }
}

/** Starts an entity's ring over (after a gap or an out-of-order reading): no window mixes the two stretches. */
function restart(state: EntityState): void {
  state.count = 0;
  state.seqCount = 0;
  state.run = 0;
}

/** Identity scaling, for windowing data that is already on the model's scale. */
export function identityScalerState(features: string[]) {
  return { kind: 'standard' as const, features, offset: features.map(() => 0), scale: features.map(() => 1) };
}
