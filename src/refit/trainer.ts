import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { SeismoConfig } from '../config/schema.js';
import type { SeasonalSpec } from '../window/seasonal.js';
import type { BufferExport } from './buffer.js';

/** The compiled CLI (dist/cli.js), from src/refit or dist/refit alike. */
const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export interface TrainOutcome {
  ok: boolean;
  /** The candidate artifact directory (ok) or why training failed (not ok). */
  dir: string;
  reason?: string;
  seconds: number;
  /** Longest event-loop stall of this process while the child trained: what training costs scoring. */
  maxEventLoopDelayMs: number;
  /** `seismo train`'s summary line (model version, threshold, training metrics) when ok. */
  summary?: Record<string, unknown>;
}

/**
 * The config the refit child trains with: the daemon's own training-relevant sections (same
 * model, window, scaler, threshold method and out-of-sample calibration, alerts smoothing), on
 * the running model's features and lookback, reading the exported NDJSON buffer. Secrets
 * (Kafka, admin) are not written: training needs none of them.
 */
export function childConfig(cfg: SeismoConfig, features: string[], lookback: number, seasonal: SeasonalSpec | undefined): Record<string, unknown> {
  const { path: _path, maxRows: _maxRows, ...training } = cfg.training;
  return {
    features,
    input: { format: 'json', maxMessageBytes: cfg.input.maxMessageBytes, maxEntityIdLength: cfg.input.maxEntityIdLength },
    window: { ...cfg.window, lookback },
    // A candidate is hot-swappable only with exactly the running model's seasonal columns
    // (windowers keep history for those alone): `auto` on the buffer could choose others (the
    // rhythm test on a different stretch, or too short a buffer), and every such candidate would
    // be refused at the swap. So the child trains with the running model's spec, or none.
    training: { ...training, seasonal: seasonal ?? 'none' },
    model: cfg.model,
    threshold: cfg.threshold,
    alerts: cfg.alerts,
    scoring: cfg.scoring,
    http: { enabled: false },
    log: { level: 'warn' },
  };
}

/**
 * Writes the buffer (readings NDJSON, excluded intervals JSON) and the config into `workDir`,
 * then runs `seismo train` on them in a child process, so training never blocks the daemon's
 * event loop: the quality gate (no --force) and the threshold calibration are exactly those of
 * `seismo train`. Resolves (never rejects) with the outcome.
 */
export function trainInChild(cfg: SeismoConfig, features: string[], lookback: number, seasonal: SeasonalSpec | undefined, data: BufferExport, workDir: string, timeoutMs: number, signal?: AbortSignal): Promise<TrainOutcome> {
  mkdirSync(workDir, { recursive: true });
  const readingsFile = join(workDir, 'buffer.ndjson');
  const excludeFile = join(workDir, 'excluded.json');
  const configFile = join(workDir, 'config.json');
  const out = join(workDir, 'model');
  writeFileSync(readingsFile, data.readings.map((r) => JSON.stringify(r)).join('\n') + '\n');
  writeFileSync(excludeFile, JSON.stringify(Object.fromEntries(data.excluded)));
  writeFileSync(configFile, JSON.stringify(childConfig(cfg, features, lookback, seasonal), null, 2));
  // The config file is already the resolved one: SEISMO_* variables must not override it again
  // (SEISMO_TRAINING_MAX_ROWS would cut the buffer, SEISMO_ARTIFACT_DIR is irrelevant).
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SEISMO_')));
  const started = process.hrtime.bigint();
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'train', '-c', configFile, '-d', readingsFile, '--exclude', excludeFile, '-o', out], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => (stderr = (stderr + b.toString('utf8')).slice(-8192)));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    // The daemon is stopping: a half-trained candidate is of no use.
    const abort = () => child.kill('SIGKILL');
    signal?.addEventListener('abort', abort, { once: true });
    const finish = (ok: boolean, reason?: string) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', abort);
      lag.disable();
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const maxEventLoopDelayMs = lag.max / 1e6;
      let summary: Record<string, unknown> | undefined;
      if (ok) {
        try {
          summary = JSON.parse(stdout.trim().split('\n').pop() ?? '') as Record<string, unknown>;
        } catch {
          summary = undefined;
        }
      }
      resolve({ ok, dir: out, seconds, maxEventLoopDelayMs, ...(reason !== undefined ? { reason } : {}), ...(summary ? { summary } : {}) });
    };
    child.on('error', (err) => finish(false, `could not start \`seismo train\`: ${err.message}`));
    child.on('close', (code, exitSignal) => {
      if (code === 0) return finish(true);
      if (signal?.aborted) return finish(false, 'the daemon is stopping: training was cancelled');
      if (timedOut) return finish(false, `training ran longer than refit.trainTimeoutSeconds (${timeoutMs / 1000} s) and was killed`);
      finish(false, `\`seismo train\` exited ${code ?? exitSignal}: ${lastError(stderr)}`);
    });
  });
}

/** The error line of a failed `seismo train` (its last non-empty stderr line), for the log and the rejection reason. */
function lastError(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  const error = lines.filter((l) => l.startsWith('seismo: ')).pop();
  return (error ?? lines[lines.length - 1] ?? '(no output)').slice(0, 1000);
}
