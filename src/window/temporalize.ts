import { identityScalerState, Windower } from './windower.js';
import { Scaler } from './scaler.js';

/**
 * The classic "temporalize" step on an in-memory array: rows [n][features] -> windows
 * [n - lookback + 1][lookback][features], stride 1. Built on the streaming Windower so the
 * batch and streaming paths cannot drift apart.
 */
export function temporalize(rows: number[][], lookback: number): number[][][] {
  const width = rows[0]?.length ?? 0;
  const features = Array.from({ length: width }, (_, j) => `f${j}`);
  const windower = new Windower(
    { lookback, maxGapSeconds: Number.MAX_SAFE_INTEGER, outOfOrder: 'drop', missing: 'reject', unknownFeatures: 'reject' },
    new Scaler(identityScalerState(features)),
  );
  const windows: number[][][] = [];
  rows.forEach((row, i) => {
    const values = Object.fromEntries(row.map((v, j) => [`f${j}`, v]));
    const result = windower.push({ entity: 'array', ts: i, values });
    if (result.kind === 'poison') throw new Error(`row ${i}: ${result.poison.detail}`);
    if (result.kind === 'window') {
      const w: number[][] = [];
      for (let t = 0; t < lookback; t++) w.push(Array.from(result.window.data.subarray(t * width, (t + 1) * width)));
      windows.push(w);
    }
  });
  return windows;
}
