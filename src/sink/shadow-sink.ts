import type { Flag } from '../domain/types.js';
import type { Health, Sink } from './sink.js';

/**
 * Where a refit candidate's flags go while it scores in shadow: every flag is marked
 * `shadow: true` (its `model` names the candidate) before it reaches the inner sink, which is
 * a shadow topic or file, never the flags output. `shared`: the inner sink rides on a
 * connection the live sink owns (a Kafka producer), so opening and closing it is the live
 * sink's business.
 */
export class ShadowSink implements Sink {
  constructor(private readonly inner: Sink, private readonly shared = false) {}

  async open(): Promise<void> {
    if (!this.shared) await this.inner.open?.();
  }

  send(flags: Flag[]): Promise<void> {
    return this.inner.send(flags.map((f) => ({ ...f, shadow: true as const })));
  }

  flush(): Promise<void> {
    return this.inner.flush();
  }

  async close(): Promise<void> {
    if (!this.shared) await this.inner.close();
  }

  health(): Health {
    return this.inner.health?.() ?? { ready: true, detail: {} };
  }
}
