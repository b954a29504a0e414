import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { parseCsv } from '../../src/source/csv.js';
import { parseTimestamp } from '../../src/source/decode.js';
import { timestampParser } from '../../src/source/timestamp-format.js';

const inputOf = (yaml: string) => parseConfig(yaml, 'x.yaml').input;
const ZONES = ['UTC', '+02:00', '+00:00', 'Europe/Berlin'];
const IMPOSSIBLE = ['2026-02-30 10:00:00', '2025-02-29 10:00:00', '2026-04-31 10:00:00', '2026-13-01 10:00:00', '2026-00-10 10:00:00', '2026-01-00 10:00:00', '2026-01-01 25:00:00', '2026-01-01 24:00:01', '2026-01-01 10:75:00', '2026-01-01 10:00:99', '2026-01-01 23:59:60'];

describe('zone-less ISO timestamps with impossible fields, in any input.timezone', () => {
  it.each(ZONES)('are invalid in %s, as in UTC (no roll-over into the next day, month or year)', (zone) => {
    const parse = timestampParser(undefined, zone, parseTimestamp);
    for (const text of IMPOSSIBLE) expect(parse(text), `${zone} ${text}`).toBeNaN();
  });

  it.each(ZONES)('real edge times still read in %s: 29 February of a leap year, 23:59:59, 24:00:00 (the next midnight)', (zone) => {
    const parse = timestampParser(undefined, zone, parseTimestamp);
    const utc = timestampParser(undefined, 'UTC', parseTimestamp);
    const offset = parse('2026-01-01 00:00:00') - utc('2026-01-01 00:00:00');
    for (const text of ['2024-02-29 12:00:00', '2000-02-29 12:00:00', '2026-12-31 23:59:59', '2026-01-30 10:59:30.250']) {
      expect(parse(text), `${zone} ${text}`).toBe(utc(text) + offset);
    }
    expect(parse('2026-01-01 24:00:00')).toBe(parse('2026-01-02 00:00:00'));
  });

  it('a typo in one row of a CSV read with timezone "+00:00" is one invalid_timestamp naming the value, not later rows out of order', () => {
    const csv = 'datetime,v\n2026-01-01 10:00:00,1\n2026-01-01 10:75:99,2\n2026-01-01 10:02:00,3\n2026-02-30 10:00:00,4\n2026-01-01 10:03:00,5\n';
    const zoned = parseCsv(csv, 'f.csv', inputOf('input:\n  format: csv\n  timezone: "+00:00"\n'));
    const utc = parseCsv(csv, 'f.csv', inputOf('input:\n  format: csv\n  timezone: UTC\n'));
    expect(zoned.readings.map((r) => r.ts)).toEqual(utc.readings.map((r) => r.ts));
    expect(zoned.readings.map((r) => r.values.v)).toEqual([1, 3, 5]);
    expect(zoned.poison.map((p) => [p.reason, p.position.line])).toEqual([['invalid_timestamp', 3], ['invalid_timestamp', 5]]);
    expect(zoned.poison[0]?.detail).toContain('"2026-01-01 10:75:99"');
    expect(zoned.poison[1]?.detail).toContain('"2026-02-30 10:00:00"');
  });

  it('a zone or a format that puts a time before 1970 (or past 9999) gives invalid_timestamp, as UTC text does', () => {
    // 00:30 on 1970-01-01 in Berlin is 23:30 on 1969-12-31 in UTC: below the range every reading's time must be in.
    const csv = 'datetime,v\n1970-01-01 00:30:00,1\n1970-01-01 02:00:00,2\n';
    const berlin = parseCsv(csv, 'f.csv', inputOf('input:\n  format: csv\n  timezone: Europe/Berlin\n'));
    expect(berlin.readings.map((r) => r.values.v)).toEqual([2]);
    expect(berlin.poison.map((p) => [p.reason, p.position.line])).toEqual([['invalid_timestamp', 2]]);
    const formatted = parseCsv('datetime,v\n31/12/1969 23:00,1\n01/01/1970 01:00,2\n', 'g.csv', inputOf('input:\n  format: csv\n  timestampFormat: DD/MM/YYYY HH:mm\n'));
    expect(formatted.readings.map((r) => r.values.v)).toEqual([2]);
    expect(formatted.poison.map((p) => p.reason)).toEqual(['invalid_timestamp']);
  });
});
