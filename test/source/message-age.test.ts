import { describe, expect, it } from 'vitest';
import { Metrics } from '../../src/observability/metrics.js';
import { messageAgeSeconds } from '../../src/source/kafka-source.js';

// The latency metrics take a message's age from its Kafka timestamp. Old message formats carry
// none (kafkajs leaves it undefined), old clients send -1, and producers' clocks drift: none of
// that may throw inside a chunk (prom-client rejects NaN, which failed the chunk and retried it
// forever) or record decades of latency.
describe('messageAgeSeconds', () => {
  const now = Date.UTC(2026, 10, 30, 12);

  it('is the age in seconds of a plausible timestamp, and 0 for one a little ahead of this clock', () => {
    expect(messageAgeSeconds(now, String(now - 1500))).toBe(1.5);
    expect(messageAgeSeconds(now, String(now + 5_000))).toBe(0);
  });

  it('is undefined for a missing, -1, non-numeric or far-future timestamp', () => {
    for (const ts of [undefined, '-1', '0', 'abc', '', 'NaN', String(now + 3_600_000)]) expect(messageAgeSeconds(now, ts)).toBeUndefined();
  });

  it('its results are always accepted by the histograms it feeds', () => {
    const metrics = new Metrics();
    for (const ts of [undefined, '-1', 'abc', String(now - 10), String(now + 1e12)]) {
      const age = messageAgeSeconds(now, ts);
      if (age !== undefined) expect(() => metrics.chunkStage.observe({ stage: 'waiting' }, age)).not.toThrow();
    }
    expect(() => metrics.endToEnd.observe(Number.NaN)).toThrow(); // what the guard is for
  });
});
