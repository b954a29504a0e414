/**
 * The scoring worker's entry (a node:worker_threads thread, started by WorkerScorer): it loads
 * the model it was handed on the same backend the daemon asked for, and answers each batch of
 * windows with their per-feature errors, so the model time of a batch runs beside the main
 * thread's fetching, decoding, windowing, producing and committing instead of blocking them.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { chooseBackend } from '../model/backend.js';
// Registers seq2seq's custom layers, so that those models deserialise in this thread too.
import '../model/seq2seq.js';
import { Scorer } from './scorer.js';
import type { FromWorker, ToWorker, WorkerInit } from './worker-scorer.js';

async function main(): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('scoring-worker.js is a worker thread entry, not a program');
  const init = workerData as WorkerInit;
  const post = (message: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);
  let scorer: Scorer;
  try {
    const backend = await chooseBackend(init.backend, init.threads);
    const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: init.modelTopology, weightSpecs: init.weightSpecs, weightData: init.weightData }));
    scorer = new Scorer(model, init.lookback, init.features, init.maxBatch);
    scorer.warmUp();
    post({ kind: 'ready', path: scorer.path, ...(scorer.pathReason !== undefined ? { pathReason: scorer.pathReason } : {}), backend });
  } catch (err) {
    post({ kind: 'failed', message: err instanceof Error ? err.message : String(err) });
    return;
  }
  port.on('message', (message: ToWorker) => {
    try {
      const errors = scorer.featureErrors(message.data, message.count);
      // A fresh array per batch: its buffer is handed over, not copied.
      post({ kind: 'scored', id: message.id, errors }, [errors.buffer as ArrayBuffer]);
    } catch (err) {
      post({ kind: 'error', id: message.id, message: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
    }
  });
}

void main();
