import { z } from 'zod';
import { timestampFormatProblem, timezoneProblem } from '../source/timestamp-format.js';
import { MAX_SEASONAL_CAPACITY } from '../window/seasonal.js';

/**
 * The single source of Seismo's configuration: types, defaults and field docs live here.
 * The config reference (docs/configuration.md) and config/seismo.example.yaml are checked against it by tests.
 * Every object is strict, so a misspelt key is an error rather than a silently ignored line.
 */

const inputSchema = z
  .object({
    format: z
      .enum(['json', 'skab', 'csv'])
      .default('json')
      .describe('How records are encoded: `json` (one DESIGN.md reading per line or message), `skab` (`;`-separated SKAB CSV with a `datetime` column), `csv` (generic CSV, columns below).'),
    delimiter: z.string().length(1).default(',').describe('Column separator for `csv` (SKAB always uses `;`).'),
    timestampColumn: z.string().min(1).default('datetime').describe('CSV column holding the timestamp (ISO 8601 or epoch milliseconds).'),
    timestampFormat: z
      .string()
      .min(1)
      .superRefine((f, ctx) => {
        const problem = timestampFormatProblem(f);
        if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
      })
      .optional()
      .describe('CSV timestamps in another layout than ISO 8601 or epoch ms, e.g. `M/D/YY H:mm` for `5/1/99 0:00` (tokens YYYY, YY (00-49: 2000s), M, MM, D, DD, H, HH, m, mm, s, ss, SSS; other characters literal). Rows that do not fit are poison (`invalid_timestamp`); nothing is guessed.'),
    timezone: z
      .string()
      .min(1)
      .superRefine((zone, ctx) => {
        const problem = timezoneProblem(zone);
        if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
      })
      .default('UTC')
      .describe('Zone of CSV timestamps that carry none (`2014-07-01 00:00:00`, or any `timestampFormat`): `UTC`, an offset such as `+02:00`, or an IANA name such as `America/New_York` (DST handled; an ambiguous hour reads as the earlier one). Timestamps with a zone or Z keep theirs.'),
    entityColumn: z.string().min(1).optional().describe('CSV column holding the entity id; without it every row belongs to `entity`.'),
    entity: z.string().min(1).default('default').describe('Entity id for CSV rows when there is no entity column (default: the file name without extension; in a replayed directory, its path relative to that directory, so `valve1/0.csv` and `valve2/0.csv` are the entities `valve1/0` and `valve2/0`).'),
    ignoreColumns: z.array(z.string()).default(['anomaly', 'changepoint']).describe('CSV columns that are neither timestamp, entity nor feature (e.g. labels).'),
    entities: z.array(z.string().min(1)).optional().describe('If set, the only entity ids accepted; readings of any other entity are poison (`unknown_entity`).'),
    maxMessageBytes: z.number().int().positive().default(65536).describe('Records larger than this are poison (`oversized`).'),
    maxEntityIdLength: z.number().int().positive().default(256).describe('Entity ids longer than this many characters are poison (`invalid_shape`): no state is kept under them.'),
  })
  .strict();

const windowSchema = z
  .object({
    lookback: z.number().int().min(2).max(1000).default(10).describe('Timesteps per window (T).'),
    stride: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(1)
      .describe('Score every stride-th window of an entity (1: every window, one per reading). 2 or more divides the scoring cost by about as much, at the price of resolution: an event shorter than stride readings can fall between two scored windows, and flags come up to stride - 1 readings later. Counted from each entity\'s first window after its ring (re)starts; after a restart or rebalance the count starts again from the rebuilt ring, so for a short while other windows may be chosen than without it. Training and calibration always use every window. The alerts.* window counts (smoothWindows, resolveAfter, openN) then span stride times as many readings: divide them by the stride to keep their span. Detection cost on SKAB: docs/BENCHMARKS.md.'),
    maxGapSeconds: z.number().positive().default(300).describe('A gap longer than this between two readings of one entity resets its window; an entity silent while its lane\'s clock (newest reading) moves on by more than this is evicted from memory.'),
    maxFutureSeconds: z.number().positive().default(86400).describe('A reading timestamped more than this after it arrived (the earlier of its Kafka record timestamp and the wall clock; a replay after a restart then decides the same) is poison (`invalid_timestamp`). Only the future is bounded, so replays of old data work.'),
    maxClockJumpSeconds: z.number().positive().default(2592000).describe('A reading more than this ahead of its lane\'s newest reading (the partition\'s event clock) is poison (`invalid_timestamp`), unless the lane\'s next reading confirms the jump (within maxGapSeconds of it): a lane resuming after a long silence loses one reading, while one far-future reading moves no clock and no entity state.'),
    maxEntities: z.number().int().positive().default(50000).describe('Entities with window state per lane (Kafka partition, or file replay), ~1.7 KB each at lookback 10 and 8 features: a new entity beyond it evicts the least recently seen one, whose next reading restarts its window as after a gap. Size it above a partition\'s real entity count (beyond it, entities evict each other and none fills a window). Entities silent while the lane clock moves on by more than maxGapSeconds are evicted anyway.'),
    warmupWindows: z.number().int().min(0).default(0).describe('Start-up transients: the first warmupWindows windows after an entity\'s window ring (re)starts (its first readings, or after a gap) are left out of training and calibration, and the alert tracker does not judge them (they are still scored).'),
    outOfOrder: z
      .enum(['drop', 'reset'])
      .default('drop')
      .describe('A reading older than or equal to the last one seen for its entity: `drop` it as poison (`out_of_order`), or `reset` the window and start again from it.'),
    missing: z
      .enum(['reject', 'forward-fill'])
      .default('forward-fill')
      .describe('A missing or non-finite feature value: `reject` the reading as poison, or `forward-fill` the last good value (rejected when there is none yet).'),
    unknownFeatures: z
      .enum(['reject', 'ignore'])
      .default('ignore')
      .describe('A reading with features the model does not know: `reject` it as poison, or `ignore` the extra values.'),
  })
  .strict();

const modelSchema = z
  .object({
    kind: z
      .enum(['lstm', 'conv1d', 'seq2seq'])
      .default('lstm')
      .describe('`lstm`: the LSTM autoencoder. `conv1d`: a 1-D convolutional autoencoder (kernel 3, `encoderUnits` filters, mirrored), much faster to train. `seq2seq`: encoder LSTM stack, decoder LSTM from its final states, trained with teacher forcing and decoding recursively when scoring. `bottleneck` applies to `lstm` only.'),
    encoderUnits: z.array(z.number().int().positive()).min(1).default([128, 64]).describe('LSTM units of the encoder stack, outermost first; the decoder mirrors it.'),
    bottleneck: z
      .enum(['repeat-vector', 'none'])
      .default('repeat-vector')
      .describe('`repeat-vector`: the last encoder LSTM emits one code vector that RepeatVector feeds to the decoder. `none`: every layer passes full sequences (no bottleneck).'),
    activation: z.enum(['tanh', 'relu']).default('tanh').describe('LSTM activation; the wide relu stack is `encoderUnits: [512, 256, 128]` with `relu`.'),
    recurrentActivation: z.enum(['sigmoid', 'hardSigmoid']).default('sigmoid').describe('LSTM gate activation. `sigmoid` lets the native backend run each LSTM layer as one TensorFlow BlockLSTMV2 op (scoring and training); `hardSigmoid` is what models trained before this option used (their artifacts record it and keep working).'),
    epochs: z.number().int().positive().default(50).describe('Maximum training epochs.'),
    batchSize: z.number().int().positive().default(64).describe('Training batch size.'),
    learningRate: z.number().positive().default(0.003).describe('Adam learning rate (0.003 converges to a lower validation loss than 0.001 on SKAB files, in about half the epochs; see BENCHMARKS.md).'),
    validationSplit: z.number().min(0.05).max(0.5).default(0.2).describe('Chronological tail of the training windows held out for validation, early stopping and calibration.'),
    patience: z.number().int().min(1).default(5).describe('Early stopping: epochs without a val-loss improvement before stopping.'),
    seed: z.number().int().default(42).describe('Seed for weight initialisation and shuffling.'),
  })
  .strict();

const thresholdObject = z
  .object({
    quantile: z.number().gt(0).lt(1).default(0.99).describe('Quantile of held-out normal window errors.'),
    multiplier: z.number().positive().default(1.5).describe('Threshold = multiplier x quantile.'),
    method: z
      .enum(['rate', 'quantile', 'pot', 'stddev'])
      .default('rate')
      .describe('How the threshold is calibrated on held-out normal window scores: `rate` (the level they would cross `falseAlertsPerDay` times per entity per day: an operator quantity; chosen as the default on both corpora, EVALUATION.md), `quantile` (multiplier x quantile), `stddev` (mean + `sigmas` x standard deviation: steadier than a high quantile when there are only a few dozen calibration windows, as with smoothed scores of a short training stretch), or `pot` (peaks over threshold: a generalized Pareto tail fitted to the errors above `potInitialQuantile`, threshold where a normal window exceeds it with probability `potRisk`; needs a few hundred calibration windows).'),
    sigmas: z.number().positive().default(5).describe('`stddev`: how many standard deviations above the mean of the calibration errors.'),
    potInitialQuantile: z.number().gt(0).lt(1).default(0.98).describe('`pot`: quantile of the calibration errors above which the tail is fitted.'),
    potRisk: z.number().gt(0).lt(1).default(0.001).describe('`pot`: probability that a normal window scores above the threshold.'),
    calibration: z
      .enum(['holdout', 'blocked-cv'])
      .default('blocked-cv')
      .describe('Which scores of data the model did not train on set the threshold: `holdout` (the final model on each entity\'s held-out tail, `model.validationSplit`) or `blocked-cv` (the default: k = `folds` chronological blocks of the training windows; a model trained on the other blocks, purged by one lookback around the held-out block, scores each block; costs k extra trainings, and an in-sample tail underestimates out-of-sample error: EVALUATION.md; the training data should span several cycles of any daily or weekly rhythm, or each fold misses a phase and the threshold errs high). Either way smoothed as the alert tracker smooths.'),
    folds: z.number().int().min(2).max(10).default(3).describe('`blocked-cv`: number of chronological blocks (and extra trainings).'),
    falseAlertsPerDay: z
      .number()
      .positive()
      .optional()
      .describe('`rate`: the expected false alerts per entity per day at rest, before `sensitivity` (unset: 1). The threshold is the level the held-out smoothed scores would cross this often (counted by their median sampling interval; extrapolated by peaks over threshold when the held-out stretch is too short to count). Set, it selects `rate` whatever `method` says. EVALUATION.md compares it with the realised rate.'),
    sensitivity: z
      .number()
      .positive()
      .default(1)
      .describe('One knob for every method: the calibrated threshold is divided by it. 2 halves the threshold (more alerts, earlier), 0.5 doubles it (fewer false alarms).'),
  })
  .strict();

/**
 * A threshold block that names a method's parameters but no method means that method, as it did
 * before `rate` became the default: `multiplier: 3` alone must not silently turn into a
 * false-alert rate. `falseAlertsPerDay` selects rate whatever else is given.
 */
function impliedMethod(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  const t = raw as Record<string, unknown>;
  if ('method' in t || 'falseAlertsPerDay' in t) return raw;
  if ('potRisk' in t || 'potInitialQuantile' in t) return { ...t, method: 'pot' };
  if ('sigmas' in t) return { ...t, method: 'stddev' };
  if ('quantile' in t || 'multiplier' in t) return { ...t, method: 'quantile' };
  return raw;
}

const thresholdSchema = z.preprocess(impliedMethod, thresholdObject);

const alertsSchema = z
  .object({
    openK: z.number().int().min(1).default(3).describe('Open an alert when at least openK of the last openN windows exceed the threshold.'),
    openN: z.number().int().min(1).max(32).default(5).describe('See openK. At most 32: the last openN window verdicts are checkpointed as the bits of one 32-bit word.'),
    smoothWindows: z.number().int().min(1).max(1000).default(1).describe('Judge the mean score of each entity\'s last smoothWindows windows instead of each window alone (1: off). A sustained small excess, such as a noisy flow that dropped a little, adds up; a single noisy window is diluted. The threshold is calibrated on held-out scores smoothed the same way.'),
    resolveRatio: z.number().gt(0).max(1).default(0.8).describe('Hysteresis: an open alert counts a window as calm only below resolveRatio x threshold.'),
    resolveAfter: z.number().int().min(1).default(10).describe('Consecutive calm windows that resolve an open alert.'),
    minOpenSeconds: z.number().min(0).default(0).describe('Minimum duration: an open alert does not resolve before it has been open this long (by reading time), however calm the windows.'),
    maxOpenSeconds: z
      .number()
      .min(0)
      .default(0)
      .describe('Re-arm (0: off): an alert open this long (by reading time) resolves even though its scores stay high, with `stale: true` on the resolve flag. After an event a process often settles at a new operating point that scores above the threshold for good; without this its alert never resolves, and a later fault on the same entity opens nothing new. After the cooldown the entity may open again: a condition that persists pages again, once per maxOpenSeconds plus the cooldown.'),
    escalateRatio: z
      .number()
      .min(0)
      .refine((x) => x === 0 || x > 1, 'must be 0 (off) or above 1')
      .default(0)
      .describe('Escalation (0: off): while an alert is open, a judged score above escalateRatio x the highest score of the alert so far is taken as a second event. The open alert ends and a new one (a new episode) opens on that window; its `open` flag names the one it replaces in `escalatedFrom`, and no `resolved` flag is sent for that one. Without it a larger fault that starts during an open alert arrives only as an `update`, which pages nobody. Compared with the peak, not the threshold, so a score that climbs steadily never escalates; an abrupt jump does (a score that multiplies by more than the ratio at every window escalates at every window, at most log(1e30 / threshold) / log(ratio) times).'),
    cooldownWindows: z.number().int().min(0).default(10).describe('After a resolve, windows to wait before the same entity may open again.'),
    updateRatio: z.number().gt(1).default(1.5).describe('An open alert emits `update` when its peak severity grows by this factor over the last emitted one.'),
    topFeatures: z.number().int().min(1).default(3).describe('How many contributing features each flag lists.'),
    adaptiveHalfLifeWindows: z
      .number()
      .min(0)
      .default(0)
      .describe('Online adaptation (0: off): each entity\'s threshold follows slow drift of its calm scores: the calibrated threshold times (moving mean of calm scores / their mean over the first adaptiveWarmupWindows), the moving mean having this half-life in windows. Learns only from windows below the threshold with no alert open, so anomalies are not absorbed; kept in the state topic with the alert state. Experimental (docs/model.md).'),
    adaptiveWarmupWindows: z.number().int().min(1).default(50).describe('Adaptation: calm windows that set an entity\'s reference level before its threshold may move.'),
    adaptiveMaxDrift: z.number().min(1).default(2).describe('Adaptation: an entity\'s threshold stays within [calibrated / this, calibrated x this]; drift beyond is a case for retraining.'),
  })
  .strict();

const scoringSchema = z
  .object({
    backend: z
      .enum(['auto', 'native', 'wasm', 'cpu'])
      .default('auto')
      .describe('TensorFlow backend: `native` (tfjs-node, fails startup when missing), `wasm`, `cpu`, or `auto` (native, else wasm, else cpu, with a loud warning).'),
    maxBatch: z.number().int().min(1).max(65536).default(256).describe('Most windows scored in one model call.'),
    maxDelayMs: z.number().min(0).default(5).describe('Longest a ready window waits for its batch to fill.'),
    threads: z.number().int().min(0).default(0).describe('Intra-op threads for the native backend (0: TensorFlow decides).'),
    worker: z
      .boolean()
      .default(false)
      .describe('Score in a worker thread: the model runs beside the main thread\'s Kafka fetching, decoding, windowing, producing and committing instead of blocking them, and the next batch forms while one scores (one batch out at a time). Same model, backend and scores (up to float summation order); explanations of flags stay on the main thread. A worker that dies is logged, counted (`seismo_scoring_worker_failures_total`), replaced, and its batches scored again; /readyz shows its state. Costs a second copy of the model and of TensorFlow\'s runtime (memory, start-up). Measured side by side in docs/BENCHMARKS.md.'),
  })
  .strict();

const sourceSchema = z
  .object({
    kind: z.enum(['file', 'kafka']).default('file').describe('Where readings come from: `file` replay, or `kafka` (a consumer group on `topics`).'),
    path: z.string().min(1).optional().describe('File or directory (of CSV/NDJSON files) to replay for `file`.'),
    speed: z.number().min(0).default(0).describe('File replay pace: 0 as fast as possible, N = N x real time by the readings\' timestamps (each reading waits for its gap to the previous one; a gap back in time or longer than `window.maxGapSeconds` is not waited for, so one wrong timestamp cannot stall a replay).'),
    topics: z.array(z.string().min(1)).default(['seismo.readings']).describe('`kafka`: input topics (message key = entity id, value = a DESIGN.md JSON reading).'),
    groupId: z.string().min(1).default('seismo').describe('`kafka`: consumer group; instances with the same group split the partitions.'),
    fromBeginning: z.boolean().default(true).describe('`kafka`: a new group starts at the earliest offset (true) or only reads new messages (false).'),
    partitionsConsumedConcurrently: z.number().int().min(1).max(64).default(2).describe('`kafka`: partitions processed at once; their windows share scoring batches.'),
    sessionTimeoutMs: z.number().int().min(6000).default(30000).describe('`kafka`: a member silent this long (crashed, SIGKILLed) is removed and its partitions reassigned.'),
    maxBatchMessages: z.number().int().min(1).default(1000).describe('`kafka`: messages processed and committed together; a drain or rebalance waits for at most one such chunk per partition.'),
    maxQueuedWindows: z.number().int().min(1).default(8192).describe('`kafka`: backpressure; above this many windows waiting for the scorer, partitions are paused until it drains.'),
    transactions: z
      .boolean()
      .default(false)
      .describe('`kafka`: process each chunk in a Kafka transaction (one transactional producer per input partition): its flags, dead letters, alert state and offset commit become visible together or not at all, so subscribers reading with isolation.level=read_committed see every flag exactly once, even after a crash. Costs a few broker round trips per chunk.'),
    stateTopic: z
      .string()
      .min(1)
      .optional()
      .describe('`kafka`: compacted topic holding each entity\'s alert state, written before every commit and read when partitions are assigned (default `<groupId>.state`; created with cleanup.policy=compact when missing).'),
  })
  .strict();

const sinkSchema = z
  .object({
    kind: z.enum(['stdout', 'file', 'kafka']).default('stdout').describe('Where flags go: `stdout`, `file` (NDJSON), or `kafka` (acks=all, idempotent producer).'),
    path: z.string().min(1).optional().describe('NDJSON file for `file`.'),
    deadLetterPath: z.string().min(1).optional().describe('NDJSON file for poison records (file and stdout sinks); without it they are logged at warn level.'),
    topic: z.string().min(1).default('seismo.flags').describe('`kafka`: flags topic (key = entity id).'),
    maxMessageBytes: z
      .number()
      .int()
      .min(4096)
      .default(1_000_000)
      .describe('`kafka`: the most bytes one produce request puts in a record batch (keep it under the topics\' max.message.bytes, 1048588 by default); a dead letter larger than this is sent as a bounded copy (64 KiB prefix, size, SHA-256, header seismo-truncated).'),
    deadLetterTopic: z.string().min(1).default('seismo.dead-letter').describe('`kafka`: poison records, original bytes and headers plus seismo-reason, -detail, -topic, -partition, -offset.'),
  })
  .strict();

const kafkaSchema = z
  .object({
    brokers: z.array(z.string().min(1)).min(1).default(['127.0.0.1:9092']).describe('Bootstrap brokers, host:port.'),
    clientId: z.string().min(1).default('seismo').describe('Client id sent to the brokers.'),
    connectionTimeoutMs: z.number().int().positive().default(3000).describe('TCP connect timeout.'),
    requestTimeoutMs: z.number().int().positive().default(30000).describe('Request timeout.'),
    retryMaxMs: z.number().int().positive().default(30000).describe('Longest backoff between reconnect/produce retries; retries never give up while the daemon runs.'),
    ssl: z
      .object({
        enabled: z.boolean().default(false).describe('Use TLS.'),
        caFile: z.string().min(1).optional().describe('PEM CA bundle to trust (default: the system store).'),
        certFile: z.string().min(1).optional().describe('PEM client certificate (mutual TLS).'),
        keyFile: z.string().min(1).optional().describe('PEM client key (mutual TLS).'),
        rejectUnauthorized: z.boolean().default(true).describe('Verify the broker certificate.'),
      })
      .strict()
      .default({}),
    sasl: z
      .object({
        mechanism: z.enum(['none', 'plain', 'scram-sha-256', 'scram-sha-512']).default('none').describe('SASL mechanism.'),
        username: z.string().optional().describe('SASL user.'),
        password: z.string().optional().describe('SASL password (prefer SEISMO_KAFKA_SASL_PASSWORD; never logged).'),
      })
      .strict()
      .default({}),
  })
  .strict();

const httpSchema = z
  .object({
    enabled: z.boolean().default(true).describe('Serve /metrics, /healthz and /readyz.'),
    host: z.string().min(1).default('127.0.0.1').describe('Listen address.'),
    port: z.number().int().min(0).max(65535).default(9464).describe('Listen port (0 picks a free one).'),
    livenessGraceSeconds: z
      .number()
      .min(0)
      .default(300)
      .describe('After this long unready while running (broker out of reach, sink failing, consumer stopped for good at once), /healthz fails too so an orchestrator restarts Seismo; 0: /healthz never fails for that.'),
    metricsTokenFile: z.string().min(1).optional().describe('File holding a bearer token that /metrics then requires (`Authorization: Bearer <token>`; Prometheus: `authorization.credentials_file`). /healthz and /readyz stay open for probes. Unset: /metrics is open.'),
  })
  .strict();

const adminSchema = z
  .object({
    enabled: z.boolean().default(false).describe('Serve the admin endpoint (POST /model/reload) on its own port, apart from /metrics.'),
    host: z.string().min(1).default('127.0.0.1').describe('Admin listen address (keep it private).'),
    port: z.number().int().min(0).max(65535).default(9465).describe('Admin listen port (0 picks a free one).'),
    tokenFile: z.string().min(1).optional().describe('File holding the bearer token every admin request must present (`Authorization: Bearer <token>`, compared in constant time). Required (this or `admin.token`) when `admin.host` is not a loopback address: startup refuses otherwise.'),
    token: z.string().min(1).optional().describe('The admin bearer token itself; set it with the SEISMO_ADMIN_TOKEN environment variable, not in the file (never logged). Give `tokenFile` or this, not both.'),
    modelRoot: z.string().min(1).optional().describe('The only directory tree POST /model/reload may load from: `artifactDir` in the body is taken relative to it, or absolute inside it; `..` is refused (400), paths or symlinks leading outside it are refused (403). Default: the parent directory of `artifactDir`.'),
    maxBodyBytes: z.number().int().min(64).default(65536).describe('Largest admin request body; a larger one is answered 413 without being read further, and its connection closed.'),
  })
  .strict();

const daemonSchema = z
  .object({
    shutdownDeadlineSeconds: z.number().positive().default(30).describe('After the first SIGTERM/SIGINT, drain for at most this long, then exit 1.'),
  })
  .strict();

const logSchema = z
  .object({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info').describe('Log level (JSON lines to stdout, or stderr when stdout carries flags).'),
  })
  .strict();

const refitSchema = z
  .object({
    enabled: z.boolean().default(false).describe('Continual learning (experimental, off by default: EVALUATION.md, "Continual learning"): retrain on recent unflagged readings on a schedule or when the drift test fires, score the candidate in shadow beside the live model, and hot-swap it in only when the promotion rule says it is better (docs/operations.md, "Refit").'),
    everyWindows: z.number().int().min(0).default(0).describe('Schedule: start a refit after this many windows scored by the live model since it was loaded or the last refit began (0: no schedule, the drift test alone triggers).'),
    driftSlack: z.number().min(0).default(0.1).describe('Drift test (one-sided Page-Hinkley per entity on the live model\'s calm scores divided by the threshold): the rise of the calm score level, as a fraction of the threshold, that is tolerated without counting.'),
    driftLimit: z.number().min(0).default(20).describe('Drift test: fires when an entity\'s sum of (calm score / threshold - its reference level - driftSlack), floored at 0, exceeds this (e.g. 100 windows each 0.3 above reference + slack gives 30). 0: no drift test.'),
    driftWarmupWindows: z.number().int().min(1).default(200).describe('Drift test: an entity\'s first calm windows under each model set its reference level; the test counts only after them.'),
    bufferReadings: z.number().int().min(10).default(5000).describe('Refit buffer: the most recent readings kept per entity to retrain on (readings inside an alert or an over-threshold window are left out of training). Memory: about bufferReadings x (features + 2) x 8 bytes per entity.'),
    maxEntities: z.number().int().min(1).default(100).describe('Refit buffer and drift test: entities tracked (the first ones seen; later ones are neither buffered nor drift-tested).'),
    minReadings: z.number().int().min(10).default(500).describe('A refit starts only when the buffer holds at least this many usable readings (over all entities).'),
    shadowWindows: z.number().int().min(1).default(2000).describe('Windows the candidate scores in shadow before the promotion rule decides.'),
    keepSeverity: z.number().min(1).default(3).describe('Promotion rule: every live alert episode of the shadow period whose peak severity reaches this must be opened by the candidate too (episodes below it may be the drift false alarms a refit should remove).'),
    minGain: z.number().min(0).max(1).default(0.1).describe('Promotion rule: with as many alert openings as the live model, the candidate must lower the 95th percentile of score / threshold on the windows the live model judged calm by at least this fraction.'),
    dir: z.string().min(1).optional().describe('Where refit work (exported buffer, candidate artifacts) goes; default `<parent of artifactDir>/refit`. Promoted candidates stay there (the replaced model stays where it was, for rollback).'),
    shadowTopic: z.string().min(1).optional().describe('`kafka` sink: topic for the candidate\'s shadow flags (default `<sink.topic>.shadow`); never the flags or the dead-letter topic.'),
    shadowPath: z.string().min(1).default('flags.shadow.ndjson').describe('`file` and `stdout` sinks: NDJSON file for the candidate\'s shadow flags; never the flags output.'),
    waitForTraining: z.boolean().default(false).describe('Hold the stream while a refit trains (and its candidate loads), as if training took no stream time: for replays of files as fast as possible (`source.speed: 0`, evaluations), where a real stream would move on by only a few readings. Never in production: it stalls flags.'),
    trainTimeoutSeconds: z.number().positive().default(3600).describe('A refit training (a `seismo train` child process) running longer than this is killed and counted as failed.'),
  })
  .strict();

const trainingSchema = z
  .object({
    path: z.string().min(1).optional().describe('File or directory of normal data to train on.'),
    maxRows: z.number().int().positive().optional().describe('Use only the first maxRows readings of each entity (e.g. 400 for the SKAB protocol).'),
    scaler: z.enum(['standard', 'minmax']).default('standard').describe('Feature scaling fitted on training rows only.'),
    relativeFeatures: z
      .union([z.enum(['none', 'auto']), z.array(z.string().min(1)).min(1)])
      .default('auto')
      .describe('Features the model sees by their shape within each window (the window mean is subtracted) instead of their level: `none`, a list of names, or `auto`: every feature whose lag-1 autocorrelation over the training rows exceeds `relativeAutocorrelation` (slow, drift-dominated signals such as temperatures, whose level wanders in normal operation further than a few hundred training rows show). Such features can no longer raise alarms by a slow level shift alone; fast changes still show. The default, `auto`, is the choice across the corpora (EVALUATION.md, "The default configuration"); set `none` where the faults to catch are level shifts of slow signals, such as a stuck sensor on a daily cycle (`config/demo.yaml`).'),
    relativeAutocorrelation: z.number().gt(0).lt(1).default(0.5).describe('`relativeFeatures: auto`: the lag-1 autocorrelation above which a feature counts as slow (0.5: more of each reading carries over to the next than not).'),
    seasonal: z
      .union([
        z.enum(['none', 'auto']),
        // A model's recorded columns (its scaler.json `seasonal`): what a refit candidate must
        // have to replace the running model live. Written by the refit, rarely by hand.
        z
          .object({
            periodMs: z.number().int().positive(),
            toleranceMs: z.number().positive(),
            of: z.array(z.string().min(1)).min(1),
            capacity: z.number().int().min(2).max(MAX_SEASONAL_CAPACITY),
          })
          .strict(),
      ])
      .default('none')
      .describe('Daily seasonal differences: with `auto`, each feature whose autocorrelation at a one-day lag exceeds `seasonalAutocorrelation` also enters the model as `<feature>@1d`, its difference to the reading one day earlier, so a value normal at another time of day (a missing daily peak, a holiday) stands out. Needs training data spanning two days at a sampling interval of at least one reading per ~25 s (a day is at most 4096 readings of history per entity); otherwise training says why and goes without. A new entity, or one after a gap one day back, is scored once a day of its history has passed. Or the columns a trained model records (its scaler.json `seasonal`: `periodMs`, `toleranceMs`, `of`, `capacity`): exactly those, without the rhythm test; the refit writes this so that a candidate can replace the running model live, and training fails with the reason when its data do not span two periods.'),
    seasonalAutocorrelation: z.number().gt(0).lt(1).default(0.5).describe('`seasonal: auto`: a feature gets a seasonal difference when its correlation with itself one day earlier (over the lagged pairs) exceeds this and exceeds its correlation half a day earlier (a rhythm, not a slow trend). 0.5: chosen on the NAB selection categories, where the daily streams sit at 0.60-1.00 and the others at or below 0.43 (EVALUATION.md).'),
  })
  .strict();

export const configSchema = z
  .object({
    artifactDir: z.string().min(1).default('artifacts/model').describe('Directory of the trained model artifact.'),
    features: z.array(z.string().min(1)).min(1).optional().describe('Feature names in model order; default: every numeric column of the training data.'),
    input: inputSchema.default({}),
    window: windowSchema.default({}),
    training: trainingSchema.default({}),
    model: modelSchema.default({}),
    threshold: thresholdSchema.default({}),
    alerts: alertsSchema.default({}),
    scoring: scoringSchema.default({}),
    source: sourceSchema.default({}),
    sink: sinkSchema.default({}),
    kafka: kafkaSchema.default({}),
    http: httpSchema.default({}),
    admin: adminSchema.default({}),
    daemon: daemonSchema.default({}),
    log: logSchema.default({}),
    refit: refitSchema.default({}),
  })
  .strict();

export type SeismoConfig = z.infer<typeof configSchema>;
export type ModelConfig = SeismoConfig['model'];
export type WindowConfig = SeismoConfig['window'];
export type InputConfig = SeismoConfig['input'];
export type AlertsConfig = SeismoConfig['alerts'];
export type ThresholdConfig = SeismoConfig['threshold'];
export type ScoringConfig = SeismoConfig['scoring'];
export type KafkaConfig = SeismoConfig['kafka'];
export type SourceConfig = SeismoConfig['source'];
export type SinkConfig = SeismoConfig['sink'];
export type RefitConfig = SeismoConfig['refit'];

/** A leaf of the schema: its dotted path, doc, default and the zod type to parse overrides with. */
export interface ConfigField {
  path: string[];
  description: string;
  defaultValue: unknown;
  kind: 'string' | 'number' | 'boolean' | 'enum' | 'array';
}

/** Walks the schema so docs, env overrides and the example-config test all see the same keys. */
export function listConfigFields(schema: z.ZodTypeAny = configSchema, prefix: string[] = []): ConfigField[] {
  const fields: ConfigField[] = [];
  let inner: z.ZodTypeAny = schema;
  let description = schema.description ?? '';
  let defaultValue: unknown = undefined;
  for (;;) {
    if (inner instanceof z.ZodDefault) {
      defaultValue = inner._def.defaultValue();
      inner = inner._def.innerType;
    } else if (inner instanceof z.ZodOptional) {
      inner = inner.unwrap();
    } else if (inner instanceof z.ZodEffects) {
      inner = inner.innerType(); // a preprocess (e.g. the threshold's implied method)
    } else break;
    description ||= inner.description ?? '';
  }
  if (inner instanceof z.ZodObject) {
    for (const [key, child] of Object.entries(inner.shape as Record<string, z.ZodTypeAny>)) {
      fields.push(...listConfigFields(child, [...prefix, key]));
    }
    return fields;
  }
  const kind = inner instanceof z.ZodNumber ? 'number'
    : inner instanceof z.ZodBoolean ? 'boolean'
    : inner instanceof z.ZodEnum ? 'enum'
    : inner instanceof z.ZodArray ? 'array'
    : 'string';
  fields.push({ path: prefix, description, defaultValue, kind });
  return fields;
}

/** SEISMO_ + the path in upper snake case: kafka.brokers -> SEISMO_KAFKA_BROKERS. */
export function envName(path: string[]): string {
  return 'SEISMO_' + path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_');
}
