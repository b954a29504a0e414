import { open, type FileHandle } from 'node:fs/promises';
import type { Flag, PoisonRecord } from '../pipeline/types.js';
import type { DeadLetterSink, Sink } from './sink.js';

/** NDJSON to a writable stream (stdout): resolves once the stream has taken the bytes. */
export class StreamSink implements Sink {
  constructor(private readonly stream: NodeJS.WritableStream = process.stdout) {}

  async send(flags: Flag[]): Promise<void> {
    if (flags.length === 0) return;
    const text = flags.map((f) => JSON.stringify(f)).join('\n') + '\n';
    if (!this.stream.write(text)) await new Promise<void>((resolve) => this.stream.once('drain', () => resolve()));
  }

  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}

/** Appends NDJSON lines to a file and fsyncs before resolving, so an acknowledged flag survives a crash. */
export class FileNdjsonSink<T = Flag> {
  private handle: Promise<FileHandle> | undefined;

  constructor(private readonly path: string) {}

  async send(items: T[]): Promise<void> {
    if (items.length === 0) return;
    this.handle ??= open(this.path, 'a');
    const fh = await this.handle;
    await fh.write(items.map((f) => JSON.stringify(f)).join('\n') + '\n');
    await fh.datasync();
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
