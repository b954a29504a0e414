import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Flag } from '../../src/pipeline/types.js';
import { TEST_KAFKA_DIR, TEST_KAFKA_PORT } from '../global-kafka.js';
import { caughtUp, createTopics, DaemonProcess, dedupe, offlineFlags, produce, readTopic, skabSubset, sortFlags, trainWorkspace, unique, waitFor, type Workspace } from './harness.js';

// Issue 12, chaos in the suite (a small version of bench/chaos.mjs): one consumer group goes
// 1 -> 3 -> 1 instances of `seismo run` while one member is SIGKILLed and the broker itself is
// stopped and restarted on its data. The flags, deduplicated by id, must be exactly those of an
// undisturbed offline replay of the same data, and the group must catch up (lag 0).
// The test restarts a broker, so it starts its own (the suite's port + 100), not the shared one.

const PORT = Number(process.env.SEISMO_TEST_CHAOS_KAFKA_PORT ?? TEST_KAFKA_PORT + 100);
const DIR = `${TEST_KAFKA_DIR}-chaos`;
const scripts = new URL('../../scripts/kafka/', import.meta.url).pathname;
const startBroker = (fresh: boolean) => execFileSync('bash', [`${scripts}start.sh`, '--port', String(PORT), '--dir', DIR, ...(fresh ? ['--fresh'] : [])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
const stopBroker = (clean: boolean) => execFileSync('bash', [`${scripts}stop.sh`, '--dir', DIR, ...(clean ? ['--clean'] : [])], { stdio: 'inherit' });

/** The data's CSV files cut into thirds by row (same file names, so the same entities), to be produced one after the other. */
function thirds(data: string): string[] {
  const parts = [0, 1, 2].map(() => mkdtempSync(join(tmpdir(), 'seismo-chaos-part-')));
  for (const f of readdirSync(data)) {
    const [header, ...rows] = readFileSync(join(data, f), 'utf8').split('\n').filter((l) => l.trim().length > 0);
    const size = Math.ceil(rows.length / 3);
    parts.forEach((dir, i) => writeFileSync(join(dir, f), `${header}\n${rows.slice(i * size, (i + 1) * size).join('\n')}\n`));
  }
  return parts;
}

describe('chaos: 1 -> 3 -> 1 instances, a SIGKILL and a broker restart lose and invent no flag (own broker)', () => {
  let bootstrap: string;
  let ws: Workspace;
  let data: string;
  let offline: Flag[];
  const daemons: DaemonProcess[] = [];

  beforeAll(() => {
    mkdirSync(DIR, { recursive: true });
    bootstrap = startBroker(true);
    data = skabSubset(['1.csv', '2.csv', '3.csv', '4.csv']);
    ws = trainWorkspace(data);
    offline = offlineFlags(ws, data);
  }, 300_000);

  afterAll(async () => {
    await Promise.all(daemons.map((d) => d.stop('SIGKILL')));
    stopBroker(true);
  });

  it('deduplicated flags equal the undisturbed replay by id, and the group catches up', async () => {
    expect(offline.length, 'the data must produce flags for the comparison to mean anything').toBeGreaterThan(0);
    const t = { topic: unique('readings'), group: unique('group'), flags: unique('flags'), dlq: unique('dlq') };
    await createTopics([{ topic: t.topic, partitions: 3 }, { topic: t.flags, partitions: 1 }, { topic: t.dlq, partitions: 1 }], bootstrap);
    const config = ws.kafkaConfig({ ...t, brokers: bootstrap });
    const start = () => {
      const d = new DaemonProcess(config);
      daemons.push(d);
      return d;
    };
    const [part1, part2, part3] = thirds(data) as [string, string, string];
    const up = () => caughtUp(t.group, t.topic, bootstrap);

    // 1 instance.
    produce(config, part1, t.topic);
    const a = start();
    await waitFor(up, `A to process the first third\n${a.log()}`, 60_000);

    // 3 instances; then one of them is SIGKILLed with the second third in flight.
    const b = start();
    const c = start();
    await waitFor(async () => (await b.ready()) && (await c.ready()), `B and C to join\n${b.log()}\n${c.log()}`, 60_000);
    produce(config, part2, t.topic);
    expect(await b.stop('SIGKILL')).toBeNull();
    await waitFor(up, `the group to recover B's partitions\n${a.log()}`, 60_000);

    // The broker goes down and comes back on its data; then the last third, and back to 1 instance.
    stopBroker(false);
    await new Promise((r) => setTimeout(r, 3000));
    expect(startBroker(false)).toBe(bootstrap);
    produce(config, part3, t.topic);
    expect(await c.stop()).toBe(0);
    await waitFor(up, `A alone to catch up after the broker restart\n${a.log()}`, 90_000);
    await waitFor(() => a.ready(), `A to be ready again\n${a.log()}`, 30_000);

    expect(await a.metric('seismo_poison_total')).toBe(0);
    const flags = dedupe(await readTopic(t.flags, (m) => dedupe(m).length >= offline.length, 5_000, bootstrap));
    expect(sortFlags(flags)).toEqual(sortFlags(offline));
    expect(await a.stop()).toBe(0);
  }, 300_000);
});
