import { realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { SeismoConfig } from '../config/schema.js';
import { SeismoError } from '../errors.js';

/**
 * The refit shadow sink must never write where on-call (or a dead-letter reader) reads:
 * refit.shadowPath is refused when it is the flags file or the dead-letter file, and
 * refit.shadowTopic when it is the flags topic or the dead-letter topic. Paths are compared as files, not as strings:
 * a symlink, a hard link or a symlinked directory that leads to the flags file is the flags file.
 */
export function checkShadowTarget(config: SeismoConfig): void {
  const { refit, sink } = config;
  if (sink.kind === 'file' && sameFile(refit.shadowPath, sink.path ?? 'flags.ndjson')) {
    throw new SeismoError('SEISMO_CONFIG_INVALID', `refit.shadowPath ${refit.shadowPath} is the flags file (sink.path ${sink.path ?? 'flags.ndjson'}): shadow flags must never reach on-call`);
  }
  if (sink.kind !== 'kafka' && sink.deadLetterPath !== undefined && sameFile(refit.shadowPath, sink.deadLetterPath)) {
    throw new SeismoError('SEISMO_CONFIG_INVALID', `refit.shadowPath ${refit.shadowPath} is the dead-letter file (sink.deadLetterPath ${sink.deadLetterPath}): shadow flags are not poison records`);
  }
  if (sink.kind === 'kafka' && (refit.shadowTopic ?? `${sink.topic}.shadow`) === sink.topic) {
    throw new SeismoError('SEISMO_CONFIG_INVALID', `refit.shadowTopic is the flags topic (sink.topic ${sink.topic}): shadow flags must never reach on-call`);
  }
  if (sink.kind === 'kafka' && (refit.shadowTopic ?? `${sink.topic}.shadow`) === sink.deadLetterTopic) {
    throw new SeismoError('SEISMO_CONFIG_INVALID', `refit.shadowTopic is the dead-letter topic (sink.deadLetterTopic ${sink.deadLetterTopic}): shadow flags are not poison records`);
  }
}

/** Whether two paths name one file: same device and inode when both exist, else the same canonical path. */
function sameFile(a: string, b: string): boolean {
  const sa = statOf(a);
  const sb = statOf(b);
  if (sa !== undefined && sb !== undefined) return sa.dev === sb.dev && sa.ino === sb.ino;
  return canonical(a) === canonical(b);
}

function statOf(path: string): { dev: number; ino: number } | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** The path with every symlink of its existing part resolved (a file not created yet keeps its name). */
function canonical(path: string): string {
  const full = resolve(path);
  try {
    return realpathSync(full);
  } catch {
    const parent = dirname(full);
    return parent === full ? full : join(canonical(parent), basename(full));
  }
}
