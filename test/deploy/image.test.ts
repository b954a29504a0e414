import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, copyFileSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Flag } from '../../src/pipeline/types.js';
import { bootstrap, caughtUp, createTopics, kcatRead, MODEL_YAML, offlineFlags, SKAB, sortFlags, unique, waitFor, type Workspace } from '../kafka/harness.js';

// The container image, built from the repo's Dockerfile and run for real with podman against the
// suite's broker (host network). scripts/image/build.sh makes local base images when no registry
// answers and reuses podman's layer cache, so an unchanged tree rebuilds in seconds.
// Skipped only with SEISMO_SKIP_KAFKA=1 (no broker) or SEISMO_SKIP_IMAGE=1, and never in CI:
// without podman this fails.
const root = new URL('../../', import.meta.url).pathname;
const IMAGE = process.env.SEISMO_IMAGE ?? 'localhost/seismo:latest';
const skipReason = process.env.SEISMO_SKIP_KAFKA === '1' ? 'SEISMO_SKIP_KAFKA=1' : process.env.SEISMO_SKIP_IMAGE === '1' ? 'SEISMO_SKIP_IMAGE=1' : '';
const UID = 1000; // the official node images' `node` user, which the Dockerfile runs as

type Run = SpawnSyncReturns<string>;
const show = (r: Run) => `exit ${r.status}\n${r.stderr.slice(-3000)}\n${r.stdout.slice(-3000)}`;
const podman = (args: string[]): Run => spawnSync('podman', args, { encoding: 'utf8', timeout: 120_000 });
/** `podman run` with this machine's flags (runc, cgroupfs, ulimits), from scripts/image/run.sh. */
const run = (args: string[], timeout = 300_000): Run =>
  spawnSync('bash', [`${root}scripts/image/run.sh`, ...args], { encoding: 'utf8', timeout, maxBuffer: 64 << 20 });

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** One GET on a fresh connection (no keep-alive reuse racing the server's idle timeout). */
function httpGet(url: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve) => {
    get(url, { agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', () => resolve({ status: 0, text }));
    }).on('error', () => resolve({ status: 0, text: '' }));
  });
}

/** The allocator and its MALLOC_CONF as BENCHMARKS.md's memory measurement recommends them. */
function recommendedAllocator(): { name: string; conf: string } {
  const m = /Recommended allocator: \*\*(\w+)\*\* with `MALLOC_CONF=([^`]+)`/.exec(readFileSync(`${root}docs/BENCHMARKS.md`, 'utf8'));
  if (!m?.[1] || !m[2]) throw new Error('BENCHMARKS.md names no "Recommended allocator: **NAME** with `MALLOC_CONF=...`"');
  return { name: m[1], conf: m[2] };
}

describe.skipIf(skipReason !== '' && process.env.CI !== 'true')(`the container image (${IMAGE}) built and run with podman`, () => {
  let work: string;
  let state: string;
  let etc: string;
  let data: string;
  let built: Record<string, string> | undefined;
  const containers: string[] = [];
  const composeProject = unique('seismo-compose');
  let composeUp = false;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'seismo-image-'));
    state = join(work, 'state'); // the writable model/state volume, owned by the image's user
    etc = join(work, 'etc');
    data = join(work, 'data');
    for (const d of [state, etc, data]) mkdirSync(d);
    try {
      chownSync(state, UID, UID);
    } catch {
      chmodSync(state, 0o777); // not root: let the image's user write it anyway
    }
    for (const f of ['0.csv', '1.csv', '2.csv', '3.csv']) copyFileSync(join(SKAB, 'valve1', f), join(data, f));
    writeFileSync(join(etc, 'train.yaml'), `${MODEL_YAML}artifactDir: /var/lib/seismo/model\nhttp:\n  enabled: false\n`);
  });

  afterAll(() => {
    for (const c of containers) podman(['rm', '--force', '--time', '0', c]);
    if (composeUp) spawnSync('node', [`${root}scripts/image/compose-local.mjs`, 'down', '--project', composeProject, '--volumes'], { encoding: 'utf8' });
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const volumes = () => ['-v', `${state}:/var/lib/seismo`, '-v', `${etc}:/etc/seismo:ro`, '-v', `${data}:/data:ro`];
  // As deploy/k8s/deployment.yaml's securityContext: a read-only root (without the tmpfs podman
  // would otherwise put on /tmp, which Kubernetes does not), no capabilities, no privilege gain.
  const locked = ['--read-only', '--read-only-tmpfs=false', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges'];

  // In a test, not in beforeAll: a missing podman or a failed build must count as a failure.
  it('builds (npm run image:build) with the native TensorFlow backend, Node 20, the non-root user and the recommended allocator', { timeout: 50 * 60_000 }, () => {
    if (skipReason) throw new Error(`CI=true but ${skipReason}: the image test must run in CI`);
    const version = podman(['--version']);
    if (version.error || version.status !== 0) {
      throw new Error(`podman is not runnable (${version.error?.message ?? show(version)}): install it with bash scripts/image/install-podman.sh (npm test's pretest does)`);
    }
    const build = spawnSync('bash', [`${root}scripts/image/build.sh`], { cwd: root, encoding: 'utf8', timeout: 45 * 60_000, maxBuffer: 256 << 20 });
    if (build.status !== 0) throw new Error(`npm run image:build failed: ${show(build)}`);
    const inside = /\[image\] inside: (\{.*\})/.exec(build.stderr)?.[1];
    if (!inside) throw new Error(`build.sh printed no versions line:\n${build.stderr.slice(-2000)}`);
    built = JSON.parse(inside) as Record<string, string>;

    expect(built.backend).toBe('tensorflow');
    expect(built.tensorflow).toMatch(/^2\.\d+\.\d+$/);
    expect(built.node).toMatch(/^v20\./);
    expect(built.user).toBe('node');
    expect(built.allocator).toBe(recommendedAllocator().name);
    expect(built.MALLOC_CONF).toBe(recommendedAllocator().conf);
    // The Docker image format keeps the HEALTHCHECK (podman's default OCI format drops it).
    const [inspect] = JSON.parse(podman(['image', 'inspect', IMAGE]).stdout) as { Config: { User: string }; Healthcheck?: { Test: string[] } }[];
    expect(inspect?.Config.User).toBe('node');
    expect(inspect?.Healthcheck?.Test.join(' ')).toContain('/healthz');
  });

  it('trains and evaluates inside the image, read-only root, the model on the volume', { timeout: 300_000 }, () => {
    expect(built, 'the build test passed').toBeDefined();
    const train = run(['--rm', ...locked, '--network', 'none', ...volumes(), IMAGE, 'train', '-c', '/etc/seismo/train.yaml', '-d', '/data']);
    expect(train.status, show(train)).toBe(0);
    const summary = JSON.parse(train.stdout.trim().split('\n').pop() ?? '{}') as { backend?: string; artifact?: string };
    expect(summary.backend).toBe('tensorflow');
    expect(summary.artifact).toBe('/var/lib/seismo/model');
    const manifest = join(state, 'model', 'manifest.json');
    expect(existsSync(manifest)).toBe(true);
    expect(statSync(manifest).uid, 'written by the image user').toBe(UID);

    const evaluate = run(['--rm', ...locked, '--network', 'none', ...volumes(), IMAGE,
      'evaluate', '-c', '/etc/seismo/train.yaml', '-d', '/data/0.csv', '--method', 'seismo', '--report', '/var/lib/seismo/report']);
    expect(evaluate.status, show(evaluate)).toBe(0);
    expect(evaluate.stdout).toMatch(/\| seismo \| \d\.\d+ \|/);
    expect(readFileSync(join(state, 'report', 'summary.md'), 'utf8')).toContain('0.csv');
  });

  it('runs the daemon against the broker: healthy, readings from `seismo produce` become flags (read with kcat), /metrics, SIGTERM drains to exit 0', async () => {
    expect(built, 'the build test passed').toBeDefined();
    expect(existsSync(join(state, 'model', 'manifest.json')), 'the training test runs first').toBe(true);
    const t = { topic: unique('readings'), group: unique('group'), flags: unique('flags'), dlq: unique('dlq') };
    await createTopics([{ topic: t.topic, partitions: 3 }, { topic: t.flags, partitions: 1 }, { topic: t.dlq, partitions: 1 }]);
    writeFileSync(join(etc, 'seismo.yaml'), `${MODEL_YAML}artifactDir: /var/lib/seismo/model\nsource:\n  kind: kafka\n  topics: [${t.topic}]\n  groupId: ${t.group}\n  sessionTimeoutMs: 8000\nsink:\n  kind: kafka\n  topic: ${t.flags}\n  deadLetterTopic: ${t.dlq}\nkafka:\n  brokers: ["${bootstrap}"]\n  retryMaxMs: 2000\n`);
    // What the same model flags when the host replays the same files offline.
    const ws = { dir: work, artifactDir: join(state, 'model') } as Workspace;
    const expected = offlineFlags(ws, data);
    expect(expected.length).toBeGreaterThan(3);

    const produce = run(['--rm', ...locked, '--network', 'host', ...volumes(), IMAGE, 'produce', '-c', '/etc/seismo/seismo.yaml', '--data', '/data']);
    expect(produce.status, show(produce)).toBe(0);
    const produced = Number(/(\d+) readings -> /.exec(produce.stdout + produce.stderr)?.[1]);
    expect(produced).toBeGreaterThan(4000);

    const port = await freePort();
    const name = unique('seismo-image');
    containers.push(name);
    // The image's own CMD: run -c /etc/seismo/seismo.yaml; the port follows SEISMO_HTTP_PORT,
    // the image's HEALTHCHECK too.
    const start = run(['-d', '--name', name, ...locked, '--network', 'host', '-e', `SEISMO_HTTP_PORT=${port}`, ...volumes(), IMAGE]);
    expect(start.status, show(start)).toBe(0);
    const logs = () => show(podman(['logs', name]));
    await waitFor(async () => (await httpGet(`http://127.0.0.1:${port}/readyz`)).status === 200, `/readyz of the container\n${logs()}`);

    // Like the engine's own schedule, a check that fails (a busy machine can make the probe's
    // node start slower than its timeout) is retried; it must pass within a minute.
    let health = podman(['healthcheck', 'run', name]);
    await waitFor(() => (health = podman(['healthcheck', 'run', name])).status === 0, `the image's HEALTHCHECK to pass: ${show(health)}\n${logs()}`, 60_000);
    expect(podman(['inspect', '--format', '{{.State.Health.Status}}', name]).stdout.trim()).toBe('healthy');

    await waitFor(() => caughtUp(t.group, t.topic), `the container to process ${t.topic}\n${logs()}`);
    const flags = kcatRead(t.flags).map((m) => JSON.parse(m.value) as Flag);
    expect(sortFlags(flags)).toEqual(sortFlags(expected));

    const metrics = (await httpGet(`http://127.0.0.1:${port}/metrics`)).text;
    expect(metrics).toContain(`seismo_readings_total ${produced}`);
    expect(metrics).toMatch(/seismo_backend_info\{backend="tensorflow"[^}]*\} 1/);

    // Non-root, read-only root filesystem, writable state volume, the recommended allocator.
    const exec = (cmd: string) => podman(['exec', name, 'sh', '-c', cmd]);
    expect(exec('id -u').stdout.trim()).toBe(String(UID));
    const rootWrite = exec('touch /app/x');
    expect(rootWrite.status).not.toBe(0);
    expect(rootWrite.stderr).toMatch(/Read-only file system/);
    expect(exec('touch /tmp/x').status, '/tmp is read-only too, as in the k8s Deployment').not.toBe(0);
    expect(exec('touch /var/lib/seismo/x && rm /var/lib/seismo/x').status).toBe(0);
    const allocator = recommendedAllocator();
    expect(exec('cat /proc/1/maps').stdout).toContain(`lib${allocator.name}`); // the daemon itself (node is PID 1)
    expect(metrics).toMatch(new RegExp(`seismo_allocator_info\\{allocator="${allocator.name}"[^}]*\\} 1`));

    expect(podman(['kill', '--signal', 'TERM', name]).status).toBe(0);
    const wait = podman(['wait', name]);
    expect(wait.stdout.trim(), logs()).toBe('0');
    const stopped = podman(['logs', name]).stdout.split('\n').filter((l) => l.includes('"msg":"stopped"'));
    expect(stopped.length, logs()).toBe(1);
    expect((JSON.parse(stopped[0] ?? '{}') as { totals?: { readings?: number } }).totals?.readings).toBe(produced);
  }, 300_000);

  it("runs the compose file's trainer, seismo and producer services under podman against the broker", async () => {
    expect(built, 'the build test passed').toBeDefined();
    const port = await freePort();
    const up = spawnSync('node', [`${root}scripts/image/compose-local.mjs`, 'up', '--bootstrap', bootstrap, '--http-port', String(port), '--project', composeProject],
      { encoding: 'utf8', timeout: 600_000, env: { ...process.env, SEISMO_IMAGE: IMAGE } });
    composeUp = true;
    expect(up.status, show(up)).toBe(0);
    // The third-party services are named, not silently dropped.
    for (const svc of ['prometheus', 'grafana']) expect(up.stderr).toMatch(new RegExp(`${svc} \\([^)]+\\): not run: third-party image`));
    // The trainer trained on the simulator's data into the named volume; seismo became healthy
    // (compose-local waits on its HEALTHCHECK); the producer's readings reach it.
    expect(up.stdout + up.stderr).toMatch(/"backend":"tensorflow"/);
    const readings = async () => {
      const { text } = await httpGet(`http://127.0.0.1:${port}/metrics`);
      return Number(/^seismo_readings_total (\d+)/m.exec(text)?.[1] ?? 0);
    };
    await waitFor(async () => (await readings()) >= 100, 'readings from the compose producer', 120_000);

    const down = spawnSync('node', [`${root}scripts/image/compose-local.mjs`, 'down', '--project', composeProject, '--volumes'], { encoding: 'utf8', timeout: 180_000 });
    composeUp = false;
    expect(down.status, show(down)).toBe(0);
    expect((JSON.parse(down.stdout.trim()) as { exitCodes: Record<string, number> }).exitCodes.seismo).toBe(0);
  }, 900_000);
});
