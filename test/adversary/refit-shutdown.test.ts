import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { trainFromData } from '../../src/jobs/train-job.js';
import { saveArtifact } from '../../src/model/artifact.js';
import { levelShiftStream } from '../refit/level-shift.js';

const CLI = new URL('../../dist/cli.js', import.meta.url).pathname;

/** Live processes whose command line mentions `text` (the refit work directory is unique to the test). */
function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text)) pids.push(Number(pid));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

describe('adversary: SIGTERM while a refit trains, with refit.waitForTraining', () => {
  it('drains and exits 0 without waiting for training, and leaves no training child behind', { timeout: 180_000 }, async () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'seismo-adv-sigterm-')));
    const all = levelShiftStream(1500);
    const small = 'window:\n  lookback: 6\nmodel:\n  encoderUnits: [8]\n  epochs: 2\n  batchSize: 64\n';
    const trained = await trainFromData(parseConfig(small, 'm.yaml'), { byEntity: new Map([['pump', all.slice(0, 300)]]), features: ['a', 'b'], poison: [] });
    await saveArtifact(join(dir, 'model'), trained.artifact);
    writeFileSync(join(dir, 'replay.ndjson'), all.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const work = join(dir, 'refit-work');
    // The refit child trains for far longer than the test waits (thousands of epochs, no early
    // stop); the stream is held while it trains (waitForTraining), which is what used to hang:
    // the drain waited for the held chunk, the chunk for training, and training was only
    // cancelled after the drain.
    const train = 'window:\n  lookback: 6\nmodel:\n  encoderUnits: [8]\n  epochs: 5000\n  patience: 5000\n  batchSize: 8\n';
    writeFileSync(
      join(dir, 'run.yaml'),
      `${train}artifactDir: ${join(dir, 'model')}\nhttp:\n  enabled: false\nlog:\n  level: info\ndaemon:\n  shutdownDeadlineSeconds: 120\n` +
        `refit:\n  enabled: true\n  everyWindows: 400\n  minReadings: 200\n  waitForTraining: true\n  trainTimeoutSeconds: 3600\n  shadowPath: ${join(dir, 'shadow.ndjson')}\n  dir: ${work}\n`,
    );
    const child = spawn('node', [CLI, 'run', '-c', join(dir, 'run.yaml'), '--data', join(dir, 'replay.ndjson'), '--out', join(dir, 'flags.ndjson')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let signalled = false;
    const onData = (b: Buffer) => {
      out += b.toString('utf8');
      // SIGTERM once the training child is running.
      if (!signalled && /refit 1: started/.test(out)) {
        const waitForChild = setInterval(() => {
          if (processesMentioning(work).length > 0) {
            clearInterval(waitForChild);
            signalled = true;
            child.kill('SIGTERM');
          }
        }, 100);
        signalled = true;
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(out).toMatch(/"signal":"SIGTERM"/);
    expect(out).not.toMatch(/shutdown deadline passed/);
    expect(out).toMatch(/refit 1: training failed.*|"reason":"the daemon is stopping: training was cancelled"/);
    expect(code, out.slice(-3000)).toBe(0);
    expect(processesMentioning(work)).toEqual([]);
  });
});
