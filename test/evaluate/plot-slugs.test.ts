import { describe, expect, it } from 'vitest';
import { plotSlugs } from '../../src/evaluate/plot.js';

describe('plot file names of a report', () => {
  it('gives two files whose names differ only in punctuation two different plots', () => {
    expect(plotSlugs(['valve1/0.csv', 'valve1_0.csv', 'valve1-0.csv'])).toEqual(['valve1_0_csv', 'valve1_0_csv_2', 'valve1_0_csv_3']);
  });

  it('treats names that differ only in case as a collision (case-insensitive file systems)', () => {
    const slugs = plotSlugs(['Pump/a.csv', 'pump/a.csv']);
    expect(new Set(slugs.map((s) => s.toLowerCase())).size).toBe(2);
  });

  it('keeps distinct names as they were', () => {
    expect(plotSlugs(['realTweets/Twitter_volume_AAPL.csv', 'realTraffic/speed_6005.csv'])).toEqual(['realTweets_Twitter_volume_AAPL_csv', 'realTraffic_speed_6005_csv']);
  });

  it("never gives two files one plot, even when a suffixed name is another file's own name", () => {
    const slugs = plotSlugs(['a/b', 'a_b', 'a_b_2']);
    expect(new Set(slugs).size).toBe(3);
  });
});
