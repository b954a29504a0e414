import type { WindowConfig } from '../config/schema.js';
import type { PoisonRecord, Position, Reading, Window } from '../pipeline/types.js';
import { centerWindow } from './relative.js';
import type { Scaler } from './scaler.js';

export type PushResult =
  | { kind: 'window'; window: Window }
  | { kind: 'filling' }
  | { kind: 'poison'; poison: PoisonRecord };

export type WindowPolicy = Pick<WindowConfig, 'lookback' | 'maxGapSeconds' | 'outOfOrder' | 'missing' | 'unknownFeatures'>;

interface EntityState {
  /** Scaled rows, ring of `lookback` slots of `features` values. */
  rows: Float32Array;
  timestamps: Float64Array;
  /**
   * Source positions (Kafka offsets) of the last lookback - 1 + historyWindows readings, so a
   * source knows how far back to replay to rebuild the ring and the recent windows' scores.
   */
  seqs: Float64Array;
  seqHead: number;
  /** Readings accepted since the ring last (re)started, capped at seqs.length. */
  seqCount: number;
  head: number;
  count: number;
  /** Windows produced since the ring last (re)started. */
  run: number;
  lastTs: number;
  /** Last accepted raw values, for forward-fill. */
  lastRaw: Float64Array;
  hasLastRaw: Uint8Array;
}

/** Counts the windower's own decisions so the daemon can export them. */
export interface WindowerStats {
  resetsGap: number;
  resetsOutOfOrder: number;
  forwardFilled: number;
}

/**
 * Per-entity ring buffers that turn a stream of readings into lookback windows, stride 1:
 * once an entity has `lookback` readings, every new reading yields the window ending at it.
 * This is the streaming form of the Keras tutorials' "temporalize"; training uses it too, so
 * offline and online windows are built by the same code.
 */
export class Windower {
  private readonly states = new Map<string, EntityState>();
  private readonly featureIndex: Map<string, number>;
  private readonly row: Float64Array;
  readonly stats: WindowerStats = { resetsGap: 0, resetsOutOfOrder: 0, forwardFilled: 0 };

  /**
   * `historyWindows`: how many windows before the next one a restart must be able to re-score
   * (score smoothing needs them), on top of refilling the ring.
   */
  constructor(private readonly policy: WindowPolicy, private scaler: Scaler, private readonly historyWindows = 0) {
    this.featureIndex = new Map(scaler.features.map((name, i) => [name, i]));
    this.row = new Float64Array(scaler.features.length);
  }

  get features(): string[] {
    return this.scaler.features;
  }

  get entityCount(): number {
    return this.states.size;
  }

  push(reading: Reading, position: Position = { source: 'stream' }): PushResult {
    const f = this.row.length;
    const T = this.policy.lookback;
    let state = this.states.get(reading.entity);
    if (state === undefined) {
      state = { rows: new Float32Array(T * f), timestamps: new Float64Array(T), seqs: new Float64Array(T + this.historyWindows), seqHead: 0, seqCount: 0, head: 0, count: 0, run: 0, lastTs: -Infinity, lastRaw: new Float64Array(f), hasLastRaw: new Uint8Array(f) };
      this.states.set(reading.entity, state);
    }
    const reject = (reason: PoisonRecord['reason'], detail: string): PushResult => ({
      kind: 'poison',
      poison: { reason, detail: `${reading.entity}: ${detail}`, position, raw: JSON.stringify({ entity: reading.entity, ts: new Date(reading.ts).toISOString(), values: reading.values }) },
    });

    if (reading.ts <= state.lastTs) {
      if (this.policy.outOfOrder === 'drop') return reject('out_of_order', `ts ${new Date(reading.ts).toISOString()} is not after the last reading ${new Date(state.lastTs).toISOString()}`);
      restart(state);
      this.stats.resetsOutOfOrder++;
    }

    if (this.policy.unknownFeatures === 'reject') {
      for (const name of Object.keys(reading.values)) {
        if (!this.featureIndex.has(name)) return reject('unknown_feature', `unknown feature "${name}"`);
      }
    }

    let filled = 0;
    for (let j = 0; j < f; j++) {
      const name = this.scaler.features[j] as string;
      const v = reading.values[name];
      if (v !== undefined && Number.isFinite(v)) {
        this.row[j] = v;
        continue;
      }
      const what = v === undefined ? 'missing_feature' : 'non_finite_value';
      if (this.policy.missing === 'reject') return reject(what, `feature "${name}" is ${v === undefined ? 'missing' : String(v)}`);
      if (state.hasLastRaw[j] !== 1) return reject(what, `feature "${name}" is ${v === undefined ? 'missing' : String(v)} and there is no earlier value to forward-fill`);
      this.row[j] = state.lastRaw[j] as number;
      filled++;
    }
    if (filled > 0) this.stats.forwardFilled++;

    // A long silence means the lookback would mix two unrelated stretches of the process.
    if (state.count > 0 && reading.ts - state.lastTs > this.policy.maxGapSeconds * 1000) {
      restart(state);
      this.stats.resetsGap++;
    }

    state.lastTs = reading.ts;
    state.lastRaw.set(this.row);
    state.hasLastRaw.fill(1);
    this.scaler.transformInto(this.row, state.rows, state.head * f);
    state.timestamps[state.head] = reading.ts;
    state.seqs[state.seqHead] = position.offset === undefined ? NaN : Number(position.offset);
    state.seqHead = (state.seqHead + 1) % state.seqs.length;
    if (state.seqCount < state.seqs.length) state.seqCount++;
    state.head = (state.head + 1) % T;
    if (state.count < T) state.count++;
    if (state.count < T) return { kind: 'filling' };
    state.run++;

    // Oldest slot is at head once the ring is full: copy out chronologically.
    const data = new Float32Array(T * f);
    const tail = (T - state.head) * f;
    data.set(state.rows.subarray(state.head * f), 0);
    data.set(state.rows.subarray(0, state.head * f), tail);
    centerWindow(data, T, f, this.scaler.relativeIndices);
    return { kind: 'window', window: { entity: reading.entity, startTs: state.timestamps[state.head] as number, endTs: reading.ts, data, run: state.run } };
  }

  /**
   * Switches to another model's scaler (same features) and rescales every buffered row, so
   * windows built right after a model swap are on the new model's scale throughout.
   */
  setScaler(next: Scaler): void {
    if (next.features.join('\u0000') !== this.scaler.features.join('\u0000')) throw new Error('setScaler: the feature list differs');
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
    const state = this.states.get(entity);
    if (state === undefined || state.count === 0) return undefined;
    const size = state.seqs.length;
    const keep = Math.min(state.seqCount, this.policy.lookback - 1 + this.historyWindows);
    if (keep === 0) return undefined;
    const seq = state.seqs[(state.seqHead - keep + size) % size] as number;
    return Number.isNaN(seq) ? undefined : seq;
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
