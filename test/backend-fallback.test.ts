import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SMALL_CONFIG_YAML } from './helpers.js';

const CLI = new URL('../dist/cli.js', import.meta.url).pathname;
const WITHOUT_NATIVE = new URL('./fixtures/without-native-addon.mjs', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'seismo-fallback-'));

describe('when the native addon cannot load', () => {
  it('`backend: native` is a startup error naming the backend, exit 5', () => {
    const r = spawnSync('node', ['--import', WITHOUT_NATIVE, CLI, 'demo'], { encoding: 'utf8', env: { ...process.env, SEISMO_SCORING_BACKEND: 'native' } });
    expect(r.status).toBe(5);
    expect(r.stderr).toContain('SEISMO_BACKEND_UNAVAILABLE');
    expect(r.stderr).toContain('cannot open shared object file');
  });

  it('`backend: auto` runs on a fallback and says so in the log, /readyz and seismo_backend_info', { timeout: 300_000 }, async () => {
    const data = join(dir, 'd.ndjson');
    const config = join(dir, 'c.yaml');
    expect(spawnSync('node', [CLI, 'simulate', '--out', data, '--entities', '1', '--steps', '300', '--events', '0']).status).toBe(0);
    writeFileSync(config, `${SMALL_CONFIG_YAML.replace('enabled: false', 'enabled: true\n  port: 0').replace('level: silent', 'level: info')}artifactDir: ${join(dir, 'model')}\nsource:\n  path: ${data}\n  speed: 60\nsink:\n  kind: file\n  path: ${join(dir, 'flags.ndjson')}\n`);
    expect(spawnSync('node', [CLI, 'train', '-c', config, '-d', data, '--force']).status).toBe(0); // a tiny model: whether it learned is not the point here

    const child = spawn('node', ['--import', WITHOUT_NATIVE, CLI, 'run', '-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (d) => (log += String(d)));
    child.stderr.on('data', (d) => (log += String(d)));
    const until = Date.now() + 60_000;
    while (!(log.includes('lifecycle ready') && /"url":"(http:[^"]+)\/metrics"/.test(log))) {
      if (Date.now() > until) throw new Error(log);
      await new Promise((r) => setTimeout(r, 50));
    }
    const url = (/"url":"(http:[^"]+)\/metrics"/.exec(log) as RegExpExecArray)[1];
    try {
      expect(log).toMatch(/"level":"warn".*NOT on the native TensorFlow backend: running on wasm/);
      const ready = (await (await fetch(`${url}/readyz`)).json()) as Record<string, string>;
      expect(ready.backend).toBe('wasm');
      expect(ready.backendWarning).toContain('cannot open shared object file');
      expect(await (await fetch(`${url}/metrics`)).text()).toContain('seismo_backend_info{backend="wasm",requested="auto",fallback="true"} 1');
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.on('exit', r));
    }
  });
});
