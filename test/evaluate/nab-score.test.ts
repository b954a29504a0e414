import { describe, expect, it } from 'vitest';
import { NAB_PROFILES, normalisedNab, probationRows, rowWindows, scoreNabFile } from '../../src/evaluate/nab-score.js';

const [standard, lowFP, lowFN] = NAB_PROFILES as [typeof NAB_PROFILES[0], typeof NAB_PROFILES[0], typeof NAB_PROFILES[0]];
// 1000 rows: probation = 150. One window over rows 400..409 (width 10).
const ROWS = 1000;
const win = [{ from: 400, to: 409 }];
/** sigma(y) = 2 / (1 + e^(5y)) - 1, computed here by hand for the expectations. */
const sig = (y: number) => 2 / (1 + Math.exp(5 * y)) - 1;

describe('NAB corpus scorer (rows)', () => {
  it('probation is min(floor(15 %), 750)', () => {
    expect(probationRows(1000)).toBe(150);
    expect(probationRows(1001)).toBe(150);
    expect(probationRows(4032)).toBe(604);
    expect(probationRows(22695)).toBe(750);
  });

  it('maps timestamp windows to the rows inside them, irregular spacing included', () => {
    const ts = [0, 10, 25, 26, 90, 200];
    expect(rowWindows(ts, [[20, 95], [0, 5]])).toEqual([{ from: 0, to: 0 }, { from: 2, to: 4 }]);
    // A window between two rows holds none: nothing to detect or miss.
    expect(rowWindows(ts, [[100, 150]])).toEqual([]);
  });

  it('a detection at the window start earns exactly A_TP; at its last row sigma(-1/w) / sigma(-1)', () => {
    expect(scoreNabFile(ROWS, win, [400], standard).score).toBeCloseTo(1, 12);
    const end = scoreNabFile(ROWS, win, [409], standard);
    expect(end.score).toBeCloseTo(sig(-0.1) / sig(-1), 12);
    expect(end.score).toBeCloseTo(0.2482, 4); // (2 / (1 + e^-0.5) - 1) / 0.986614
    expect(end.detected).toBe(1);
  });

  it('the sigmoid weighting: the middle row earns sigma(-(409 - 404 + 1) / 10) / sigma(-1); only the earliest detection counts', () => {
    const r = scoreNabFile(ROWS, win, [409, 404, 406], standard);
    expect(r.score).toBeCloseTo(sig(-0.6) / sig(-1), 12);
    expect(r.falsePositives).toBe(0);
  });

  it('a false positive before any window costs A_FP; after a window sigma(distance / (w - 1)) x A_FP', () => {
    expect(scoreNabFile(ROWS, win, [300, 400], standard).score).toBeCloseTo(1 - 0.11, 12);
    expect(scoreNabFile(ROWS, win, [300, 400], lowFP).score).toBeCloseTo(1 - 0.22, 12);
    // 9 rows past the window's last row = one window length (w - 1 = 9): 0.11 x sigma(1).
    expect(scoreNabFile(ROWS, win, [400, 418], standard).score).toBeCloseTo(1 + 0.11 * sig(1), 12);
    // Right after the window the penalty is nearly 0; far away it is the full A_FP.
    expect(scoreNabFile(ROWS, win, [400, 410], standard).score).toBeCloseTo(1 + 0.11 * sig(1 / 9), 12);
    expect(scoreNabFile(ROWS, win, [400, 900], standard).score).toBeCloseTo(1 - 0.11, 12);
  });

  it('a missed window costs A_FN; detections in the probationary period are ignored', () => {
    expect(scoreNabFile(ROWS, win, [], standard).score).toBe(-1);
    expect(scoreNabFile(ROWS, win, [], lowFN).score).toBe(-2);
    const early = scoreNabFile(ROWS, win, [10, 149], standard);
    expect(early.score).toBe(-1);
    expect(early.falsePositives).toBe(0);
    expect(early.detections).toBe(0);
  });

  it('normalises against null (0) and perfect (100) over the corpus, and goes negative when alerts cost more than they earn', () => {
    const two = [{ from: 400, to: 409 }, { from: 600, to: 609 }];
    expect(normalisedNab([scoreNabFile(ROWS, two, [], standard)], standard)).toBeCloseTo(0, 12);
    expect(normalisedNab([scoreNabFile(ROWS, two, [400, 600], standard)], standard)).toBeCloseTo(100, 12);
    // One of two windows at its start: (1 - 1 - (-2)) / (2 - (-2)) = 50.
    expect(normalisedNab([scoreNabFile(ROWS, two, [400], standard)], standard)).toBeCloseTo(50, 12);
    // Pooled over files, not averaged per file: a file without windows adds only its false positives.
    const quiet = scoreNabFile(ROWS, [], [200, 300, 900], standard);
    expect(quiet.score).toBeCloseTo(-0.33, 12);
    expect(normalisedNab([scoreNabFile(ROWS, two, [400], standard), quiet], standard)).toBeCloseTo((100 * (0 - 0.33 + 2)) / 4, 10);
    const noisy = scoreNabFile(ROWS, two, Array.from({ length: 40 }, (_, i) => 160 + i * 5), standard);
    expect(normalisedNab([noisy], standard)).toBeLessThan(0);
  });
});
