/** Linear-interpolated quantile (numpy's default), q in (0, 1). */
export function quantile(values: ArrayLike<number>, q: number): number {
  if (values.length === 0) throw new Error('quantile of an empty set');
  const sorted = Float64Array.from(values).sort();
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (pos - lo);
}

/** Threshold = multiplier x quantile(held-out normal errors). */
export function quantileThreshold(errors: ArrayLike<number>, q: number, multiplier: number) {
  const base = quantile(errors, q);
  return { value: base * multiplier, method: 'quantile' as const, quantile: q, multiplier, base, calibrationWindows: errors.length };
}
