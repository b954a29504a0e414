import * as tf from '@tensorflow/tfjs';
import type { Artifact } from '../model/artifact.js';
import { extractEncoder } from '../model/build.js';
import type { EntityWindows } from './data.js';

export interface Embedding {
  entity: string;
  windowStart: string;
  windowEnd: string;
  code: number[];
}

/** Runs every window through the standalone encoder, batch by batch, yielding code vectors. */
export function* embedWindows(artifact: Artifact, windows: EntityWindows[], batch: number): Generator<Embedding> {
  const encoder = extractEncoder(artifact.model);
  for (const w of windows) {
    const { lookback, features } = w.set;
    const size = lookback * features;
    for (let from = 0; from < w.set.count; from += batch) {
      const n = Math.min(batch, w.set.count - from);
      const codes = tf.tidy(() => {
        const x = tf.tensor3d(w.set.data.subarray(from * size, (from + n) * size), [n, lookback, features]);
        const y = encoder.predict(x) as tf.Tensor;
        return { values: y.dataSync() as Float32Array, width: y.size / n };
      });
      for (let i = 0; i < n; i++) {
        yield {
          entity: w.entity,
          windowStart: new Date(w.startTs[from + i] as number).toISOString(),
          windowEnd: new Date(w.endTs[from + i] as number).toISOString(),
          code: Array.from(codes.values.subarray(i * codes.width, (i + 1) * codes.width)),
        };
      }
    }
  }
}
