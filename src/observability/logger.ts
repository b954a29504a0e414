import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * JSON logs. When stdout carries data (flags, scores), logs go to stderr so the two never mix.
 * Credentials that may sit in config objects are redacted wherever they appear.
 */
export function createLogger(level: string, toStderr = false): Logger {
  return pino(
    {
      level,
      base: { service: 'seismo' },
      redact: { paths: ['password', '*.password', '*.*.password', 'sasl', '*.sasl', '*.*.sasl', 'ssl.key', '*.ssl.key', 'token', '*.token', '*.*.token'], censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Level names ("warn"), not pino's numbers (40): logs are read by people and grepped.
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ fd: toStderr ? 2 : 1, sync: true }),
  );
}
