import { logLevel } from 'kafkajs';

export type PinoLevel = 'error' | 'warn' | 'info' | 'debug';

const LEVELS: Record<number, PinoLevel> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/**
 * Broker answers that are part of normal life (a broker starting, a topic being created, a
 * leader election, a group rebalance). kafkajs logs them at error level and then retries them
 * itself; at error level they make a healthy start look broken, so they are demoted. Matched on
 * the text kafkajs puts in the message or its `error` field (its protocol error messages).
 */
const EXPECTED_RETRIED = [
  'coordinator is loading',
  'does not host this topic-partition',
  'no leader for this topic-partition',
  'not the leader for that topic-partition',
  'group coordinator is not available',
  'not the correct coordinator',
  'group is rebalancing',
  'coordinator is not aware of this member',
];

/**
 * kafkajs notices that concern its own upgrade path or settings Seismo chose on purpose, logged
 * at warn on every start: the v2 default-partitioner change (Seismo keys by entity and never
 * relied on the old partitioner's placement), and "limiting retries for the idempotent producer"
 * (Seismo bounds retries and retries a failed chunk itself; it promises at-least-once with
 * stable flag ids, not exactly-once). Demoted to debug so a healthy start shows no warnings.
 */
const KNOWN_NOTICES = ['switched default partitioner', 'limiting retries for the idempotent producer'];

/** True when a kafkajs log line reports a condition kafkajs retries by itself. */
export function isExpectedRetried(message: string, error: unknown): boolean {
  const text = `${message} ${typeof error === 'string' ? error : ''}`.toLowerCase();
  return EXPECTED_RETRIED.some((s) => text.includes(s));
}

/**
 * The pino level for a kafkajs log line: kafkajs' own level, except that expected, retried
 * conditions go to debug (per-request protocol responses, which repeat on every retry) or info
 * (group-level events worth one line). Failures that outlast the retries still surface: kafkajs
 * then raises them, and Seismo's own error handling logs them.
 */
export function kafkaLineLevel(level: number, message: string, error: unknown): PinoLevel {
  const base = LEVELS[level] ?? 'info';
  if (base === 'warn' && KNOWN_NOTICES.some((n) => message.toLowerCase().includes(n))) return 'debug';
  if ((base === 'error' || base === 'warn') && isExpectedRetried(message, error)) return message.startsWith('Response ') ? 'debug' : 'info';
  return base;
}
