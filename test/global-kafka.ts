import { execFileSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';

// Integration tests talk to a real single-node Kafka broker (KRaft) that this setup starts from
// the repo's own scripts, on its own port and directory so a developer's broker is left alone.
// SEISMO_SKIP_KAFKA=1 skips them (visibly) on a developer machine; with CI=true it is an error.
export const TEST_KAFKA_PORT = Number(process.env.SEISMO_TEST_KAFKA_PORT ?? 29092);
export const TEST_KAFKA_DIR = process.env.SEISMO_TEST_KAFKA_DIR ?? '/tmp/seismo-kafka-test';
const scripts = new URL('../scripts/kafka/', import.meta.url).pathname;

let started = false;

export async function setup(project: TestProject): Promise<void> {
  if (process.env.SEISMO_SKIP_KAFKA === '1') {
    // CI proves the Kafka paths: there, a missing broker fails the run instead of skipping tests.
    if (process.env.CI === 'true') throw new Error('SEISMO_SKIP_KAFKA=1 is not allowed in CI: the Kafka integration tests must run');
    project.provide('kafkaBootstrap', '');
    return;
  }
  const bootstrap = execFileSync('bash', [`${scripts}start.sh`, '--port', String(TEST_KAFKA_PORT), '--dir', TEST_KAFKA_DIR, '--fresh'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  started = true;
  project.provide('kafkaBootstrap', bootstrap);
}

export async function teardown(): Promise<void> {
  if (started) execFileSync('bash', [`${scripts}stop.sh`, '--dir', TEST_KAFKA_DIR, '--clean'], { stdio: 'inherit' });
}

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBootstrap: string;
  }
}
