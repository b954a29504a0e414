import { constants } from 'node:fs';
import { access, open, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { SeismoError } from '../errors.js';
import type { Flag, PoisonRecord } from '../pipeline/types.js';
import type { DeadLetterSink, Sink } from './sink.js';

/**
 * NDJSON to a writable stream (stdout). Resolves once the stream has handed the bytes on (its
 * write callback), not when write() accepted them into its buffer: a flag is counted as sent
 * only then, and a stream that fails (a closed pipe) rejects with SEISMO_SINK_FAILED instead of
 * leaving the send waiting for a 'drain' that never comes.
 */
export class StreamSink implements Sink {
  constructor(private readonly stream: NodeJS.WritableStream = process.stdout) {}

  async send(flags: Flag[]): Promise<void> {
    if (flags.length === 0) return;
    const text = flags.map((f) => JSON.stringify(f)).join('\n') + '\n';
    await new Promise<void>((resolve, reject) => {
      this.stream.write(text, (err) => (err ? reject(new SeismoError('SEISMO_SINK_FAILED', `flags stream: could not be written: ${err.message}`, { cause: err })) : resolve()));
    });
  }

  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}

/** Appends NDJSON lines to a file and fsyncs before resolving, so an acknowledged flag survives a crash. */
export class FileNdjsonSink<T = Flag> {
  private handle: Promise<FileHandle> | undefined;

  constructor(private readonly path: string) {}

  /**
   * At startup: the file must be writable where it is (its folder exists and may be written, the
   * path is not a folder), so a wrong path stops startup with SEISMO_SINK_FAILED instead of the
   * first flag. Nothing is created here: a run without flags leaves no file, as before.
   */
  async open(): Promise<void> {
    try {
      const existing = await stat(this.path).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err)));
      if (existing?.isDirectory()) throw new Error('it is a directory');
      await access(existing ? this.path : dirname(this.path), constants.W_OK);
    } catch (err) {
      throw this.failure('cannot be written', err);
    }
  }

  async send(items: T[]): Promise<void> {
    if (items.length === 0) return;
    this.handle ??= open(this.path, 'a');
    let fh: FileHandle;
    try {
      fh = await this.handle;
    } catch (err) {
      // Not cached: the next send tries again (a folder created meanwhile, space freed).
      this.handle = undefined;
      throw this.failure('cannot be opened', err);
    }
    try {
      await fh.write(items.map((f) => JSON.stringify(f)).join('\n') + '\n');
      await fh.datasync();
    } catch (err) {
      throw this.failure('could not be written', err);
    }
  }

  private failure(what: string, err: unknown): SeismoError {
    return new SeismoError('SEISMO_SINK_FAILED', `${this.path}: ${what}: ${(err as Error).message}`, { cause: err });
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    if (handle) await (await handle).close();
  }
}

export class FileSink extends FileNdjsonSink<Flag> implements Sink {}
export class FileDeadLetterSink extends FileNdjsonSink<PoisonRecord> implements DeadLetterSink {}

/** Dead letters as warn-level log lines: the default when no dead-letter file or topic is configured. */
export class LogDeadLetterSink implements DeadLetterSink {
  constructor(private readonly log: { warn: (obj: object, msg: string) => void }) {}

  async send(records: PoisonRecord[]): Promise<void> {
    for (const r of records) this.log.warn({ reason: r.reason, position: r.position, detail: r.detail, raw: r.raw.slice(0, 512) }, 'dead letter');
  }

  async close(): Promise<void> {}
}
