import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import type { Window, WindowScore } from '../domain/types.js';
import type { BackendChoice, BackendRequest } from '../model/backend.js';
import type { BatchScorer } from './batcher.js';
import { Scorer, windowScores, type ScorerPath } from './scorer.js';

/**
 * The compiled worker entry. The same URL from src/score (vitest) and from dist/score leads to
 * dist's, since a worker thread runs JavaScript: tests need a build first (as `npm test` does).
 */
const ENTRY = fileURLToPath(new URL('../../dist/score/scoring-worker.js', import.meta.url));

/** What the worker is started with: the model as tfjs serialises it, and how to score. */
export interface WorkerInit {
  modelTopology: tf.io.ModelArtifacts['modelTopology'];
  weightSpecs: tf.io.WeightsManifestEntry[];
  weightData: ArrayBuffer;
  lookback: number;
  features: number;
  maxBatch: number;
  backend: BackendRequest;
  threads: number;
}

/** A batch: `count` windows laid out row-major in `data` (its buffer is transferred, not copied). */
export interface ToWorker {
  id: number;
  data: Float32Array;
  count: number;
}

export type FromWorker =
  | { kind: 'ready'; path: ScorerPath; pathReason?: string; backend: BackendChoice }
  | { kind: 'failed'; message: string }
  | { kind: 'scored'; id: number; errors: Float32Array }
  | { kind: 'error'; id: number; message: string };

/**
 * The scoring worker died, or could not be (re)started: no window's fault. The pipeline fails the
 * chunk instead of dead-lettering its windows, so its offsets are not committed and it is
 * processed again.
 */
export class ScoringWorkerLost extends Error {
  override readonly name = 'ScoringWorkerLost';
}

export type WorkerState = 'running' | 'restarting' | 'failed' | 'stopped';

export interface WorkerHealth {
  state: WorkerState;
  /** Times the worker was replaced after it died. */
  restarts: number;
  lastError?: string;
}

export interface WorkerScorerOptions {
  lookback: number;
  features: number;
  maxBatch: number;
  backend: BackendRequest;
  threads: number;
  /** Every worker death and every failed restart, with what happened; for the log and metrics. */
  onFailure?: (reason: string) => void;
  /** The worker runs again after a failure. */
  onRestart?: () => void;
}

interface Request {
  windows: Window[];
  /** Times sent to a worker: a batch is sent again once after the worker died under it. */
  sends: number;
  resolve: (scores: WindowScore[]) => void;
  reject: (err: unknown) => void;
}

/** A batch survives one worker death (it is rescored by the new worker); a second is the chunk's failure. */
const MAX_SENDS = 2;

/**
 * Scores in a worker thread (scoring.worker): score() returns a Promise, and the model call runs
 * there while this thread goes on. The worker holds its own copy of the model (serialised here,
 * loaded there on the same backend request, scored by the same Scorer code), so scores equal the
 * in-thread Scorer's up to float summation order. Explanations (reconstruct) stay in this
 * thread: they are rare and need the whole reconstruction, which the worker does not send back.
 *
 * A worker that dies is logged (onFailure), replaced, and the batches it had are scored again
 * by the new one; when it cannot be replaced, they fail with ScoringWorkerLost (nothing is
 * committed) and the next batch tries again.
 */
export class WorkerScorer implements BatchScorer {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Request>();
  /** Submitted while no worker runs (restarting): sent once one does. */
  private waiting: Request[] = [];
  private nextId = 0;
  private state: WorkerState = 'restarting';
  private restarts = 0;
  private lastError: string | undefined;
  private readonly windowSize: number;
  private readonly local: Scorer;
  /** From the first worker's start; restarts load the same model the same way. */
  path: ScorerPath = 'layers';
  pathReason: string | undefined;
  backend: BackendChoice | undefined;

  private constructor(model: tf.LayersModel, private readonly init: WorkerInit, private readonly opts: WorkerScorerOptions) {
    this.windowSize = init.lookback * init.features;
    // The layers path keeps no weight copies: this Scorer only ever reconstructs.
    this.local = new Scorer(model, init.lookback, init.features, init.maxBatch, { path: 'layers' });
  }

  /** Serialises `model`, starts the worker and waits until it has loaded and warmed up the model; rejects if it cannot. */
  static async start(model: tf.LayersModel, opts: WorkerScorerOptions): Promise<WorkerScorer> {
    const init = { ...(await serialise(model)), lookback: opts.lookback, features: opts.features, maxBatch: opts.maxBatch, backend: opts.backend, threads: opts.threads };
    const scorer = new WorkerScorer(model, init, opts);
    await scorer.spawn();
    return scorer;
  }

  health(): WorkerHealth {
    return { state: this.state, restarts: this.restarts, ...(this.lastError !== undefined ? { lastError: this.lastError } : {}) };
  }

  score(windows: Window[]): Promise<WindowScore[]> {
    if (this.state === 'stopped') return Promise.reject(new Error('WorkerScorer used after dispose()'));
    if (windows.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      const request: Request = { windows, sends: 0, resolve, reject };
      if (this.state === 'running') this.send(request);
      else {
        this.waiting.push(request);
        if (this.state === 'failed') this.restart();
      }
    });
  }

  reconstruct(windows: Window[]): Float32Array {
    return this.local.reconstruct(windows);
  }

  /** Ends the worker thread as a crash would, without stopping this scorer (for failure drills and tests). */
  crashWorker(): Promise<number> {
    return this.worker?.terminate() ?? Promise.resolve(0);
  }

  /** Stops the worker; batches still out fail. */
  async dispose(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    const worker = this.worker;
    this.worker = undefined;
    this.failAll(new Error('the scoring worker was stopped'));
    this.local.dispose();
    await worker?.terminate();
  }

  private send(request: Request): void {
    const worker = this.worker;
    if (worker === undefined) throw new Error('WorkerScorer.send without a worker');
    const id = this.nextId++;
    const data = new Float32Array(request.windows.length * this.windowSize);
    request.windows.forEach((w, i) => data.set(w.data, i * this.windowSize));
    request.sends++;
    this.pending.set(id, request);
    // Referenced only while it has work: an idle worker never keeps the process alive.
    worker.ref();
    const message: ToWorker = { id, data, count: request.windows.length };
    worker.postMessage(message, [data.buffer]);
  }

  private onMessage(message: FromWorker): void {
    if (message.kind !== 'scored' && message.kind !== 'error') return;
    const request = this.pending.get(message.id);
    if (request === undefined) return;
    this.pending.delete(message.id);
    if (this.pending.size === 0) this.worker?.unref();
    if (message.kind === 'scored') request.resolve(windowScores(request.windows, message.errors, this.init.features));
    else request.reject(new Error(`scoring worker: ${message.message}`));
  }

  /** Starts a worker and resolves once it has the model warmed up. */
  private spawn(): Promise<void> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(ENTRY, { workerData: this.init });
      let started = false;
      const startFailed = (reason: string) => {
        if (started) return;
        started = true;
        void worker.terminate();
        reject(new Error(`the scoring worker did not start: ${reason}`));
      };
      worker.on('message', (message: FromWorker) => {
        if (started) {
          if (this.worker === worker) this.onMessage(message);
          return;
        }
        if (message.kind === 'failed') return startFailed(message.message);
        if (message.kind !== 'ready') return;
        if (this.state === 'stopped') return startFailed('the scorer was disposed while its worker started');
        started = true;
        this.worker = worker;
        this.state = 'running';
        this.path = message.path;
        this.pathReason = message.pathReason;
        this.backend = message.backend;
        worker.unref();
        resolve();
      });
      worker.on('error', (err) => (started ? this.lost(worker, `uncaught ${err.name}: ${err.message}`) : startFailed(err.message)));
      worker.on('exit', (code) => (started ? this.lost(worker, `exited with code ${code}`) : startFailed(`exited with code ${code} before it was ready`)));
    });
  }

  /** The worker died under its batches: say so, start another, score them again there. */
  private lost(worker: Worker, reason: string): void {
    if (this.worker !== worker || this.state === 'stopped') return; // 'error' then 'exit' of one death: counted once
    this.worker = undefined;
    this.lastError = `the scoring worker died: ${reason}`;
    this.opts.onFailure?.(this.lastError);
    this.waiting = [...this.pending.values(), ...this.waiting];
    this.pending.clear();
    this.restart();
  }

  private restart(): void {
    this.state = 'restarting';
    this.spawn().then(
      () => {
        if ((this.state as WorkerState) === 'stopped') return;
        this.restarts++;
        this.opts.onRestart?.();
        const waiting = this.waiting;
        this.waiting = [];
        for (const request of waiting) {
          if (request.sends >= MAX_SENDS) request.reject(new ScoringWorkerLost(`${this.lastError ?? 'the scoring worker died'} (twice under this batch)`));
          else this.send(request);
        }
      },
      (err: unknown) => {
        if ((this.state as WorkerState) === 'stopped') return;
        this.state = 'failed';
        this.lastError = (err as Error).message;
        this.opts.onFailure?.(this.lastError);
        this.failAll(new ScoringWorkerLost(this.lastError));
      },
    );
  }

  private failAll(err: Error): void {
    const all = [...this.pending.values(), ...this.waiting];
    this.pending.clear();
    this.waiting = [];
    for (const request of all) request.reject(err);
  }
}

/** The model as tfjs saves it, weights in one buffer: what the worker loads with tf.io.fromMemory. */
async function serialise(model: tf.LayersModel): Promise<Pick<WorkerInit, 'modelTopology' | 'weightSpecs' | 'weightData'>> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (saved?.weightData === undefined || saved.weightSpecs === undefined) throw new Error('the model did not serialise its weights');
  return { modelTopology: saved.modelTopology, weightSpecs: saved.weightSpecs, weightData: tf.io.CompositeArrayBuffer.join(saved.weightData) };
}
