// Preloaded into a daemon by `bench/allocators.mjs --gc-probe` (NODE_OPTIONS="--expose-gc -r ..."):
// on SIGUSR2, a full garbage collection, then process.memoryUsage() written to
// $SEISMO_GC_PROBE_DIR/<pid>.json, so the bench can tell the live JS heap from garbage V8 has not
// collected yet. Diagnostic only; Seismo itself does not handle SIGUSR2.
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');
process.on('SIGUSR2', () => {
  global.gc();
  const rssAnonKB = Number(/RssAnon:\s+(\d+)/.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8'))?.[1]);
  writeFileSync(join(process.env.SEISMO_GC_PROBE_DIR, `${process.pid}.json`), JSON.stringify({ ...process.memoryUsage(), rssAnonKB }));
});
