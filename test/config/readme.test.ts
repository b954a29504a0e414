import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { envName, listConfigFields } from '../../src/config/schema.js';

describe('configuration reference (docs/configuration.md)', () => {
  it('lists every config key with its environment variable', () => {
    const readme = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    const missing = listConfigFields().filter((f) => !readme.includes(`\`${f.path.join('.')}\``) || !readme.includes(envName(f.path)));
    expect(missing.map((f) => f.path.join('.'))).toEqual([]);
  });
});
