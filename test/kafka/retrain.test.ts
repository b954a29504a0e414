import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bootstrap, cli, createTopics, kafkaClient, sleep, unique } from './harness.js';

// `seismo train --from-kafka`: a model refreshed from production data, leaving flagged episodes out.
describe.skipIf(!bootstrap)('seismo train --from-kafka', () => {
  it('reads the readings of a time range and leaves out every window that touches a flagged episode', { timeout: 300_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seismo-retrain-'));
    const topic = unique('readings');
    const flagsTopic = unique('flags');
    await createTopics([{ topic, partitions: 2 }, { topic: flagsTopic, partitions: 1 }]);
    const t0 = Date.UTC(2026, 10, 1);
    const ts = (i: number) => t0 + i * 60_000;
    const reading = (entity: string, i: number) => ({ key: entity, value: JSON.stringify({ entity, ts: ts(i), values: { x: Math.sin(i / 7) + (entity === 'b' ? 1 : 0), y: Math.cos(i / 11) } }) });
    const producer = kafkaClient().producer();
    await producer.connect();
    const phase = async (from: number, to: number) => {
      const messages = [];
      for (let i = from; i < to; i++) messages.push(reading('a', i), reading('b', i));
      await producer.send({ topic, messages });
    };
    await phase(0, 200);
    await sleep(1500);
    const boundary = Date.now();
    await sleep(1500);
    await phase(200, 400);
    // Production flags: a resolved episode on "a" over readings 50..99, an unresolved one on "b" from 390.
    const flag = (entity: string, state: string, start: number, end: number) => ({ key: entity, value: JSON.stringify({ id: `${entity}-${state}-${start}`, entity, state, windowStart: new Date(ts(start)).toISOString(), windowEnd: new Date(ts(end)).toISOString(), score: 2, threshold: 1, severity: 2, topFeatures: [], model: 'm' }) });
    await producer.send({ topic: flagsTopic, messages: [flag('a', 'open', 50, 59), flag('a', 'update', 55, 64), flag('a', 'resolved', 90, 99), flag('a', 'open', 50, 59), flag('b', 'open', 390, 399)] });
    await producer.disconnect();

    const config = join(dir, 'seismo.yaml');
    writeFileSync(config, `artifactDir: ${join(dir, 'model')}\nwindow:\n  lookback: 10\n  maxGapSeconds: 600\nmodel:\n  encoderUnits: [4]\n  epochs: 1\n  batchSize: 256\nsource:\n  kind: kafka\n  topics: [${topic}]\nsink:\n  kind: kafka\n  topic: ${flagsTopic}\nkafka:\n  brokers: ["${bootstrap}"]\nhttp:\n  enabled: false\nlog:\n  level: warn\n`);
    const windows = (args: string[]) => {
      const out = JSON.parse(cli(['train', '-c', config, '--from-kafka', '--force', ...args]).stdout) as { training: { trainWindows: number; validationWindows: number }; features: string[]; flaggedEpisodesLeftOut?: Record<string, number> };
      expect(out.features).toEqual(['x', 'y']);
      return { count: out.training.trainWindows + out.training.validationWindows, left: out.flaggedEpisodesLeftOut };
    };
    // Every window of both entities: 2 x (400 - 10 + 1).
    expect(windows(['--keep-flagged']).count).toBe(2 * 391);
    // From the boundary on: only the second 200 readings per entity.
    expect(windows(['--keep-flagged', '--since', new Date(boundary).toISOString()]).count).toBe(2 * 191);
    // Windows [i-9, i] touching readings 50..99 of "a" (i = 50..108: 59) and 390.. of "b" (i = 390..399: 10) are left out.
    const cleaned = windows([]);
    expect(cleaned.left).toEqual({ a: 1, b: 1 });
    expect(cleaned.count).toBe(2 * 391 - 59 - 10);
  });
});
