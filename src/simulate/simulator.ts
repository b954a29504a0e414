import { gaussian, mulberry32, type Rng } from '../random.js';
import type { Reading } from '../domain/types.js';

/**
 * A seeded synthetic pump fleet: every channel is driven by a shared load (daily cycle, a
 * faster process cycle, slow random drift) plus its own noise, so channels are correlated the
 * way real plant sensors are. Labelled rare events are injected into a chosen stretch.
 */
export const SIM_FEATURES = ['inlet_pressure', 'outlet_pressure', 'flow_rate', 'motor_current', 'motor_temp', 'vibration_x', 'vibration_y', 'voltage'] as const;

export type EventKind = 'spike' | 'drift' | 'stuck' | 'broken_correlation';
export const EVENT_KINDS: EventKind[] = ['spike', 'drift', 'stuck', 'broken_correlation'];

export interface InjectedEvent {
  entity: string;
  kind: EventKind;
  feature: string;
  /** Timestamps (ms) of the first and last affected reading. */
  startTs: number;
  endTs: number;
}

export interface SimulatorOptions {
  seed: number;
  entities: number;
  /** Sampling period in seconds. */
  periodSeconds: number;
  /** Readings per entity. */
  steps: number;
  /** Events per entity, spread over [eventFrom, steps) with quiet gaps between them. */
  eventsPerEntity: number;
  eventFrom: number;
  startTs: number;
}

export interface Simulation {
  readings: Reading[];
  events: InjectedEvent[];
  features: string[];
}

const EVENT_LENGTH: Record<EventKind, number> = { spike: 3, drift: 120, stuck: 90, broken_correlation: 90 };

interface Channel {
  name: (typeof SIM_FEATURES)[number];
  base: number;
  gain: number;
  noise: number;
}

const CHANNELS: Channel[] = [
  { name: 'inlet_pressure', base: 1.2, gain: -0.3, noise: 0.02 },
  { name: 'outlet_pressure', base: 3, gain: 4, noise: 0.08 },
  { name: 'flow_rate', base: 5, gain: 50, noise: 0.8 },
  { name: 'motor_current', base: 10, gain: 20, noise: 0.3 },
  { name: 'motor_temp', base: 25, gain: 30, noise: 0.3 },
  { name: 'vibration_x', base: 0.5, gain: 1, noise: 0.03 },
  { name: 'vibration_y', base: 0.4, gain: 0.8, noise: 0.03 },
  { name: 'voltage', base: 400, gain: -6, noise: 0.6 },
];

/** Scale of each channel's normal variation, used to size events relative to the channel. */
function channelSpread(c: Channel): number {
  return Math.abs(c.gain) * 0.2 + c.noise;
}

export function simulate(opts: SimulatorOptions): Simulation {
  const rng = mulberry32(opts.seed);
  const readings: Reading[] = [];
  const events: InjectedEvent[] = [];
  const perEntity: Reading[][] = [];
  for (let e = 0; e < opts.entities; e++) {
    const entity = `pump-${e + 1}`;
    const planned = planEvents(entity, opts, rng);
    events.push(...planned.map((p) => ({ entity, kind: p.kind, feature: p.feature, startTs: opts.startTs + p.start * opts.periodSeconds * 1000, endTs: opts.startTs + (p.start + p.length - 1) * opts.periodSeconds * 1000 })));
    perEntity.push(simulateEntity(entity, opts, rng, planned));
  }
  // Interleave entities by time, as a fleet would deliver them.
  for (let t = 0; t < opts.steps; t++) for (const list of perEntity) readings.push(list[t] as Reading);
  return { readings, events, features: [...SIM_FEATURES] };
}

interface PlannedEvent {
  kind: EventKind;
  feature: string;
  start: number;
  length: number;
}

function planEvents(entity: string, opts: SimulatorOptions, rng: Rng): PlannedEvent[] {
  const n = opts.eventsPerEntity;
  if (n === 0) return [];
  const slot = Math.floor((opts.steps - opts.eventFrom) / n);
  const planned: PlannedEvent[] = [];
  for (let i = 0; i < n; i++) {
    const kind = EVENT_KINDS[(i + Number(entity.split('-')[1])) % EVENT_KINDS.length] as EventKind;
    const length = EVENT_LENGTH[kind];
    // Keep a quiet margin around each event so they cannot overlap or run together.
    const room = Math.max(1, slot - length - 60);
    const start = opts.eventFrom + i * slot + 30 + Math.floor(rng() * room);
    const feature = CHANNELS[Math.floor(rng() * CHANNELS.length)]?.name as string;
    planned.push({ kind, feature, start, length });
  }
  return planned;
}

function simulateEntity(entity: string, opts: SimulatorOptions, rng: Rng, events: PlannedEvent[]): Reading[] {
  const phase = rng() * 2 * Math.PI;
  const cyclePeriod = 80 + rng() * 40;
  const dayMinutes = (24 * 3600) / opts.periodSeconds;
  let drift = 0;
  let thermal = 0.5;
  const out: Reading[] = [];
  const stuckAt = new Map<number, number>();
  for (let t = 0; t < opts.steps; t++) {
    drift = 0.98 * drift + 0.01 * gaussian(rng);
    const load = 0.55 + 0.2 * Math.sin((2 * Math.PI * t) / dayMinutes + phase) + 0.08 * Math.sin((2 * Math.PI * t) / cyclePeriod) + drift;
    thermal += 0.1 * (load - thermal); // motor temperature lags the load
    const values: Record<string, number> = {};
    CHANNELS.forEach((c) => {
      const driver = c.name === 'motor_temp' ? thermal : c.name === 'vibration_y' ? load + 0.02 * gaussian(rng) : load;
      values[c.name] = c.base + c.gain * driver + c.noise * gaussian(rng);
    });
    for (const ev of events) {
      if (t < ev.start || t >= ev.start + ev.length) continue;
      const c = CHANNELS.find((ch) => ch.name === ev.feature) as Channel;
      const spread = channelSpread(c);
      const k = t - ev.start;
      if (ev.kind === 'spike') values[c.name] = (values[c.name] as number) + 6 * spread * (rng() < 0.5 ? -1 : 1);
      else if (ev.kind === 'drift') values[c.name] = (values[c.name] as number) + (3 * spread * (k + 1)) / ev.length;
      else if (ev.kind === 'stuck') {
        if (!stuckAt.has(ev.start)) stuckAt.set(ev.start, values[c.name] as number);
        values[c.name] = stuckAt.get(ev.start) as number;
      } else {
        // Same level and spread as normal, but no longer following the load.
        values[c.name] = c.base + c.gain * 0.55 + spread * 0.8 * Math.sin(k / 7) + c.noise * gaussian(rng);
      }
    }
    out.push({ entity, ts: opts.startTs + t * opts.periodSeconds * 1000, values });
  }
  return out;
}
