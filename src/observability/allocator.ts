import { readFileSync } from 'node:fs';

/**
 * Which malloc this process runs on. glibc's malloc keeps the buffers TensorFlow frees while
 * scoring (per-thread arenas, fragmented heaps), so with many entities the daemon's RSS is
 * ~150-200 MB higher on it than on jemalloc at the same throughput (docs/BENCHMARKS.md,
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
 * The one warning a daemon logs when it is not on the preferred allocator, or undefined when it
 * is or the operator chose otherwise (SEISMO_ALLOCATOR=system). The figures are the measured
 * ones; see docs/operations.md, "Memory".
 */
export function allocatorWarning(inUse: AllocatorInUse, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (inUse.name === PREFERRED_ALLOCATOR || env.SEISMO_ALLOCATOR === 'system') return undefined;
  const why = env.SEISMO_ALLOCATOR_MISSING
    ? `bin/seismo.js found no ${PREFERRED_ALLOCATOR} library (looked for ${env.SEISMO_ALLOCATOR_MISSING}; on Debian/Ubuntu: apt-get install libjemalloc2)`
    : `the process was not started through bin/seismo.js or the container image, which preload it (or set LD_PRELOAD=/usr/lib/<arch>-linux-gnu/libjemalloc.so.2 yourself)`;
  return `memory allocator is ${inUse.name}, not ${PREFERRED_ALLOCATOR}: ${why}. Expect ~150-200 MB more RSS with many entities (about 550-600 MB instead of under 400 MB with 10,000 entities); SEISMO_ALLOCATOR=system silences this`;
}
