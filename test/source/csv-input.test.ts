import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { loadReadings } from '../../src/jobs/data.js';
import { parseCsv } from '../../src/source/csv.js';
import { emptyRangeMessage, fileSource, type EmptyRange } from '../../src/source/replay.js';
import type { SourceRecord } from '../../src/source/source.js';
import { timestampParser } from '../../src/source/timestamp-format.js';
import { processorOf } from '../helpers.js';

const inputOf = (yaml: string) => parseConfig(yaml, 'x.yaml').input;
const SKAB_HEADER = 'datetime;Accelerometer1RMS;Pressure;anomaly;changepoint\n2020-03-09 10:14:33;0.02;0.05;0;0\n';

describe('CSV separators', () => {
  it('a SKAB file read without input.format: skab says the header looks ";"-separated and what to set', () => {
    expect(() => parseCsv(SKAB_HEADER, 'valve1/0.csv', inputOf(''))).toThrow(/no timestamp column "datetime" in header \[datetime;Accelerometer1RMS;.*\]; the header looks ";"-separated \(5 columns\), not ",": set input.format: skab \(SKAB files\) or input.delimiter: ";"/);
  });

  it('a tab-separated header is named too; a header that fits its delimiter gets no hint', () => {
    expect(() => parseCsv('time\tflow\n1\t2\n', 'f.csv', inputOf(''))).toThrow(/looks a tab-separated \(2 columns\), not ",": set input.delimiter: "\\t"/);
    expect(() => parseCsv('when,flow\n1,2\n', 'f.csv', inputOf(''))).toThrow(/no timestamp column "datetime" in header \[when, flow\]$/);
  });
});

describe('CSV timestamps: stated, not guessed', () => {
  it('input.timestampFormat reads other layouts, in UTC by default', () => {
    const out = parseCsv('datetime,v\n5/1/99 0:00,1\n12/31/14 23:59,2\n', 'f.csv', inputOf('input:\n  format: csv\n  timestampFormat: M/D/YY H:mm\n'));
    expect(out.readings.map((r) => r.ts)).toEqual([Date.UTC(1999, 4, 1), Date.UTC(2014, 11, 31, 23, 59)]);
  });

  it('a zone-less timestamp is read in input.timezone (IANA with DST, or a fixed offset)', () => {
    const ny = parseCsv('datetime,v\n2014-07-01 00:00:00,1\n2014-01-01 00:00:00,2\n', 'f.csv', inputOf('input:\n  format: csv\n  timezone: America/New_York\n'));
    expect(ny.readings.map((r) => r.ts)).toEqual([Date.UTC(2014, 6, 1, 4), Date.UTC(2014, 0, 1, 5)]);
    const fixed = parseCsv('datetime,v\n01.07.2014 00:00,1\n', 'f.csv', inputOf('input:\n  format: csv\n  timestampFormat: DD.MM.YYYY HH:mm\n  timezone: "+02:00"\n'));
    expect(fixed.readings[0]?.ts).toBe(Date.UTC(2014, 5, 30, 22));
    // A timestamp with its own zone keeps it.
    const zoned = parseCsv('datetime,v\n2014-07-01T00:00:00Z,1\n', 'f.csv', inputOf('input:\n  format: csv\n  timezone: America/New_York\n'));
    expect(zoned.readings[0]?.ts).toBe(Date.UTC(2014, 6, 1));
  });

  it('the ambiguous hour of a DST change reads as the earlier one', () => {
    const parse = timestampParser('YYYY-MM-DD HH:mm', 'Europe/Berlin', () => NaN);
    expect(parse('2021-10-31 02:30')).toBe(Date.UTC(2021, 9, 31, 0, 30)); // CEST, +02:00
    expect(parse('2021-10-31 03:30')).toBe(Date.UTC(2021, 9, 31, 2, 30)); // CET, +01:00
  });

  it('a row that does not fit the format is poison naming the format; impossible dates too', () => {
    const out = parseCsv('datetime,v\n2014-07-01 00:00,1\n2/30/14 0:00,2\n5/1/99 0:00,3\n', 'f.csv', inputOf('input:\n  format: csv\n  timestampFormat: M/D/YY H:mm\n'));
    expect(out.readings.map((r) => r.values.v)).toEqual([3]);
    expect(out.poison.map((p) => [p.reason, p.position.line])).toEqual([['invalid_timestamp', 2], ['invalid_timestamp', 3]]);
    expect(out.poison[0]?.detail).toBe('cannot parse timestamp "2014-07-01 00:00" as M/D/YY H:mm');
  });

  it('without a format, an unreadable timestamp says how to describe it', () => {
    const out = parseCsv('datetime,v\n5/1/99 0:00,1\n', 'f.csv', inputOf('input:\n  format: csv\n'));
    expect(out.poison[0]?.detail).toContain('set input.timestampFormat');
  });

  it('the config refuses a format without a date and an unknown zone', () => {
    expect(() => inputOf('input:\n  timestampFormat: HH:mm\n')).toThrow(/input.timestampFormat: "HH:mm" has no a year \(YYYY or YY\), a month \(M or MM\), a day \(D or DD\)/);
    expect(() => inputOf('input:\n  timezone: Mars/Olympus\n')).toThrow(/input.timezone: unknown time zone "Mars\/Olympus"/);
  });
});

describe('entity ids of CSV files in a replayed directory', () => {
  const root = mkdtempSync(join(tmpdir(), 'seismo-entities-'));
  for (const dir of ['valve1', 'valve2']) {
    mkdirSync(join(root, dir));
    writeFileSync(join(root, dir, '0.csv'), `datetime;A\n2020-03-09 10:00:0${dir === 'valve1' ? 0 : 1};1\n2020-03-09 10:00:0${dir === 'valve1' ? 2 : 3};2\n`);
  }
  const cfg = parseConfig('input:\n  format: skab\n', 'x.yaml');

  it('valve1/0.csv and valve2/0.csv are two entities, named by their path in the directory', () => {
    const data = loadReadings(root, cfg);
    expect([...data.byEntity.keys()]).toEqual(['valve1/0', 'valve2/0']);
    expect(data.byEntity.get('valve2/0')?.map((r) => r.values.A)).toEqual([1, 2]);
  });

  it('the streaming replay names them the same way; a single file keeps its name', async () => {
    const seen = new Set<string>();
    const collect = processorOf(async (records: SourceRecord[]) => {
      for (const r of records) if (r.kind === 'reading') seen.add(r.reading.entity);
    });
    await fileSource(root, cfg.input, 0, 100).start(collect);
    expect([...seen]).toEqual(['valve1/0', 'valve2/0']);
    seen.clear();
    await fileSource(join(root, 'valve2', '0.csv'), cfg.input, 0, 100).start(collect);
    expect([...seen]).toEqual(['0']);
  });

  it('a --from/--to range that selects nothing says so, with the span of the data (it used to print nothing, exit 0)', async () => {
    const empties: EmptyRange[] = [];
    let records = 0;
    const count = processorOf(async (chunk: SourceRecord[]) => void (records += chunk.length));
    const after = { from: Date.parse('2030-01-01T00:00:00Z') };
    await fileSource(root, cfg.input, 0, 100, after, (e) => empties.push(e)).start(count);
    expect(records).toBe(0);
    expect(empties).toEqual([{ records: 4, first: Date.parse('2020-03-09T10:00:00Z'), last: Date.parse('2020-03-09T10:00:03Z') }]);
    expect(emptyRangeMessage(root, after, empties[0] as EmptyRange)).toBe(`--from/--to [2030-01-01T00:00:00.000Z, the end) selects none of the 4 records of ${root}; its readings span 2020-03-09T10:00:00.000Z to 2020-03-09T10:00:03.000Z: nothing was replayed`);
    // A range that keeps something is silent.
    await fileSource(root, cfg.input, 0, 100, { from: Date.parse('2020-03-09T10:00:02Z') }, (e) => empties.push(e)).start(count);
    expect(records).toBe(2);
    expect(empties).toHaveLength(1);
  });
});
