import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import { inject } from 'vitest';
import type { Flag } from '../../src/pipeline/types.js';

/** Helpers for tests against the real broker that test/global-kafka.ts started. */
export const bootstrap = inject('kafkaBootstrap');
export const CLI = new URL('../../dist/cli.js', import.meta.url).pathname;
export const SKAB = new URL('../../../shared/data/skab/', import.meta.url).pathname;

export const unique = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;

export function kafkaClient(brokers = bootstrap): Kafka {
  return new Kafka({ clientId: unique('test'), brokers: [brokers], logLevel: logLevel.NOTHING });
}

export async function createTopics(topics: { topic: string; partitions: number }[], brokers = bootstrap): Promise<void> {
  const admin = kafkaClient(brokers).admin();
  await admin.connect();
  await admin.createTopics({ topics: topics.map((t) => ({ topic: t.topic, numPartitions: t.partitions, replicationFactor: 1 })), waitForLeaders: true });
  await admin.disconnect();
}

/** Reads a topic from the beginning until `until` holds or nothing new arrives for idleMs. */
export async function readTopic(topic: string, until: (msgs: KafkaMessage[]) => boolean, idleMs = 5_000, brokers = bootstrap): Promise<KafkaMessage[]> {
  const consumer = kafkaClient(brokers).consumer({ groupId: unique('reader') });
  const messages: KafkaMessage[] = [];
  let last = Date.now();
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      messages.push(message);
      last = Date.now();
    },
  });
  while (!until(messages) && Date.now() - last < idleMs) await sleep(100);
  await consumer.disconnect();
  return messages;
}

/** Messages in a topic (all partitions), from its offsets. */
export async function readTopicCount(topic: string, brokers = bootstrap): Promise<number> {
  const admin = kafkaClient(brokers).admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}

/** kcat (the Debian package) as the third-party consumer: key, headers and value of every message. */
export function kcatRead(topic: string, brokers = bootstrap): { key: string; value: string }[] {
  const r = spawnSync('kcat', ['-b', brokers, '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%k\\t%s\\n'], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`kcat failed (${r.status}): ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l.length > 0).map((l) => {
    const tab = l.indexOf('\t');
    return { key: l.slice(0, tab), value: l.slice(tab + 1) };
  });
}

/**
 * fetch, tried again when the connection was closed under it: a keep-alive socket that the
 * daemon's server closed (idle timeout) while a busy event loop delayed the client's notice.
 */
export async function fetchAgain(url: string, init?: RequestInit): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetch(url, init);
    } catch (err) {
      if (attempt >= 3) throw err;
      await sleep(50);
    }
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, ms = 120_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

export function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync('node', [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 600_000 });
  if (r.status !== 0) throw new Error(`seismo ${args.join(' ')} exited ${r.status}:\n${r.stderr}\n${r.stdout}`);
  return r;
}

/** A directory of symlinks to some SKAB valve1 files: several entities ("0", "1", ...), real data. */
export function skabSubset(files: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'seismo-skab-'));
  for (const f of files) symlinkSync(join(SKAB, 'valve1', f), join(dir, f));
  return dir;
}

export const MODEL_YAML = `input:\n  format: skab\nwindow:\n  lookback: 10\n  maxGapSeconds: 60\n  missing: reject\n  warmupWindows: 2\ntraining:\n  maxRows: 400\n  relativeFeatures: auto\nmodel:\n  encoderUnits: [16, 8]\n  epochs: 6\n  batchSize: 128\n  learningRate: 0.01\nalerts:\n  openK: 2\n  openN: 3\n  smoothWindows: 3\n  resolveAfter: 5\n  cooldownWindows: 5\nthreshold:\n  multiplier: 1.2\nlog:\n  level: info\n`;

export interface Workspace {
  dir: string;
  artifactDir: string;
  /** A config for `seismo run` between these topics. */
  kafkaConfig(opts: { topic: string; group: string; flags: string; dlq: string; extra?: string; brokers?: string; http?: string }): string;
}

/** Trains a small model on the data's first 400 rows per entity (SKAB protocol) once per test file. */
export function trainWorkspace(data: string): Workspace {
  const dir = mkdtempSync(join(tmpdir(), 'seismo-kafka-'));
  const artifactDir = join(dir, 'model');
  const config = join(dir, 'train.yaml');
  writeFileSync(config, `${MODEL_YAML}artifactDir: ${artifactDir}\nhttp:\n  enabled: false\n`);
  cli(['train', '-c', config, '-d', data]);
  let n = 0;
  return {
    dir,
    artifactDir,
    kafkaConfig({ topic, group, flags, dlq, extra = '', brokers = bootstrap, http = '' }) {
      const path = join(dir, `run-${n++}.yaml`);
      writeFileSync(
        path,
        `${MODEL_YAML}artifactDir: ${artifactDir}\nhttp:\n  port: 0\n${http}source:\n  kind: kafka\n  topics: [${topic}]\n  groupId: ${group}\n  sessionTimeoutMs: 8000\nsink:\n  kind: kafka\n  topic: ${flags}\n  deadLetterTopic: ${dlq}\nkafka:\n  brokers: ["${brokers}"]\n  retryMaxMs: 2000\n${extra}`,
      );
      return path;
    },
  };
}

/** Flags of an offline replay of the same data through `seismo run` with a file source and sink. */
export function offlineFlags(ws: Workspace, data: string, edit: (yaml: string) => string = (y) => y): Flag[] {
  const out = join(ws.dir, `offline-${randomBytes(3).toString('hex')}.ndjson`);
  const config = join(ws.dir, 'offline.yaml');
  writeFileSync(config, edit(`${MODEL_YAML}artifactDir: ${ws.artifactDir}\nhttp:\n  enabled: false\nsource:\n  kind: file\n  path: ${data}\nsink:\n  kind: file\n  path: ${out}\n`));
  cli(['run', '-c', config]);
  return readFileSync(out, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Flag);
}

export function produce(config: string, data: string, topic: string): void {
  cli(['produce', '-c', config, '--data', data, '--topic', topic]);
}

/** A `seismo run` child process with its log lines parsed. */
export class DaemonProcess {
  readonly child: ChildProcess;
  readonly lines: Record<string, unknown>[] = [];
  private text = '';
  exitCode: number | null | undefined;
  readonly exited: Promise<number | null>;

  constructor(config: string, env: NodeJS.ProcessEnv = {}) {
    mkdirSync(tmpdir(), { recursive: true });
    this.child = spawn('node', [CLI, 'run', '-c', config], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const onData = (chunk: Buffer) => {
      this.text += chunk.toString('utf8');
      let nl: number;
      while ((nl = this.text.indexOf('\n')) >= 0) {
        const line = this.text.slice(0, nl);
        this.text = this.text.slice(nl + 1);
        try {
          this.lines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          this.lines.push({ msg: line });
        }
      }
    };
    this.child.stdout?.on('data', onData);
    this.child.stderr?.on('data', onData);
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve((this.exitCode = code))));
  }

  log(): string {
    return this.lines.map((l) => JSON.stringify(l)).join('\n');
  }

  get metricsUrl(): string | undefined {
    const line = this.lines.find((l) => l.msg === 'http listening');
    return line ? (line.url as string) : undefined;
  }

  /** The value of a metric (summed over label sets matching `labels`), from /metrics. */
  async metric(name: string, labels = ''): Promise<number> {
    const url = this.metricsUrl;
    if (!url) return NaN;
    const text = await (await fetchAgain(url)).text();
    let sum = 0;
    for (const line of text.split('\n')) {
      if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) {
        if (labels && !line.includes(labels)) continue;
        sum += Number(line.slice(line.lastIndexOf(' ') + 1));
      }
    }
    return sum;
  }

  async ready(): Promise<boolean> {
    const url = this.metricsUrl;
    if (!url) return false;
    return (await fetchAgain(url.replace('/metrics', '/readyz'))).status === 200;
  }

  totals(): Record<string, number> | undefined {
    return this.lines.find((l) => l.msg === 'stopped')?.totals as Record<string, number> | undefined;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.exitCode === undefined) this.child.kill(signal);
    return this.exited;
  }
}

/** Daemons started by a test file, all killed by stopAll() (its afterAll) whatever a test left running. */
export function daemonTracker(): { daemon: (config: string, env?: NodeJS.ProcessEnv) => DaemonProcess; stopAll: () => Promise<void> } {
  const daemons: DaemonProcess[] = [];
  return {
    daemon: (config, env = {}) => {
      const d = new DaemonProcess(config, env);
      daemons.push(d);
      return d;
    },
    stopAll: async () => {
      await Promise.all(daemons.map((d) => d.stop('SIGKILL')));
    },
  };
}

/** True once the group's committed checkpoints say every message of the topic was processed. */
export async function caughtUp(group: string, topic: string, brokers = bootstrap): Promise<boolean> {
  const admin = kafkaClient(brokers).admin();
  try {
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(topic);
    const committed = (await admin.fetchOffsets({ groupId: group, topics: [topic] }))[0]?.partitions ?? [];
    return ends.every((e) => {
      if (Number(e.high) === 0) return true;
      const c = committed.find((p) => p.partition === e.partition);
      const next = c?.metadata ? (JSON.parse(c.metadata) as { next?: number }).next : undefined;
      return next !== undefined && next >= Number(e.high);
    });
  } catch {
    return false; // e.g. the group coordinator is still loading on a fresh broker: ask again
  } finally {
    await admin.disconnect();
  }
}

/** Flags from the flags topic, deduplicated by id (what a consumer is told to do). */
export function dedupe(messages: KafkaMessage[]): Flag[] {
  const byId = new Map<string, Flag>();
  for (const m of messages) {
    const f = JSON.parse(m.value?.toString('utf8') ?? '') as Flag;
    if (!byId.has(f.id)) byId.set(f.id, f);
  }
  return [...byId.values()];
}

/**
 * Flags in a canonical order, with measured floats (observed and expected values too) at 5 significant digits: TensorFlow's kernels
 * sum in a batch-size-dependent order, so the same window scored in a different batch can differ
 * in the 7th digit (measured: 1e-7 relative). Ids, states and windows must match exactly.
 */
export const sortFlags = (flags: Flag[]) =>
  [...flags].map(roundFlag).sort((a, b) => (a.entity === b.entity ? a.windowEnd.localeCompare(b.windowEnd) || a.state.localeCompare(b.state) : a.entity.localeCompare(b.entity)));

const sig = (x: number) => Number(x.toPrecision(5));
function roundFlag(f: Flag): Flag {
  return { ...f, score: sig(f.score), severity: sig(f.severity), threshold: sig(f.threshold), topFeatures: f.topFeatures.map((t) => ({ ...t, error: sig(t.error), share: sig(t.share), ...(t.observed !== undefined ? { observed: sig(t.observed) } : {}), ...(t.expected !== undefined ? { expected: sig(t.expected) } : {}) })) };
}
