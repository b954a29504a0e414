import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SMALL_CONFIG_YAML } from '../helpers.js';

// Process tests spawn the built CLI (`npm test` builds first).
const CLI = new URL('../../dist/cli.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'seismo-epipe-'));
const config = join(dir, 'c.yaml');
const data = join(dir, 'data.ndjson');

/** Runs the CLI with its stdout closed by the reader before it writes anything; resolves its exit code and stderr. */
function withStdoutClosed(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn('node', [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy(); // the reader is gone, as `... | head -1` after its line
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += String(d)));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })));
}

describe('stdout closed by its reader (EPIPE)', () => {
  beforeAll(() => {
    // Every window over a tiny threshold (sensitivity), so `run` has flags to write to stdout.
    writeFileSync(config, `${SMALL_CONFIG_YAML.replace('epochs: 3', 'epochs: 2').replace('method: quantile', 'method: quantile\n  sensitivity: 1000000').replace('level: silent', 'level: info')}artifactDir: ${join(dir, 'model')}\nsink:\n  deadLetterPath: ${join(dir, 'dead.ndjson')}\n`);
    expect(spawnSync('node', [CLI, 'simulate', '--out', data, '--entities', '3', '--steps', '200', '--events', '0']).status).toBe(0);
    const trained = spawnSync('node', [CLI, 'train', '-c', config, '-d', data, '--force'], { encoding: 'utf8' });
    expect(trained.status, trained.stderr).toBe(0);
  });

  it('seismo run with its flags on stdout: a sink failure, logged naming stdout, exit status of SEISMO_SINK_FAILED (7)', { timeout: 120_000 }, async () => {
    const { code, stderr } = await withStdoutClosed(['run', '-c', config, '-d', data, '--port', '0']);
    expect(stderr).toMatch(/"level":"error".*flags sink stdout.*EPIPE/);
    expect(stderr).toContain('seismo: SEISMO_SINK_FAILED: flags sink stdout');
    expect(code).toBe(7);
  });

  it('seismo score (stdout is its output, not a sink): the reader being done, exit 0', { timeout: 120_000 }, async () => {
    const { code, stderr } = await withStdoutClosed(['score', '-c', config, '-d', data]);
    expect(stderr).not.toContain('SEISMO_SINK_FAILED');
    expect(code).toBe(0);
  });
});
