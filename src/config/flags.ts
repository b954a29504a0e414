import { SeismoError } from '../errors.js';
import { parseTimestamp } from '../source/decode.js';
import { configSchema, type SeismoConfig } from './schema.js';

/** The flags `seismo run` and `seismo score` take on top of the config file (all optional). */
export interface ReplayFlags {
  /** A file or directory to replay: source.kind file, source.path. */
  data?: string;
  /** source.speed: 0 as fast as possible, N = N x real time. */
  speed?: string;
  /** sink.kind: stdout, file or kafka. */
  sink?: string;
  /** sink.path (implies --sink file when --sink is not given). */
  out?: string;
  /** http.port. */
  port?: string;
  /** Replay only readings at or after this time. */
  from?: string;
  /** Replay only readings before this time. */
  to?: string;
}

/** A replay time range, epoch ms: from inclusive, to exclusive; either end open. */
export interface TimeRange {
  from?: number;
  to?: number;
}

function timeFlag(value: string, flag: string): number {
  const t = parseTimestamp(value);
  if (!Number.isFinite(t)) throw new SeismoError('SEISMO_CONFIG_INVALID', `${flag}: cannot parse "${value}" as ISO 8601 (e.g. 2020-03-09T10:00:00Z) or epoch milliseconds`);
  return t;
}

function numberFlag(value: string, flag: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new SeismoError('SEISMO_CONFIG_INVALID', `${flag}: expected a number, got "${value}"`);
  return n;
}

/** The config field each flag sets, to name the flag when the schema refuses its value. */
const FLAG_OF: Record<string, string> = { 'source.path': '--data', 'source.speed': '--speed', 'sink.kind': '--sink', 'sink.path': '--out', 'http.port': '--port' };

/**
 * Applies command-line flags over a loaded config (flags win over the file and the environment)
 * and validates the result with the same schema, so `--speed -1` is refused the way
 * `source.speed: -1` would be, naming the flag. Returns the config and the replay time range.
 */
export function applyReplayFlags(cfg: SeismoConfig, flags: ReplayFlags): { config: SeismoConfig; range: TimeRange } {
  const next = structuredClone(cfg) as SeismoConfig;
  if (flags.data !== undefined) {
    next.source.kind = 'file';
    next.source.path = flags.data;
  }
  if (flags.speed !== undefined) next.source.speed = numberFlag(flags.speed, '--speed');
  if (flags.out !== undefined) {
    next.sink.path = flags.out;
    if (flags.sink === undefined) next.sink.kind = 'file';
  }
  if (flags.sink !== undefined) (next.sink as { kind: string }).kind = flags.sink;
  if (flags.port !== undefined) next.http.port = numberFlag(flags.port, '--port');
  const parsed = configSchema.safeParse(next);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      const path = i.path.join('.');
      return `${FLAG_OF[path] ?? path}: ${i.message}`;
    });
    throw new SeismoError('SEISMO_CONFIG_INVALID', `invalid flags:\n${problems.join('\n')}`);
  }
  const config = parsed.data as SeismoConfig;
  if (config.sink.kind === 'file' && config.sink.path === undefined) throw new SeismoError('SEISMO_CONFIG_INVALID', '--sink file: give --out FILE or set sink.path');
  const range: TimeRange = {};
  if (flags.from !== undefined) range.from = timeFlag(flags.from, '--from');
  if (flags.to !== undefined) range.to = timeFlag(flags.to, '--to');
  if (range.from !== undefined && range.to !== undefined && range.from >= range.to) throw new SeismoError('SEISMO_CONFIG_INVALID', `--from ${flags.from} is not before --to ${flags.to}`);
  if ((range.from !== undefined || range.to !== undefined) && config.source.kind !== 'file') {
    throw new SeismoError('SEISMO_CONFIG_INVALID', '--from/--to replay a time range of a file source (give --data or source.kind: file); a Kafka source reads its topics from the committed offsets');
  }
  return { config, range };
}
