import type { Kafka } from 'kafkajs';
import type { SeismoConfig } from '../config/schema.js';
import { SeismoError } from '../errors.js';
import type { Flag, Reading } from '../domain/types.js';
import { readTopicRange, type TimeRange } from '../kafka/topic-range.js';
import { decodeReading } from '../source/decode.js';
import type { Intervals, LoadedReadings } from './data.js';

/**
 * Training data from production: the readings of `topic` in a time range, decoded like the
 * daemon decodes them. Poison is counted, not trained on.
 */
export async function loadReadingsFromKafka(kafka: Kafka, topic: string, range: TimeRange, cfg: SeismoConfig): Promise<LoadedReadings> {
  const byEntity = new Map<string, Reading[]>();
  const seen: string[] = [];
  let poison = 0;
  await readTopicRange(kafka, topic, range, (m, partition) => {
    const decoded = decodeReading(m.value?.toString('utf8') ?? '', { source: topic, partition, offset: m.offset }, cfg.input.maxMessageBytes, m.key?.toString('utf8'));
    if (!decoded.ok) {
      poison++;
      return;
    }
    const r = decoded.reading;
    const list = byEntity.get(r.entity) ?? [];
    list.push(r);
    byEntity.set(r.entity, list);
    for (const name of Object.keys(r.values)) if (!seen.includes(name)) seen.push(name);
  });
  if (byEntity.size === 0) throw new SeismoError('SEISMO_INPUT_INVALID', `${topic}: no usable readings in the range (${poison} rejected)`);
  // Partitions interleave entities; each entity's readings must be in time order for windowing.
  for (const list of byEntity.values()) list.sort((a, b) => a.ts - b.ts);
  return { byEntity, features: cfg.features ?? seen, poison: [] };
}

/**
 * Alert episodes from a flags topic, per entity: from an `open` flag's window start to the
 * matching `resolved` flag's window end (or forever, if it never resolved).
 */
export async function flaggedIntervals(kafka: Kafka, flagsTopic: string, since: number | undefined): Promise<Intervals> {
  const flags: Flag[] = [];
  await readTopicRange(kafka, flagsTopic, { since }, (m) => {
    try {
      flags.push(JSON.parse(m.value?.toString('utf8') ?? '') as Flag);
    } catch {
      // not a flag: ignore
    }
  });
  return intervalsFromFlags(flags);
}

/** Alert episodes per entity from flags in any order (duplicates after a restart counted once). */
export function intervalsFromFlags(flags: Flag[]): Intervals {
  const intervals: Intervals = new Map();
  const openSince = new Map<string, number>();
  const seen = new Set<string>();
  for (const f of [...flags].sort((a, b) => Date.parse(a.windowEnd) - Date.parse(b.windowEnd))) {
    if (seen.has(f.id)) continue; // duplicates after a restart
    seen.add(f.id);
    if (f.state === 'open') {
      // An escalation replaces the entity's open alert: that interval ends where the new one starts.
      const replaced = openSince.get(f.entity);
      if (replaced !== undefined) intervals.set(f.entity, [...(intervals.get(f.entity) ?? []), [replaced, Date.parse(f.windowStart)]]);
      openSince.set(f.entity, Date.parse(f.windowStart));
    } else if (f.state === 'resolved') {
      const start = openSince.get(f.entity) ?? Date.parse(f.windowStart);
      openSince.delete(f.entity);
      intervals.set(f.entity, [...(intervals.get(f.entity) ?? []), [start, Date.parse(f.windowEnd)]]);
    }
  }
  for (const [entity, start] of openSince) intervals.set(entity, [...(intervals.get(entity) ?? []), [start, Infinity]]);
  return intervals;
}
