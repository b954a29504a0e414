import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { DEFAULT_DEMO, runDemo } from '../../src/demo/demo.js';
import { createLogger } from '../../src/observability/logger.js';

describe('embedded demo', () => {
  it('detects most injected events with few false alarms, on the shipped demo config', async () => {
    const cfg = loadConfig(new URL('../../config/demo.yaml', import.meta.url).pathname, {});
    let printed = '';
    const out = new Writable({ write: (chunk, _enc, done) => { printed += String(chunk); done(); } });
    const { summary, daemon } = await runDemo(cfg, createLogger('silent'), out, DEFAULT_DEMO);
    await daemon.stop();
    expect(summary.events).toBe(16);
    expect(summary.detected / summary.events, printed.slice(-600)).toBeGreaterThanOrEqual(0.75);
    expect(summary.falseAlarms, printed.slice(-600)).toBeLessThanOrEqual(2);
    expect(summary.byKind.spike.detected).toBe(summary.byKind.spike.injected);
    expect(printed).toContain('Summary');
    expect(printed).toMatch(/pump-\d +open/);
    expect(daemon.lifecycle).toBe('stopped');
  }, 900_000);
});
