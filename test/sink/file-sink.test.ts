import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SeismoError } from '../../src/errors.js';
import type { Flag } from '../../src/pipeline/types.js';
import { FileDeadLetterSink, FileSink } from '../../src/sink/stream-sink.js';

const flag = { entity: 'e', state: 'open' } as unknown as Flag;

async function rejection(p: Promise<unknown>): Promise<SeismoError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(SeismoError);
  return err as SeismoError;
}

describe('file sinks (flags, dead letters)', () => {
  it('refuse at startup a path whose folder does not exist, or that is a folder, naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seismo-file-sink-'));
    const missing = join(dir, 'nodir', 'flags.ndjson');
    const err = await rejection(new FileSink(missing).open());
    expect(err.code).toBe('SEISMO_SINK_FAILED');
    expect(err.message).toContain(missing);
    expect((await rejection(new FileDeadLetterSink(dir).open())).message).toMatch(/is a directory/);
    // A writable place passes, and nothing is created until there is something to write.
    await new FileSink(join(dir, 'flags.ndjson')).open();
    expect(() => readFileSync(join(dir, 'flags.ndjson'))).toThrow(/ENOENT/);
  });

  it('a failed open is a sink failure, and the next send tries again (the folder created meanwhile)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seismo-file-sink-'));
    const path = join(dir, 'later', 'flags.ndjson');
    const sink = new FileSink(path);
    expect((await rejection(sink.send([flag]))).code).toBe('SEISMO_SINK_FAILED');
    mkdirSync(join(dir, 'later'));
    await sink.send([flag]);
    await sink.close();
    expect(readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as unknown)).toEqual([flag]);
  });
});
