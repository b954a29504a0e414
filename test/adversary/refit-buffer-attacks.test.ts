import { describe, expect, it } from 'vitest';
import { RefitBuffer } from '../../src/refit/buffer.js';

describe('adversary: refit buffer with an entity whose clock goes back (window.outOfOrder: reset)', () => {
  it('an abnormal window after the clock went back is still left out of training', () => {
    const b = new RefitBuffer(['a'], 1000, 10);
    for (let ts = 100; ts < 200; ts++) b.add({ entity: 'e', ts, values: { a: 1 } });
    b.exclude('e', 150, 160);
    // The device restarts with an older clock; the windower accepts it (reset) and so does the buffer.
    for (let ts = 0; ts < 60; ts++) b.add({ entity: 'e', ts, values: { a: ts >= 10 && ts <= 50 ? 99 : 1 } });
    // The live model judged [10, 50] abnormal. Before the fix this merged into [150, 160]
    // (10 <= 160), stayed [150, 160], and the spike's readings were exported as normal.
    b.exclude('e', 10, 50);
    const exported = b.export();
    expect(exported.readings.filter((r) => r.values.a === 99)).toEqual([]);
  });
});
