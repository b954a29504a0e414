// Preloaded into a daemon by `bench/allocators.mjs --probe` (NODE_OPTIONS="--expose-gc -r ..."):
// on SIGUSR2 it writes $SEISMO_GC_PROBE_DIR/<pid>.json with where the process's memory is, once
// as it is and once after a full garbage collection, so a bench can split RSS into V8's heap
// (per space), the tensors tfjs tracks, ArrayBuffers, thread stacks, mapped code and what the
// malloc side (jemalloc or glibc) holds. Diagnostic only; Seismo itself does not handle SIGUSR2.
// (A superset of bench/gc-probe.cjs: `heapUsed`, `heapTotal`, `rss` and `rssAnonKB` at the top
// level are the after-GC values, as there.)
const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const v8 = require('node:v8');

const MB = 2 ** 20;
const mb = (bytes) => Math.round((bytes / MB) * 10) / 10;

/**
 * Resident kB of /proc/self/smaps by what is mapped: each shared object or file by its name,
 * anonymous mappings as one sum, [stack] and [heap] (brk: glibc's main arena) apart. Thread
 * stacks are anonymous mappings; a guard page below each tells them apart only by size, so they
 * stay in "anonymous".
 */
function smapsByMapping() {
  const byName = new Map();
  let current = 'anonymous';
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header) {
      const path = header[1].trim();
      current = path === '' ? 'anonymous' : path.startsWith('[') ? path : path.split('/').pop();
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) byName.set(current, (byName.get(current) ?? 0) + Number(rss[1]));
  }
  const rows = [...byName.entries()].sort((x, y) => y[1] - x[1]);
  const fileKB = rows.filter(([n]) => n !== 'anonymous' && !n.startsWith('[')).reduce((s, [, kb]) => s + kb, 0);
  return { anonymousMB: mb((byName.get('anonymous') ?? 0) * 1024), brkHeapMB: mb((byName.get('[heap]') ?? 0) * 1024), fileMB: mb(fileKB * 1024), topFiles: rows.filter(([n]) => n !== 'anonymous' && !n.startsWith('[')).slice(0, 6).map(([n, kb]) => [n, mb(kb * 1024)]) };
}

function snapshot() {
  const mu = process.memoryUsage();
  const hs = v8.getHeapStatistics();
  const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, { sizeMB: mb(s.space_size), usedMB: mb(s.space_used_size), physicalMB: mb(s.physical_space_size) }]));
  // tfjs keeps its engine on the global object, so the daemon's engine is visible from here
  // without loading a second copy of tfjs.
  const engine = globalThis._tfengine;
  const tf = engine ? { ...engine.memory(), backend: engine.backendName } : undefined;
  let nativeTensors;
  try {
    nativeTensors = engine?.backendName === 'tensorflow' ? engine.backend.binding.getNumOfTensors() : undefined;
  } catch {
    nativeTensors = undefined;
  }
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return {
    memoryUsage: Object.fromEntries(Object.entries(mu).map(([k, v]) => [k, mb(v)])),
    v8: { totalPhysicalMB: mb(hs.total_physical_size), totalHeapMB: mb(hs.total_heap_size), usedMB: mb(hs.used_heap_size), mallocedMB: mb(hs.malloced_memory), peakMallocedMB: mb(hs.peak_malloced_memory), externalMB: mb(hs.external_memory), spaces },
    tf: tf && { numTensors: tf.numTensors, numBytesMB: mb(tf.numBytes), numDataBuffers: tf.numDataBuffers, backend: tf.backend, nativeTensors },
    status: { rssMB: mb(kb('VmRSS') * 1024), rssAnonMB: mb(kb('RssAnon') * 1024), rssFileMB: mb(kb('RssFile') * 1024), threads: kb('Threads') },
    smaps: smapsByMapping(),
  };
}

// SIGWINCH (ignored by default, so harmless if the probe is missing): the same snapshot without
// a GC, written to <pid>.now.json, for the moment a bench wants to see memory as it is.
process.on('SIGWINCH', () => {
  writeFileSync(join(process.env.SEISMO_GC_PROBE_DIR, `${process.pid}.now.json`), JSON.stringify(snapshot()));
});

process.on('SIGUSR2', () => {
  const before = snapshot();
  global.gc();
  const after = snapshot();
  const mu = process.memoryUsage();
  writeFileSync(join(process.env.SEISMO_GC_PROBE_DIR, `${process.pid}.json`), JSON.stringify({ ...mu, rssAnonKB: after.status.rssAnonMB * 1024, before, after }));
});
