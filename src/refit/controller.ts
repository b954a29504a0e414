import { lstatSync, realpathSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { SeismoConfig } from '../config/schema.js';
import type { Verdict } from '../detect/alerts.js';
import type { Flag, Reading, WindowScore } from '../domain/types.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics, RefitState } from '../observability/metrics.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import type { CountChunk, LaneCheckpoint, ProcessOptions, RecordProcessor, SourceRecord } from '../source/source.js';
import type { AlertSnapshot } from '../detect/alerts.js';
import { RefitBuffer } from './buffer.js';
import { DriftTest } from './drift.js';
import { ShadowComparison, type Decision } from './promotion.js';
import { trainInChild, type TrainOutcome } from './trainer.js';
import type { SeasonalSpec } from '../window/seasonal.js';

/** A candidate loaded for shadow scoring: its pipeline (own windower, scaler, alert tracker, shadow sink) and how to free it. */
export interface ShadowModel {
  version: string;
  pipeline: Pipeline;
  dispose(): void;
}

export interface RefitDeps {
  config: SeismoConfig;
  log: Logger;
  metrics: Metrics;
  /** The running model's features and lookback: a candidate must keep them to be hot-swappable. */
  features: string[];
  lookback: number;
  /** The running model's seasonal columns: a candidate must have the same ones (seasonalMismatch). */
  seasonal?: SeasonalSpec;
  /** Loads the candidate in `dir` and builds its shadow pipeline, whose judged windows and flags go to the hooks. */
  loadShadow(dir: string, hooks: { onJudged: (s: WindowScore, v: Verdict) => void; onFlag: (f: Flag) => void }): Promise<ShadowModel>;
  /** Hot swap with the daemon's mechanism (checks, warm-up, atomic switch). */
  promote(dir: string): Promise<{ model: string; previous: string }>;
  /** Training off the hot path; default: a `seismo train` child process. */
  train?: (exported: ReturnType<RefitBuffer['export']>, workDir: string) => Promise<TrainOutcome>;
}

type Trigger = 'schedule' | 'drift';

/** Live-calm scores waiting for the candidate's score of the same window. Bounded: a window the candidate never judges (its warm-up) is forgotten. */
const MAX_PENDING = 100_000;

/**
 * The refit policy (docs/architecture.md, "Continual learning"): it sees every reading and
 * every judged window of the live pipeline, keeps the refit buffer and the drift test, starts a
 * refit on schedule or drift, has `seismo train` run in a child process, scores the candidate in
 * shadow on the same records (its flags to the shadow sink only), and after refit.shadowWindows
 * promotes it by hot swap or rejects it, by the rule in promotion.ts. One refit at a time. As a
 * RecordProcessor it stands in for the live pipeline: each chunk goes to the live pipeline
 * first (its flags are durable before the shadow sees the chunk), then to the shadow.
 */
export class RefitController implements RecordProcessor {
  private live: Pipeline | undefined;
  private readonly buffer: RefitBuffer;
  private readonly drift: DriftTest;
  private state: RefitState = 'idle';
  private windowsSinceRefit = 0;
  private refitNumber = 0;
  private shadow: { model: ShadowModel; comparison: ShadowComparison; dir: string; trigger: Trigger } | undefined;
  private readonly pending = new Map<string, number>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private training: Promise<void> | undefined;
  private stopped = false;
  private readonly cancelTraining = new AbortController();
  private readonly workRoot: string;
  /** The model directories promoted, newest last (the first entry is the one loaded at start), for rollback in logs. */
  private readonly promoted: string[] = [];

  constructor(private readonly deps: RefitDeps) {
    const r = deps.config.refit;
    this.buffer = new RefitBuffer(deps.features, r.bufferReadings, r.maxEntities);
    this.drift = new DriftTest({ slack: r.driftSlack, limit: r.driftLimit, warmupWindows: r.driftWarmupWindows, maxEntities: r.maxEntities });
    this.workRoot = resolve(r.dir ?? join(dirname(resolve(deps.config.artifactDir)), 'refit'));
    // The directory itself, not a symlink to it: after a promotion repoints the link, the
    // rollback hint must still name the model that was replaced.
    this.promoted.push(realDir(deps.config.artifactDir));
  }

  attach(live: Pipeline): void {
    this.live = live;
  }

  get status(): RefitState {
    return this.state;
  }

  // --- hooks of the live pipeline ---------------------------------------------------------

  readonly onReading = (r: Reading): void => {
    this.buffer.add(r);
  };

  readonly onJudged = (s: WindowScore, v: Verdict): void => {
    const calm = !v.inAlert && v.score <= v.threshold;
    const normalised = v.score / v.threshold;
    // Abnormal windows (over the threshold, or while the alert is open) are never learned as
    // normal, nor counted as drift: the buffer leaves their readings out.
    if (!calm) this.buffer.exclude(s.entity, s.startTs, s.endTs);
    else if (this.drift.observe(s.entity, normalised)) this.trigger('drift');
    if (calm && this.shadow !== undefined) {
      if (this.pending.size >= MAX_PENDING) this.pending.delete(this.pending.keys().next().value as string);
      this.pending.set(key(s), normalised);
    }
    this.windowsSinceRefit++;
    const every = this.deps.config.refit.everyWindows;
    if (every > 0 && this.windowsSinceRefit >= every) this.trigger('schedule');
  };

  readonly onLiveFlag = (f: Flag): void => {
    this.shadow?.comparison.liveFlag(f);
  };

  /** Any hot swap (a promotion, or an operator's reload): calm levels are on the new model's scale now. */
  modelChanged(): void {
    this.drift.reset();
    this.windowsSinceRefit = 0;
  }

  // --- RecordProcessor --------------------------------------------------------------------

  async process(records: SourceRecord[], opts: ProcessOptions = {}): Promise<CountChunk | void> {
    const live = this.requireLive();
    // refit.waitForTraining (fast file replays): the stream waits as a real one would not need to.
    if (this.deps.config.refit.waitForTraining && this.training !== undefined) await this.training;
    const counted = await live.process(records, opts);
    const shadow = this.shadow;
    if (shadow !== undefined) {
      // The shadow never holds back the live model's flags (they are durable by now), and a
      // failure of it costs the candidate, never the chunk.
      const run = shadow.model.pipeline.process(records, { ...(opts.lane !== undefined ? { lane: opts.lane } : {}), ...(opts.replayBelow !== undefined ? { replayBelow: opts.replayBelow } : {}) });
      this.inFlight.add(run);
      try {
        await run;
      } catch (err) {
        this.endShadow(shadow, 'shadow_failed', `the shadow pipeline failed: ${(err as Error).message}`);
      } finally {
        this.inFlight.delete(run);
      }
      this.exportShadow(shadow.comparison);
      if (this.shadow === shadow && shadow.comparison.windows >= this.deps.config.refit.shadowWindows) this.decide(shadow);
    }
    this.deps.metrics.refitBufferReadings.set(this.buffer.size());
    this.deps.metrics.refitDrift.set(this.drift.ratio());
    return counted;
  }

  dropLane(lane: string): void {
    this.requireLive().dropLane(lane);
    this.shadow?.model.pipeline.dropLane(lane);
  }

  queuedWindows(): number {
    return this.requireLive().queuedWindows();
  }

  drained(): Promise<void> {
    return this.requireLive().drained();
  }

  restoreLane(lane: string, alerts: Record<string, AlertSnapshot>, clock?: number): void {
    this.requireLive().restoreLane(lane, alerts, clock);
  }

  checkpoint(lane: string): LaneCheckpoint {
    return this.requireLive().checkpoint(lane);
  }

  /**
   * The first step of a drain, before the source's in-flight chunk is awaited: starts no refit
   * any more and kills a training child. With refit.waitForTraining that chunk waits for the
   * training, so cancelling only in stop() (after the chunk) held the drain until training ended
   * or the shutdown deadline exited 1.
   */
  cancel(): void {
    this.stopped = true;
    this.cancelTraining.abort();
  }

  /** Kills a training child, drops a candidate in shadow (it is not promoted on the way out). */
  async stop(): Promise<void> {
    this.cancel();
    await this.training;
    const shadow = this.shadow;
    if (shadow !== undefined) this.endShadow(shadow, 'shutdown', 'the daemon is stopping before the shadow period ended');
    await Promise.allSettled([...this.inFlight]);
  }

  // --- the refit steps --------------------------------------------------------------------

  private trigger(kind: Trigger): void {
    if (this.state !== 'idle' || this.stopped) return;
    const { config, log, metrics } = this.deps;
    // Count the next stretch afresh either way: a buffer too small now is asked again later, not on every window.
    this.windowsSinceRefit = 0;
    this.drift.restart();
    const usable = this.buffer.usable();
    if (usable < config.refit.minReadings) {
      log.info({ trigger: kind, usableReadings: usable, minReadings: config.refit.minReadings }, 'refit: trigger ignored, too few usable readings in the buffer');
      return;
    }
    const exported = this.buffer.export();
    const n = ++this.refitNumber;
    const workDir = join(this.workRoot, `refit-${Date.now()}-${n}`);
    this.setState('training');
    metrics.refitTriggers.inc({ trigger: kind });
    metrics.refits.inc({ stage: 'started' });
    log.info({ refit: n, trigger: kind, readings: exported.readings.length, leftOut: exported.left, excludedIntervals: [...exported.excluded.values()].reduce((a, l) => a + l.length, 0), entities: new Set(exported.readings.map((r) => r.entity)).size, workDir }, `refit ${n}: started (${kind}); training a candidate off the hot path`);
    const train = this.deps.train ?? ((data, dir) => trainInChild(config, this.deps.features, this.deps.lookback, this.deps.seasonal, data, dir, config.refit.trainTimeoutSeconds * 1000, this.cancelTraining.signal));
    const training = train(exported, workDir).then(
      (outcome) => this.trained(n, kind, outcome),
      (err: unknown) => this.trained(n, kind, { ok: false, dir: workDir, reason: (err as Error).message, seconds: 0, maxEventLoopDelayMs: 0 }),
    );
    this.training = training.finally(() => {
      if (this.training === done) this.training = undefined;
    });
    const done = this.training;
  }

  private async trained(n: number, trigger: Trigger, outcome: TrainOutcome): Promise<void> {
    const { log, metrics } = this.deps;
    metrics.refitTrainingSeconds.set(outcome.seconds);
    metrics.refitTrainingStall.set(outcome.maxEventLoopDelayMs / 1000);
    if (!outcome.ok) {
      metrics.refits.inc({ stage: 'failed' });
      log.warn({ refit: n, reason: outcome.reason, seconds: round(outcome.seconds), maxEventLoopDelayMs: round(outcome.maxEventLoopDelayMs) }, `refit ${n}: training failed; the live model stays`);
      this.backOff();
      this.setState('idle');
      return;
    }
    metrics.refits.inc({ stage: 'trained' });
    if (this.stopped) {
      this.setState('idle');
      return;
    }
    const comparison = new ShadowComparison();
    try {
      const model = await this.deps.loadShadow(outcome.dir, {
        onJudged: (s, v) => this.candidateJudged(comparison, s, v),
        onFlag: (f) => {
          comparison.candidateFlag(f);
          metrics.refitShadowFlags.inc({ state: f.state });
        },
      });
      this.pending.clear();
      this.shadow = { model, comparison, dir: outcome.dir, trigger };
      this.setState('shadow');
      log.info({ refit: n, candidate: model.version, dir: outcome.dir, threshold: outcome.summary?.threshold, seconds: round(outcome.seconds), maxEventLoopDelayMs: round(outcome.maxEventLoopDelayMs), shadowWindows: this.deps.config.refit.shadowWindows }, `refit ${n}: candidate ${model.version} trained; scoring in shadow`);
    } catch (err) {
      metrics.refits.inc({ stage: 'failed' });
      log.warn({ refit: n, err, dir: outcome.dir }, `refit ${n}: the candidate could not be loaded; the live model stays`);
      this.backOff();
      this.setState('idle');
    }
  }

  private candidateJudged(comparison: ShadowComparison, s: WindowScore, v: Verdict): void {
    comparison.countWindow();
    this.deps.metrics.refitShadowWindows.inc();
    const k = key(s);
    const liveCalm = this.pending.get(k);
    if (liveCalm === undefined) return;
    this.pending.delete(k);
    comparison.calmPair(liveCalm, v.score / v.threshold);
  }

  private decide(shadow: NonNullable<RefitController['shadow']>): void {
    const { config } = this.deps;
    const decision = shadow.comparison.decide({ shadowWindows: config.refit.shadowWindows, keepSeverity: config.refit.keepSeverity, minGain: config.refit.minGain });
    if (!decision.promote) {
      this.endShadow(shadow, decision.reason, decision.detail, decision);
      return;
    }
    this.setState('promoting');
    this.shadow = undefined;
    const n = this.refitNumber;
    const { log, metrics } = this.deps;
    log.info({ refit: n, candidate: shadow.model.version, rule: decision.reason, ...decision.summary }, `refit ${n}: candidate ${shadow.model.version} is better by the promotion rule; hot-swapping it in`);
    const done = this.retire(shadow.model)
      .then(() => this.deps.promote(shadow.dir))
      .then(
        ({ model, previous }) => {
          metrics.refits.inc({ stage: 'promoted' });
          const previousDir = this.promoted[this.promoted.length - 1];
          this.promoted.push(shadow.dir);
          const persisted = repointArtifactLink(config.artifactDir, shadow.dir);
          log.info(
            { refit: n, model, previous, dir: shadow.dir, previousDir, artifactDirRepointed: persisted, rollback: `POST /model/reload {"artifactDir": "${previousDir}"}` },
            persisted
              ? `refit ${n}: promoted ${model} (was ${previous}); artifactDir now links to it`
              : `refit ${n}: promoted ${model} (was ${previous}); artifactDir is not a symlink, so a restart or SIGHUP loads the previous model again`,
          );
          this.modelChanged();
        },
        (err: unknown) => {
          metrics.refitRejections.inc({ reason: 'swap_failed' });
          metrics.refits.inc({ stage: 'rejected' });
          log.error({ refit: n, err, dir: shadow.dir }, `refit ${n}: the hot swap refused the candidate; the live model stays`);
        },
      )
      .finally(() => this.setState('idle'));
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
  }

  /** Ends the shadow period without promotion: logs why, counts it, frees the candidate. */
  private endShadow(shadow: NonNullable<RefitController['shadow']>, reason: string, detail: string, decision?: Decision): void {
    if (this.shadow !== shadow) return;
    this.shadow = undefined;
    this.pending.clear();
    this.backOff();
    const { log, metrics } = this.deps;
    metrics.refits.inc({ stage: 'rejected' });
    metrics.refitRejections.inc({ reason });
    log.info(
      { refit: this.refitNumber, candidate: shadow.model.version, reason, detail, ...(decision ? decision.summary : shadow.comparison.summary(this.deps.config.refit.keepSeverity)) },
      `refit ${this.refitNumber}: candidate ${shadow.model.version} rejected (${reason}); the live model stays`,
    );
    const retired = this.retire(shadow.model).finally(() => this.setState('idle'));
    this.inFlight.add(retired);
    void retired.finally(() => this.inFlight.delete(retired));
  }

  /** Frees a candidate once no chunk is scoring with it. */
  private async retire(model: ShadowModel): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
    await model.pipeline.drained();
    model.dispose();
  }

  /**
   * A refit that did not replace the live model: the drift test takes the present calm level
   * as its new reference, so a drift the live model was just judged to cope with at least as
   * well as a refit does not trigger again and again; a further shift, or the schedule, will.
   */
  private backOff(): void {
    this.drift.reset();
  }

  private exportShadow(c: ShadowComparison): void {
    const s = c.summary(this.deps.config.refit.keepSeverity);
    const m = this.deps.metrics;
    m.refitShadowOpenings.set({ model: 'live' }, s.liveOpenings);
    m.refitShadowOpenings.set({ model: 'candidate' }, s.candidateOpenings);
    if (Number.isFinite(s.liveCalmP95)) m.refitCalmP95.set({ model: 'live' }, s.liveCalmP95);
    if (Number.isFinite(s.candidateCalmP95)) m.refitCalmP95.set({ model: 'candidate' }, s.candidateCalmP95);
  }

  private setState(state: RefitState): void {
    this.state = state;
    this.deps.metrics.setRefitState(state);
  }

  private requireLive(): Pipeline {
    if (this.live === undefined) throw new Error('RefitController: attach() the live pipeline first');
    return this.live;
  }
}

function realDir(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return resolve(dir);
  }
}

function key(s: WindowScore): string {
  return `${s.entity}\u0000${s.endTs}`;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/**
 * Makes a promotion outlive a restart when artifactDir is a symlink (artifactDir -> models/v7,
 * as docs/operations.md recommends): a new link is created beside it and renamed over it, an
 * atomic replacement. A plain directory is left alone. Returns whether the link now points to `dir`.
 */
export function repointArtifactLink(artifactDir: string, dir: string): boolean {
  try {
    if (!lstatSync(artifactDir).isSymbolicLink()) return false;
  } catch {
    return false;
  }
  const tmp = `${artifactDir}.refit-${process.pid}`;
  try {
    rmSync(tmp, { force: true });
    symlinkSync(resolve(dir), tmp);
    renameSync(tmp, artifactDir);
    return true;
  } catch {
    rmSync(tmp, { force: true });
    return false;
  }
}
