import { readFileSync } from 'node:fs';
import { Kafka, logLevel, type LogEntry, type SASLOptions } from 'kafkajs';
import type { KafkaConfig } from '../config/schema.js';
import { SeismoError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { kafkaLineLevel } from './log-levels.js';

/**
 * kafkajs logs through our pino logger (child `kafka`), so its lines are JSON and redacted like
 * ours; conditions it retries by itself are logged below error level (see log-levels.ts).
 */
function kafkaLogCreator(log: Logger) {
  const child = log.child({ component: 'kafka' });
  return () =>
    ({ level, log: entry }: LogEntry) => {
      const { message, timestamp: _ts, logger: _name, ...extra } = entry as LogEntry['log'] & { logger?: string };
      child[kafkaLineLevel(level, message, (extra as { error?: unknown }).error)](extra, message);
    };
}

function readPem(path: string | undefined, field: string): Buffer | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path);
  } catch (err) {
    throw new SeismoError('SEISMO_CONFIG_INVALID', `${field}: cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
}

function saslOptions(cfg: KafkaConfig['sasl']): SASLOptions | undefined {
  if (cfg.mechanism === 'none') return undefined;
  if (!cfg.username) throw new SeismoError('SEISMO_CONFIG_INVALID', `kafka.sasl.username: required for mechanism "${cfg.mechanism}"`);
  if (cfg.password === undefined) throw new SeismoError('SEISMO_CONFIG_INVALID', `kafka.sasl.password: required for mechanism "${cfg.mechanism}" (set SEISMO_KAFKA_SASL_PASSWORD)`);
  return { mechanism: cfg.mechanism, username: cfg.username, password: cfg.password };
}

/** The kafkajs options Seismo derives from its config (exported so a test can check TLS/SASL pass-through). */
export function kafkaOptions(cfg: KafkaConfig, log: Logger) {
  const sasl = saslOptions(cfg.sasl);
  const ssl = cfg.ssl.enabled
    ? {
        rejectUnauthorized: cfg.ssl.rejectUnauthorized,
        ...(cfg.ssl.caFile ? { ca: [readPem(cfg.ssl.caFile, 'kafka.ssl.caFile') as Buffer] } : {}),
        ...(cfg.ssl.certFile ? { cert: readPem(cfg.ssl.certFile, 'kafka.ssl.certFile') as Buffer } : {}),
        ...(cfg.ssl.keyFile ? { key: readPem(cfg.ssl.keyFile, 'kafka.ssl.keyFile') as Buffer } : {}),
      }
    : false;
  return {
    clientId: cfg.clientId,
    brokers: cfg.brokers,
    connectionTimeout: cfg.connectionTimeoutMs,
    requestTimeout: cfg.requestTimeoutMs,
    ssl,
    ...(sasl ? { sasl } : {}),
    // Backoff grows to retryMaxMs; when retries run out the consumer restarts itself (see KafkaSource).
    retry: { initialRetryTime: 250, maxRetryTime: cfg.retryMaxMs, retries: 8 },
    logLevel: logLevel.INFO,
    logCreator: kafkaLogCreator(log),
  };
}

export function createKafka(cfg: KafkaConfig, log: Logger): Kafka {
  return new Kafka(kafkaOptions(cfg, log));
}
