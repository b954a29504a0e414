import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module of the launcher, without type declarations
import { DAEMON_NODE_FLAGS } from '../../bin/node-flags.js';
import { trainFromData } from '../../src/jobs/train-job.js';
import { saveArtifact } from '../../src/model/artifact.js';
import { allocatorFromMaps, allocatorWarning } from '../../src/observability/allocator.js';
import { simulate } from '../../src/simulate/simulator.js';
import { SMALL_CONFIG_YAML, simulatedReadings, smallConfig } from '../helpers.js';

// Seismo runs on jemalloc by default (issue 15): bin/seismo.js re-runs the CLI with the library
// preloaded, and the daemon reports what it actually got. The process tests start the real
// launcher and read the daemon's own /proc/PID/maps, so they need Debian's libjemalloc2, which
// scripts/install-test-deps.sh (npm test's pretest) installs.
const ROOT = new URL('../../', import.meta.url).pathname;
const LAUNCHER = join(ROOT, 'bin/seismo.js');
const CLI = join(ROOT, 'dist/cli.js');
const JEMALLOC = '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2';

const line = (path: string) => `7f0000000000-7f0000001000 r-xp 00000000 08:01 1234  ${path}`;

describe('which allocator a process runs on, from its maps', () => {
  it('names jemalloc, tcmalloc or mimalloc when mapped, else glibc from libc.so.6', () => {
    const libc = line('/usr/lib/x86_64-linux-gnu/libc.so.6');
    expect(allocatorFromMaps([libc, line(JEMALLOC)].join('\n'))).toEqual({ name: 'jemalloc', library: JEMALLOC });
    expect(allocatorFromMaps([libc, line('/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4.5.10')].join('\n')).name).toBe('tcmalloc');
    expect(allocatorFromMaps([libc, line('/usr/lib/x86_64-linux-gnu/libmimalloc.so.2.0')].join('\n')).name).toBe('mimalloc');
    expect(allocatorFromMaps([libc, line('/usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30'), '7ffd0000-7ffd1000 rw-p 00000000 00:00 0  [stack]'].join('\n'))).toEqual({ name: 'glibc' });
    expect(allocatorFromMaps(line('/lib/ld-musl-x86_64.so.1'))).toEqual({ name: 'unknown' });
    // A file that merely has the name in a directory is not the library.
    expect(allocatorFromMaps([libc, line('/opt/libjemalloc.so.2-notes/readme.so')].join('\n')).name).toBe('glibc');
  });

  it('warns on glibc unless the operator chose it, naming where it looked and what RSS to expect', () => {
    expect(allocatorWarning({ name: 'jemalloc', library: JEMALLOC }, {})).toBeUndefined();
    expect(allocatorWarning({ name: 'glibc' }, { SEISMO_ALLOCATOR: 'system' })).toBeUndefined();
    expect(allocatorWarning({ name: 'tcmalloc', library: '/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4' }, {})).toBeUndefined(); // preloaded on purpose
    const missing = allocatorWarning({ name: 'glibc' }, { SEISMO_ALLOCATOR_MISSING: '/nowhere/libjemalloc.so.2' });
    expect(missing).toContain('memory allocator is glibc, not jemalloc');
    expect(missing).toContain('/nowhere/libjemalloc.so.2');
    expect(missing).toContain('apt-get install libjemalloc2');
    expect(missing).toMatch(/MB/);
    expect(allocatorWarning({ name: 'glibc' }, {})).toContain('not started through bin/seismo.js');
  });
});

interface Started {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
}

function start(entry: string, config: string, env: NodeJS.ProcessEnv): Started {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(LD_PRELOAD|MALLOC_CONF|SEISMO_ALLOCATOR.*|SEISMO_JEMALLOC_PATH)$/.test(k)));
  const child = spawn('node', [entry, 'run', '-c', config], { env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout?.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (text += d.toString()));
  return { child, out: () => text, exited: new Promise((r) => child.on('exit', (code) => r(code))) };
}

async function waitFor<T>(get: () => T | undefined, what: () => string, ms = 90_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out; output so far:\n${what()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The daemon's own log lines (pino JSON): the /metrics URL, the allocator line with the pid. */
const logLines = (out: string) =>
  out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { pid?: number; msg: string; url?: string; allocator?: string; level: string });

describe('a daemon started the ways Seismo is started', async () => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'seismo-allocator-')));
  const trained = await trainFromData(smallConfig(), simulatedReadings(200));
  await saveArtifact(join(dir, 'model'), trained.artifact);
  // Readings a minute apart replayed at real time: the daemon keeps running until stopped.
  const sim = simulate({ seed: 4, entities: 2, periodSeconds: 60, steps: 50, eventsPerEntity: 0, eventFrom: 50, startTs: Date.UTC(2026, 0, 1) });
  writeFileSync(join(dir, 'replay.ndjson'), sim.readings.map((r) => JSON.stringify({ entity: r.entity, ts: new Date(r.ts).toISOString(), values: r.values })).join('\n') + '\n');
  const config = join(dir, 'run.yaml');
  writeFileSync(
    config,
    `${SMALL_CONFIG_YAML.replace('enabled: false', 'enabled: true\n  port: 0').replace('level: silent', 'level: info')}artifactDir: ${join(dir, 'model')}\nsource:\n  path: ${join(dir, 'replay.ndjson')}\n  speed: 1\nsink:\n  kind: file\n  path: ${join(dir, 'flags.ndjson')}\n`,
  );
  const running: Started[] = [];
  const daemonPids: number[] = [];
  afterAll(() => {
    // The launcher's child first: a SIGKILLed launcher cannot pass the signal on.
    for (const pid of daemonPids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const s of running) s.child.kill('SIGKILL');
  });

  /** Starts it, waits for ready, and returns what the daemon process says about its allocator. */
  async function observe(entry: string, env: NodeJS.ProcessEnv) {
    const s = start(entry, config, env);
    running.push(s);
    const url = await waitFor(() => logLines(s.out()).find((l) => l.msg === 'http listening')?.url, s.out);
    const pid = logLines(s.out()).find((l) => l.allocator !== undefined)?.pid as number;
    daemonPids.push(pid);
    let readyz: { status: string; allocator?: string } = { status: '' };
    const until = Date.now() + 90_000;
    while (readyz.status !== 'ready' && Date.now() < until) {
      readyz = (await (await fetch(url.replace('/metrics', '/readyz'))).json()) as typeof readyz;
      if (readyz.status !== 'ready') await new Promise((r) => setTimeout(r, 100));
    }
    const metrics = await (await fetch(url)).text();
    const maps = readFileSync(`/proc/${pid}/maps`, 'utf8');
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return { s, pid, readyz, metrics, maps, cmdline, warnings: logLines(s.out()).filter((l) => l.level === 'warn' && l.allocator !== undefined) };
  }

  it('bin/seismo.js runs the daemon on jemalloc: mapped into the daemon, in seismo_allocator_info and /readyz; SIGTERM to the launcher drains it', { timeout: 180_000 }, async () => {
    if (!existsSync(JEMALLOC)) throw new Error(`${JEMALLOC} is missing: install it with bash scripts/install-test-deps.sh (npm test's pretest does)`);
    const { s, pid, readyz, metrics, maps, cmdline, warnings } = await observe(LAUNCHER, {});
    expect(pid).not.toBe(s.child.pid); // the launcher re-ran the CLI with the library preloaded
    expect(maps).toContain('libjemalloc.so.2');
    for (const flag of DAEMON_NODE_FLAGS as string[]) expect(cmdline).toContain(flag); // and V8's heap flags (bin/node-flags.js)
    expect(metrics).toContain(`seismo_allocator_info{allocator="jemalloc",library="${JEMALLOC}"} 1`);
    expect(readyz).toMatchObject({ status: 'ready', allocator: 'jemalloc' });
    expect(warnings).toEqual([]);
    s.child.kill('SIGTERM'); // to the launcher: passed on, the daemon drains and both exit 0
    expect(await s.exited).toBe(0);
    expect(s.out()).toContain('lifecycle stopped');
    expect(existsSync(`/proc/${pid}`)).toBe(false);
  });

  it('a SIGKILLed launcher leaves no orphan: the daemon notices within a second, drains as on SIGTERM and exits', { timeout: 180_000 }, async () => {
    const { s, pid } = await observe(LAUNCHER, {});
    expect(pid).not.toBe(s.child.pid);
    s.child.kill('SIGKILL'); // nothing is passed on
    await s.exited;
    const gone = await waitFor(() => (existsSync(`/proc/${pid}`) ? undefined : true), s.out, 60_000);
    expect(gone).toBe(true);
    expect(s.out()).toContain(`the launcher (pid ${s.child.pid}) is gone`);
    const lines = logLines(s.out());
    expect(lines.some((l) => l.msg === 'draining')).toBe(true);
    expect(lines.some((l) => l.msg === 'lifecycle stopped')).toBe(true);
  });

  it('without the library it still runs, on glibc, and says so once in the log, the metric and /readyz', { timeout: 180_000 }, async () => {
    const { s, pid, readyz, metrics, maps, cmdline, warnings } = await observe(LAUNCHER, { SEISMO_JEMALLOC_PATH: join(dir, 'no-such-libjemalloc.so.2') });
    // Nothing to preload, but `run` is still re-run for the heap flags (they too act only at start).
    expect(pid).not.toBe(s.child.pid);
    for (const flag of DAEMON_NODE_FLAGS as string[]) expect(cmdline).toContain(flag);
    expect(maps).not.toContain('libjemalloc');
    expect(metrics).toContain('seismo_allocator_info{allocator="glibc",library=""} 1');
    expect(readyz).toMatchObject({ status: 'ready', allocator: 'glibc' });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.msg).toContain(join(dir, 'no-such-libjemalloc.so.2'));
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
  });

  it('dist/cli.js started directly warns that it is not on jemalloc; SEISMO_ALLOCATOR=system through the launcher is glibc without a warning', { timeout: 180_000 }, async () => {
    const direct = await observe(CLI, {});
    expect(direct.metrics).toContain('seismo_allocator_info{allocator="glibc"');
    expect(direct.warnings.map((w) => w.msg).join('\n')).toContain('not started through bin/seismo.js');
    direct.s.child.kill('SIGTERM');
    expect(await direct.s.exited).toBe(0);

    const system = await observe(LAUNCHER, { SEISMO_ALLOCATOR: 'system' });
    expect(system.maps).not.toContain('libjemalloc');
    // A heap flag the operator gives in NODE_OPTIONS wins: the launcher adds only the other one.
    const mine = await observe(LAUNCHER, { NODE_OPTIONS: `${(DAEMON_NODE_FLAGS as string[])[0]?.split('=')[0]}=1536` });
    expect(mine.cmdline).not.toContain((DAEMON_NODE_FLAGS as string[])[0]);
    for (const flag of (DAEMON_NODE_FLAGS as string[]).slice(1)) expect(mine.cmdline).toContain(flag);
    expect(mine.maps).toContain('libjemalloc.so.2');
    mine.s.child.kill('SIGTERM');
    expect(await mine.s.exited).toBe(0);
    expect(system.readyz).toMatchObject({ status: 'ready', allocator: 'glibc' });
    expect(system.warnings).toEqual([]);
    system.s.child.kill('SIGTERM');
    expect(await system.s.exited).toBe(0);
  });
});
