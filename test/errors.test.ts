import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, SeismoError } from '../src/errors.js';

describe('error catalogue', () => {
  it('docs/operations.md documents every error code', () => {
    const readme = readFileSync(new URL('../docs/operations.md', import.meta.url), 'utf8');
    expect(Object.keys(ERROR_CODES).filter((code) => !readme.includes(code))).toEqual([]);
  });

  it('carries code, exit code, retriable flag and cause', () => {
    const cause = new Error('disk');
    const err = new SeismoError('SEISMO_SINK_FAILED', 'cannot write', { cause });
    expect([err.code, err.exitCode, err.retriable, err.cause]).toEqual(['SEISMO_SINK_FAILED', 7, true, cause]);
    expect(new SeismoError('SEISMO_CONFIG_INVALID', 'x').retriable).toBe(false);
  });
});
