#!/usr/bin/env node
import { createWriteStream, existsSync, openSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { loadConfig } from './config/load.js';
import type { SeismoConfig } from './config/schema.js';
import { AlertTracker, finiteScore } from './detect/alerts.js';
import { Daemon, handleSignals } from './daemon.js';
import { DEFAULT_DEMO, runDemo } from './demo/demo.js';
import { calibrateThreshold, describeThreshold, requireUsableThreshold } from './detect/calibrate.js';
import { ERROR_CODES, isSeismoError, SeismoError } from './errors.js';
import { embedWindows } from './jobs/embed-job.js';
import { csvRow } from './jobs/csv-field.js';
import { defaultJobs, MAX_DEFAULT_JOBS, parseCategories, parseJobs, parseSeeds, parseSplit, runEvaluate } from './evaluate/command.js';
import { loadReadings, rejectedSummary, windowize, type Intervals } from './jobs/data.js';
import { MIN_CALIBRATION_WINDOWS, smoothedPerEntity, trainFromData } from './jobs/train-job.js';
import { chooseTrainingFeatures, modelFeaturesAt, type FeatureChoice } from './jobs/feature-choice.js';
import { flaggedIntervals, loadReadingsFromKafka } from './jobs/kafka-data.js';
import { parseTimestamp } from './source/decode.js';
import { checkArtifactTarget, loadArtifact, saveArtifact, writeThreshold } from './model/artifact.js';
import { chooseBackend } from './model/backend.js';
import { trainingQualityProblem } from './model/provenance.js';
import { diffArtifacts, formatList, inspectArtifact, listArtifacts } from './model/inspect.js';
import { splitChronological, type WindowSet } from './model/train.js';
import type { ThresholdState } from './model/artifact.js';
import { calibrateOutOfSample, wantsOutOfSample } from './jobs/oos-calibrate.js';
import { createLogger, type Logger } from './observability/logger.js';
import { trainingProgress } from './observability/progress.js';
import { Scorer } from './score/scorer.js';
import { simulate } from './simulate/simulator.js';
import type { DeadLetterSink, Sink } from './sink/sink.js';
import { KafkaDeadLetterSink, KafkaFlagSink, KafkaProducerLink } from './sink/kafka-sink.js';
import { KafkaSource } from './source/kafka-source.js';
import type { Source } from './source/source.js';
import { createKafka } from './kafka/client.js';
import { produceReadings } from './kafka/produce.js';
import { Metrics } from './observability/metrics.js';
import { FileDeadLetterSink, FileSink, LogDeadLetterSink, StreamSink } from './sink/stream-sink.js';
import { emptyRangeMessage, fileSource } from './source/replay.js';
import { ShadowSink } from './sink/shadow-sink.js';
import { Scaler } from './window/scaler.js';
import { SEISMO_VERSION } from './version.js';
import { watchLauncher } from './launcher-watch.js';
import { refuseOutputOverInput } from './output-paths.js';
import { applyReplayFlags, type ReplayFlags, type TimeRange } from './config/flags.js';
import type { WindowScore } from './domain/types.js';

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

function configFrom(path: string | undefined): SeismoConfig {
  return loadConfig(path);
}

/** A strict whole-number option: "abc", "1.5", "-1" or "" are named errors, not NaN or 0 downstream. */
function wholeNumber(flag: string, min: number, max = Number.MAX_SAFE_INTEGER): (v: string) => number {
  return (v) => {
    const n = /^\d+$/.test(v.trim()) ? Number(v) : NaN;
    if (!(n >= min && n <= max)) throw new SeismoError('SEISMO_CONFIG_INVALID', `${flag}: expected a whole number from ${min} to ${max}, got "${v}"`);
    return n;
  };
}

function output(path: string | undefined): NodeJS.WritableStream {
  if (!path) return process.stdout;
  // Opened here, so a directory or a missing folder is a named error before any work (a stream's
  // own open error would surface later as an unhandled 'error' event).
  let fd: number;
  try {
    fd = openSync(path, 'w');
  } catch (err) {
    throw new SeismoError('SEISMO_CONFIG_INVALID', `--out ${path}: cannot write it: ${(err as Error).message}`);
  }
  return createWriteStream(path, { fd });
}

async function closeOutput(stream: NodeJS.WritableStream): Promise<void> {
  if (stream === process.stdout) return;
  await new Promise<void>((resolve) => stream.end(() => resolve()));
}

function timeOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const t = parseTimestamp(value);
  if (!Number.isFinite(t)) throw new SeismoError('SEISMO_CONFIG_INVALID', `${name}: cannot parse "${value}" as ISO 8601 or epoch milliseconds`);
  return t;
}

/** Commander parser for a numeric flag that must be > 0 (or >= 0 with `zeroOk`). */
function positive(flag: string, zeroOk = false) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0 || (n === 0 && !zeroOk)) throw new SeismoError('SEISMO_CONFIG_INVALID', `${flag}: expected a number ${zeroOk ? '>= 0' : '> 0'}, got "${v}"`);
    return n;
  };
}

function requirePath(value: string | undefined, what: string): string {
  if (value === undefined) throw new SeismoError('SEISMO_CONFIG_INVALID', `${what}: give --data or set training.path in the config`);
  return value;
}

/** The score command's product is the per-window NDJSON; flags are not its output. */
class NoFlagsSink implements Sink {
  async send(): Promise<void> {}
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}

function deadLetterFor(cfg: SeismoConfig, log: Logger) {
  return cfg.sink.deadLetterPath ? new FileDeadLetterSink(cfg.sink.deadLetterPath) : new LogDeadLetterSink(log);
}

function sinksFor(cfg: SeismoConfig, log: Logger, metrics: Metrics): { sink: Sink; deadLetter: DeadLetterSink; shadowSink?: Sink } {
  if (cfg.sink.kind === 'kafka') {
    const link = new KafkaProducerLink(createKafka(cfg.kafka, log), metrics, cfg.sink.maxMessageBytes);
    // A refit candidate's flags: on the same producer, to a topic of their own (refit.shadowTopic).
    const shadow = cfg.refit.enabled ? { shadowSink: new ShadowSink(new KafkaFlagSink(link, cfg.refit.shadowTopic ?? `${cfg.sink.topic}.shadow`), true) } : {};
    return { sink: new KafkaFlagSink(link, cfg.sink.topic), deadLetter: new KafkaDeadLetterSink(link, cfg.sink.deadLetterTopic), ...shadow };
  }
  return { sink: cfg.sink.kind === 'file' ? new FileSink(cfg.sink.path ?? 'flags.ndjson') : new StreamSink(process.stdout), deadLetter: deadLetterFor(cfg, log) };
}

/** `train --exclude FILE`: {"entity": [[fromMs, toMs], ...]}, checked so a bad file names what is wrong. */
function readIntervals(file: string): Intervals {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new SeismoError('SEISMO_CONFIG_INVALID', `--exclude ${file}: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new SeismoError('SEISMO_CONFIG_INVALID', `--exclude ${file}: expected a JSON object {"entity": [[fromMs, toMs], ...]}`);
  const out: Intervals = new Map();
  for (const [entity, list] of Object.entries(parsed)) {
    const ok = Array.isArray(list) && list.every((p) => Array.isArray(p) && p.length === 2 && p.every((t) => typeof t === 'number'));
    if (!ok) throw new SeismoError('SEISMO_CONFIG_INVALID', `--exclude ${file}: entity ${JSON.stringify(entity)}: expected a list of [fromMs, toMs] pairs of numbers`);
    out.set(entity, list as [number, number][]);
  }
  checkIntervals(file, out);
  return out;
}

/**
 * The intervals must each be a time span: a reversed one ([to, from], e.g. swapped by a script)
 * overlaps nothing, so the anomaly it was meant to hide would silently be learned as normal.
 * JSON has no Infinity, but 1e999 parses to it.
 */
function checkIntervals(file: string, intervals: Intervals): void {
  for (const [entity, list] of intervals) {
    list.forEach(([from, to], i) => {
      const problem = !Number.isFinite(from) || !Number.isFinite(to) ? 'is not a pair of finite epoch milliseconds' : from > to ? 'ends before it starts (fromMs > toMs; swapped?)' : undefined;
      if (problem !== undefined) throw new SeismoError('SEISMO_INPUT_INVALID', `--exclude ${file}: entity ${JSON.stringify(entity)}, interval ${i} [${from}, ${to}] ${problem}; nothing was trained`);
    });
  }
}

function sourceFor(cfg: SeismoConfig, log: Logger, metrics: Metrics, range: TimeRange): Source {
  if (cfg.source.kind === 'kafka') return new KafkaSource(createKafka(cfg.kafka, log), cfg.source, log, metrics);
  if (cfg.source.path === undefined) throw new SeismoError('SEISMO_CONFIG_INVALID', 'source.path: required for source.kind "file" (or give --data PATH)');
  const path = cfg.source.path;
  return fileSource(path, cfg.input, cfg.source.speed, cfg.scoring.maxBatch, range, (e) => log.warn(emptyRangeMessage(path, range, e)), cfg.window.maxGapSeconds * 1000);
}

/** The replay flags `run` and `score` share (see config/flags.ts). */
function replayRangeOptions(cmd: Command): Command {
  return cmd
    .option('--from <time>', 'replay only readings at or after this time (ISO 8601 or epoch ms)')
    .option('--to <time>', 'replay only readings before this time (ISO 8601 or epoch ms)');
}

/**
 * Set by `run` while stdout is its flags sink (sink.kind stdout): then a closed stdout is not a
 * reader that is done but a daemon whose flags go nowhere.
 */
let stdoutIsFlagsSink: Logger | undefined;

// `seismo score ... | head` closes stdout early: that is the reader being done, not an error
// to print a stack trace for. End quietly, as other command-line tools do. Except for the
// daemon writing its flags there: exiting 0 would tell a supervisor all is well while every
// later flag is lost, so it is a sink failure, logged, with that exit status (restart me).
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  if (stdoutIsFlagsSink === undefined) process.exit(0);
  const failure = new SeismoError('SEISMO_SINK_FAILED', 'flags sink stdout (sink.kind stdout): its reader closed it (EPIPE); later flags cannot be delivered, so seismo run stops for a supervisor to restart it');
  // The logger writes to stderr when stdout carries the flags, so this line still gets out.
  stdoutIsFlagsSink.error({ err }, failure.message);
  process.stderr.write(`seismo: ${failure.code}: ${failure.message}\n`);
  process.exit(failure.exitCode);
});

const program = new Command();
program.name('seismo').description('Rare-event detection on multivariate sensor streams with an LSTM autoencoder').version(SEISMO_VERSION);
const configOption = () => new Option('-c, --config <file>', 'YAML config file (SEISMO_* environment variables override it)');

program
  .command('validate-config')
  .argument('<file>', 'config file to check')
  .description('check a config file; prints every problem with file:line:column and field path')
  .action((file: string) => {
    const cfg = loadConfig(file);
    process.stdout.write(`${file}: OK (artifactDir ${cfg.artifactDir}, lookback ${cfg.window.lookback}, encoder [${cfg.model.encoderUnits.join(', ')}], backend ${cfg.scoring.backend})\n`);
    // Not an error (train, score and `run --data` take the data on the command line), but say it.
    if (cfg.source.kind === 'file' && cfg.source.path === undefined) process.stdout.write(`${file}: note: source.kind "file" without source.path: \`seismo run\` needs --data PATH\n`);
  });

program
  .command('train')
  .addOption(configOption())
  .option('-d, --data <path>', 'normal data: a CSV/NDJSON file or a directory of them (default training.path)')
  .option('--from-kafka', 'train on readings from source.topics[0] (or --topic) instead of files, leaving out what sink.topic flagged')
  .option('--topic <name>', 'with --from-kafka: the readings topic')
  .option('--since <time>', 'with --from-kafka: first message time (ISO 8601 or epoch ms; default: the beginning)')
  .option('--until <time>', 'with --from-kafka: end of the range, exclusive (default: now)')
  .option('--flags-topic <name>', 'with --from-kafka: flags whose alert episodes are left out (default sink.topic)')
  .option('--keep-flagged', 'with --from-kafka: do not leave out flagged episodes')
  .option('--exclude <file>', 'JSON {"entity": [[fromMs, toMs], ...]}: time intervals not to learn as normal (their readings and every window touching them are left out; the refit buffer writes it)')
  .option('-o, --out <dir>', 'artifact directory (default artifactDir)')
  .option('--force', 'save the model even when it did not learn (validation loss not below the trivial baseline)')
  .description('train the autoencoder on normal data, calibrate the threshold on the held-out tail, save the artifact')
  .action(async (opts: { config?: string; data?: string; out?: string; fromKafka?: boolean; topic?: string; since?: string; until?: string; flagsTopic?: string; keepFlagged?: boolean; force?: boolean; exclude?: string }) => {
    const cfg = configFrom(opts.config);
    const log = createLogger(cfg.log.level, true);
    checkArtifactTarget(opts.out ?? cfg.artifactDir); // before hours of training, not after
    const backend = await chooseBackend(cfg.scoring.backend, cfg.scoring.threads);
    if (backend.fallbackReason) log.warn({ reason: backend.fallbackReason }, `training on the ${backend.active} fallback backend`);
    let result;
    let choice: FeatureChoice;
    let excluded: Record<string, number> | undefined;
    if (opts.fromKafka) {
      const kafka = createKafka(cfg.kafka, log);
      const topic = opts.topic ?? cfg.source.topics[0] ?? 'seismo.readings';
      const range = { since: timeOption(opts.since, '--since'), until: timeOption(opts.until, '--until') };
      const loaded = await loadReadingsFromKafka(kafka, topic, range, cfg);
      // Retraining: the features the config or the model in service names, not whatever keys
      // the topic happened to carry.
      choice = chooseTrainingFeatures(loaded.byEntity, cfg.features, modelFeaturesAt(opts.out ?? cfg.artifactDir));
      const data = { ...loaded, features: choice.features };
      const intervals = opts.keepFlagged ? undefined : await flaggedIntervals(kafka, opts.flagsTopic ?? cfg.sink.topic, range.since);
      excluded = intervals ? Object.fromEntries([...intervals].map(([e, list]) => [e, list.length])) : undefined;
      log.info({ topic, ...range, entities: data.byEntity.size, flaggedEpisodesLeftOut: excluded }, 'training data read from Kafka');
      const progress = trainingProgress();
      result = await trainFromData(cfg, data, progress.onEpoch, intervals);
      progress.stop();
    } else {
      const loaded = loadReadings(requirePath(opts.data ?? cfg.training.path, 'train'), cfg, cfg.training.maxRows);
      if (loaded.poison.length > 0) log.warn(rejectedSummary(loaded.poison), 'training data: records rejected (as the daemon would dead-letter them); the model trains without them');
      choice = chooseTrainingFeatures(loaded.byEntity, cfg.features);
      const intervals = opts.exclude !== undefined ? readIntervals(opts.exclude) : undefined;
      const progress = trainingProgress();
      result = await trainFromData(cfg, { ...loaded, features: choice.features }, progress.onEpoch, intervals);
      progress.stop();
      // Not an error: the refit writes intervals for entities that may have left its buffer since.
      if (result.excludedNotInData) log.warn({ exclude: opts.exclude, entities: result.excludedNotInData }, `--exclude ${opts.exclude}: entit${result.excludedNotInData.length > 1 ? 'ies' : 'y'} ${result.excludedNotInData.map((e) => JSON.stringify(e)).join(', ')} not in the training data: nothing left out for ${result.excludedNotInData.length > 1 ? 'them' : 'it'}`);
    }
    if (result.leftOut) log.info({ leftOut: result.leftOut }, 'training data left out as not normal, per entity: intervals, readings (also kept out of the scaler), training windows touching them');
    if (Object.keys(choice.ignored).length > 0) {
      log.warn({ ignored: choice.ignored, ...(choice.unusable ? { unusable: choice.unusable } : {}), features: choice.features, featuresFrom: choice.from, readings: choice.readings }, 'keys in the training data that are not model features were left out (readings carrying each shown; keys that can never be features under unusable, with why); name the features in the config to train on others');
    }
    for (const note of result.artifact.threshold?.notes ?? []) log.warn(note);
    if (result.extremeFeatures.length > 0) log.warn({ extremeFeatures: result.extremeFeatures }, 'features whose training scale a few extreme values set (leaving out the 0.5 % farthest from the median shrinks their spread over 1000-fold): their normal variation scales to about nothing and the model will hardly notice them. Look for sentinel values (1e30, -9999) in the training data and remove those rows');
    if (result.constantFeatures.length > 0) log.warn({ constantFeatures: result.constantFeatures }, 'features constant in the training data: kept with scale 1, they read 0 when normal and any change shows in their own units');
    const dir = opts.out ?? cfg.artifactDir;
    const poorFit = trainingQualityProblem(result.artifact.manifest.training);
    if (poorFit !== undefined) {
      if (!opts.force) throw new SeismoError('SEISMO_TRAINING_FAILED', `not saved to ${dir}: ${poorFit}`);
      log.warn({ artifact: dir }, `saved with --force although ${poorFit.replace(/; --force saves it anyway$/, '')}`);
    }
    await saveArtifact(dir, result.artifact);
    const m = result.artifact.manifest;
    process.stdout.write(`${JSON.stringify({ artifact: dir, model: m.version, features: m.features, lookback: m.lookback, threshold: result.artifact.threshold?.value, ...(result.artifact.threshold ? { thresholdRule: describeThreshold(result.artifact.threshold) } : {}), backend: backend.active, training: m.training, ...(result.artifact.scaler.seasonal ? { seasonal: result.artifact.scaler.seasonal } : {}), ...(result.seasonalReason !== undefined ? { seasonalNone: result.seasonalReason } : {}), ...(result.constantFeatures.length > 0 ? { constantFeatures: result.constantFeatures } : {}), ...(excluded ? { flaggedEpisodesLeftOut: excluded } : {}), ...(result.leftOut ? { leftOut: result.leftOut } : {}), ...(result.excludedNotInData ? { excludedNotInData: result.excludedNotInData } : {}), ...(Object.keys(choice.ignored).length > 0 ? { ignoredKeys: choice.ignored } : {}), ...(choice.unusable ? { unusableKeys: choice.unusable } : {}) })}\n`);
  });

program
  .command('calibrate')
  .addOption(configOption())
  .option('-d, --data <path>', 'normal data to calibrate on (default: the held-out tail of training.path)')
  .option('--all', 'use every window of --data (it is all held-out normal data), not only its chronological tail')
  .option('--all-rows', 'read every row of each entity, not only the first training.maxRows (they must all be normal)')
  .description('recalibrate the threshold (threshold.*) on held-out normal window errors, from the same rows as training; prints old -> new')
  .action(async (opts: { config?: string; data?: string; all?: boolean; allRows?: boolean }) => {
    const cfg = configFrom(opts.config);
    const log = createLogger(cfg.log.level, true);
    await chooseBackend(cfg.scoring.backend, cfg.scoring.threads);
    const artifact = await loadArtifact(cfg.artifactDir, { features: cfg.features, lookback: cfg.window.lookback });
    // The rows training used (training.maxRows): past them a file may hold the anomalies
    // themselves (SKAB's protocol trains on the first 400 rows), which must not set the bar.
    const data = loadReadings(requirePath(opts.data ?? cfg.training.path, 'calibrate'), { ...cfg, features: artifact.manifest.features }, opts.allRows ? undefined : cfg.training.maxRows);
    const perEntity = windowize(data, new Scaler(artifact.scaler), cfg).filter((e) => e.set.count >= 2);
    const where = opts.data ?? cfg.training.path ?? 'the data';
    if (perEntity.length === 0) throw new SeismoError('SEISMO_INPUT_INVALID', `${where}: no windows to calibrate on (no entity has ${cfg.window.lookback + 1} consecutive usable readings for lookback ${cfg.window.lookback})`);
    // The held-out windows: the chronological tail training held out, or every window (--all).
    const heldOut = perEntity.map((e) => (opts.all ? e.set : splitChronological(e.set, cfg.model.validationSplit).validation));
    // As `train` requires: a threshold from a handful of windows would overwrite a good one with noise.
    const heldOutCount = heldOut.reduce((n, h) => n + h.count, 0);
    if (heldOutCount < MIN_CALIBRATION_WINDOWS) throw new SeismoError('SEISMO_INPUT_INVALID', `${where}: ${heldOutCount} held-out window(s) to calibrate on, need at least ${MIN_CALIBRATION_WINDOWS} (as training does); the threshold in ${cfg.artifactDir} is unchanged`);
    // The same calibration as `train` (threshold.calibration, threshold.falseAlertsPerDay): a
    // recalibration that silently fell back to threshold.method would move the bar by its own rule.
    // With --all every window is held out already: no folds to retrain.
    const oosCfg = opts.all ? { ...cfg, threshold: { ...cfg.threshold, calibration: 'holdout' as const } } : cfg;
    const threshold = requireUsableThreshold(wantsOutOfSample(cfg) ? await calibrateOutOfSample(oosCfg, artifact.model, perEntity, heldOut) : heldOutThreshold(artifact, heldOut, cfg), where);
    for (const note of threshold.notes ?? []) log.warn({ artifact: cfg.artifactDir }, note);
    writeThreshold(cfg.artifactDir, threshold);
    const old = artifact.threshold?.value;
    process.stderr.write(`threshold ${old === undefined ? '(none)' : old.toPrecision(4)} -> ${threshold.value.toPrecision(4)} (${describeThreshold(threshold)}${opts.allRows || cfg.training.maxRows === undefined ? '' : `, first ${cfg.training.maxRows} rows of each entity`}) in ${cfg.artifactDir}\n`);
    process.stdout.write(`${JSON.stringify(threshold)}\n`);
  });

replayRangeOptions(
  program
    .command('score')
    .addOption(configOption())
    .requiredOption('-d, --data <path>', 'CSV/NDJSON file or directory to score')
    .option('-o, --out <file>', 'NDJSON output (default stdout)'),
)
  .description('score every window of a file through the streaming path; NDJSON of window scores: score (the window\'s), smoothedScore and above (what run judges)')
  .action(async (opts: { config?: string; data: string; out?: string; from?: string; to?: string }) => {
    const { config: cfg, range } = applyReplayFlags(configFrom(opts.config), { data: opts.data, ...(opts.from !== undefined ? { from: opts.from } : {}), ...(opts.to !== undefined ? { to: opts.to } : {}) });
    const log = createLogger(cfg.log.level, true);
    refuseOutputOverInput([{ what: '--out', path: opts.out }, { what: 'sink.deadLetterPath', path: cfg.sink.deadLetterPath }], [opts.data]);
    const out = output(opts.out);
    let threshold = NaN;
    let features: string[] = [];
    let judge: AlertTracker | undefined;
    const write = (s: WindowScore) => {
      // Non-finite errors as the tracker judges them (the maximum score): JSON has no Infinity, and null would read as "no error".
      const featureErrors = Object.fromEntries(features.map((f, i) => [f, Number(finiteScore(s.featureErrors[i] ?? 0).toPrecision(6))]));
      // A non-finite error (an extreme reading) is reported as the tracker judges it: the maximum score.
      const score = finiteScore(s.score);
      // What `run` compares with the threshold: the smoothed score (alerts.smoothWindows), none
      // for warm-up windows (window.warmupWindows), which are not judged.
      const judged = judge?.judgedScore(s);
      const smoothedScore = judged === undefined ? null : Number(judged.toPrecision(7));
      out.write(`${JSON.stringify({ entity: s.entity, windowStart: new Date(s.startTs).toISOString(), windowEnd: new Date(s.endTs).toISOString(), score, smoothedScore, threshold, above: judged !== undefined && judged > threshold, featureErrors })}\n`);
    };
    const artifact = await (async () => {
      await chooseBackend(cfg.scoring.backend, cfg.scoring.threads);
      return loadArtifact(cfg.artifactDir, { features: cfg.features, lookback: cfg.window.lookback });
    })();
    threshold = artifact.threshold?.value ?? NaN;
    // The model's columns, seasonal ones included: feature errors come one per column.
    features = artifact.scaler.features;
    judge = new AlertTracker(cfg.alerts, threshold, features, artifact.manifest.version, cfg.window.warmupWindows);
    const daemon = new Daemon({
      config: { ...cfg, http: { ...cfg.http, enabled: false } },
      log,
      source: fileSource(opts.data, cfg.input, 0, cfg.scoring.maxBatch, range, (e) => log.warn(emptyRangeMessage(opts.data, range, e))),
      sink: new NoFlagsSink(),
      deadLetter: deadLetterFor(cfg, log),
      artifact,
      onScore: write,
    });
    await daemon.start();
    await daemon.finished();
    await daemon.stop();
    await closeOutput(out);
  });

program
  .command('embed')
  .addOption(configOption())
  .requiredOption('-d, --data <path>', 'CSV/NDJSON file or directory')
  .addOption(new Option('-f, --format <format>', 'output format').choices(['ndjson', 'csv']).default('ndjson'))
  .option('-o, --out <file>', 'output file (default stdout)')
  .description("write the standalone encoder's code vector for every window")
  .action(async (opts: { config?: string; data: string; format: 'ndjson' | 'csv'; out?: string }) => {
    const cfg = configFrom(opts.config);
    refuseOutputOverInput([{ what: '--out', path: opts.out }], [opts.data]);
    await chooseBackend(cfg.scoring.backend, cfg.scoring.threads);
    const artifact = await loadArtifact(cfg.artifactDir, { features: cfg.features, lookback: cfg.window.lookback });
    const data = loadReadings(opts.data, { ...cfg, features: artifact.manifest.features });
    const out = output(opts.out);
    let header = false;
    for (const e of embedWindows(artifact, windowize(data, new Scaler(artifact.scaler), cfg), cfg.scoring.maxBatch)) {
      if (opts.format === 'ndjson') out.write(`${JSON.stringify(e)}\n`);
      else {
        if (!header) {
          out.write(`${csvRow(['entity', 'windowStart', 'windowEnd', ...e.code.map((_, i) => `c${i}`)])}\n`);
          header = true;
        }
        out.write(`${csvRow([e.entity, e.windowStart, e.windowEnd, ...e.code])}\n`);
      }
    }
    await closeOutput(out);
  });

replayRangeOptions(
  program
    .command('run')
    .addOption(configOption())
    .option('-d, --data <path>', 'replay this CSV/NDJSON file or directory (source.kind file, source.path)')
    .option('--speed <x>', 'file replay pace: 0 as fast as possible, N = N x real time (source.speed)')
    .addOption(new Option('--sink <kind>', 'where flags go (sink.kind)').choices(['stdout', 'file', 'kafka']))
    .option('-o, --out <file>', 'NDJSON flags file (sink.path; implies --sink file)')
    .option('--port <n>', 'HTTP port for /metrics, /healthz, /readyz (http.port; 0 picks a free one)'),
)
  .description('run the daemon: source -> windows -> model -> alerts -> sink, with /metrics, /healthz, /readyz; flags override the config')
  .action(async (opts: { config?: string } & ReplayFlags) => {
    const { config: cfg, range } = applyReplayFlags(configFrom(opts.config), opts);
    const log = createLogger(cfg.log.level, cfg.sink.kind === 'stdout');
    if (cfg.sink.kind === 'stdout') stdoutIsFlagsSink = log;
    if (cfg.source.kind === 'file') refuseOutputOverInput([{ what: 'sink.path', path: cfg.sink.kind === 'file' ? cfg.sink.path : undefined }, { what: 'sink.deadLetterPath', path: cfg.sink.deadLetterPath }], [cfg.source.path]);
    const metrics = new Metrics();
    const { sink, deadLetter, shadowSink } = sinksFor(cfg, log, metrics);
    const daemon = new Daemon({ config: cfg, log, metrics, source: sourceFor(cfg, log, metrics, range), sink, deadLetter, ...(shadowSink ? { shadowSink } : {}) });
    handleSignals(daemon, log, cfg.daemon.shutdownDeadlineSeconds * 1000);
    try {
      await daemon.start();
      await daemon.finished();
    } catch (err) {
      // Close whatever did start (HTTP, connections) so the process can exit with the error's
      // code: a failed run must never leave a process that looks alive.
      log.error({ err }, 'seismo run failed; stopping');
      await daemon.stop().catch(() => {});
      throw err;
    }
    await daemon.stop();
  });

program
  .command('produce')
  .addOption(configOption())
  .option('--data <path>', 'CSV/NDJSON file or directory to replay (default: the seeded simulator)')
  .option('--topic <name>', 'topic to write (default: the first of source.topics)')
  .option('--rate <n>', 'readings per second (0 = as fast as possible)', (v) => Number(v), 0)
  .option('--entities <n>', 'simulator entities', (v) => Number(v), DEFAULT_DEMO.entities)
  .option('--steps <n>', 'simulator readings per entity', (v) => Number(v), DEFAULT_DEMO.trainSteps + DEFAULT_DEMO.testSteps)
  .option('--seed <n>', 'simulator seed', (v) => Number(v), DEFAULT_DEMO.seed)
  .option('--now', 'stamp readings with the current time instead of their own (for latency runs)')
  .option('--timeout <seconds>', 'give up (exit 7) when connecting or one write takes longer', positive('--timeout'), 30)
  .description('write readings to a Kafka topic (key = entity id, value = a JSON reading), from a file or the simulator')
  .action(async (opts: { config?: string; data?: string; topic?: string; rate: number; entities: number; steps: number; seed: number; now?: boolean; timeout: number }) => {
    const cfg = configFrom(opts.config);
    const log = createLogger(cfg.log.level, true);
    const topic = opts.topic ?? cfg.source.topics[0] ?? 'seismo.readings';
    const readings = opts.data
      ? [...loadReadings(opts.data, cfg).byEntity.values()].flat().sort((a, b) => a.ts - b.ts)
      : simulate({ seed: opts.seed, entities: opts.entities, periodSeconds: DEFAULT_DEMO.periodSeconds, steps: opts.steps, eventsPerEntity: DEFAULT_DEMO.eventsPerEntity, eventFrom: Math.min(DEFAULT_DEMO.trainSteps, opts.steps), startTs: Date.UTC(2026, 10, 1) }).readings;
    const result = await produceReadings(createKafka(cfg.kafka, log), topic, readings, { rate: opts.rate, restamp: opts.now === true, giveUpMs: opts.timeout * 1000, brokers: cfg.kafka.brokers });
    process.stdout.write(`${result.sent} readings -> ${topic} in ${result.seconds.toFixed(2)} s (${Math.round(result.sent / result.seconds)}/s)\n`);
  });

program
  .command('demo')
  .addOption(configOption().default(existsSync(join(packageRoot, 'config/demo.yaml')) ? join(packageRoot, 'config/demo.yaml') : undefined))
  .option('--serve', 'keep /metrics, /healthz and /readyz up after the replay, until SIGTERM/SIGINT')
  .option('--seed <n>', 'simulator seed', (v) => Number(v), DEFAULT_DEMO.seed)
  .description('train, calibrate and replay the built-in simulated pump fleet; print flags and a summary')
  .action(async (opts: { config?: string; serve?: boolean; seed: number }) => {
    const cfg = configFrom(opts.config);
    const log = createLogger(cfg.log.level, true);
    const { summary, daemon } = await runDemo(cfg, log, process.stdout, { ...DEFAULT_DEMO, seed: opts.seed }, opts.serve === true);
    log.info({ summary }, 'demo finished');
    if (opts.serve) {
      process.stdout.write(`Serving http://${cfg.http.host}:${daemon.httpPort}/metrics until SIGTERM/SIGINT\n`);
      handleSignals(daemon, log, cfg.daemon.shutdownDeadlineSeconds * 1000);
      return;
    }
    await daemon.stop();
  });

program
  .command('simulate')
  .requiredOption('-o, --out <file>', 'NDJSON readings file to write; events go to <file>.events.json')
  .option('--seed <n>', 'seed', wholeNumber('--seed', 0), DEFAULT_DEMO.seed)
  .option('--entities <n>', 'entities (at most 100,000)', wholeNumber('--entities', 1, 100_000), DEFAULT_DEMO.entities)
  .option('--steps <n>', 'readings per entity (entities x steps at most 50 million)', wholeNumber('--steps', 1), DEFAULT_DEMO.trainSteps + DEFAULT_DEMO.testSteps)
  .option('--events <n>', 'events per entity (after the first --normal steps)', wholeNumber('--events', 0), DEFAULT_DEMO.eventsPerEntity)
  .option('--normal <n>', 'leading event-free steps per entity (less than --steps)', wholeNumber('--normal', 0), DEFAULT_DEMO.trainSteps)
  .description('write the seeded simulator output (readings in the Kafka message format) and its labelled events')
  .action(async (opts: { out: string; seed: number; entities: number; steps: number; events: number; normal: number }) => {
    if (opts.entities * opts.steps > 50_000_000) throw new SeismoError('SEISMO_CONFIG_INVALID', `--entities x --steps: ${opts.entities} x ${opts.steps} readings is more than 50 million (held in memory)`);
    if (opts.events > 0 && opts.normal >= opts.steps) throw new SeismoError('SEISMO_CONFIG_INVALID', `--normal ${opts.normal}: must be less than --steps ${opts.steps} for events to fit after it (or --events 0)`);
    const out = output(opts.out);
    const sim = simulate({ seed: opts.seed, entities: opts.entities, periodSeconds: DEFAULT_DEMO.periodSeconds, steps: opts.steps, eventsPerEntity: opts.events, eventFrom: opts.normal, startTs: Date.UTC(2026, 10, 1) });
    for (const r of sim.readings) out.write(`${JSON.stringify({ entity: r.entity, ts: new Date(r.ts).toISOString(), values: r.values })}\n`);
    await closeOutput(out);
    const events = createWriteStream(`${opts.out}.events.json`);
    events.end(JSON.stringify(sim.events.map((e) => ({ ...e, startTs: new Date(e.startTs).toISOString(), endTs: new Date(e.endTs).toISOString() })), null, 2));
    process.stdout.write(`${sim.readings.length} readings -> ${opts.out}, ${sim.events.length} events -> ${opts.out}.events.json\n`);
  });

program
  .command('evaluate')
  .addOption(configOption())
  .addOption(new Option('--protocol <name>', 'skab: per-file SKAB leaderboard protocol; rare-event: one long labelled CSV; nab: the NAB corpus (train on each file\'s probationary rows)').choices(['skab', 'rare-event', 'nab']).default('skab'))
  .requiredOption('-d, --data <path>', 'labelled data (skab: the SKAB data/ folder or one of its files; rare-event: one CSV)')
  .option('--label-column <name>', 'rare-event: the 0/1 label column', 'label')
  .option('--shift <k>', 'rare-event: predict k rows ahead (the k rows before each event become positive)', wholeNumber('--shift', 0), 2)
  .option('--drop <columns>', 'rare-event: comma-separated columns to leave out', '')
  .option('--split <train,val>', 'rare-event: chronological fractions for training and validation (the rest is test)', '0.6,0.2')
  .addOption(new Option('--method <method>', 'published: the leaderboard rule; seismo: threshold.* and alerts.*; both').choices(['published', 'seismo', 'both']).default('both'))
  .option('--seeds <list>', 'model seeds, comma-separated; mean and std over them', '1')
  .option('--report <dir>', 'write summary.md and the raw results here (results.json and per-file plots; rare-event: rare-event.json)')
  .option('--categories <list>', 'nab: only these corpus folders, comma-separated (e.g. realTraffic,realAdExchange)')
  .option('--nab-results <dir>', 'nab: also write the official NAB results layout (<dir>/<detector>/<category>/<detector>_<file>.csv)')
  .option('--jobs <n>', `skab, nab: files evaluated side by side, each on a worker thread; rare-event: seeds (default: the cores, at most ${MAX_DEFAULT_JOBS}; 1: in the main thread)`, (v) => parseJobs(v), defaultJobs())
  .description('replay labelled data through the streaming path and score detection quality (F1, FAR, MAR, NAB, delay)')
  .action(async (opts: { config?: string; protocol: 'skab' | 'rare-event' | 'nab'; data: string; method: 'published' | 'seismo' | 'both'; seeds: string; report?: string; labelColumn: string; shift: number; drop: string; split: string; categories?: string; nabResults?: string; jobs: number }) => {
    const cfg = configFrom(opts.config);
    const log = createLogger(cfg.log.level, true);
    const drop = opts.drop.split(',').map((c) => c.trim()).filter((c) => c !== '');
    await runEvaluate(cfg, { protocol: opts.protocol, data: opts.data, method: opts.method, seeds: parseSeeds(opts.seeds), report: opts.report, labelColumn: opts.labelColumn, shift: opts.shift, drop, split: parseSplit(opts.split), categories: parseCategories(opts.categories), nabResults: opts.nabResults, jobs: opts.jobs }, log, process.stdout);
  });

const models = program.command('models').description('inspect model artifacts (reads their JSON files; loads no model)');
models
  .command('list')
  .argument('[root]', 'a directory of artifacts (or one artifact)', '.')
  .description('one line per artifact under ROOT: version, created, features, lookback, threshold and method, Seismo version')
  .action((root: string) => {
    const list = listArtifacts(root);
    if (list.length === 0) throw new SeismoError('SEISMO_MODEL_MISSING', `no model artifacts in ${root} or its subdirectories`);
    process.stdout.write(`${formatList(list)}\n`);
  });
models
  .command('inspect')
  .argument('<dir>', 'artifact directory')
  .description('version, features, lookback, threshold and method, training data hash and range, training metrics and baselines, created, versions that made it (JSON)')
  .action((dir: string) => {
    process.stdout.write(`${JSON.stringify(inspectArtifact(dir), null, 2)}\n`);
  });
models
  .command('diff')
  .argument('<a>', 'artifact directory')
  .argument('<b>', 'artifact directory')
  .description('what differs between two artifacts, one line per field (a -> b); exit 0 either way')
  .action((a: string, b: string) => {
    const lines = diffArtifacts(inspectArtifact(a), inspectArtifact(b));
    process.stdout.write(lines.length === 0 ? 'no differences\n' : `${lines.join('\n')}\n`);
  });

program
  .command('errors')
  .description('list the error codes, their exit codes and meaning')
  .action(() => {
    for (const [code, e] of Object.entries(ERROR_CODES)) process.stdout.write(`${code}\texit ${e.exitCode}\t${e.retriable ? 'retriable' : 'fatal'}\t${e.doc}\n`);
  });

watchLauncher();
program.parseAsync(process.argv).catch((err: unknown) => {
  if (isSeismoError(err)) {
    process.stderr.write(`seismo: ${err.code}: ${err.message}\n`);
    process.exitCode = err.exitCode;
  } else {
    process.stderr.write(`seismo: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = ERROR_CODES.SEISMO_INTERNAL.exitCode;
  }
  // A failed command must end: if a client library still holds timers or sockets (kafkajs
  // retrying in the background), exit anyway once the error is printed. Unref'd, so a process
  // with nothing left pending exits at once.
  setTimeout(() => process.exit(), 3000).unref();
});

/** `threshold.method` on the held-out windows' errors, smoothed per entity as the alert tracker smooths. */
function heldOutThreshold(artifact: Awaited<ReturnType<typeof loadArtifact>>, heldOut: WindowSet[], cfg: SeismoConfig): ThresholdState {
  const scorer = new Scorer(artifact.model, artifact.manifest.lookback, artifact.scaler.features.length, cfg.scoring.maxBatch);
  try {
    const errors = heldOut.flatMap((set) => Array.from(smoothedPerEntity(scorer.scoreAll(set.data, set.count), [set.count], cfg.alerts.smoothWindows)));
    return calibrateThreshold(errors, cfg.threshold);
  } finally {
    scorer.dispose();
  }
}
