import * as tf from '@tensorflow/tfjs';
import { isMainThread } from 'node:worker_threads';
import { SeismoError } from '../errors.js';

export type BackendRequest = 'auto' | 'native' | 'wasm' | 'cpu';
/** tfjs's own names: 'tensorflow' is the native libtensorflow backend of tfjs-node. */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

export interface BackendChoice {
  requested: BackendRequest;
  active: BackendName;
  /** Why a faster backend was not used; undefined when the first choice loaded. */
  fallbackReason?: string;
}

let current: BackendChoice | undefined;

async function tryNative(threads: number): Promise<string | undefined> {
  try {
    // Must be set before the addon creates its TF context to take effect.
    if (threads > 0) {
      process.env.TF_NUM_INTRAOP_THREADS ??= String(threads);
      process.env.TF_NUM_INTEROP_THREADS ??= '1';
    }
    process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
    // TensorFlow's matrix products otherwise run oneDNN's JIT sgemm kernels, which point the stack
    // register into a heap buffer while they run: any signal delivered to a thread inside one
    // (SIGTERM or SIGHUP from an orchestrator, SIGCHLD when a refit's child exits, a profiler's
    // SIGPROF) writes its frame over the heap, and the process later aborts on "corrupted size vs.
    // prev_size" or crashes (oneDNN issue 4845, fixed upstream in 2026; the libtensorflow we can
    // install predates it). Eigen's own kernels have no such hazard and score ~5 % slower
    // (docs/BENCHMARKS.md); test/model/signal-safety.test.ts floods a scoring process with signals.
    useSignalSafeKernels();
    await import('@tensorflow/tfjs-node');
    if (!(await tf.setBackend('tensorflow'))) return 'tfjs-node loaded but the tensorflow backend did not initialise';
    return undefined;
  } catch (err) {
    return `tfjs-node native addon cannot load: ${(err as Error).message.split('\n')[0]}`;
  }
}

/**
 * Sets TENSORFLOW_USE_CUSTOM_CONTRACTION_KERNEL=false (see tryNative) unless the user chose a
 * value. TensorFlow reads it once per process and turns the oneDNN kernel off only for exactly
 * "false" or "0": other spellings of no ("False", "off", "") are normalised, and a value that
 * keeps the kernel on is said loudly. It must be set on the main thread: a worker thread's
 * process.env is its own copy, which the native library never sees.
 */
function useSignalSafeKernels(): void {
  const name = 'TENSORFLOW_USE_CUSTOM_CONTRACTION_KERNEL';
  const given = process.env[name];
  const value = given?.trim().toLowerCase();
  if (given === undefined || ['', 'false', '0', 'no', 'off'].includes(value ?? '')) {
    if (!isMainThread && given === undefined) process.emitWarning(`${name} set from a worker thread does not reach TensorFlow: choose the backend on the main thread first`, { code: 'SEISMO_TF_KERNELS' });
    process.env[name] = 'false';
  } else {
    process.emitWarning(`${name}=${given} keeps oneDNN's sgemm kernels, which corrupt the heap when a signal arrives while they run (docs/NATIVE.md, Pitfalls)`, { code: 'SEISMO_TF_KERNELS' });
  }
}

async function tryWasm(): Promise<string | undefined> {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    if (!(await tf.setBackend('wasm'))) return 'wasm backend did not initialise';
    return undefined;
  } catch (err) {
    return `wasm backend cannot load: ${(err as Error).message.split('\n')[0]}`;
  }
}

/**
 * Picks the TensorFlow backend once per process: native -> wasm -> cpu for `auto`, exactly the
 * named one otherwise. An explicit request that cannot load is a startup error; `auto` falls
 * back but records why, so the daemon can say it loudly (log, /readyz, seismo_backend_info).
 */
export async function chooseBackend(requested: BackendRequest, threads = 0): Promise<BackendChoice> {
  if (current !== undefined) {
    if (requested === 'auto' || backendOf(requested) === current.active) return current;
    throw new SeismoError('SEISMO_BACKEND_UNAVAILABLE', `backend "${requested}" requested but "${current.active}" is already active in this process`);
  }
  const reasons: string[] = [];
  const order: BackendName[] = requested === 'auto' ? ['tensorflow', 'wasm', 'cpu'] : [backendOf(requested)];
  for (const name of order) {
    const failure = name === 'tensorflow' ? await tryNative(threads) : name === 'wasm' ? await tryWasm() : (await tf.setBackend('cpu')) ? undefined : 'cpu backend did not initialise';
    if (failure === undefined) {
      await tf.ready();
      current = reasons.length > 0 ? { requested, active: name, fallbackReason: reasons.join('; ') } : { requested, active: name };
      return current;
    }
    reasons.push(failure);
  }
  throw new SeismoError('SEISMO_BACKEND_UNAVAILABLE', `backend "${requested}" unavailable: ${reasons.join('; ')}`);
}

function backendOf(request: Exclude<BackendRequest, 'auto'>): BackendName {
  return request === 'native' ? 'tensorflow' : request;
}

export function activeBackend(): BackendChoice | undefined {
  return current;
}

export function liveTensors(): number {
  return tf.memory().numTensors;
}
