import { describe, expect, it } from 'vitest';
import { parseSeeds, parseSplit } from '../../src/evaluate/command.js';

describe('evaluate options', () => {
  it('parses seeds and splits, and rejects nonsense with a config error', () => {
    expect(parseSeeds('1, 2,3')).toEqual([1, 2, 3]);
    expect(() => parseSeeds('1,x')).toThrow(/--seeds/);
    expect(parseSplit('0.6,0.2')).toEqual([0.6, 0.2]);
    expect(() => parseSplit('0.8,0.3')).toThrow(/--split/);
    expect(() => parseSplit('0.8')).toThrow(/--split/);
  });
});
