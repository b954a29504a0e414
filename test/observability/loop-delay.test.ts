import { describe, expect, it } from 'vitest';
import { EventLoopDelaySampler } from '../../src/observability/loop-delay.js';
import { Metrics } from '../../src/observability/metrics.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Keeps the event loop busy for `ms`, as a large synchronous model call does. */
function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin
  }
}

async function histogram(metrics: Metrics): Promise<{ count: number; atMost: (le: number) => number }> {
  const { values } = await metrics.eventLoopDelay.get();
  const count = values.find((v) => v.metricName === 'seismo_event_loop_delay_seconds_count')?.value ?? 0;
  const atMost = (le: number) => values.find((v) => v.metricName === 'seismo_event_loop_delay_seconds_bucket' && v.labels.le === le)?.value ?? NaN;
  return { count, atMost };
}

describe('event-loop delay histogram (seismo_event_loop_delay_seconds)', () => {
  it('records a blocked loop as one late tick of about the blocked time', async () => {
    const metrics = new Metrics();
    const sampler = new EventLoopDelaySampler((s) => metrics.eventLoopDelay.observe(s), 10);
    sampler.start();
    await sleep(30);
    block(300);
    await sleep(30);
    sampler.stop();
    const h = await histogram(metrics);
    expect(h.count).toBeGreaterThan(1);
    // The tick due during the block fired ~290 ms late: above the 0.25 s bucket.
    expect(h.count - h.atMost(0.25)).toBeGreaterThanOrEqual(1);
  });

  it('stops sampling when stopped, and is exported on the registry', async () => {
    const metrics = new Metrics();
    const sampler = new EventLoopDelaySampler((s) => metrics.eventLoopDelay.observe(s), 5);
    sampler.start();
    sampler.start(); // a second start does not double the timer
    await sleep(40);
    sampler.stop();
    const stopped = (await histogram(metrics)).count;
    expect(stopped).toBeGreaterThan(0);
    await sleep(40);
    expect((await histogram(metrics)).count).toBe(stopped);
    expect(await metrics.registry.metrics()).toContain('# TYPE seismo_event_loop_delay_seconds histogram');
  });

  it('rejects a sampling interval that is not positive', () => {
    expect(() => new EventLoopDelaySampler(() => {}, 0)).toThrow(/intervalMs must be > 0, got 0/);
  });
});
