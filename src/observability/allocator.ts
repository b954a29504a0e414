import { readFileSync } from 'node:fs';

/**
 * Which malloc this process runs on. glibc's malloc keeps what TensorFlow's threads and the
 * Kafka client free (per-thread arenas, fragmented heaps), so with 10,000 entities the daemon's
 * RSS is ~50-100 MB higher on it than on jemalloc at the same CPU per reading (docs/BENCHMARKS.md,
 * "Issue 15: memory"). A library can only replace malloc when it is loaded before the program
 * starts (LD_PRELOAD), which bin/seismo.js and the container image arrange; this module only
 * reports what happened, so that a daemon started some other way says so instead of silently
 * using more memory.
 */
export type AllocatorName = 'jemalloc' | 'tcmalloc' | 'mimalloc' | 'glibc' | 'unknown';

export interface AllocatorInUse {
  name: AllocatorName;
  /** The shared library mapped into the process, when it is not the C library's own malloc. */
  library?: string;
}

/** What the launcher and the image preload by default. */
export const PREFERRED_ALLOCATOR: AllocatorName = 'jemalloc';

const LIBRARIES: [AllocatorName, RegExp][] = [
  ['jemalloc', /libjemalloc[^/\s]*\.so[^/\s]*$/],
  ['tcmalloc', /libtcmalloc[^/\s]*\.so[^/\s]*$/],
  ['mimalloc', /libmimalloc[^/\s]*\.so[^/\s]*$/],
];

/** The allocator from a /proc/PID/maps text (one mapping a line, the path last). */
export function allocatorFromMaps(maps: string): AllocatorInUse {
  const paths = new Set(maps.split('\n').map((line) => line.trim().split(/\s+/)[5] ?? '').filter((p) => p.startsWith('/')));
  for (const [name, pattern] of LIBRARIES) {
    for (const path of paths) if (pattern.test(path)) return { name, library: path };
  }
  for (const path of paths) if (/\/libc(-[\d.]+)?\.so(\.6)?$/.test(path)) return { name: 'glibc' };
  return { name: 'unknown' };
}

/** This process's allocator; 'unknown' where /proc is not there (not Linux). */
export function allocatorInUse(mapsPath = '/proc/self/maps'): AllocatorInUse {
  let maps: string;
  try {
    maps = readFileSync(mapsPath, 'utf8');
  } catch {
    return { name: 'unknown' };
  }
  return allocatorFromMaps(maps);
}

/**
 * The one warning a daemon logs when it runs on glibc's malloc, or undefined when it does not
 * (jemalloc, or another allocator someone preloaded on purpose; 'unknown' off glibc systems,
 * where the launcher preloads nothing) or the operator chose it (SEISMO_ALLOCATOR=system). The
 * figures are the measured ones; see docs/operations.md, "Memory".
 */
export function allocatorWarning(inUse: AllocatorInUse, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (inUse.name !== 'glibc' || env.SEISMO_ALLOCATOR === 'system') return undefined;
  const why = env.SEISMO_ALLOCATOR_MISSING
    ? `bin/seismo.js found no ${PREFERRED_ALLOCATOR} library (looked for ${env.SEISMO_ALLOCATOR_MISSING}; on Debian/Ubuntu: apt-get install libjemalloc2)`
    : `the process was not started through bin/seismo.js or the container image, which preload it (or set LD_PRELOAD=/usr/lib/<arch>-linux-gnu/libjemalloc.so.2 yourself)`;
  return `memory allocator is ${inUse.name}, not ${PREFERRED_ALLOCATOR}: ${why}. Expect ~50-100 MB more RSS with many entities (docs/operations.md, "Memory"); SEISMO_ALLOCATOR=system silences this`;
}
