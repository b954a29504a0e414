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

describe('timestamps that are not sane times (issue 12)', () => {
  it.each([
    ['"10000000000000000"', 'a decimal beyond what Date can show'],
    ['1e17', 'a number beyond what Date can show'],
    ['-5', 'before 1970'],
    ['"-5"', 'a negative decimal string'],
    ['"+275760-09-13T00:00:00Z"', 'an expanded-year ISO date'],
    ['"foo 1"', 'text V8 would read as 2001-01-01'],
    ['"1 2 3"', 'text V8 would read as a date in 2003'],
    ['"Mar 1 2020"', 'a non-ISO date'],
    ['"2020-02-30T00:00:00Z"', 'a day that does not exist'],
    ['"2020-13-01"', 'a month that does not exist'],
  ])('rejects "ts": %s (%s) as invalid_timestamp, naming what is accepted', (ts) => {
    const d = decode(`{"entity":"a","ts":${ts},"values":{"x":1}}`);
    expect(!d.ok && d.poison.reason).toBe('invalid_timestamp');
    expect(!d.ok && d.poison.detail).toContain('between 1970-01-01 and 9999-12-31');
  });

  it('reads the ISO forms producers send, and the range ends', () => {
    expect(parseTimestamp('2020-03-09')).toBe(Date.UTC(2020, 2, 9));
    expect(parseTimestamp('2020-03-09T10:14')).toBe(Date.UTC(2020, 2, 9, 10, 14));
    expect(parseTimestamp('2020-03-09T10:14:33.123456789Z')).toBe(Date.UTC(2020, 2, 9, 10, 14, 33, 123));
    expect(parseTimestamp('2020-03-09T10:14:33+0530')).toBe(Date.UTC(2020, 2, 9, 4, 44, 33));
    expect(parseTimestamp('2020-03-09t10:14:33z')).toBe(Date.UTC(2020, 2, 9, 10, 14, 33));
    expect(parseTimestamp(' 1700000000000.5 ')).toBe(1700000000000.5);
    expect(parseTimestamp(0)).toBe(0);
    expect(parseTimestamp('9999-12-31T23:59:59.999Z')).toBe(Date.UTC(9999, 11, 31, 23, 59, 59, 999));
    expect(parseTimestamp(Date.UTC(9999, 11, 31, 23, 59, 59, 999) + 1)).toBeNaN();
    expect(parseTimestamp(NaN)).toBeNaN();
  });
});
