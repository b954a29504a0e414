import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { kafkaOptions } from '../../src/kafka/client.js';
import { createLogger } from '../../src/observability/logger.js';
import { bootstrap, cli, DaemonProcess, MODEL_YAML, skabSubset, trainWorkspace } from './harness.js';

const SECRET = 'hunter2-do-not-log-7f3a';
const log = createLogger('silent');

describe('Kafka security options', () => {
  it('passes SASL (plain, scram) and TLS settings through to the client', () => {
    const dir = skabSubset([]);
    const ca = join(dir, 'ca.pem');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    for (const mechanism of ['plain', 'scram-sha-256', 'scram-sha-512'] as const) {
      const cfg = parseConfig(`kafka:\n  brokers: ["b1:9093", "b2:9093"]\n  ssl:\n    enabled: true\n    caFile: ${ca}\n    rejectUnauthorized: false\n  sasl:\n    mechanism: ${mechanism}\n    username: seismo\n    password: ${SECRET}\n`, 'k.yaml');
      const opts = kafkaOptions(cfg.kafka, log);
      expect(opts.brokers).toEqual(['b1:9093', 'b2:9093']);
      expect(opts.sasl).toEqual({ mechanism, username: 'seismo', password: SECRET });
      expect(opts.ssl).toMatchObject({ rejectUnauthorized: false });
      expect(String((opts.ssl as { ca: Buffer[] }).ca[0])).toContain('BEGIN CERTIFICATE');
    }
    const plain = kafkaOptions(parseConfig('kafka: {}\n', 'k.yaml').kafka, log);
    expect(plain.ssl).toBe(false);
    expect('sasl' in plain).toBe(false);
  });

  it('names the missing or unreadable setting', () => {
    expect(() => kafkaOptions(parseConfig('kafka:\n  sasl:\n    mechanism: plain\n    password: x\n', 'k.yaml').kafka, log)).toThrow('kafka.sasl.username');
    expect(() => kafkaOptions(parseConfig('kafka:\n  sasl:\n    mechanism: scram-sha-256\n    username: u\n', 'k.yaml').kafka, log)).toThrow('kafka.sasl.password');
    expect(() => kafkaOptions(parseConfig('kafka:\n  ssl:\n    enabled: true\n    caFile: /nonexistent/ca.pem\n', 'k.yaml').kafka, log)).toThrow('kafka.ssl.caFile: cannot read /nonexistent/ca.pem');
  });

  it.skipIf(!bootstrap)('never logs the SASL password, even when authentication fails against a real broker', { timeout: 300_000 }, async () => {
    const ws = trainWorkspace(skabSubset(['0.csv']));
    const config = join(ws.dir, 'sasl.yaml');
    // The test broker only speaks PLAINTEXT, so SASL must fail: the failure is logged, the secret is not.
    writeFileSync(config, `${MODEL_YAML.replace('level: info', 'level: debug')}artifactDir: ${ws.artifactDir}\nhttp:\n  port: 0\nsource:\n  kind: kafka\n  topics: [secure-in]\nsink:\n  kind: kafka\nkafka:\n  brokers: ["${bootstrap}"]\n  retryMaxMs: 300\n  sasl:\n    mechanism: plain\n    username: seismo\n`);
    const d = new DaemonProcess(config, { SEISMO_KAFKA_SASL_PASSWORD: SECRET });
    const code = await d.exited;
    const output = d.log();
    expect(code).toBe(7);
    expect(output).toMatch(/SASL|sasl|authentication/i);
    expect(output).not.toContain(SECRET);
    // The same holds for the config printed back by validate-config.
    const validated = cli(['validate-config', config], { SEISMO_KAFKA_SASL_PASSWORD: SECRET });
    expect(validated.stdout + validated.stderr).not.toContain(SECRET);
  });
});
