import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Tests make hundreds of temporary directories (models, configs, replays) and many of them are
// left behind by a failing or killed test. All of them go under one directory per run, removed
// when the run ends, so repeated runs do not fill /tmp. os.tmpdir() follows TMPDIR, in the test
// workers and in every child process they start.
let root: string | undefined;

export function setup(): void {
  root = mkdtempSync(join(tmpdir(), 'seismo-test-run-'));
  process.env.TMPDIR = root;
}

export function teardown(): void {
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
}
