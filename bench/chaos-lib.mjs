// Shared by bench/chaos.mjs and bench/soak.mjs: a broker of their own, a throwaway model,
// `seismo run` children with their /metrics, and consumer-group lag from the broker.
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';

export const root = new URL('../', import.meta.url).pathname;
export const CLI = join(root, 'dist/cli.js');
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const say = (tag, m) => process.stderr.write(`[${tag} ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

export function seismo(args, env = {}) {
  const r = spawnSync('node', [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`seismo ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** scripts/kafka/start.sh; fresh wipes the data (new cluster), otherwise the broker restarts on its data. */
export function startBroker(port, dir, fresh) {
  const r = spawnSync('bash', [join(root, 'scripts/kafka/start.sh'), '--port', String(port), '--dir', dir, ...(fresh ? ['--fresh'] : [])], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`start.sh failed: ${r.stderr}`);
  return r.stdout.trim();
}

export function stopBroker(dir, clean = false) {
  const r = spawnSync('bash', [join(root, 'scripts/kafka/stop.sh'), '--dir', dir, ...(clean ? ['--clean'] : [])], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`stop.sh failed: ${r.stderr}`);
}

export const kafkaOf = (bootstrap) => new Kafka({ clientId: 'seismo-bench', brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 30, maxRetryTime: 2000 } });

/** The model part of every config: small and quick to train (quality is irrelevant here). */
export function modelYaml(dir, units) {
  return `artifactDir: ${join(dir, 'model')}
window:
  lookback: 10
  maxGapSeconds: 600
model:
  encoderUnits: [${units}]
  epochs: 3
  batchSize: 256
  learningRate: 0.005
alerts:
  openK: 3
  openN: 5
http:
  port: 0
log:
  level: info
`;
}

/** Trains the throwaway model on simulator data (2 entities, 600 steps). */
export function trainModel(dir, units) {
  const data = join(dir, 'train.ndjson');
  seismo(['simulate', '-o', data, '--entities', '2', '--steps', '600', '--events', '0']);
  const cfg = join(dir, 'train.yaml');
  writeFileSync(cfg, `${modelYaml(dir, units)}`.replace('http:\n  port: 0', 'http:\n  enabled: false'));
  seismo(['train', '-c', cfg, '-d', data, '--force']); // a throwaway model: its quality is not what the bench measures
}

export function runConfig(dir, name, { units, bootstrap, topic, group, flags, dlq, extra = '' }) {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(
    path,
    `${modelYaml(dir, units)}source:\n  kind: kafka\n  topics: [${topic}]\n  groupId: ${group}\n  sessionTimeoutMs: 8000\nsink:\n  kind: kafka\n  topic: ${flags}\n  deadLetterTopic: ${dlq}\nkafka:\n  brokers: ["${bootstrap}"]\n  retryMaxMs: 2000\n${extra}`,
  );
  return path;
}

/** A `seismo run` child: its /metrics URL from the log, metrics parsed, readiness. */
/** Prometheus text exposition -> { 'name{labels}': value }. */
export function parseMetrics(text) {
  const values = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    values[line.slice(0, i)] = Number(line.slice(i + 1));
  }
  return values;
}

export class Daemon {
  constructor(config, name, env = {}) {
    this.name = name;
    this.started = performance.now();
    this.child = spawn('node', [CLI, 'run', '-c', config], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    this.tail = '';
    this.url = undefined;
    this.exitCode = undefined;
    const on = (d) => {
      this.tail = (this.tail + d.toString()).slice(-20_000);
      if (this.url === undefined) {
        const m = /"msg":"http listening"[^\n]*"url":"([^"]+)"|"url":"([^"]+)"[^\n]*"msg":"http listening"/.exec(this.tail);
        if (m) this.url = m[1] ?? m[2];
      }
    };
    this.child.stdout.on('data', on);
    this.child.stderr.on('data', on);
    this.exited = new Promise((r) => this.child.on('exit', (code, signal) => r((this.exitCode = code ?? signal))));
  }
  get pid() {
    return this.child.pid;
  }
  async metrics() {
    if (this.url === undefined || this.exitCode !== undefined) return {};
    try {
      return parseMetrics(await (await fetch(this.url, { signal: AbortSignal.timeout(5000) })).text());
    } catch {
      return {};
    }
  }
  async ready() {
    if (this.url === undefined || this.exitCode !== undefined) return false;
    return (await fetch(this.url.replace('/metrics', '/readyz'), { signal: AbortSignal.timeout(5000) }).catch(() => ({ status: 0 }))).status === 200;
  }
  kill(signal) {
    if (this.exitCode === undefined) this.child.kill(signal);
    return this.exited;
  }
}

export const sum = (m, prefix) => Object.entries(m).filter(([k]) => k === prefix || k.startsWith(`${prefix}{`)).reduce((s, [, v]) => s + v, 0);

/**
 * Lag of a group by its committed checkpoints (what a restart would resume from), summed over
 * partitions: high watermark minus the next offset to process. undefined when the broker does not answer.
 */
export async function groupLag(admin, group, topic) {
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const committed = (await admin.fetchOffsets({ groupId: group, topics: [topic] }))[0]?.partitions ?? [];
    let lag = 0;
    let high = 0;
    const parts = [];
    for (const e of ends) {
      const h = Number(e.high);
      high += h;
      const c = committed.find((p) => p.partition === e.partition);
      let next = c && Number(c.offset) >= 0 ? Number(c.offset) : 0;
      try {
        const meta = c?.metadata ? JSON.parse(c.metadata) : undefined;
        if (typeof meta?.next === 'number') next = meta.next;
      } catch {
        // not a Seismo checkpoint: the plain offset stands
      }
      lag += Math.max(0, h - next);
      parts.push({ partition: e.partition, high: h, next });
    }
    return { lag, high, done: high - lag, parts };
  } catch {
    return undefined;
  }
}

/** Every message of a topic (from the beginning), until none arrives for idleMs. */
export async function readAll(kafka, topic, idleMs = 8000) {
  const consumer = kafka.consumer({ groupId: `reader-${Date.now()}-${Math.random().toString(16).slice(2)}` });
  const out = [];
  let last = Date.now();
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      out.push(message);
      last = Date.now();
    },
  });
  while (Date.now() - last < idleMs) await sleep(250);
  await consumer.disconnect();
  return out;
}
