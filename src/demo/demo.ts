import { describeThreshold } from '../detect/calibrate.js';
import type { SeismoConfig } from '../config/schema.js';
import { Daemon } from '../daemon.js';
import { chooseBackend } from '../model/backend.js';
import type { Logger } from '../observability/logger.js';
import { trainingProgress } from '../observability/progress.js';
import type { Flag, Reading } from '../domain/types.js';
import { simulate, type EventKind, type InjectedEvent } from '../simulate/simulator.js';
import { LogDeadLetterSink } from '../sink/stream-sink.js';
import type { Sink } from '../sink/sink.js';
import { memorySource } from '../source/replay.js';
import { trainFromData } from '../jobs/train-job.js';

export interface DemoOptions {
  seed: number;
  entities: number;
  trainSteps: number;
  testSteps: number;
  eventsPerEntity: number;
  periodSeconds: number;
}

export const DEFAULT_DEMO: DemoOptions = { seed: 7, entities: 4, trainSteps: 720, testSteps: 1440, eventsPerEntity: 4, periodSeconds: 120 };

export interface DemoSummary {
  events: number;
  detected: number;
  byKind: Record<EventKind, { injected: number; detected: number }>;
  falseAlarms: number;
  flags: number;
  windowsScored: number;
  threshold: number;
  trainingSeconds: number;
  epochs: number;
  backend: string;
  /** Mean minutes from event start to the alert opening, over detected events. */
  meanDelayMinutes: number;
}

/**
 * One flag for people: when, which entity, state, severity, and the top sensors with their
 * share of the error and, where the flag carries them, the value seen and the value expected
 * ("flow_rate 54% (12.1, expected 9.8)"; a relative feature's are differences from the window mean).
 */
export function flagLine(f: Flag): string {
  const value = (x: number, relative: boolean) => (relative && x >= 0 ? `+${x}` : String(x));
  const top = f.topFeatures
    .map((t) => {
      const values = t.observed !== undefined && t.expected !== undefined ? ` (${value(t.observed, t.relative === true)}, expected ${value(t.expected, t.relative === true)}${t.relative ? ' vs window mean' : ''})` : '';
      return `${t.name} ${(t.share * 100).toFixed(0)}%${values}`;
    })
    .join(', ');
  return `${f.windowEnd}  ${f.entity.padEnd(7)} ${f.state.padEnd(8)} severity ${f.severity.toFixed(2).padStart(7)}  top: ${top}`;
}

/** Prints flags for people as they happen; the machine format is `seismo run`'s NDJSON. */
class ConsoleFlagSink implements Sink {
  constructor(private readonly out: NodeJS.WritableStream) {}
  async send(flags: Flag[]): Promise<void> {
    for (const f of flags) this.out.write(`${flagLine(f)}\n`);
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}

/**
 * An event counts as detected when an alert opens on its entity between its first reading and
 * one lookback (plus the k-of-n opening delay) after its last; every other opening is a false alarm.
 */
export function matchFlags(events: InjectedEvent[], opens: Flag[], slackMs: number) {
  const matched = new Set<number>();
  const delays: number[] = [];
  let falseAlarms = 0;
  for (const f of opens) {
    const end = Date.parse(f.windowEnd);
    const idx = events.findIndex((e) => e.entity === f.entity && end >= e.startTs && end <= e.endTs + slackMs);
    if (idx < 0) falseAlarms++;
    else if (!matched.has(idx)) {
      matched.add(idx);
      delays.push(end - (events[idx] as InjectedEvent).startTs);
    }
  }
  return { matched, falseAlarms, delays };
}

export async function runDemo(cfg: SeismoConfig, log: Logger, out: NodeJS.WritableStream, opts: DemoOptions = DEFAULT_DEMO, serve = false): Promise<{ summary: DemoSummary; daemon: Daemon }> {
  const backend = await chooseBackend(cfg.scoring.backend, cfg.scoring.threads);
  const sim = simulate({ seed: opts.seed, entities: opts.entities, periodSeconds: opts.periodSeconds, steps: opts.trainSteps + opts.testSteps, eventsPerEntity: opts.eventsPerEntity, eventFrom: opts.trainSteps, startTs: Date.UTC(2026, 10, 1) });
  const splitTs = Date.UTC(2026, 10, 1) + opts.trainSteps * opts.periodSeconds * 1000;
  const byEntity = new Map<string, Reading[]>();
  const test: Reading[] = [];
  for (const r of sim.readings) {
    if (r.ts >= splitTs) test.push(r);
    else if (byEntity.has(r.entity)) byEntity.get(r.entity)?.push(r);
    else byEntity.set(r.entity, [r]);
  }
  out.write(`Seismo demo: ${opts.entities} simulated pumps x ${sim.features.length} sensors, ${opts.trainSteps} normal readings each (one every ${opts.periodSeconds} s) to train on, ${opts.testSteps} to replay with ${sim.events.length} injected events. Backend: ${backend.active}${backend.fallbackReason ? ` (FALLBACK: ${backend.fallbackReason})` : ''}\n`);

  const progress = trainingProgress();
  const trained = await trainFromData(cfg, { byEntity, features: sim.features, poison: [] }, progress.onEpoch);
  progress.stop();
  const { artifact } = trained;
  const threshold = artifact.threshold?.value ?? NaN;
  out.write(`Trained in ${artifact.manifest.training.seconds.toFixed(1)} s (${artifact.manifest.training.epochsRun} epochs, best val loss ${artifact.manifest.training.valLoss.toFixed(5)}); threshold ${threshold.toFixed(5)} = ${artifact.threshold ? describeThreshold(artifact.threshold) : 'none'}.\nReplaying...\n`);

  const opens: Flag[] = [];
  let flags = 0;
  const daemon = new Daemon({
    config: { ...cfg, http: { ...cfg.http, enabled: serve || cfg.http.enabled } },
    log,
    source: memorySource(test, 0, cfg.scoring.maxBatch, 'simulator'),
    sink: new ConsoleFlagSink(out),
    deadLetter: new LogDeadLetterSink(log),
    artifact,
    onFlag: (f) => {
      flags++;
      if (f.state === 'open') opens.push(f);
    },
  });
  await daemon.start();
  await daemon.finished();

  const slackMs = (cfg.window.lookback + cfg.alerts.openN) * opts.periodSeconds * 1000;
  const { matched, falseAlarms, delays } = matchFlags(sim.events, opens, slackMs);
  const byKind = Object.fromEntries(['spike', 'drift', 'stuck', 'broken_correlation'].map((k) => [k, { injected: 0, detected: 0 }])) as DemoSummary['byKind'];
  sim.events.forEach((e, i) => {
    byKind[e.kind].injected++;
    if (matched.has(i)) byKind[e.kind].detected++;
  });
  const summary: DemoSummary = {
    events: sim.events.length,
    detected: matched.size,
    byKind,
    falseAlarms,
    flags,
    windowsScored: (await daemon.metrics.windowsScored.get()).values[0]?.value ?? 0,
    threshold,
    trainingSeconds: artifact.manifest.training.seconds,
    epochs: artifact.manifest.training.epochsRun,
    backend: backend.active,
    meanDelayMinutes: delays.length ? delays.reduce((a, b) => a + b, 0) / delays.length / 60000 : NaN,
  };
  out.write(formatSummary(summary));
  return { summary, daemon };
}

export function formatSummary(s: DemoSummary): string {
  const kinds = Object.entries(s.byKind).map(([k, v]) => `  ${k.padEnd(20)} ${v.detected}/${v.injected}`).join('\n');
  return [
    '',
    'Summary',
    `  events injected      ${s.events}`,
    `  events detected      ${s.detected} (${((100 * s.detected) / Math.max(1, s.events)).toFixed(0)}%), mean delay ${s.meanDelayMinutes.toFixed(1)} min`,
    `  false alarms         ${s.falseAlarms}`,
    `  flags emitted        ${s.flags}`,
    `  windows scored       ${s.windowsScored}`,
    `  backend              ${s.backend}`,
    'By kind (detected/injected)',
    kinds,
    '',
  ].join('\n');
}
