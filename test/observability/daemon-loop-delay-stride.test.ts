import { afterAll, describe, expect, it } from 'vitest';
import { Daemon } from '../../src/daemon.js';
import type { Flag, WindowScore } from '../../src/domain/types.js';
import { trainFromData } from '../../src/jobs/train-job.js';
import { createLogger } from '../../src/observability/logger.js';
import { LogDeadLetterSink } from '../../src/sink/stream-sink.js';
import type { RecordProcessor, Source } from '../../src/source/source.js';
import { simulatedReadings, smallConfig } from '../helpers.js';

/** Hands the test the pipeline's processor, so it can feed readings itself. */
class HeldSource implements Source {
  processor: RecordProcessor | undefined;
  private release: (() => void) | undefined;
  start(processor: RecordProcessor): Promise<void> {
    this.processor = processor;
    return new Promise((resolve) => (this.release = resolve));
  }
  pause(): void {}
  resume(): void {}
  async stop(): Promise<void> {
    this.release?.();
  }
}

const noFlags = { send: async (_: Flag[]) => {}, flush: async () => {}, close: async () => {} };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// A real daemon on a real trained model: the event-loop histogram is fed while it runs and
// stops with it; window.stride reaches its windower.
describe('daemon: event-loop delay metric and window.stride', async () => {
  const cfg = smallConfig();
  const data = simulatedReadings(200);
  const { artifact } = await trainFromData(cfg, data);
  const readings = data.byEntity.get([...data.byEntity.keys()][0] as string) ?? [];

  async function daemonWith(stride: number) {
    const source = new HeldSource();
    const scores: WindowScore[] = [];
    const daemon = new Daemon({ config: { ...cfg, window: { ...cfg.window, stride } }, log: createLogger('silent'), source, sink: noFlags, deadLetter: new LogDeadLetterSink(createLogger('silent')), artifact, onScore: (s) => scores.push(s) });
    await daemon.start();
    return { daemon, source, scores };
  }
  const count = async (d: Daemon) => (await d.metrics.eventLoopDelay.get()).values.find((v) => v.metricName === 'seismo_event_loop_delay_seconds_count')?.value ?? 0;

  const one = await daemonWith(1);
  const two = await daemonWith(2);
  afterAll(async () => {
    await one.daemon.stop();
    await two.daemon.stop();
  });

  it('samples the event-loop delay while running, and stops sampling when stopped', async () => {
    await sleep(100);
    expect(await count(one.daemon)).toBeGreaterThan(0);
    expect(await one.daemon.metrics.registry.metrics()).toContain('seismo_event_loop_delay_seconds_bucket{le="0.05"}');
    const probe = await daemonWith(1);
    await probe.daemon.stop();
    const atStop = await count(probe.daemon);
    await sleep(100);
    expect(await count(probe.daemon)).toBe(atStop);
  });

  it('window.stride 2 scores every other window of an entity, the same windows with the same scores', async () => {
    const feed = async (s: HeldSource) => {
      await s.processor?.process(readings.map((reading, i) => ({ kind: 'reading', reading, position: { source: 'test', line: i } })));
      await s.processor?.drained();
    };
    await feed(one.source);
    await feed(two.source);
    const lookback = cfg.window.lookback;
    expect(one.scores.length).toBe(readings.length - lookback + 1);
    expect(two.scores.length).toBe(Math.ceil(one.scores.length / 2));
    const every = new Map(one.scores.map((s) => [s.endTs, s.score]));
    expect(two.scores.map((s) => s.endTs)).toEqual(one.scores.filter((_, i) => i % 2 === 0).map((s) => s.endTs));
    for (const s of two.scores) expect(s.score).toBeCloseTo(every.get(s.endTs) as number, 6);
  });
});
