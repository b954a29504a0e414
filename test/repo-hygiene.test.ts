import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// Found once: a merge left conflict markers in a tracked Markdown file and nothing noticed.
describe('repository hygiene', () => {
  it('no tracked text file carries merge-conflict markers', () => {
    const root = new URL('../', import.meta.url).pathname;
    const files = execFileSync('git', ['ls-files'], { cwd: root, encoding: 'utf8' }).split('\n').filter((f) => /\.(ts|mjs|js|json|md|ya?ml|sh)$/.test(f));
    expect(files.length).toBeGreaterThan(50);
    const marked = files.filter((f) => /^(<{7}|>{7}) /m.test(readFileSync(`${root}${f}`, 'utf8')));
    expect(marked).toEqual([]);
  });
});
