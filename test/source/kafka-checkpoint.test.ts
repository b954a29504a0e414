import { describe, expect, it } from 'vitest';
import type { AlertSnapshot } from '../../src/detect/alerts.js';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/source/kafka-checkpoint.js';

const snap = (i: number): AlertSnapshot => [3, 5, 1, 1_700_000_000_000 + i, 0, 0, 1.2345678901234567, 2.5, i];

describe('Kafka commit checkpoint', () => {
  it('round-trips the processed position and alert state exactly', () => {
    const cp = { next: 123456789, alerts: { 'pump-1': snap(1), 'pump "2"': snap(2) } };
    const { metadata, dropped } = encodeCheckpoint(cp, 4096);
    expect(dropped).toBe(0);
    expect(decodeCheckpoint(metadata)).toEqual(cp);
  });

  it('stays within the byte limit and counts the alert states left out', () => {
    const alerts = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`entity-${i}`, snap(i)]));
    const { metadata, dropped } = encodeCheckpoint({ next: 7, alerts }, 1024);
    expect(Buffer.byteLength(metadata)).toBeLessThanOrEqual(1024);
    const decoded = decodeCheckpoint(metadata);
    expect(decoded?.next).toBe(7);
    expect(Object.keys(decoded?.alerts ?? {}).length + dropped).toBe(200);
    expect(dropped).toBeGreaterThan(150);
  });

  it('ignores metadata it did not write', () => {
    expect(decodeCheckpoint('')).toBeUndefined();
    expect(decodeCheckpoint(null)).toBeUndefined();
    expect(decodeCheckpoint('some other tool')).toBeUndefined();
    expect(decodeCheckpoint('{"v":99,"next":1,"a":{}}')).toBeUndefined();
  });
  it('carries the lane clock where the replay starts, and still reads metadata without one', () => {
    const cp = { next: 42, alerts: { 'pump-1': snap(1) }, clock: 1_764_460_800_123 };
    expect(decodeCheckpoint(encodeCheckpoint(cp, 4096).metadata)).toEqual(cp);
    expect(decodeCheckpoint('{"v":1,"next":42,"a":{}}')).toEqual({ next: 42, alerts: {} });
    expect(encodeCheckpoint({ next: 1, alerts: {}, clock: -Infinity }, 4096).metadata).toBe('{"v":1,"next":1,"a":{}}');
  });
});
