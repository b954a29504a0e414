import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Flag } from '../../src/pipeline/types.js';
import { bootstrap, caughtUp, createTopics, daemonTracker, fetchAgain, produce, readTopic, skabSubset, sortFlags, trainWorkspace, unique, waitFor, type Workspace } from './harness.js';

// scoring.worker against the real broker: the same input consumed by two daemons, one scoring
// on its main thread and one in a worker thread, must produce the same flags. No mocks.
const describeKafka = bootstrap ? describe : describe.skip;

describeKafka('scoring.worker: seismo run with the model in a worker thread', () => {
  let ws: Workspace;
  let data: string;
  const { daemon, stopAll } = daemonTracker();

  beforeAll(() => {
    data = skabSubset(['0.csv', '1.csv', '2.csv', '3.csv']);
    ws = trainWorkspace(data);
  }, 300_000);

  afterAll(stopAll);

  it('flags the same input exactly as the in-thread scorer, through a hot swap; /readyz shows the worker; SIGTERM ends it', async () => {
    const topic = unique('readings');
    const off = { topic, group: unique('group-off'), flags: unique('flags-off'), dlq: unique('dlq-off') };
    const on = { topic, group: unique('group-on'), flags: unique('flags-on'), dlq: unique('dlq-on') };
    await createTopics([{ topic, partitions: 3 }, ...[off, on].flatMap((t) => [{ topic: t.flags, partitions: 1 }, { topic: t.dlq, partitions: 1 }])]);
    const offConfig = ws.kafkaConfig(off);
    // Small chunks and batches, so that many batches are out in the worker one after the other.
    const onConfig = ws.kafkaConfig({ ...on, extra: 'scoring:\n  worker: true\n  maxBatch: 64\n' });
    produce(offConfig, data, topic);

    const inThread = daemon(offConfig);
    const inWorker = daemon(onConfig);
    await waitFor(async () => (await inWorker.metric('seismo_readings_total')) > 0, `the worker daemon to score\n${inWorker.log()}`);
    // A hot swap (SIGHUP reloads artifactDir) mid-stream: the new model gets a worker of its own.
    inWorker.child.kill('SIGHUP');
    await waitFor(() => inWorker.lines.some((l) => l.msg === 'model hot-swapped'), `the hot swap\n${inWorker.log()}`);
    await waitFor(() => caughtUp(off.group, topic), `the in-thread daemon to process ${topic}\n${inThread.log()}`);
    await waitFor(() => caughtUp(on.group, topic), `the worker daemon to process ${topic}\n${inWorker.log()}`);

    const paths = inWorker.lines.filter((l) => l.msg === 'scoring path ' + String(l.scorerPath));
    expect(paths.length).toBe(2); // start and hot swap
    expect(paths.every((l) => l.thread === 'worker')).toBe(true);
    const readyz = (await (await fetchAgain(String(inWorker.metricsUrl).replace('/metrics', '/readyz'))).json()) as { status: string; scoringWorker?: { state: string; restarts: number } };
    expect(readyz.status).toBe('ready');
    expect(readyz.scoringWorker).toEqual({ state: 'running', restarts: 0 });
    expect(await inWorker.metric('seismo_scoring_worker_failures_total')).toBe(0);
    expect(await inWorker.metric('seismo_windows_scored_total')).toBe(await inThread.metric('seismo_windows_scored_total'));

    const parse = (msgs: { value: Buffer | null }[]) => msgs.map((m) => JSON.parse(m.value?.toString() ?? '') as Flag);
    const offFlags = parse(await readTopic(off.flags, () => false, 3_000));
    expect(offFlags.length).toBeGreaterThan(3);
    const onFlags = parse(await readTopic(on.flags, (m) => m.length >= offFlags.length));
    // The model version is the same artifact before and after the swap: flags must not change.
    expect(sortFlags(onFlags)).toEqual(sortFlags(offFlags));

    expect(await inWorker.stop('SIGTERM')).toBe(0);
    expect(inWorker.totals()?.windowsScored).toBeGreaterThan(0);
    expect(inWorker.lines.some((l) => l.msg === 'shutdown step failed')).toBe(false);
    expect(await inThread.stop('SIGTERM')).toBe(0);
  });
});
