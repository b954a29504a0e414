import { describe, expect, it, vi } from 'vitest';
import { handleSignals, type Daemon } from '../src/daemon.js';
import { createLogger } from '../src/observability/logger.js';

// The signal policy on its own, with a daemon whose drain never finishes. (A wedged drain in a
// real process is what this policy exists for; the process test covers the clean path.)
const stuckDaemon = { stop: () => new Promise<void>(() => {}) } as unknown as Daemon;

describe('signal handling', () => {
  it('first SIGTERM drains; a second exits 1 at once', () => {
    const exit = vi.fn();
    const stopSpy = vi.spyOn(stuckDaemon, 'stop');
    const remove = handleSignals(stuckDaemon, createLogger('silent'), 60_000, exit);
    try {
      process.emit('SIGTERM', 'SIGTERM');
      expect(stopSpy).toHaveBeenCalledTimes(1);
      expect(exit).not.toHaveBeenCalled();
      process.emit('SIGINT', 'SIGINT');
      expect(exit).toHaveBeenCalledWith(1);
    } finally {
      remove();
    }
  });

  it('exits 1 when the drain outlives the deadline', async () => {
    vi.useFakeTimers();
    const exit = vi.fn();
    const remove = handleSignals(stuckDaemon, createLogger('silent'), 5_000, exit);
    try {
      process.emit('SIGTERM', 'SIGTERM');
      vi.advanceTimersByTime(4_999);
      expect(exit).not.toHaveBeenCalled();
      vi.advanceTimersByTime(2);
      expect(exit).toHaveBeenCalledWith(1);
    } finally {
      remove();
      vi.useRealTimers();
    }
  });

  it('exits 0 when the drain completes', async () => {
    const exit = vi.fn();
    const clean = { stop: () => Promise.resolve() } as unknown as Daemon;
    const remove = handleSignals(clean, createLogger('silent'), 5_000, exit);
    try {
      process.emit('SIGTERM', 'SIGTERM');
      await new Promise((r) => setTimeout(r, 10));
      expect(exit).toHaveBeenCalledWith(0);
    } finally {
      remove();
    }
  });
});
