import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bootstrap, cli, createTopics, DaemonProcess, kafkaClient, sleep, unique, waitFor } from '../kafka/harness.js';

const root = new URL('../../', import.meta.url).pathname;
interface Panel {
  title: string;
  targets: { expr: string }[];
}
const dashboard = JSON.parse(readFileSync(`${root}deploy/grafana/dashboards/seismo.json`, 'utf8')) as { panels: Panel[] };

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

describe('Grafana dashboard', () => {
  it('has the panels operators need, each with a PromQL target', () => {
    const titles = dashboard.panels.map((p) => p.title.toLowerCase()).join(' | ');
    for (const needed of ['readings in', 'flags out', 'lag', 'threshold', 'dead letters', 'scoring latency', 'end-to-end', 'backend', 'live tensors', 'memory', 'model']) {
      expect(titles).toContain(needed);
    }
    for (const p of dashboard.panels) expect(p.targets.length, p.title).toBeGreaterThan(0);
  });

  const children: (ChildProcess | DaemonProcess)[] = [];
  afterAll(async () => {
    for (const c of children) {
      if (c instanceof DaemonProcess) await c.stop('SIGKILL');
      else c.kill('SIGKILL');
    }
  });

  it.skipIf(!bootstrap)('every panel query returns a series from a real Prometheus scraping a Seismo fed with the demo fleet', { timeout: 300_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seismo-dash-'));
    const t = { topic: unique('readings'), flags: unique('flags'), dlq: unique('dlq'), group: unique('group') };
    await createTopics([{ topic: t.topic, partitions: 2 }, { topic: t.flags, partitions: 1 }, { topic: t.dlq, partitions: 1 }]);
    const config = join(dir, 'seismo.yaml');
    // The demo fleet judged by level, as config/demo.yaml does (by shape, 3 epochs of this small
    // model do not pass the training quality gate on it).
    writeFileSync(
      config,
      `artifactDir: ${join(dir, 'model')}\nwindow:\n  lookback: 10\n  maxGapSeconds: 100000000\ntraining:\n  relativeFeatures: none\nmodel:\n  encoderUnits: [16, 8]\n  epochs: 3\n  batchSize: 256\n  learningRate: 0.01\nalerts:\n  openK: 1\n  openN: 1\nhttp:\n  port: 0\nlog:\n  level: info\nsource:\n  kind: kafka\n  topics: [${t.topic}]\n  groupId: ${t.group}\nsink:\n  kind: kafka\n  topic: ${t.flags}\n  deadLetterTopic: ${t.dlq}\nkafka:\n  brokers: ["${bootstrap}"]\n`,
    );
    const normal = join(dir, 'normal.ndjson');
    cli(['simulate', '-o', normal, '--entities', '2', '--steps', '400', '--events', '0']);
    cli(['train', '-c', config, '-d', normal]);

    const seismo = new DaemonProcess(config);
    children.push(seismo);
    await waitFor(async () => seismo.ready(), `seismo to be ready\n${seismo.log()}`);
    const target = new URL(seismo.metricsUrl as string).host;

    const promPort = await freePort();
    writeFileSync(join(dir, 'prometheus.yml'), `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: seismo\n    static_configs:\n      - targets: ['${target}']\n`);
    const prometheus = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${promPort}`], { stdio: 'ignore' });
    children.push(prometheus);
    const api = `http://127.0.0.1:${promPort}/api/v1`;
    const query = async (q: string) => (await (await fetch(`${api}/query?query=${encodeURIComponent(q)}`)).json()) as { status: string; error?: string; data: { result: unknown[] } };
    await waitFor(async () => (await fetch(`http://127.0.0.1:${promPort}/-/ready`).catch(() => undefined))?.status === 200, 'prometheus to be ready');

    // The demo fleet (with injected events) at a steady rate, plus some poison, while Prometheus scrapes.
    const produce = spawn('node', [new URL('../../dist/cli.js', import.meta.url).pathname, 'produce', '-c', config, '--topic', t.topic, '--entities', '4', '--steps', '1440', '--rate', '400', '--now'], { stdio: 'ignore' });
    children.push(produce);
    const producer = kafkaClient().producer();
    await producer.connect();
    await producer.send({ topic: t.topic, messages: [{ key: 'pump-1', value: '{"not json' }, { key: 'pump-2', value: '{"entity":"pump-2","ts":"soon","values":{}}' }] });
    await producer.disconnect();

    await waitFor(async () => {
      const r = await query('sum(increase(seismo_windows_scored_total[15s])) > 0 and sum(count_over_time(up{job="seismo"}[1m])) >= 15');
      return r.data.result.length > 0;
    }, `15 scrapes while windows are being scored\n${seismo.log()}`, 120_000);
    await sleep(2000);

    const empty: string[] = [];
    for (const panel of dashboard.panels) {
      for (const { expr } of panel.targets) {
        const r = await query(expr);
        if (r.status !== 'success') empty.push(`${panel.title}: ${expr}: ${r.error ?? r.status}`);
        else if (r.data.result.length === 0) empty.push(`${panel.title}: ${expr}: no series`);
      }
    }
    expect(empty).toEqual([]);
    produce.kill('SIGTERM');
    expect(await seismo.stop()).toBe(0);
  });
});
