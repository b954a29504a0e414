/** Domain types shared by every stage. Plain data: no classes, no library types. */

/** One multivariate observation of one entity. */
export interface Reading {
  entity: string;
  /** Milliseconds since the epoch. */
  ts: number;
  values: Record<string, number>;
}

/** Where a raw record came from, so an error can point at it. */
export interface Position {
  source: string;
  /** 1-based line of a file, or a Kafka offset. */
  line?: number;
  partition?: number;
  offset?: string;
  /** When the record entered the system (Kafka message timestamp, epoch ms), for end-to-end latency. */
  timestamp?: number;
}

/** A record that could not become a Reading: kept, counted and routed, never dropped silently. */
export interface PoisonRecord {
  reason: PoisonReason;
  detail: string;
  position: Position;
  raw: string;
  /** The message exactly as it arrived (Kafka), so the dead-letter topic can carry the original bytes. */
  original?: OriginalMessage;
}

export interface OriginalMessage {
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: Record<string, Uint8Array | string>;
}

export const POISON_REASONS = [
  'invalid_json',
  'invalid_shape',
  'invalid_timestamp',
  'non_finite_value',
  'missing_feature',
  'unknown_feature',
  'unknown_entity',
  'out_of_order',
  'oversized',
  'bad_row',
  /** Processing the record threw (a bug or an input nobody planned for): contained, never a halt. */
  'processing_error',
] as const;
export type PoisonReason = (typeof POISON_REASONS)[number];

/** A lookback window, already scaled, ready for the model. Row-major [timesteps][features]. */
export interface Window {
  entity: string;
  startTs: number;
  endTs: number;
  data: Float32Array;
  /** 1 for the first window after the entity's ring (re)started, then 2, 3, ...; absent: unknown. */
  run?: number;
}

export interface WindowScore {
  entity: string;
  startTs: number;
  endTs: number;
  /** Mean squared reconstruction error over the whole window. */
  score: number;
  /** Per-feature mean squared error over the window's timesteps, in feature order. */
  featureErrors: Float32Array;
  /** The window's `run`: lets score smoothing start over where the window ring did. */
  run?: number;
}

export type FlagState = 'open' | 'update' | 'resolved';

export interface FeatureContribution {
  name: string;
  /** This feature's mean squared error over the window. */
  error: number;
  /** Share of the window's total error, 0..1. */
  share: number;
  /**
   * On `open` and `update` flags: this feature's reading where its reconstruction error in the
   * window is largest, and what the model reconstructed there, in the sensor's units. With
   * `relative` set the feature is judged by its shape (training.relativeFeatures), and both are
   * differences from the window's mean.
   */
  observed?: number;
  expected?: number;
  /** Which reading that is: 0 = the window's last one (windowEnd), 1 = the one before, ... */
  readingsBeforeEnd?: number;
  relative?: true;
}

/** The message downstream subscribers read. Idempotent by `id`. */
export interface Flag {
  id: string;
  /** Shared by the open, update and resolved flags of one alert episode. */
  episodeId: string;
  /** When the episode opened (the end of the window that opened it), ISO 8601. */
  openedAt: string;
  entity: string;
  state: FlagState;
  windowStart: string;
  windowEnd: string;
  /** What was compared with the threshold: the window's score, or with alerts.smoothWindows > 1 the mean of the entity's last windows. */
  score: number;
  threshold: number;
  /** score / threshold. */
  severity: number;
  /** With alerts.smoothWindows > 1 only: this window's own score. */
  windowScore?: number;
  topFeatures: FeatureContribution[];
  model: string;
  /** Set only on a `resolved` flag that alerts.maxOpenSeconds closed while the scores were still high. */
  stale?: true;
  /** Set only on an `open` flag that alerts.escalateRatio opened during another alert: that alert's episodeId. That episode ends here, without a `resolved` flag of its own. */
  escalatedFrom?: string;
  /** Set only on a refit candidate's flags, which go to the shadow sink or topic, never to on-call. */
  shadow?: true;
}
