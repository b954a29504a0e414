import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { StreamSink } from '../../src/sink/stream-sink.js';
import type { Flag } from '../../src/domain/types.js';

const flag = (id: string): Flag => ({ id, episodeId: 'e', openedAt: '2026-01-01T00:00:00.000Z', entity: 'x', state: 'open', windowStart: '2026-01-01T00:00:00.000Z', windowEnd: '2026-01-01T00:00:01.000Z', score: 2, threshold: 1, severity: 2, topFeatures: [], model: 'm' });

describe('StreamSink', () => {
  it('resolves only once the stream has handed the bytes on, not when write() buffered them', async () => {
    const written: string[] = [];
    let release: (() => void) | undefined;
    const slow = new Writable({
      highWaterMark: 1 << 20,
      write(chunk: Buffer, _enc, done) {
        written.push(chunk.toString('utf8'));
        release = done;
      },
    });
    let sent = false;
    const pending = new StreamSink(slow).send([flag('a'), flag('b')]).then(() => (sent = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(written.join('').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as Flag).id)).toEqual(['a', 'b']);
    expect(sent).toBe(false);
    release?.();
    await pending;
    expect(sent).toBe(true);
  });

  it('rejects with SEISMO_SINK_FAILED when the stream fails (a closed pipe), instead of waiting forever', async () => {
    const broken = new Writable({
      highWaterMark: 1,
      write(_chunk, _enc, done) {
        done(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    broken.on('error', () => {});
    await expect(new StreamSink(broken).send([flag('a')])).rejects.toMatchObject({ code: 'SEISMO_SINK_FAILED', message: expect.stringContaining('EPIPE') });
    // The stream is now destroyed: a later send fails the same way, it does not hang.
    await expect(new StreamSink(broken).send([flag('b')])).rejects.toMatchObject({ code: 'SEISMO_SINK_FAILED' });
  });
});
