import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { POISON_REASONS } from '../domain/types.js';

export const LIFECYCLE_STATES = ['created', 'starting', 'ready', 'draining', 'stopped'] as const;
export type LifecycleState = (typeof LIFECYCLE_STATES)[number];
export const REFIT_STATES = ['idle', 'training', 'shadow', 'promoting'] as const;
export type RefitState = (typeof REFIT_STATES)[number];

/**
 * Every metric Seismo exports, on a Registry of its own (never the global one). Labels are
 * low-cardinality by construction: no entity label anywhere.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly readings = new Counter({ name: 'seismo_readings_total', help: 'Readings accepted by the windower, counted once their chunk is committed (a chunk processed again after a failure counts once).', registers: [this.registry] });
  readonly poison = new Counter({ name: 'seismo_poison_total', help: 'Records rejected, by reason (they go to the dead-letter sink, never dropped silently).', labelNames: ['reason'] as const, registers: [this.registry] });
  readonly windowsScored = new Counter({ name: 'seismo_windows_scored_total', help: 'Windows scored by the model.', registers: [this.registry] });
  readonly flags = new Counter({ name: 'seismo_flags_total', help: 'Flags emitted, by state.', labelNames: ['state'] as const, registers: [this.registry] });
  readonly staleResolves = new Counter({ name: 'seismo_alerts_stale_resolved_total', help: 'Alerts resolved by alerts.maxOpenSeconds while their scores were still high (also counted in seismo_flags_total{state="resolved"}).', registers: [this.registry] });
  readonly escalations = new Counter({ name: 'seismo_alerts_escalated_total', help: 'Alerts replaced by a new one because their score jumped above alerts.escalateRatio x their peak (also counted in seismo_flags_total{state="open"}).', registers: [this.registry] });
  readonly processingErrors = new Counter({ name: 'seismo_processing_errors_total', help: 'Records whose processing threw, by stage (reading, scoring, judging; each is dead-lettered as processing_error and the stream goes on), and flags sent without observed/expected values because computing them threw (explaining).', labelNames: ['stage'] as const, registers: [this.registry] });
  readonly nonFiniteScores = new Counter({ name: 'seismo_nonfinite_scores_total', help: 'Windows whose reconstruction error was not finite (extreme readings); judged at the maximum score.', registers: [this.registry] });
  readonly windowResets = new Counter({ name: 'seismo_window_resets_total', help: 'Per-entity window resets, by cause: gap (silence over window.maxGapSeconds), out_of_order, seasonal (no reading one day back for a seasonal column), seasonal_history_short (per reading: the entity\'s full day of history does not reach one day back because readings come faster than in the training data, so it yields no windows).', labelNames: ['cause'] as const, registers: [this.registry] });
  readonly entitiesEvicted = new Counter({ name: 'seismo_entities_evicted_total', help: 'Entity window states dropped, by cause: idle (silent longer than window.maxGapSeconds by the lane clock) or capacity (window.maxEntities reached, least recently seen first).', labelNames: ['cause'] as const, registers: [this.registry] });
  readonly forwardFilled = new Counter({ name: 'seismo_forward_filled_readings_total', help: 'Accepted readings with at least one missing or non-finite value replaced by the last good one (window.missing: forward-fill).', registers: [this.registry] });
  readonly imputedValues = new Counter({ name: 'seismo_imputed_values_total', help: 'Values forward-filled (missing or non-finite, replaced by the feature\'s last good value), by feature (the model\'s features: bounded).', labelNames: ['feature'] as const, registers: [this.registry] });
  readonly score = new Histogram({
    name: 'seismo_window_severity',
    help: 'Window score divided by the threshold (1 = at threshold).',
    buckets: [0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 5, 10, 100],
    registers: [this.registry],
  });
  readonly scoringDuration = new Histogram({
    name: 'seismo_scoring_duration_seconds',
    help: 'Time to score one batch of windows.',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });
  readonly scoringWorkerFailures = new Counter({ name: 'seismo_scoring_worker_failures_total', help: 'scoring.worker: scoring worker threads that died or could not be (re)started; each is logged as an error.', registers: [this.registry] });
  readonly scoringWorkerRestarts = new Counter({ name: 'seismo_scoring_worker_restarts_total', help: 'scoring.worker: scoring worker threads started again after one died (the batches it had are scored again).', registers: [this.registry] });
  readonly batchSize = new Histogram({ name: 'seismo_scoring_batch_windows', help: 'Windows per scored batch.', buckets: [1, 4, 16, 64, 256, 1024, 4096], registers: [this.registry] });
  readonly threshold = new Gauge({ name: 'seismo_threshold', help: 'Current alert threshold on the window score.', registers: [this.registry] });
  readonly alertsOpen = new Gauge({ name: 'seismo_alerts_open', help: 'Entities with an open alert.', registers: [this.registry] });
  readonly entities = new Gauge({ name: 'seismo_entities', help: 'Entities with window state in memory.', registers: [this.registry] });
  /** Set by whoever owns the TensorFlow engine; read at scrape time. */
  liveTensorsProbe: (() => number) | undefined;
  readonly liveTensors = new Gauge({
    name: 'seismo_live_tensors',
    help: 'Live TensorFlow.js tensors (must stay flat).',
    registers: [this.registry],
    collect: () => {
      if (this.liveTensorsProbe) this.liveTensors.set(this.liveTensorsProbe());
    },
  });
  readonly backendInfo = new Gauge({ name: 'seismo_backend_info', help: 'TensorFlow backend in use (1) and whether it is a fallback.', labelNames: ['backend', 'requested', 'fallback'] as const, registers: [this.registry] });
  readonly allocatorInfo = new Gauge({ name: 'seismo_allocator_info', help: 'The malloc this process runs on (1): jemalloc when started through bin/seismo.js or the image; glibc costs ~50-100 MB more RSS with 10,000 entities.', labelNames: ['allocator', 'library'] as const, registers: [this.registry] });
  readonly modelInfo = new Gauge({ name: 'seismo_model_info', help: 'Loaded model artifact.', labelNames: ['model', 'lookback', 'features'] as const, registers: [this.registry] });
  readonly modelCreated = new Gauge({ name: 'seismo_model_created_timestamp_seconds', help: 'When the loaded model was trained.', registers: [this.registry] });
  readonly scorerPath = new Gauge({ name: 'seismo_scorer_path_info', help: 'How the model is run (1 for the active path): block-lstm (one native op per LSTM layer), fused (native, old hardSigmoid or relu models), layers (tfjs-layers, wasm/cpu).', labelNames: ['path'] as const, registers: [this.registry] });
  readonly modelReloads = new Counter({ name: 'seismo_model_reloads_total', help: 'Model hot-swap attempts, by result (failed ones keep the running model).', labelNames: ['result'] as const, registers: [this.registry] });
  readonly replayedReadings = new Counter({ name: 'seismo_replayed_readings_total', help: 'Readings re-read after a restart or rebalance only to rebuild window state (not scored again).', registers: [this.registry] });
  // Kafka: labels are topic and partition (bounded by the topics' partition counts), never entity.
  readonly kafkaMessagesIn = new Counter({ name: 'seismo_kafka_messages_in_total', help: 'Messages fetched from the input topics.', labelNames: ['topic'] as const, registers: [this.registry] });
  readonly kafkaLag = new Gauge({ name: 'seismo_kafka_consumer_lag_messages', help: 'High watermark minus the next offset to process, per partition, as of the last batch.', labelNames: ['topic', 'partition'] as const, registers: [this.registry] });
  readonly kafkaBatchSize = new Histogram({ name: 'seismo_kafka_batch_messages', help: 'Messages per fetched batch.', buckets: [1, 10, 100, 500, 1000, 5000, 20000], registers: [this.registry] });
  readonly kafkaCommits = new Counter({ name: 'seismo_kafka_commits_total', help: 'Offset commits, by result.', labelNames: ['result'] as const, registers: [this.registry] });
  readonly kafkaRebalances = new Counter({ name: 'seismo_kafka_rebalances_total', help: 'Consumer group joins (each drops and rebuilds partition state).', registers: [this.registry] });
  readonly kafkaPaused = new Gauge({ name: 'seismo_kafka_paused_partitions', help: 'Partitions paused for backpressure (scoring queue full).', registers: [this.registry] });
  readonly kafkaConnected = new Gauge({ name: 'seismo_kafka_connected', help: '1 when the consumer is joined to its group and the producer is connected.', registers: [this.registry] });
  readonly kafkaCrashes = new Counter({ name: 'seismo_kafka_consumer_restarts_total', help: 'Consumer crashes followed by a restart (broker outage, failed produce).', registers: [this.registry] });
  readonly kafkaChunkFailures = new Counter({ name: 'seismo_kafka_chunk_failures_total', help: 'Chunks whose processing failed (e.g. a sink rejected them); each is retried from the last commit.', registers: [this.registry] });
  readonly kafkaRetriedMessages = new Counter({ name: 'seismo_kafka_retried_messages_total', help: 'Messages of failed chunks, to be processed again (not counted in seismo_readings_total until they succeed).', registers: [this.registry] });
  readonly stateWrites = new Counter({ name: 'seismo_state_writes_total', help: 'Per-entity alert-state records written to the state topic (only entities whose state changed).', registers: [this.registry] });
  readonly stateRestoredEntities = new Counter({ name: 'seismo_state_restored_entities_total', help: 'Entities whose alert state was restored from the state topic when a partition was assigned.', registers: [this.registry] });
  readonly produceDuration = new Histogram({
    name: 'seismo_kafka_produce_duration_seconds',
    help: 'Time from send to broker acknowledgement (acks=all), per send, by topic kind.',
    labelNames: ['kind'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [this.registry],
  });
  readonly endToEnd = new Histogram({
    name: 'seismo_end_to_end_latency_seconds',
    help: 'From a message\'s Kafka timestamp to the broker acknowledging every flag of its batch (messages without a usable timestamp, and those re-read only to rebuild window state after a restart, are left out).',
    // Fine from 50 ms to 1 s, where the p99 target and a loaded machine's tail lie (quantiles interpolate within a bucket).
    buckets: [0.002, 0.005, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.35, 0.5, 0.75, 1, 1.5, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly chunkStage = new Histogram({
    name: 'seismo_chunk_stage_seconds',
    help: 'Where a chunk of input messages spends its time, per chunk and stage, counted once the chunk is committed: waiting (its first message\'s Kafka timestamp, i.e. its producer\'s clock, to the start of its processing: broker, fetch, the previous chunks of its partition, and any failed attempts), processing (decode, windows, scoring, alert trackers, flags and dead letters acknowledged), committing (state write and offset commit, which the partition\'s next chunk waits for). Waiting plus processing is seismo_end_to_end_latency_seconds of the chunk\'s first message. Chunks re-read only to rebuild window state after a restart, and messages without a usable timestamp (waiting), are left out.',
    labelNames: ['stage'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 10],
    registers: [this.registry],
  });
  readonly eventLoopDelay = new Histogram({
    name: 'seismo_event_loop_delay_seconds',
    help: 'How late a timer due every 20 ms fires on the daemon\'s event loop (one sample per tick; a loop blocked for 300 ms is one sample near 0.3 s). Unlike seismo_nodejs_eventloop_lag_* (gauges reset at every scrape) it accumulates, so quantiles over any range work.',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  // Continual learning (refit.*): every step of a refit, counted and visible.
  readonly refits = new Counter({ name: 'seismo_refits_total', help: 'Refit steps: started (training began), trained (a candidate passed `seismo train`\'s quality gate), failed (training failed or timed out), rejected (the promotion rule said no), promoted (hot-swapped in).', labelNames: ['stage'] as const, registers: [this.registry] });
  readonly refitTriggers = new Counter({ name: 'seismo_refit_triggers_total', help: 'Refit triggers that started a refit, by kind (schedule, drift).', labelNames: ['trigger'] as const, registers: [this.registry] });
  readonly refitRejections = new Counter({ name: 'seismo_refit_rejections_total', help: 'Candidates not promoted, by the promotion rule\'s reason (lost_episode, more_alerts, no_gain) or shutdown.', labelNames: ['reason'] as const, registers: [this.registry] });
  readonly refitState = new Gauge({ name: 'seismo_refit_state', help: 'Refit policy state (1 for the current one): idle, training, shadow, promoting.', labelNames: ['state'] as const, registers: [this.registry] });
  readonly refitDrift = new Gauge({ name: 'seismo_refit_drift_ratio', help: 'Largest per-entity drift statistic as a fraction of refit.driftLimit (1: the drift test fires).', registers: [this.registry] });
  readonly refitBufferReadings = new Gauge({ name: 'seismo_refit_buffer_readings', help: 'Readings held in the refit buffer (before leaving out those in abnormal windows).', registers: [this.registry] });
  readonly refitShadowWindows = new Counter({ name: 'seismo_refit_shadow_windows_total', help: 'Windows judged by refit candidates in shadow.', registers: [this.registry] });
  readonly refitShadowFlags = new Counter({ name: 'seismo_refit_shadow_flags_total', help: 'Flags of refit candidates, by state: sent to the shadow sink or topic only, never to the flags output.', labelNames: ['state'] as const, registers: [this.registry] });
  readonly refitShadowOpenings = new Gauge({ name: 'seismo_refit_shadow_alert_openings', help: 'Alert openings during the current (or last) shadow period, by model (live, candidate).', labelNames: ['model'] as const, registers: [this.registry] });
  readonly refitCalmP95 = new Gauge({ name: 'seismo_refit_shadow_calm_severity_p95', help: '95th percentile of score / threshold on the windows the live model judged calm, during the current (or last) shadow period, by model (live, candidate).', labelNames: ['model'] as const, registers: [this.registry] });
  readonly refitTrainingSeconds = new Gauge({ name: 'seismo_refit_training_seconds', help: 'Duration of the last refit training (child process).', registers: [this.registry] });
  readonly refitTrainingStall = new Gauge({ name: 'seismo_refit_training_event_loop_max_delay_seconds', help: 'Longest event-loop stall of the daemon while the last refit trained (what training cost scoring).', registers: [this.registry] });
  readonly ready = new Gauge({ name: 'seismo_ready', help: '1 while /readyz would answer 200: running, consuming, and the sinks making flags durable.', registers: [this.registry] });
  readonly lifecycle = new Gauge({ name: 'seismo_lifecycle_state', help: 'Daemon lifecycle state (1 for the current one).', labelNames: ['state'] as const, registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'seismo_' });
    // Make every label value visible from the first scrape, so dashboards and alert rules see zeros, not gaps.
    for (const reason of POISON_REASONS) this.poison.inc({ reason }, 0);
    for (const state of ['open', 'update', 'resolved']) this.flags.inc({ state }, 0);
    for (const cause of ['gap', 'out_of_order', 'seasonal', 'seasonal_history_short']) this.windowResets.inc({ cause }, 0);
    for (const stage of ['reading', 'scoring', 'judging', 'explaining']) this.processingErrors.inc({ stage }, 0);
    for (const cause of ['idle', 'capacity']) this.entitiesEvicted.inc({ cause }, 0);
    for (const result of ['ok', 'failed']) this.kafkaCommits.inc({ result }, 0);
    for (const result of ['ok', 'failed']) this.modelReloads.inc({ result }, 0);
    for (const kind of ['flags', 'dead_letter']) this.produceDuration.zero({ kind });
    for (const stage of ['started', 'trained', 'failed', 'rejected', 'promoted']) this.refits.inc({ stage }, 0);
    for (const trigger of ['schedule', 'drift']) this.refitTriggers.inc({ trigger }, 0);
    for (const state of ['open', 'update', 'resolved']) this.refitShadowFlags.inc({ state }, 0);
    this.setRefitState('idle');
    this.setLifecycle('created');
  }

  setRefitState(state: RefitState): void {
    for (const s of REFIT_STATES) this.refitState.set({ state: s }, s === state ? 1 : 0);
  }

  /** A loaded model's features: their imputed-value counters show zeros from the first scrape. */
  knowFeatures(features: string[]): void {
    for (const feature of features) this.imputedValues.inc({ feature }, 0);
  }

  setLifecycle(state: LifecycleState): void {
    for (const s of LIFECYCLE_STATES) this.lifecycle.set({ state: s }, s === state ? 1 : 0);
  }
}
