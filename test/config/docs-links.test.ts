import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;
const pages = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const linksOf = (page: string) => [...readFileSync(join(ROOT, page), 'utf8').matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)].map((m) => m[1] as string).filter((l) => !/^[a-z]+:/.test(l));

describe('the README is the entry to the docs', () => {
  it('every relative link of the README and docs/ leads to a file that exists', () => {
    const broken = pages.flatMap((page) => linksOf(page).filter((link) => !existsSync(join(ROOT, dirname(page), link))).map((link) => `${page}: ${link}`));
    expect(broken).toEqual([]);
  });

  it('the README links every page of docs/', () => {
    const linked = new Set(linksOf('README.md'));
    expect(pages.filter((p) => p !== 'README.md' && !linked.has(p))).toEqual([]);
  });

  it('no reference document is left at the top level', () => {
    expect(readdirSync(ROOT).filter((f) => f.endsWith('.md') && f !== 'README.md')).toEqual([]);
  });
});
