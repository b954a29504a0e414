import { describe, expect, it } from 'vitest';
import { decodeReading, parseTimestamp } from '../../src/source/decode.js';

const at = { source: 'topic', partition: 0, offset: '7' };
const decode = (raw: string, key?: string) => decodeReading(raw, at, 1024, key);

describe('decodeReading', () => {
  it('decodes the DESIGN.md message', () => {
    const d = decode('{"entity":"pump-7","ts":"2026-11-23T10:15:02.125Z","values":{"pressure":0.38,"flow":null}}');
    expect(d.ok).toBe(true);
    if (d.ok) {
      expect(d.reading.entity).toBe('pump-7');
      expect(d.reading.ts).toBe(Date.parse('2026-11-23T10:15:02.125Z'));
      expect(d.reading.values.pressure).toBe(0.38);
      expect(d.reading.values.flow).toBeUndefined();
    }
  });

  it('takes the entity from the message key when the body has none', () => {
    const d = decode('{"ts":1700000000000,"values":{"a":1}}', 'pump-1');
    expect(d.ok && d.reading.entity).toBe('pump-1');
  });

  it.each([
    ['not json', 'invalid_json'],
    ['[1,2]', 'invalid_shape'],
    ['{"ts":1,"values":{}}', 'invalid_shape'],
    ['{"entity":"a","ts":"yesterday","values":{}}', 'invalid_timestamp'],
    ['{"entity":"a","ts":true,"values":{}}', 'invalid_timestamp'],
    ['{"entity":"a","ts":1,"values":[1]}', 'invalid_shape'],
    ['{"entity":"a","ts":1,"values":{"p":"high"}}', 'invalid_shape'],
  ])('rejects %s as %s, keeping the raw text and position', (raw, reason) => {
    const d = decode(raw);
    expect(d.ok).toBe(false);
    if (!d.ok) {
      expect(d.poison.reason).toBe(reason);
      expect(d.poison.raw).toBe(raw);
      expect(d.poison.position).toEqual(at);
    }
  });

  it('rejects an oversized message', () => {
    const d = decode(`{"entity":"a","ts":1,"values":{"x":1},"pad":"${'x'.repeat(2000)}"}`);
    expect(!d.ok && d.poison.reason).toBe('oversized');
  });

  it('names the offending field', () => {
    const d = decode('{"entity":"a","ts":1,"values":{"p":"high"}}');
    expect(!d.ok && d.poison.detail).toContain('values.p');
  });
});

describe('parseTimestamp', () => {
  it('reads SKAB datetimes as UTC, ISO strings and epoch milliseconds', () => {
    expect(parseTimestamp('2020-03-09 10:14:33')).toBe(Date.UTC(2020, 2, 9, 10, 14, 33));
    expect(parseTimestamp('2020-03-09T10:14:33+01:00')).toBe(Date.UTC(2020, 2, 9, 9, 14, 33));
    expect(parseTimestamp('1700000000000')).toBe(1700000000000);
    expect(parseTimestamp('soon')).toBeNaN();
  });
});
