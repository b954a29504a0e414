/**
 * An evaluation worker thread (started by file-pool.ts): it chooses the backend the config asks
 * for, then evaluates the files it is handed one at a time, exactly as the one-thread path does.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { SeismoConfig } from '../config/schema.js';
import { SeismoError } from '../errors.js';
import { chooseBackend } from '../model/backend.js';
import { createLogger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import { evaluateNabFile, type NabFile } from './nab-protocol.js';
import { evaluateRareEvent, type RareEventOptions } from './rare-event.js';
import { evaluateFile, type EvalMethod } from './skab.js';

export type EvalTask =
  | { protocol: 'skab'; file: string; name: string; seed: number; methods: EvalMethod[] }
  | { protocol: 'nab'; file: NabFile; seed: number }
  | { protocol: 'rare-event'; options: Omit<RareEventOptions, 'log' | 'onEpoch' | 'onStage'> };
export interface EvalWorkerInit {
  cfg: SeismoConfig;
  logLevel: string;
}
export interface ToEvalWorker {
  id: number;
  task: EvalTask | undefined;
}
export type FromEvalWorker = { kind: 'ready' } | { kind: 'done'; id: number; result: unknown } | { kind: 'failed'; id: number; code?: string; message: string };

async function main(): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('eval-worker.js is a worker thread entry, not a program');
  const { cfg, logLevel } = workerData as EvalWorkerInit;
  const log = createLogger(logLevel, true);
  const metrics = new Metrics();
  await chooseBackend(cfg.scoring.backend, cfg.scoring.threads);
  port.on('message', ({ id, task }: ToEvalWorker) => {
    void (async () => {
      try {
        if (task === undefined) throw new Error('no task');
        const result =
          task.protocol === 'skab'
            ? await evaluateFile(cfg, task.file, task.name, task.seed, { methods: task.methods, log }, metrics)
            : task.protocol === 'nab'
              ? await evaluateNabFile(cfg, task.file, task.seed, log, metrics)
              : await evaluateRareEvent(cfg, { ...task.options, log });
        port.postMessage({ kind: 'done', id, result } satisfies FromEvalWorker);
      } catch (err) {
        port.postMessage({ kind: 'failed', id, ...(err instanceof SeismoError ? { code: err.code } : {}), message: err instanceof Error ? err.message : String(err) } satisfies FromEvalWorker);
      }
    })();
  });
  port.postMessage({ kind: 'ready' } satisfies FromEvalWorker);
}

void main();
