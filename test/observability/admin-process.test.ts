import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { trainFromData } from '../../src/jobs/train-job.js';
import { saveArtifact } from '../../src/model/artifact.js';
import { simulate } from '../../src/simulate/simulator.js';
import { SMALL_CONFIG_YAML, simulatedReadings, smallConfig } from '../helpers.js';

// The daemon as shipped (dist/cli.js `run`), on a file source paced at real time so it keeps
// running, with the admin endpoint and /metrics behind tokens: every admin answer against the
// real reload, SIGHUP, and a drain with admin connections still open. No Kafka needed.
const CLI = new URL('../../dist/cli.js', import.meta.url).pathname;
const TOKEN = 'admin-token-for-the-process-test';
const METRICS_TOKEN = 'metrics-token-for-the-process-test';

async function waitFor(cond: () => boolean, what: () => string, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting; output so far:\n${what()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('admin endpoint of a running daemon', async () => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'seismo-admin-run-')));
  const models = join(dir, 'models');
  mkdirSync(models);
  const trained = await trainFromData(smallConfig(), simulatedReadings(200));
  const v1Name = trained.artifact.manifest.version;
  await saveArtifact(join(models, 'v1'), trained.artifact);
  const copy = (name: string, edit: (d: string) => void) => {
    cpSync(join(models, 'v1'), join(models, name), { recursive: true });
    edit(join(models, name));
  };
  const editJson = (d: string, file: string, change: (j: Record<string, unknown>) => void) => {
    const j = JSON.parse(readFileSync(join(d, file), 'utf8')) as Record<string, unknown>;
    change(j);
    writeFileSync(join(d, file), JSON.stringify(j));
  };
  copy('v2', (d) => editJson(d, 'manifest.json', (m) => (m.version = 'model-v2')));
  copy('reordered', (d) => editJson(d, 'scaler.json', (s) => (s.features as string[]).reverse()));
  copy('threshold-text', (d) => editJson(d, 'threshold.json', (t) => (t.value = 'abc')));
  symlinkSync(join(models, 'v1'), join(models, 'current'));
  mkdirSync(join(dir, 'outside'));
  writeFileSync(join(dir, 'admin.token'), `${TOKEN}\n`);
  writeFileSync(join(dir, 'metrics.token'), METRICS_TOKEN);
  // Readings one minute apart, replayed at real time: the source outlives the test.
  const sim = simulate({ seed: 3, entities: 2, periodSeconds: 60, steps: 50, eventsPerEntity: 0, eventFrom: 50, startTs: Date.UTC(2026, 0, 1) });
  writeFileSync(join(dir, 'replay.ndjson'), sim.readings.map((r) => JSON.stringify({ entity: r.entity, ts: new Date(r.ts).toISOString(), values: r.values })).join('\n') + '\n');
  const yaml = (extra: string) =>
    `${SMALL_CONFIG_YAML.replace('enabled: false', `enabled: true\n  port: 0\n  metricsTokenFile: ${join(dir, 'metrics.token')}`).replace('level: silent', 'level: info')}` +
    `artifactDir: ${join(models, 'current')}\nsource:\n  path: ${join(dir, 'replay.ndjson')}\n  speed: 1\nsink:\n  kind: file\n  path: ${join(dir, 'flags.ndjson')}\ndaemon:\n  shutdownDeadlineSeconds: 15\n${extra}`;

  it('refuses to start with the admin port exposed and no token (exit 2, config error)', () => {
    const config = join(dir, 'exposed.yaml');
    writeFileSync(config, yaml('admin:\n  enabled: true\n  host: 0.0.0.0\n  port: 0\n'));
    const env = { ...process.env };
    delete env.SEISMO_ADMIN_TOKEN;
    const r = spawnSync('node', [CLI, 'run', '-c', config], { encoding: 'utf8', timeout: 60_000, env });
    expect(r.status, r.stderr + r.stdout).toBe(2);
    expect(r.stderr + r.stdout).toContain('SEISMO_CONFIG_INVALID');
    expect(r.stderr + r.stdout).toContain('admin.host is 0.0.0.0, not a loopback address, and no admin token is set');
  });

  it('startup validates the artifact as a hot swap does: a reordered scaler exits 4 naming the file and field', () => {
    const config = join(dir, 'reordered.yaml');
    writeFileSync(config, yaml('').replace(`artifactDir: ${join(models, 'current')}`, `artifactDir: ${join(models, 'reordered')}`));
    const r = spawnSync('node', [CLI, 'run', '-c', config], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr + r.stdout).toBe(4);
    expect(r.stderr + r.stdout).toContain('SEISMO_MODEL_INVALID');
    expect(r.stderr + r.stdout).toContain(`${join(models, 'reordered', 'scaler.json')}: "features"`);
  });

  it('answers 200/400/401/403/404/405/409/413 against the real reload, reloads on SIGHUP, drains with admin connections open', { timeout: 180_000 }, async () => {
    const config = join(dir, 'run.yaml');
    writeFileSync(config, yaml(`admin:\n  enabled: true\n  port: 0\n  tokenFile: ${join(dir, 'admin.token')}\n  maxBodyBytes: 4096\n`));
    const child = spawn('node', [CLI, 'run', '-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (d) => (log += String(d)));
    child.stderr.on('data', (d) => (log += String(d)));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    try {
      await waitFor(() => log.includes('lifecycle ready') && log.includes('admin endpoint listening'), () => log);
      const adminUrl = /"url":"(http:\/\/[^"]+\/model\/reload)"/.exec(log)?.[1] as string;
      const httpUrl = /"url":"(http:\/\/[^"]+)\/metrics"/.exec(log)?.[1] as string;
      expect(log).toContain(`"modelRoot":"${models}"`);
      const auth = { authorization: `Bearer ${TOKEN}` };
      const post = (body: unknown, headers: Record<string, string> = auth) => fetch(adminUrl, { method: 'POST', headers, body: JSON.stringify(body) });
      const running = async () => ((await (await fetch(`${httpUrl}/readyz`)).json()) as { model: string }).model;

      expect((await post({ artifactDir: 'v2' }, {})).status).toBe(401);
      expect((await post({ artifactDir: 'v2' }, { authorization: 'Bearer guess' })).status).toBe(401);
      expect((await fetch(adminUrl, { headers: auth })).status).toBe(405);
      expect((await fetch(adminUrl.replace('/model/reload', '/reload'), { method: 'POST', headers: auth })).status).toBe(404);
      expect((await post({ artifactDir: '../outside' })).status).toBe(400);
      expect((await post({ artifactDir: join(dir, 'outside') })).status).toBe(403);
      expect((await post({ artifactDir: 'v2', pad: 'x'.repeat(5000) })).status).toBe(413);
      for (const bad of ['reordered', 'threshold-text', 'missing']) {
        const r = await post({ artifactDir: bad });
        expect(r.status, bad).toBe(409);
        const body = (await r.json()) as { status: string; code: string; error: string };
        expect(body.status).toBe('kept the running model');
        expect(body.code).toBe(bad === 'missing' ? 'SEISMO_MODEL_MISSING' : 'SEISMO_MODEL_INVALID');
        expect(await running(), bad).toBe(v1Name);
      }

      const swapped = await post({ artifactDir: 'v2' });
      expect(swapped.status).toBe(200);
      expect(await swapped.json()).toEqual({ status: 'swapped', model: 'model-v2', previous: v1Name });
      expect(await running()).toBe('model-v2');

      // /metrics needs its own token; probes do not.
      expect((await fetch(`${httpUrl}/metrics`)).status).toBe(401);
      const metrics = await (await fetch(`${httpUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
      expect(metrics).toContain('seismo_model_reloads_total{result="ok"} 1');
      expect(metrics).toContain('seismo_model_reloads_total{result="failed"} 3');

      // SIGHUP reloads artifactDir: `current` is repointed (atomically, by rename) and the daemon told.
      symlinkSync(join(models, 'v1'), join(models, 'next'));
      renameSync(join(models, 'next'), join(models, 'current'));
      child.kill('SIGHUP');
      await waitFor(() => log.includes('SIGHUP: reloading the model') && (log.match(/model hot-swapped/g) ?? []).length === 2, () => log);
      expect(await running()).toBe(v1Name);

      // Open admin connections must not hold up the drain: one idle keep-alive, one mid-request.
      const agent = new Agent({ keepAlive: true });
      await new Promise<void>((resolve, reject) => {
        const req = httpRequest(adminUrl, { method: 'GET', agent, headers: auth }, (res) => {
          res.resume();
          res.on('end', () => resolve());
        });
        req.on('error', reject);
        req.end();
      });
      const port = Number(new URL(adminUrl).port);
      const stuck = connect(port, '127.0.0.1');
      stuck.on('error', () => {});
      await new Promise((r) => stuck.once('connect', r));
      stuck.write(`POST /model/reload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: 100\r\n\r\n{`);
      await new Promise((r) => setTimeout(r, 100));
      child.kill('SIGTERM');
      const code = await exited;
      agent.destroy();
      stuck.destroy();
      expect(code, log).toBe(0);
      expect(log).toContain('lifecycle stopped');
      expect(log).not.toContain('shutdown deadline passed');
      expect(log).not.toContain(TOKEN);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
