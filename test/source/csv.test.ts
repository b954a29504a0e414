import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { parseCsv, readCsvFile } from '../../src/source/csv.js';

const input = parseConfig('', 'x').input;
const skab = { ...input, format: 'skab' as const };
const SKAB_FILE = new URL('../../../shared/data/skab/valve1/0.csv', import.meta.url).pathname;

describe('CSV readings', () => {
  it('parses SKAB rows, keeps labels apart and names the entity after the file', () => {
    const text = 'datetime;A;B;anomaly;changepoint\n2020-03-09 10:14:33;1.5;2;0;0\n2020-03-09 10:14:34;1.6;2.1;1;1\n';
    const out = parseCsv(text, 'data/valve1/3.csv', skab);
    expect(out.features).toEqual(['A', 'B']);
    expect(out.readings).toHaveLength(2);
    expect(out.readings[1]).toEqual({ entity: '3', ts: Date.UTC(2020, 2, 9, 10, 14, 34), values: { A: 1.6, B: 2.1 } });
    expect(out.labels[1]).toEqual({ anomaly: 1, changepoint: 1 });
  });

  it('turns bad rows into poison with their line number, and keeps going', () => {
    const text = 'datetime;A\n2020-03-09 10:14:33;1\nbad-date;2\n2020-03-09 10:14:35;x\n2020-03-09 10:14:36;1;9\n2020-03-09 10:14:37;4\n';
    const out = parseCsv(text, 'f.csv', skab);
    expect(out.readings.map((r) => r.values.A)).toEqual([1, 4]);
    expect(out.poison.map((p) => [p.reason, p.position.line])).toEqual([
      ['invalid_timestamp', 3],
      ['bad_row', 4],
      ['bad_row', 5],
    ]);
    expect(out.poison[1]?.detail).toContain('column "A" is not a number');
  });

  it('reads generic CSV with configured columns', () => {
    const text = 'time,machine,temp,label\n1700000000000,m1,20.5,0\n1700000001000,m2,21,1\n';
    const out = parseCsv(text, 'g.csv', { ...input, format: 'csv', timestampColumn: 'time', entityColumn: 'machine', ignoreColumns: ['label'] });
    expect(out.features).toEqual(['temp']);
    expect(out.readings.map((r) => r.entity)).toEqual(['m1', 'm2']);
  });

  it('fails clearly when the timestamp column is missing', () => {
    expect(() => parseCsv('a,b\n1,2\n', 'g.csv', { ...input, format: 'csv', timestampColumn: 'time' })).toThrow(/g\.csv:1: no timestamp column "time"/);
  });

  it('refuses a header that names a column twice (one would overwrite the other in every reading)', () => {
    expect(() => parseCsv('time,Current,Current,b\n2026-01-01T00:00:00Z,1,2,3\n', 'd.csv', { ...input, format: 'csv', timestampColumn: 'time' })).toThrow(/d\.csv:1: column "Current" appears more than once in the header/);
  });

  it.runIf(existsSync(SKAB_FILE))('reads a real SKAB file', () => {
    const out = readCsvFile(SKAB_FILE, skab);
    expect(out.features).toEqual(['Accelerometer1RMS', 'Accelerometer2RMS', 'Current', 'Pressure', 'Temperature', 'Thermocouple', 'Voltage', 'Volume Flow RateRMS']);
    expect(out.poison).toEqual([]);
    expect(out.readings.length).toBeGreaterThan(1000);
    expect(out.labels.some((l) => l.anomaly === 1)).toBe(true);
  });
  it('reads only finite decimal numbers: hex, Infinity, NaN and overflow make a bad row; blank cells are missing', () => {
    const rows = ['0x10', '0b1', 'Infinity', '-Infinity', 'NaN', '1e999', '1_000', '1,5', '- 1'];
    const text = `datetime;A;B\n${rows.map((v, i) => `2020-03-09 10:14:${String(10 + i)};${v};1`).join('\n')}\n`;
    const out = parseCsv(text, 'f.csv', skab);
    expect(out.readings).toEqual([]);
    expect(out.poison.map((p) => p.reason)).toEqual(rows.map(() => 'bad_row'));
    expect(out.poison[0]?.detail).toBe('column "A" is not a number: "0x10" (only finite decimal numbers are read)');
    const ok = parseCsv('datetime;A;B\n2020-03-09 10:14:33; ;-1.5e3\n2020-03-09 10:14:34;.5;+2.\n2020-03-09 10:14:35;;7\n', 'f.csv', skab);
    expect(ok.poison).toEqual([]);
    expect(ok.readings.map((r) => [r.values.A, r.values.B])).toEqual([[NaN, -1500], [0.5, 2], [NaN, 7]]);
  });

  it('rejects timestamps outside 1970..9999 and lenient non-ISO dates', () => {
    const out = parseCsv('datetime;A\n10000000000000000;1\nfoo 1;2\n-1;3\n2020-03-09 10:14:33;4\n', 'f.csv', skab);
    expect(out.readings.map((r) => r.values.A)).toEqual([4]);
    expect(out.poison.map((p) => [p.reason, p.position.line])).toEqual([
      ['invalid_timestamp', 2],
      ['invalid_timestamp', 3],
      ['invalid_timestamp', 4],
    ]);
    expect(out.poison[0]?.detail).toContain('column "datetime"');
  });

  it('makes a row with an empty entity cell a bad row', () => {
    const out = parseCsv('time,machine,temp\n1700000000000,,20.5\n1700000001000,m2,21\n', 'g.csv', { ...input, format: 'csv', timestampColumn: 'time', entityColumn: 'machine' });
    expect(out.readings.map((r) => r.entity)).toEqual(['m2']);
    expect(out.poison.map((p) => [p.reason, p.detail])).toEqual([['bad_row', 'column "machine" (the entity id) is empty']]);
  });
});
