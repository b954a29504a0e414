import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bySize, deadLetterMessage, fitted, messageBytes } from '../../src/sink/kafka-sink.js';
import { toRecord } from '../../src/source/kafka-source.js';
import type { KafkaMessage } from 'kafkajs';

const poison = (value: Buffer) =>
  deadLetterMessage({ reason: 'oversized', detail: 'message is big', position: { source: 'in', partition: 0, offset: '7' }, raw: '', original: { key: Buffer.from('pump'), value, headers: { trace: 'abc' } } });

describe('dead letters that do not fit the topic (issue 12: an oversized record wedged its partition)', () => {
  it('a dead letter within the limit is sent as it came, original bytes and headers', () => {
    const m = poison(Buffer.alloc(1000, 1));
    expect(fitted(m, 1_000_000, 64 * 1024)).toBe(m);
  });

  it('a copy too large is cut to a bounded one: prefix, original size, SHA-256, seismo-truncated, reason kept', () => {
    const value = Buffer.alloc(1_048_500, 7);
    value[0] = 42;
    const m = poison(value);
    expect(messageBytes(m)).toBeGreaterThan(1_000_000);
    const f = fitted(m, 1_000_000, 64 * 1024);
    expect(messageBytes(f)).toBeLessThan(70 * 1024);
    expect((f.value as Buffer).length).toBe(64 * 1024);
    expect((f.value as Buffer)[0]).toBe(42);
    expect(f.key?.toString()).toBe('pump');
    expect(f.headers).toMatchObject({
      'seismo-truncated': 'true',
      'seismo-reason': 'oversized',
      'seismo-source-offset': '7',
      'seismo-original-value-bytes': '1048500',
      'seismo-original-sha256': createHash('sha256').update(value).digest('hex'),
    });
  });

  it('splits a send so no request carries more than the limit, in order', () => {
    const msgs = Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: 'x'.repeat(300_000) }));
    const groups = bySize(msgs, 1_000_000);
    expect(groups.flat()).toEqual(msgs);
    for (const g of groups) expect(g.reduce((a, m) => a + messageBytes(m), 0)).toBeLessThanOrEqual(1_000_000);
    expect(groups.length).toBe(4);
  });
});

describe('Kafka records without a key (issue 12: they split an entity between partitions)', () => {
  const message = (key: Buffer | null): KafkaMessage => ({ key, value: Buffer.from('{"entity":"p","ts":1,"values":{}}'), offset: '3', timestamp: '1', attributes: 0, headers: {} }) as KafkaMessage;

  it('are poison with a reason that says why, original kept', () => {
    const r = toRecord('in', 2, message(null));
    expect(r.kind).toBe('poison');
    if (r.kind !== 'poison') return;
    expect(r.poison.reason).toBe('invalid_shape');
    expect(r.poison.detail).toContain('no key');
    expect(r.poison.position).toMatchObject({ partition: 2, offset: '3' });
    expect(r.poison.original?.value?.toString()).toContain('"entity":"p"');
  });

  it('keyed records are raw readings to decode', () => {
    expect(toRecord('in', 0, message(Buffer.from('p')))).toMatchObject({ kind: 'raw', key: 'p' });
  });
});
