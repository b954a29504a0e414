import { describe, expect, it } from 'vitest';
import { NAB_PROFILES, nabNormalised, nabRaw, rightWindows, scaledSigmoid } from '../../src/evaluate/nab.js';

const [standard, lowFP, lowFN] = NAB_PROFILES as [typeof NAB_PROFILES[0], typeof NAB_PROFILES[0], typeof NAB_PROFILES[0]];
const win = rightWindows([1000], 100); // [1000, 1100]

describe('NAB scoring', () => {
  it('the scaled sigmoid: ~1 at a window start, 0 at its end, -1 far behind', () => {
    expect(scaledSigmoid(-1)).toBeCloseTo(0.986614, 5); // 2 / (1 + e^-5) - 1
    expect(scaledSigmoid(0)).toBe(0);
    expect(scaledSigmoid(1)).toBeCloseTo(-0.986614, 5);
    expect(scaledSigmoid(3.5)).toBe(-1);
  });

  it('a detection at the window start is perfect, at its end worth half of the normalised range', () => {
    expect(nabRaw(win, [1000], standard).score).toBeCloseTo(1);
    expect(nabNormalised([nabRaw(win, [1000], standard)], standard)).toBeCloseTo(100);
    expect(nabNormalised([nabRaw(win, [1100], standard)], standard)).toBeCloseTo(50);
    expect(nabNormalised([nabRaw(win, [], standard)], standard)).toBeCloseTo(0);
  });

  it('a detection halfway earns sigma(-0.5) / sigma(-1)', () => {
    // sigma(-0.5) = 2 / (1 + e^-2.5) - 1 = 0.848284; / 0.986614 = 0.859788
    expect(nabRaw(win, [1050], standard).score).toBeCloseTo(0.859788, 5);
  });

  it('counts only the first detection of a window', () => {
    const r = nabRaw(win, [1000, 1010, 1090], standard);
    expect(r.score).toBeCloseTo(1);
    expect(r.falsePositives).toBe(0);
    expect(r.detectedWindows).toBe(1);
  });

  it('charges false positives by profile and by distance past the last window', () => {
    // Before any window: the full A_FP. Plus the missed... no: the window is detected at its start.
    expect(nabRaw(win, [500, 1000], standard).score).toBeCloseTo(1 - 0.11);
    expect(nabRaw(win, [500, 1000], lowFP).score).toBeCloseTo(1 - 0.22);
    // One window length past the end: A_FP x sigma(1) = 0.11 x -0.986614.
    expect(nabRaw(win, [1000, 1200], standard).score).toBeCloseTo(1 - 0.11 * 0.986614, 5);
  });

  it('charges a missed window A_FN (doubled in the low-FN profile)', () => {
    expect(nabRaw(win, [], standard).score).toBe(-1);
    expect(nabRaw(win, [], lowFN).score).toBe(-2);
    // Normalisation uses the profile's own null score: missing everything is still 0.
    expect(nabNormalised([nabRaw(win, [], lowFN)], lowFN)).toBeCloseTo(0);
  });

  it('normalises over the corpus, not per file', () => {
    const a = nabRaw(win, [1000], standard); // +1
    const b = nabRaw(rightWindows([0, 5000], 100), [], standard); // -2
    // S = -1, null = -3, perfect = 3: 100 x 2 / 6
    expect(nabNormalised([a, b], standard)).toBeCloseTo(100 / 3);
  });
});
