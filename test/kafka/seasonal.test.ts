import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Flag } from '../../src/domain/types.js';
import { bootstrap, caughtUp, cli, createTopics, daemonTracker, dedupe, produce, readTopic, sortFlags, unique, waitFor } from './harness.js';

// Seasonal columns need a day of each entity's history. After a restart the daemon must re-read
// that day (not only the last lookback readings), or it would score nothing for a day, or score
// against another "yesterday": flags must equal an uninterrupted run. Real broker, real model.
const describeKafka = bootstrap ? describe : describe.skip;

/** One reading every 120 s (the simulator's period): a day is 720 readings. */
const DAY_READINGS = 720;

const MODEL = `input:
  format: json
window:
  lookback: 10
  maxGapSeconds: 600
training:
  maxRows: 2160
  seasonal: auto
model:
  encoderUnits: [16, 8]
  epochs: 6
  batchSize: 128
  learningRate: 0.01
alerts:
  openK: 2
  openN: 3
  smoothWindows: 3
  resolveAfter: 5
  cooldownWindows: 5
threshold:
  multiplier: 1.2
log:
  level: info
`;

describeKafka('seasonal columns across a restart, against a real broker', () => {
  let dir: string;
  let data: string;
  let offline: Flag[];
  let seasonalOf: string[];
  const { daemon, stopAll } = daemonTracker();

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'seismo-seasonal-'));
    data = join(dir, 'sim.ndjson');
    // Two pumps, five days; three days of normal data to train on, then faults.
    cli(['simulate', '-o', data, '--entities', '2', '--steps', '3600', '--normal', '2160', '--events', '3']);
    writeFileSync(join(dir, 'train.yaml'), `${MODEL}artifactDir: ${join(dir, 'model')}\nhttp:\n  enabled: false\n`);
    const trained = JSON.parse(cli(['train', '-c', join(dir, 'train.yaml'), '-d', data]).stdout.trim().split('\n').pop() as string) as { seasonal?: { of: string[] } };
    seasonalOf = trained.seasonal?.of ?? [];
    const out = join(dir, 'offline.ndjson');
    writeFileSync(join(dir, 'offline.yaml'), `${MODEL}artifactDir: ${join(dir, 'model')}\nhttp:\n  enabled: false\nsource:\n  kind: file\n  path: ${data}\nsink:\n  kind: file\n  path: ${out}\n`);
    cli(['run', '-c', join(dir, 'offline.yaml')]);
    offline = readFileSync(out, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Flag);
  }, 300_000);

  afterAll(stopAll);

  it('SIGKILL mid-stream, then a restart: the restart re-reads a day back and the flags equal the uninterrupted run', async () => {
    // The premise: the model has seasonal columns, and they matter to the flags.
    expect(seasonalOf.length).toBeGreaterThan(0);
    expect(offline.length).toBeGreaterThan(0);
    expect(offline.some((f) => f.topFeatures.some((t) => t.name.endsWith('@1d')))).toBe(true);

    const t = { topic: unique('readings'), group: unique('group'), flags: unique('flags'), dlq: unique('dlq') };
    await createTopics([{ topic: t.topic, partitions: 2 }, { topic: t.flags, partitions: 1 }, { topic: t.dlq, partitions: 1 }]);
    const config = join(dir, `run-${t.group}.yaml`);
    writeFileSync(
      config,
      `${MODEL}artifactDir: ${join(dir, 'model')}\nhttp:\n  port: 0\nsource:\n  kind: kafka\n  topics: [${t.topic}]\n  groupId: ${t.group}\n  sessionTimeoutMs: 8000\nsink:\n  kind: kafka\n  topic: ${t.flags}\n  deadLetterTopic: ${t.dlq}\nkafka:\n  brokers: ["${bootstrap}"]\n  retryMaxMs: 2000\n`,
    );
    produce(config, data, t.topic);
    const total = 2 * 3600;

    const first = daemon(config);
    await waitFor(async () => (await first.metric('seismo_readings_total')) >= total * 0.6, `progress\n${first.log()}`);
    // The operator is told what the seasonal history costs per entity and per full lane.
    const told = first.lines.find((l) => String(l.msg).startsWith('seasonal columns'));
    expect(told?.historyBytesPerEntity).toBeGreaterThan(0);
    expect(told?.historyBytesPerFullLane).toBe((told?.historyBytesPerEntity as number) * 50_000);
    expect(await first.stop('SIGKILL')).toBe(null);

    const second = daemon(config);
    await waitFor(() => caughtUp(t.group, t.topic), `the second daemon to finish\n${second.log()}`);
    const replayed = await second.metric('seismo_replayed_readings_total');
    expect(await second.stop()).toBe(0);

    // A window-only rewind re-reads lookback - 1 + smoothing history readings per entity (11);
    // the seasonal history needs about a day of them.
    expect(replayed).toBeGreaterThanOrEqual(DAY_READINGS);
    const flags = dedupe(await readTopic(t.flags, (m) => dedupe(m).length >= offline.length));
    expect(sortFlags(flags)).toEqual(sortFlags(offline));
  });
});
