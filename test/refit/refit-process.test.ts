import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { Flag } from '../../src/domain/types.js';
import { trainFromData } from '../../src/jobs/train-job.js';
import { saveArtifact } from '../../src/model/artifact.js';
import { FAULT_EVERY, levelShiftStream, MIN, MODEL_YAML, REFIT_YAML, T0 } from './level-shift.js';

// The daemon as shipped (dist/cli.js `run`) on a file replay, with refit on: normal data
// whose level shifts after the rows the model was trained on, plus a clear fault every 150
// readings. The drift test must fire on the shift, `seismo train` run in a child process on the
// buffer (faults left out), the candidate score in shadow (its flags to the shadow file only)
// and win by the promotion rule; after the hot swap the live flags come from the candidate.
const CLI = new URL('../../dist/cli.js', import.meta.url).pathname;
const CONFIG = `${MODEL_YAML}http:\n  enabled: false\n`;

describe('refit in a running daemon', () => {
  it('a level shift fires the drift test; the candidate trains in a child process, scores in shadow, and is promoted by hot swap', { timeout: 240_000 }, async () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'seismo-refit-run-')));
    const models = join(dir, 'models');
    mkdirSync(models);
    const all = levelShiftStream(4000);
    const cfg = parseConfig(CONFIG, 'refit.yaml');
    const trained = await trainFromData(cfg, { byEntity: new Map([['pump', all.slice(0, 300)]]), features: ['a', 'b'], poison: [] });
    const v1 = trained.artifact.manifest.version;
    await saveArtifact(join(models, 'v1'), trained.artifact);
    symlinkSync(join(models, 'v1'), join(models, 'current'));
    writeFileSync(join(dir, 'replay.ndjson'), all.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const flagsFile = join(dir, 'flags.ndjson');
    const shadowFile = join(dir, 'shadow.ndjson');
    // As fast as possible, the stream held while the refit trains (refit.waitForTraining): the
    // outcome does not depend on how busy the machine is. Training still runs in the child.
    const yaml =
      CONFIG +
      `artifactDir: ${join(models, 'current')}\nsource:\n  path: ${join(dir, 'replay.ndjson')}\n  speed: 0\nsink:\n  kind: file\n  path: ${flagsFile}\n` +
      `log:\n  level: info\n${REFIT_YAML}  shadowPath: ${shadowFile}\n  dir: ${join(dir, 'refit')}\n`;
    writeFileSync(join(dir, 'run.yaml'), yaml);

    const child = spawn('node', [CLI, 'run', '-c', join(dir, 'run.yaml')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => (out += b.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, out).toBe(0);

    const logs = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const msg = (re: RegExp) => logs.find((l) => re.test(String(l.msg)));
    const started = msg(/^refit 1: started \(drift\)/);
    expect(started, out).toBeDefined();
    expect(started?.leftOut as number).toBeGreaterThan(0);
    const shadowing = msg(/^refit 1: candidate .* scoring in shadow/);
    expect(shadowing, out).toBeDefined();
    // The stall training caused is measured and reported (its size depends on the machine: BENCHMARKS, EVALUATION).
    expect(shadowing?.maxEventLoopDelayMs).toEqual(expect.any(Number));
    const promoted = msg(/^refit 1: promoted/);
    expect(promoted, out).toBeDefined();
    expect(promoted?.previous).toBe(v1);
    const candidate = promoted?.model as string;
    expect(candidate).not.toBe(v1);
    expect(promoted?.artifactDirRepointed).toBe(true);
    expect(readlinkSync(join(models, 'current'))).toBe(promoted?.dir);
    // The buffer handed to training left the fault windows out.
    const work = join(dir, 'refit', readdirSync(join(dir, 'refit'))[0] as string);
    const excluded = JSON.parse(readFileSync(join(work, 'excluded.json'), 'utf8')) as Record<string, [number, number][]>;
    expect(excluded.pump?.length ?? 0).toBeGreaterThan(0);
    expect(existsSync(join(work, 'model', 'manifest.json'))).toBe(true);

    const read = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Flag) : []);
    const live = read(flagsFile);
    const shadow = read(shadowFile);
    // Shadow flags: only in the shadow file, all marked, all the candidate's; none in the flags file.
    expect(shadow.length).toBeGreaterThan(0);
    expect(shadow.every((f) => f.shadow === true && f.model === candidate)).toBe(true);
    expect(live.some((f) => f.shadow !== undefined)).toBe(false);
    // The live model changed: flags before the promotion are v1's, episodes opened after it the candidate's.
    expect(live.some((f) => f.model === v1)).toBe(true);
    const after = live.filter((f) => f.model === candidate && f.state === 'open');
    expect(after.length).toBeGreaterThan(0);
    // Every fault after the promotion is still caught, and nothing else opens.
    for (const f of after) expect(((Date.parse(f.windowEnd) - T0) / MIN) % FAULT_EVERY).toBeLessThan(FAULT_EVERY / 2);
  });
});
