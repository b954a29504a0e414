import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { SeismoConfig } from '../config/schema.js';
import { ERROR_CODES, SeismoError, type ErrorCode } from '../errors.js';
import { chooseBackend } from '../model/backend.js';
import type { EvalTask, EvalWorkerInit, FromEvalWorker, ToEvalWorker } from './eval-worker.js';

// Built output: `npx tsc -p .` first (as for the scoring worker).
const ENTRY = fileURLToPath(new URL('../../dist/evaluate/eval-worker.js', import.meta.url));

/**
 * Runs evaluation tasks (one file with one seed each) on `jobs` worker threads, each with its
 * own TensorFlow backend, and returns the results in task order.
 *
 * Why: one file's training and replay keep one core busy (JS dispatches small LSTM ops one by
 * one), so on a machine with more cores the files can run side by side. Every task is
 * independent (its own model, scaler and seed), so the results are the same as in one thread;
 * test/evaluate/nab-protocol.test.ts compares them. A task that fails fails the whole run, with
 * its own error code and message, as it would in one thread.
 */
export async function runInWorkers<R>(cfg: SeismoConfig, tasks: EvalTask[], jobs: number, onDone?: (done: number, result: R) => void): Promise<R[]> {
  // On the main thread first: settings TensorFlow reads from the environment (backend.ts) reach
  // the native library only from here, never from a worker's copy of process.env.
  await chooseBackend(cfg.scoring.backend, cfg.scoring.threads);
  const results = new Array<R>(tasks.length);
  let next = 0;
  let done = 0;
  const init: EvalWorkerInit = { cfg, logLevel: cfg.log.level };
  const workers: Worker[] = [];
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const worker = new Worker(ENTRY, { workerData: init });
      workers.push(worker);
      let current = -1;
      let settled = false;
      const finish = (err?: Error) => {
        if (settled) return;
        settled = true;
        void worker.terminate();
        if (err) reject(err);
        else resolve();
      };
      const give = () => {
        if (next >= tasks.length) return finish();
        current = next++;
        worker.postMessage({ id: current, task: tasks[current] } satisfies ToEvalWorker);
      };
      worker.on('message', (m: FromEvalWorker) => {
        if (m.kind === 'ready') return give();
        if (m.id !== current) return;
        if (m.kind === 'failed') return finish(asError(m.code, m.message));
        results[current] = m.result as R;
        done++;
        onDone?.(done, results[current] as R);
        give();
      });
      worker.on('error', (err) => finish(new SeismoError('SEISMO_INTERNAL', `evaluation worker crashed${current >= 0 ? ` on task ${current + 1} of ${tasks.length}` : ''}: ${err.message}`)));
      worker.on('exit', (code) => finish(settled ? undefined : new SeismoError('SEISMO_INTERNAL', `evaluation worker exited with code ${code} before finishing its tasks`)));
    });
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, tasks.length)) }, one));
  } finally {
    // One failed: stop the others too (their results are not wanted any more).
    await Promise.allSettled(workers.map((w) => w.terminate()));
  }
  return results;
}

function asError(code: string | undefined, message: string): Error {
  return code !== undefined && code in ERROR_CODES ? new SeismoError(code as ErrorCode, message) : new SeismoError('SEISMO_INTERNAL', message);
}
