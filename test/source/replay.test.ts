import { describe, expect, it } from 'vitest';
import { ReplaySource } from '../../src/source/replay.js';
import type { SourceRecord } from '../../src/source/source.js';
import { processorOf } from '../helpers.js';

const raw = (s: number): SourceRecord => ({ kind: 'raw', text: JSON.stringify({ entity: 'e', ts: s * 1000, values: { a: s } }), position: { source: 'm', line: s } });

describe('ReplaySource', () => {
  it('as fast as possible: chunks of chunkSize, each after the previous one is acknowledged', async () => {
    const chunks: number[] = [];
    let inFlight = 0;
    await new ReplaySource(() => [[1, 2, 3, 4, 5].map(raw)], 0, 2).start(processorOf(async (records) => {
      expect(inFlight).toBe(0);
      inFlight++;
      await new Promise((r) => setTimeout(r, 5));
      chunks.push(records.length);
      inFlight--;
    }));
    expect(chunks).toEqual([2, 2, 1]);
  });

  it('paced: N x real time by the readings\' own timestamps, for JSON lines too', async () => {
    const started = performance.now();
    const seen: number[] = [];
    // Readings 1 s apart at 10x: the last one cannot be delivered before ~200 ms.
    await new ReplaySource(() => [[1, 2, 3].map(raw)], 10, 100).start(processorOf(async (records) => {
      seen.push(records.length);
    }));
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    expect(seen.reduce((a, b) => a + b, 0)).toBe(3);
    expect(seen.length).toBeGreaterThan(1);
  });

  it('paced: one reading stamped decades ahead, or a first one stamped 0, is not waited for (a gap beyond maxGap)', async () => {
    const at = (s: number, ts: number): SourceRecord => ({ kind: 'raw', text: JSON.stringify({ entity: 'e', ts, values: { a: s } }), position: { source: 'm', line: s } });
    const base = Date.UTC(2026, 0, 1);
    // 10 readings 1 s apart at 20x (50 ms each), the 5th stamped 2099, then a file starting at 0.
    const future = Array.from({ length: 10 }, (_, k) => at(k + 1, k === 4 ? Date.UTC(2099, 0, 1) : base + k * 1000));
    const zeroFirst = [at(1, 0), ...Array.from({ length: 5 }, (_, k) => at(k + 2, base + k * 1000))];
    const seen: number[] = [];
    const started = performance.now();
    // maxGap 2 s of stream time: the jumps to 2099 and from 0 to 2026 are gaps beyond it.
    await new ReplaySource(() => [future, zeroFirst], 20, 100, 2000).start(processorOf(async (records) => void seen.push(records.length)));
    const ms = performance.now() - started;
    expect(seen.reduce((a, b) => a + b, 0)).toBe(16);
    // Pacing still holds between the ordinary readings: 7 gaps of 50 ms in the first file and 4
    // in the second (the reading after 2099 goes back: no wait either): 550 ms. Before, the first
    // file waited until 2099 for its fifth reading.
    expect(ms).toBeGreaterThanOrEqual(500);
    expect(ms).toBeLessThan(3000);
  });

  it('stop() ends a paced replay without waiting for the next reading', async () => {
    const source = new ReplaySource(() => [[1, 1000].map(raw)], 1, 100);
    const done = source.start(processorOf(async () => {}));
    await new Promise((r) => setTimeout(r, 20));
    const t = performance.now();
    await source.stop();
    await done;
    expect(performance.now() - t).toBeLessThan(500);
  });
});

describe('NDJSON with a byte-order mark', () => {
  it('reads the first line as a reading, not as invalid JSON', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { readRecords } = await import('../../src/source/replay.js');
    const { parseConfig } = await import('../../src/config/load.js');
    const file = join(mkdtempSync(join(tmpdir(), 'seismo-bom-')), 'r.ndjson');
    writeFileSync(file, '\ufeff{"entity":"e","ts":1,"values":{"a":1}}\n{"entity":"e","ts":2,"values":{"a":2}}\n');
    const records = readRecords(file, parseConfig('input:\n  format: json\n', 'x').input);
    expect(records).toHaveLength(2);
    expect(records[0]?.kind === 'raw' && JSON.parse(records[0].text)).toEqual({ entity: 'e', ts: 1, values: { a: 1 } });
  });
});

describe('data files by extension', () => {
  it('reads .CSV (any case) in a directory as CSV, and a single file of another extension by input.format', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { dataFiles, readRecords } = await import('../../src/source/replay.js');
    const { parseConfig } = await import('../../src/config/load.js');
    const dir = mkdtempSync(join(tmpdir(), 'seismo-ext-'));
    const csv = 'datetime;a;b\n2020-03-09 10:14:33;1;2\n2020-03-09 10:14:34;1.5;2.5\n';
    writeFileSync(join(dir, 'A.CSV'), csv);
    writeFileSync(join(dir, 'b.txt'), csv);
    const skab = parseConfig('input:\n  format: skab\n', 'x').input;
    expect(dataFiles(dir)).toEqual([join(dir, 'A.CSV')]); // a directory lists data extensions only
    // A link back to the folder itself: each file once, not once per path the loop makes.
    const { symlinkSync } = await import('node:fs');
    symlinkSync(dir, join(dir, 'loop'));
    expect(dataFiles(dir)).toEqual([join(dir, 'A.CSV')]);
    // Positions are the file's own lines, also after a bad row (they were index + 2).
    writeFileSync(join(dir, 'c.csv'), 'datetime;a;b\n2020-03-09 10:14:33;1;2\nnot a row\n\n2020-03-09 10:14:35;1;2\n');
    expect(readRecords(join(dir, 'c.csv'), skab, 'e').map((r) => (r.kind === 'reading' ? r.position.line : `poison@${r.kind === 'poison' ? r.poison.position.line : '?'}`))).toEqual([2, 5, 'poison@3']);
    for (const file of [join(dir, 'A.CSV'), join(dir, 'b.txt')]) {
      const records = readRecords(file, skab, 'e');
      expect(records.map((r) => r.kind), file).toEqual(['reading', 'reading']);
    }
  });
});
