import { realpathSync } from 'node:fs';
import { seasonalBytes } from './window/seasonal.js';
import type { SeismoConfig } from './config/schema.js';
import { AlertTracker } from './detect/alerts.js';
import { isSeismoError, SeismoError } from './errors.js';
import { loadArtifact, type Artifact } from './model/artifact.js';
import { chooseBackend, liveTensors, type BackendChoice } from './model/backend.js';
import { allocatorInUse, allocatorWarning, type AllocatorInUse } from './observability/allocator.js';
import { HttpServer } from './observability/http.js';
import type { Logger } from './observability/logger.js';
import { Metrics, type LifecycleState } from './observability/metrics.js';
import { Pipeline, type ModelRuntime, type PipelineParts } from './pipeline/pipeline.js';
import { RefitController } from './refit/controller.js';
import { checkShadowTarget } from './refit/shadow-target.js';
import { ShadowSink } from './sink/shadow-sink.js';
import { FileSink } from './sink/stream-sink.js';
import { AdminServer, adminOptions } from './observability/admin.js';
import { readTokenFile } from './observability/auth.js';
import type { Flag, WindowScore } from './domain/types.js';
import { EventLoopDelaySampler } from './observability/loop-delay.js';
import { MicroBatcher } from './score/batcher.js';
import { Scorer } from './score/scorer.js';
import { WorkerScorer } from './score/worker-scorer.js';
import type { DeadLetterSink, Sink } from './sink/sink.js';
import type { Source } from './source/source.js';
import { Scaler } from './window/scaler.js';
import { Windower } from './window/windower.js';
import { seasonalMismatch, type SeasonalSpec } from './window/seasonal.js';

/** The in-thread Scorer, or the scoring worker's client (scoring.worker). */
type LoadedScorer = Scorer | WorkerScorer;
type LoadedRuntime = ModelRuntime & { scorer: LoadedScorer };

export interface DaemonParts {
  config: SeismoConfig;
  log: Logger;
  source: Source;
  sink: Sink;
  deadLetter: DeadLetterSink;
  metrics?: Metrics;
  /** An artifact already in memory (the demo); otherwise loaded from config.artifactDir. */
  artifact?: Artifact;
  onScore?: (score: WindowScore) => void;
  onFlag?: (flag: Flag) => void;
  /** refit.enabled: where a candidate's shadow flags go (default: a file at refit.shadowPath). Never the flags sink. */
  shadowSink?: Sink;
}

/**
 * Lifecycle: created -> starting -> ready -> draining -> stopped.
 * Start: backend, model load + warm-up, HTTP, sink, then the source. Stop runs in reverse,
 * every step even if an earlier one fails, and caches its promise so a second call waits for
 * the first instead of running twice.
 */
/** The allocator warning has been logged by this process (or worker thread). */
let allocatorWarned = false;

export class Daemon {
  readonly metrics: Metrics;
  private state: LifecycleState = 'created';
  private readonly http: HttpServer;
  private readonly loopDelay: EventLoopDelaySampler;
  private backend: BackendChoice | undefined;
  private allocator: AllocatorInUse | undefined;
  private artifact: Artifact | undefined;
  private stopping: Promise<void> | undefined;
  private reloading: Promise<void> | undefined;
  private retiring: Promise<void> | undefined;
  private model: (LoadedRuntime) | undefined;
  private pipeline: Pipeline | undefined;
  private batcher: MicroBatcher | undefined;
  private admin: AdminServer | undefined;
  private refit: RefitController | undefined;
  private shadowSink: Sink | undefined;
  adminPort: number | undefined;
  private sourceDone: Promise<void> | undefined;
  httpPort: number | undefined;

  constructor(private readonly parts: DaemonParts) {
    this.metrics = parts.metrics ?? new Metrics();
    this.http = new HttpServer(this.metrics, () => this.readiness(), () => this.liveness());
    this.loopDelay = new EventLoopDelaySampler((seconds) => this.metrics.eventLoopDelay.observe(seconds));
  }

  /** Ready: running, the source consuming, the sinks making flags and dead letters durable. */
  readiness(): { ready: boolean; live: boolean; detail: Record<string, unknown> } {
    const source = this.parts.source.health?.();
    const sink = this.parts.sink.health?.();
    const deadLetter = this.parts.deadLetter.health?.();
    // A scoring worker that cannot be restarted scores nothing: not ready (restarting still is).
    const scoring = this.model?.scorer instanceof WorkerScorer ? this.model.scorer.health() : undefined;
    const ready = this.state === 'ready' && (source?.ready ?? true) && (sink?.ready ?? true) && (deadLetter?.ready ?? true) && scoring?.state !== 'failed';
    this.metrics.ready.set(ready ? 1 : 0);
    return { ready, live: source?.live ?? true, detail: { ...this.readinessDetail(), ...(source?.detail ?? {}), ...(sink?.detail ?? {}) } };
  }

  /**
   * Alive unless the consumer stopped for good, or Seismo has been unready while running for
   * longer than http.livenessGraceSeconds: a broker or sink failure that persists becomes a
   * restart by the orchestrator instead of a daemon that silently flags nothing.
   */
  liveness(now = Date.now()): { live: boolean; detail: Record<string, unknown> } {
    const r = this.readiness();
    this.trackReadiness(r.ready, now);
    const grace = this.parts.config.http.livenessGraceSeconds * 1000;
    const unreadyMs = this.unreadySince === undefined ? 0 : now - this.unreadySince;
    if (!r.live) return { live: false, detail: { reason: 'the Kafka consumer stopped for good', ...r.detail } };
    if (grace > 0 && unreadyMs > grace) return { live: false, detail: { reason: `unready for ${Math.round(unreadyMs / 1000)} s (http.livenessGraceSeconds ${grace / 1000})`, ...r.detail } };
    return { live: true, detail: {} };
  }

  private unreadySince: number | undefined;
  private readinessTimer: NodeJS.Timeout | undefined;

  private trackReadiness(ready: boolean, now: number): void {
    if (this.state !== 'ready' || ready) this.unreadySince = undefined;
    else this.unreadySince ??= now;
  }

  get lifecycle(): LifecycleState {
    return this.state;
  }

  private setState(state: LifecycleState): void {
    this.state = state;
    this.metrics.setLifecycle(state);
    this.parts.log.info({ state }, `lifecycle ${state}`);
  }

  private modelDir: string | undefined;
  private modelDirResolved: string | undefined;

  private setModelDir(dir: string): void {
    this.modelDir = dir;
    try {
      this.modelDirResolved = realpathSync(dir);
    } catch {
      this.modelDirResolved = undefined;
    }
  }

  private readinessDetail(): Record<string, unknown> {
    return {
      state: this.state,
      backend: this.backend?.active,
      backendRequested: this.backend?.requested,
      allocator: this.allocator?.name,
      ...(this.backend?.fallbackReason ? { backendWarning: `running on the ${this.backend.active} fallback: ${this.backend.fallbackReason}` } : {}),
      model: this.artifact?.manifest.version,
      ...(this.model?.scorer instanceof WorkerScorer ? { scoringWorker: this.model.scorer.health() } : {}),
      // The directory the running model was loaded from (after a hot swap: the one swapped in),
      // and where it leads when that is a symlink (artifactDir -> models/v7).
      modelDir: this.modelDir,
      ...(this.modelDirResolved !== undefined && this.modelDirResolved !== this.modelDir ? { modelDirResolved: this.modelDirResolved } : {}),
    };
  }

  /** The malloc in use, as a metric and in /readyz; a warning once when it is not jemalloc. */
  private reportAllocator(): void {
    this.allocator = allocatorInUse();
    this.metrics.allocatorInfo.set({ allocator: this.allocator.name, library: this.allocator.library ?? '' }, 1);
    const warning = allocatorWarning(this.allocator);
    // The pid: behind bin/seismo.js the daemon is the launcher's child, and /proc/PID/maps of
    // this pid is where an operator checks what is loaded.
    // Once per process (and per worker thread): `seismo evaluate` replays every file through a
    // Daemon of its own and used to repeat it for each.
    if (warning !== undefined && !allocatorWarned) {
      allocatorWarned = true;
      this.parts.log.warn({ allocator: this.allocator.name, pid: process.pid }, warning);
    } else if (warning === undefined) this.parts.log.info({ allocator: this.allocator.name, library: this.allocator.library, pid: process.pid }, 'memory allocator');
  }

  async start(): Promise<void> {
    const { config, log } = this.parts;
    this.setState('starting');
    this.loopDelay.start();
    // Access settings first: a token file that cannot be read, or an exposed admin port without
    // a token, fails startup before the slow model load.
    const admin = config.admin.enabled ? adminOptions(config.admin, config.artifactDir) : undefined;
    const metricsToken = config.http.enabled && config.http.metricsTokenFile !== undefined ? readTokenFile(config.http.metricsTokenFile, 'http.metricsTokenFile') : undefined;
    this.backend = await chooseBackend(config.scoring.backend, config.scoring.threads);
    if (this.backend.fallbackReason) log.warn({ backend: this.backend.active, reason: this.backend.fallbackReason }, `NOT on the native TensorFlow backend: running on ${this.backend.active}`);
    else log.info({ backend: this.backend.active }, 'TensorFlow backend ready');
    this.metrics.backendInfo.set({ backend: this.backend.active, requested: this.backend.requested, fallback: this.backend.fallbackReason ? 'true' : 'false' }, 1);
    this.metrics.liveTensorsProbe = liveTensors;
    this.reportAllocator();

    this.artifact = this.parts.artifact ?? (await loadArtifact(config.artifactDir, { features: config.features, lookback: config.window.lookback }));
    this.setModelDir(this.parts.artifact ? '(in memory)' : config.artifactDir);
    const model = await this.runtimeOf(this.artifact, config.artifactDir);
    this.model = model;
    this.exportModel(this.artifact, model.scorer);
    const { manifest } = this.artifact;
    log.info({ model: manifest.version, features: manifest.features, lookback: manifest.lookback, threshold: model.threshold }, 'model loaded and warmed up');
    const seasonal = this.artifact.scaler.seasonal;
    if (seasonal !== undefined) {
      // Bounded per entity, not in total: say what a full lane could hold, so it can be sized.
      const perEntity = seasonalBytes(seasonal.capacity, seasonal.of.length);
      log.info({ seasonal: seasonal.of, periodMs: seasonal.periodMs, historyBytesPerEntity: perEntity, historyBytesPerFullLane: perEntity * config.window.maxEntities }, `seasonal columns: each entity keeps a day of readings (${Math.round(perEntity / 1024)} KiB); window.maxEntities ${config.window.maxEntities} per lane could hold ${(perEntity * config.window.maxEntities / 2 ** 30).toFixed(2)} GiB`);
    }

    if (config.http.enabled) {
      this.httpPort = await this.http.listen(config.http.host, config.http.port, { metricsToken });
      log.info({ url: `http://${config.http.host}:${this.httpPort}/metrics` }, 'http listening');
    }
    if (admin !== undefined) {
      this.admin = new AdminServer((dir) => this.reloadModel(dir), admin);
      this.adminPort = await this.admin.listen(config.admin.host, config.admin.port);
      log.info({ url: `http://${config.admin.host}:${this.adminPort}/model/reload`, auth: admin.token !== undefined ? 'bearer token' : 'none (loopback only)', modelRoot: admin.modelRoot }, 'admin endpoint listening');
    }

    this.batcher = new MicroBatcher(model.scorer, {
      maxBatch: config.scoring.maxBatch,
      maxDelayMs: config.scoring.maxDelayMs,
      onBatch: (windows, seconds) => {
        this.metrics.batchSize.observe(windows);
        this.metrics.scoringDuration.observe(seconds);
      },
    });
    const windowPolicy = { ...config.window, lookback: manifest.lookback, maxEntityIdLength: config.input.maxEntityIdLength };
    // A restart re-scores this many windows before its restart point: the smoothing history,
    // plus the warm-up, so that run numbers (and with them warm-up decisions) come out the same.
    const historyWindows = config.alerts.smoothWindows - 1 + config.window.warmupWindows;
    // The model's columns (input features, then any seasonal ones): feature errors name these.
    const columns = this.artifact.scaler.features;
    const pipelineOf = (runtime: ModelRuntime, batcher: MicroBatcher, extra: Partial<PipelineParts> & Pick<PipelineParts, 'sink' | 'deadLetter' | 'metrics'>) =>
      new Pipeline({
        newWindower: (scaler) => new Windower(windowPolicy, scaler, historyWindows),
        historyWindows,
        newAlerts: (threshold, version) => new AlertTracker(config.alerts, threshold, columns, version, config.window.warmupWindows),
        batcher,
        model: runtime,
        maxMessageBytes: config.input.maxMessageBytes,
        maxGapMs: config.window.maxGapSeconds * 1000,
        ...(config.input.entities ? { knownEntities: new Set(config.input.entities) } : {}),
        ...extra,
      });
    if (config.refit.enabled) this.refit = this.newRefit(manifest.features, manifest.lookback, this.artifact.scaler.seasonal, pipelineOf);
    const refit = this.refit;
    const onFlag = this.parts.onFlag;
    this.pipeline = pipelineOf(model, this.batcher, {
      sink: this.parts.sink,
      deadLetter: this.parts.deadLetter,
      metrics: this.metrics,
      ...(this.parts.onScore ? { onScore: this.parts.onScore } : {}),
      ...(onFlag || refit ? { onFlag: (f: Flag) => (onFlag?.(f), refit?.onLiveFlag(f)) } : {}),
      ...(refit ? { onReading: refit.onReading, onJudged: refit.onJudged } : {}),
    });
    refit?.attach(this.pipeline);
    await this.shadowSink?.open?.();
    await this.parts.sink.open?.();
    await this.parts.deadLetter.open?.();
    this.sourceDone = this.parts.source.start(this.refit ?? this.pipeline);
    this.setState('ready');
    // Sampled every second, not only when probed, so the unready time (and the metrics) are true
    // whoever asks; a change is logged once.
    let wasReady = true;
    this.readinessTimer = setInterval(() => {
      const r = this.readiness();
      this.trackReadiness(r.ready, Date.now());
      if (r.ready !== wasReady && this.state === 'ready') {
        if (r.ready) this.parts.log.info(r.detail, 'ready again');
        else this.parts.log.error(r.detail, 'not ready: flags are not being produced');
        wasReady = r.ready;
      }
    }, 1000);
    this.readinessTimer.unref();
  }

  /**
   * The refit policy (refit.enabled): its shadow sink (never the flags sink), how it loads a
   * candidate into a shadow pipeline of its own (own scaler, windows, alert state, scoring
   * batches, and metrics that do not mix with the live ones), and promotion by hot swap.
   */
  private newRefit(features: string[], lookback: number, seasonal: SeasonalSpec | undefined, pipelineOf: (runtime: ModelRuntime, batcher: MicroBatcher, extra: Partial<PipelineParts> & Pick<PipelineParts, 'sink' | 'deadLetter' | 'metrics'>) => Pipeline): RefitController {
    const { config, log } = this.parts;
    checkShadowTarget(config);
    const shadowSink = this.parts.shadowSink ?? new ShadowSink(new FileSink(config.refit.shadowPath));
    this.shadowSink = shadowSink;
    const shadowMetrics = new Metrics();
    const quiet: DeadLetterSink = { send: async () => {}, close: async () => {} };
    return new RefitController({
      config,
      log,
      metrics: this.metrics,
      features,
      lookback,
      ...(seasonal !== undefined ? { seasonal } : {}),
      loadShadow: async (dir, hooks) => {
        const artifact = await loadArtifact(dir, { features, lookback });
        // Refused now, not after a whole shadow period when the hot swap would refuse it.
        const mismatch = seasonalMismatch(artifact.scaler.seasonal, seasonal);
        if (mismatch !== undefined) {
          artifact.model.dispose();
          throw new SeismoError('SEISMO_MODEL_INCOMPATIBLE', `model artifact ${dir} does not fit: ${mismatch}; it cannot be hot-swapped in`);
        }
        let runtime: LoadedRuntime;
        try {
          runtime = await this.runtimeOf(artifact, dir);
        } catch (err) {
          artifact.model.dispose();
          throw err;
        }
        const batcher = new MicroBatcher(runtime.scorer, { maxBatch: config.scoring.maxBatch, maxDelayMs: config.scoring.maxDelayMs });
        // Poison is the live pipeline's to report: the shadow sees the same records.
        const pipeline = pipelineOf(runtime, batcher, { sink: shadowSink, deadLetter: quiet, metrics: shadowMetrics, onJudged: hooks.onJudged, onFlag: hooks.onFlag });
        return {
          version: artifact.manifest.version,
          pipeline,
          dispose: () => {
            void runtime.scorer.dispose();
            artifact.model.dispose();
          },
        };
      },
      promote: (dir) => this.reloadModel(dir),
    });
  }

  /**
   * Scorer (warmed up), scaler and threshold of an artifact: what the pipeline needs to use it.
   * Everything that can fail happens here, before a swap; on failure the scorer's weight copies
   * (or its worker) are freed again (the caller owns the artifact's model).
   */
  private async runtimeOf(artifact: Artifact, dir: string): Promise<LoadedRuntime> {
    const { manifest, threshold } = artifact;
    if (!threshold) throw new SeismoError('SEISMO_MODEL_INCOMPATIBLE', `model artifact ${dir} has no threshold; run \`seismo calibrate\``);
    const scaler = new Scaler(artifact.scaler);
    const scorer = this.parts.config.scoring.worker ? await this.workerScorer(artifact) : this.inThreadScorer(artifact);
    // The path decides throughput several-fold (block-lstm > fused > layers): say which one runs, and why not a faster one.
    this.parts.log.info({ model: manifest.version, scorerPath: scorer.path, ...(scorer.pathReason ? { reason: scorer.pathReason } : {}), ...(scorer instanceof WorkerScorer ? { thread: 'worker' } : {}) }, `scoring path ${scorer.path}`);
    return { scorer, scaler, threshold: threshold.value, version: manifest.version };
  }

  private inThreadScorer(artifact: Artifact): Scorer {
    const scorer = new Scorer(artifact.model, artifact.manifest.lookback, artifact.scaler.features.length, this.parts.config.scoring.maxBatch);
    try {
      scorer.warmUp();
    } catch (err) {
      scorer.dispose();
      throw err;
    }
    return scorer;
  }

  /** scoring.worker: the model in a worker thread (loaded and warmed up there); its failures logged, counted, and in /readyz. */
  private async workerScorer(artifact: Artifact): Promise<WorkerScorer> {
    const { config, log } = this.parts;
    const model = artifact.manifest.version;
    const scorer = await WorkerScorer.start(artifact.model, {
      lookback: artifact.manifest.lookback,
      features: artifact.scaler.features.length,
      maxBatch: config.scoring.maxBatch,
      backend: config.scoring.backend,
      threads: config.scoring.threads,
      onFailure: (reason) => {
        this.metrics.scoringWorkerFailures.inc();
        log.error({ model, reason }, `scoring worker failed (${reason}): its batches are scored again by a new worker, or their chunks fail uncommitted and are processed again`);
      },
      onRestart: () => {
        this.metrics.scoringWorkerRestarts.inc();
        log.warn({ model }, 'scoring worker restarted');
      },
    });
    const backend = scorer.backend;
    if (backend?.fallbackReason) log.warn({ backend: backend.active, reason: backend.fallbackReason, thread: 'worker' }, `scoring worker NOT on the native TensorFlow backend: running on ${backend.active}`);
    else if (backend !== undefined && backend.active !== this.backend?.active) log.warn({ worker: backend.active, main: this.backend?.active }, 'the scoring worker runs on another backend than the main thread');
    return scorer;
  }

  private exportModel(artifact: Artifact, scorer: LoadedScorer): void {
    const { manifest } = artifact;
    this.metrics.scorerPath.reset();
    this.metrics.scorerPath.set({ path: scorer.path }, 1);
    this.metrics.modelInfo.reset();
    this.metrics.modelInfo.set({ model: manifest.version, lookback: String(manifest.lookback), features: String(manifest.features.length) }, 1);
    this.metrics.modelCreated.set(Date.parse(manifest.created) / 1000);
    this.metrics.knowFeatures(new Scaler(artifact.scaler).inputFeatures);
    this.metrics.threshold.set(artifact.threshold?.value ?? NaN);
  }

  /**
   * Hot swap: load the artifact in `dir` (default: the configured artifactDir, e.g. a symlink to
   * the newest version), check it fits the running one (same features in the same order, same
   * lookback), warm it up, then switch between chunks. Atomic: every check and the warm-up run
   * before the switch, and nothing after it can fail, so a rejection always means the running
   * model still runs; a failed load frees whatever it had loaded. One reload at a time (callers
   * queue).
   */
  reloadModel(dir: string = this.parts.config.artifactDir): Promise<{ model: string; previous: string }> {
    const run = async () => {
      const { log } = this.parts;
      const current = this.artifact;
      if (this.state !== 'ready' || current === undefined || this.pipeline === undefined || this.batcher === undefined) {
        throw new SeismoError('SEISMO_MODEL_INCOMPATIBLE', `cannot reload the model while ${this.state}`);
      }
      const { pipeline, batcher } = this;
      let next: Artifact | undefined;
      let runtime: (LoadedRuntime) | undefined;
      try {
        next = await loadArtifact(dir, { features: current.manifest.features, lookback: current.manifest.lookback });
        // Windowers keep per-entity history for seasonal columns: a model with other seasonal
        // columns would need history nobody kept, so it cannot be swapped in live.
        const mismatch = seasonalMismatch(next.scaler.seasonal, current.scaler.seasonal);
        if (mismatch !== undefined) throw new SeismoError('SEISMO_MODEL_INCOMPATIBLE', `model artifact ${dir} does not fit: ${mismatch}; restart with it instead`);
        runtime = await this.runtimeOf(next, dir);
        // A drain that began while the model loaded wins: the new model is not swapped in.
        if ((this.state as LifecycleState) !== 'ready') {
          void runtime.scorer.dispose();
          throw new SeismoError('SEISMO_MODEL_INCOMPATIBLE', `cannot reload the model while ${this.state}`);
        }
      } catch (err) {
        next?.model.dispose();
        this.metrics.modelReloads.inc({ result: 'failed' });
        log.error({ err, dir, model: current.manifest.version }, 'model reload failed; keeping the running model');
        throw err;
      }
      const retired = this.model;
      pipeline.swapModel(runtime);
      this.model = runtime;
      this.artifact = next;
      this.setModelDir(dir);
      this.exportModel(next, runtime.scorer);
      this.metrics.modelReloads.inc({ result: 'ok' });
      this.refit?.modelChanged();
      log.info({ model: next.manifest.version, previous: current.manifest.version, dir }, 'model hot-swapped');
      // The old model may still score windows queued before the swap: dispose after they are done.
      this.retiring = batcher.afterNextFlush().then(() => {
        if (retired === undefined || retired === runtime) return;
        // A retired scoring worker ends here: the next model has a worker of its own.
        void retired.scorer.dispose();
        // A model handed in by the caller (parts.artifact) is disposed too: the daemon no longer uses it.
        current.model.dispose();
      });
      return { model: next.manifest.version, previous: current.manifest.version };
    };
    const result = (this.reloading ?? Promise.resolve()).then(run, run);
    this.reloading = result.then(() => undefined, () => undefined);
    return result;
  }

  /** Resolves when every reload asked for so far has finished and the model it replaced is freed. */
  async reloadsSettled(): Promise<void> {
    await this.reloading;
    await this.retiring;
  }

  /** Lifetime counters, logged at stop so a run's work can be accounted for after the process is gone. */
  async totals(): Promise<Record<string, number>> {
    const sum = async (m: { get(): Promise<{ values: { value: number }[] }> }) => (await m.get()).values.reduce((a, v) => a + v.value, 0);
    const m = this.metrics;
    return { readings: await sum(m.readings), replayed: await sum(m.replayedReadings), windowsScored: await sum(m.windowsScored), flags: await sum(m.flags), poison: await sum(m.poison) };
  }

  /** Resolves when the source is exhausted (file replay) or stopped; rejects if it failed. */
  async finished(): Promise<void> {
    await this.sourceDone;
  }

  stop(): Promise<void> {
    this.stopping ??= this.runStop();
    return this.stopping;
  }

  private async runStop(): Promise<void> {
    if (this.state === 'created') {
      this.setState('stopped');
      return;
    }
    this.setState('draining');
    clearInterval(this.readinessTimer);
    this.loopDelay.stop();
    const failures: unknown[] = [];
    const step = async (name: string, fn: () => Promise<unknown>) => {
      try {
        await fn();
      } catch (err) {
        failures.push(err);
        this.parts.log.error({ err, step: name }, 'shutdown step failed');
      }
    };
    // Before the in-flight chunk is awaited: it may be waiting for a refit's training.
    this.refit?.cancel();
    await step('source', () => this.parts.source.stop());
    await step('in-flight', async () => this.sourceDone);
    await step('refit', async () => this.refit?.stop());
    await step('shadow sink', async () => {
      await this.shadowSink?.flush();
      await this.shadowSink?.close();
    });
    await step('sink flush', () => this.parts.sink.flush());
    await step('sink close', () => this.parts.sink.close());
    await step('dead-letter close', () => this.parts.deadLetter.close());
    await step('http', () => this.http.close());
    await step('admin', async () => this.admin?.close());
    // A reload that was already loading finishes (or fails) before the process goes; none can start now.
    await step('reload', () => this.reloadsSettled());
    // Everything was scored (the source and its in-flight chunk are done): the worker thread ends.
    await step('scoring worker', async () => (this.model?.scorer instanceof WorkerScorer ? this.model.scorer.dispose() : undefined));
    this.setState('stopped');
    this.parts.log.info({ totals: await this.totals() }, 'stopped');
    const first = failures[0];
    if (first !== undefined) throw isSeismoError(first) ? first : new SeismoError('SEISMO_INTERNAL', `shutdown failed: ${String(first)}`, { cause: first });
  }
}

/**
 * First SIGTERM/SIGINT drains; a second one, or the watchdog after `deadlineMs`, exits 1.
 * SIGHUP hot-swaps the model from the configured artifactDir.
 * Returns a function that removes the handlers.
 */
export function handleSignals(daemon: Daemon, log: Logger, deadlineMs: number, exit: (code: number) => void = process.exit): () => void {
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      log.error({ signal }, 'second signal: exiting now');
      exit(1);
      return;
    }
    log.info({ signal }, 'draining');
    const watchdog = setTimeout(() => {
      log.error({ deadlineMs }, 'shutdown deadline passed: exiting');
      exit(1);
    }, deadlineMs);
    watchdog.unref();
    daemon.stop().then(
      () => {
        clearTimeout(watchdog);
        exit(0);
      },
      (err: unknown) => {
        clearTimeout(watchdog);
        log.error({ err }, 'shutdown failed');
        exit(1);
      },
    );
  };
  // SIGHUP: reload the model from the configured artifactDir (a hot swap; failures keep the old one).
  const onHangup = () => {
    log.info('SIGHUP: reloading the model');
    daemon.reloadModel().catch(() => {});
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('SIGHUP', onHangup);
  return () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    process.off('SIGHUP', onHangup);
  };
}
