import { describe, expect, it } from 'vitest';
import { flagLine } from '../../src/demo/demo.js';
import type { Flag } from '../../src/domain/types.js';

const flag = (topFeatures: Flag['topFeatures'], state: Flag['state'] = 'open'): Flag => ({
  id: 'x', episodeId: 'e', openedAt: '2026-01-01T00:10:00.000Z', entity: 'pump-1', state, windowStart: '2026-01-01T00:00:00.000Z', windowEnd: '2026-01-01T00:10:00.000Z',
  score: 2, threshold: 1, severity: 2, topFeatures, model: 'm',
});

describe('the demo prints flags for people', () => {
  it('with the observed and expected values where the flag has them', () => {
    expect(flagLine(flag([{ name: 'flow_rate', error: 1, share: 0.54, observed: 12.1, expected: 9.8 }, { name: 'motor_temp', error: 0.5, share: 0.3, observed: 1.4, expected: -0.2, relative: true }]))).toBe(
      '2026-01-01T00:10:00.000Z  pump-1  open     severity    2.00  top: flow_rate 54% (12.1, expected 9.8), motor_temp 30% (+1.4, expected -0.2 vs window mean)',
    );
  });

  it('shares only on a resolving flag, which has no values', () => {
    expect(flagLine(flag([{ name: 'flow_rate', error: 1, share: 0.54 }], 'resolved'))).toBe('2026-01-01T00:10:00.000Z  pump-1  resolved severity    2.00  top: flow_rate 54%');
  });
});
