import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { alertRows } from '../../src/evaluate/skab.js';

const features = ['a'];
/** A score series that rises above the threshold (1) for a stretch and falls back. */
const dense = [0.2, 0.3, 0.2, 0.4, 3, 4, 5, 4, 3, 0.2, 0.1, 0.2, 0.1, 0.2, 0.1, 0.2, 0.1, 0.2, 0.1, 0.2, 0.1, 0.2];

describe('alertRows with window.stride', () => {
  it('judges the scored windows of a strided run as the daemon does: the rows between them do not restart the smoothing', () => {
    const alerts = { smoothWindows: 3, resolveAfter: 2 };
    // Stride 2: the windows of runs 1, 3, 5, ... are scored, one row apart from the next reading's.
    const k = 2;
    const rows = dense.length * k;
    const scores = new Float64Array(rows).fill(NaN);
    const runs = new Float64Array(rows).fill(NaN);
    dense.forEach((s, j) => {
      scores[j * k] = s;
      runs[j * k] = 1 + j * k;
    });
    const ts = Float64Array.from({ length: rows }, (_, i) => i * 1000);
    const strided = alertRows(configSchema.parse({ window: { stride: k }, alerts }), 1, { ts, scores, runs, featureErrors: [], features });
    // The same scores as a dense stride-1 run: the alert decisions at the scored windows must match.
    const plain = alertRows(configSchema.parse({ alerts }), 1, { ts: Float64Array.from(dense, (_, i) => i * 1000), scores: Float64Array.from(dense), featureErrors: [], features });
    expect(plain.some((x) => x === 1)).toBe(true);
    expect(Array.from(dense, (_, j) => strided[j * k])).toEqual(Array.from(plain));
    // Without the run numbers every gap row would restart the smoothing and the history would never build up.
    const reset = alertRows(configSchema.parse({ alerts }), 1, { ts, scores, featureErrors: [], features });
    expect(Array.from(reset)).not.toEqual(Array.from(strided));
  });
});
