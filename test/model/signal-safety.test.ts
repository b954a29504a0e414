import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// A scoring process must survive signals arriving while the model runs. With TensorFlow's
// default matrix kernels (oneDNN's JIT sgemm) it did not: a signal delivered to a thread inside
// one corrupts the heap (oneDNN issue 4845). Measured before the fix in src/model/backend.ts:
// the loop below aborted with "corrupted size vs. prev_size while consolidating" in 1.5-2 s,
// 3 runs of 3, under the profiler's SIGPROF; and after ~27,000 SIGUSR2 sent from outside.
// Runs the built output (dist/), through the same backend choice as the daemon.
const DIST = resolve('dist');

function scoringScript(dir: string): string {
  const path = join(dir, 'score-loop.mjs');
  writeFileSync(
    path,
    `process.on('SIGUSR2', () => {});
const { chooseBackend } = await import(${JSON.stringify(join(DIST, 'model/backend.js'))});
const { buildModel } = await import(${JSON.stringify(join(DIST, 'model/variants.js'))});
const { configSchema } = await import(${JSON.stringify(join(DIST, 'config/schema.js'))});
const { Scorer } = await import(${JSON.stringify(join(DIST, 'score/scorer.js'))});
const backend = await chooseBackend('native', 0);
const cfg = configSchema.parse({ model: { encoderUnits: [64, 32] } });
const scorer = new Scorer(buildModel(cfg.model, 10, 8), 10, 8, 1024);
const data = new Float32Array(1024 * 80).map(() => Math.random());
process.stdout.write('scoring\\n');
let batches = 0;
const until = Date.now() + Number(process.argv[2]) * 1000;
while (Date.now() < until) { scorer.featureErrors(data, 1024); batches++; }
process.stdout.write(JSON.stringify({ backend: backend.active, path: scorer.path, batches }) + '\\n');
// Exit only after the sender has seen the result and stopped: a signal during Node's own
// teardown (handlers gone) would end the process by its default action.
setTimeout(() => process.exit(0), 1000);
`,
  );
  return path;
}

function run(args: string[], flood: boolean): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; sent: number }> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let sent = 0;
    let flooding = false;
    const send = () => {
      if (!flooding || child.exitCode !== null || child.signalCode !== null) return;
      for (let i = 0; i < 200; i++) if (child.kill('SIGUSR2')) sent++;
      setImmediate(send);
    };
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('"batches"')) flooding = false;
      else if (flood && !flooding && out.includes('scoring')) {
        flooding = true;
        send();
      }
    });
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code, signal) => {
      flooding = false;
      resolveRun({ code, signal, out, sent });
    });
  });
}

describe('signal safety of native scoring', () => {
  it('a process scoring on the native backend survives a profiler sampling it every 100 us', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seismo-signals-'));
    const r = await run(['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval', '100', scoringScript(dir), '6'], false);
    expect(r.out).not.toMatch(/corrupted|free\(\)|double free/);
    expect({ code: r.code, signal: r.signal }).toEqual({ code: 0, signal: null });
    const result = JSON.parse(r.out.trim().split('\n').at(-1) ?? '{}') as { backend: string; path: string; batches: number };
    expect(result).toMatchObject({ backend: 'tensorflow', path: 'block-lstm' });
    expect(result.batches).toBeGreaterThan(10);
  }, 60_000);

  it('and a flood of process-directed signals (as from an orchestrator or exiting children)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seismo-signals-'));
    const r = await run([scoringScript(dir), '6'], true);
    expect(r.sent).toBeGreaterThan(10_000);
    expect(r.out).not.toMatch(/corrupted|free\(\)|double free/);
    expect({ code: r.code, signal: r.signal }).toEqual({ code: 0, signal: null });
  }, 60_000);
});
