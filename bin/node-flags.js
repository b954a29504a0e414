// V8 heap settings the launcher (bin/seismo.js) gives the daemon, `seismo run`.
//
// Why: with 10,000 entities the daemon's live JS heap is ~52-60 MB, but by default V8 lets the
// old generation grow to up to 4x what survived the last full collection before collecting
// again (its growing factor is capped at 4.0 when the heap limit is 2 GB or more; Node's default
// limit on a machine with 16 GB or more is ~4 GB), so at any moment 100-170 MB of the heap was
// garbage not yet collected, and the ArrayBuffers that garbage held (decoded windows, Kafka
// message buffers: 40-55 MB) were not freed either. Below 2 GB V8 interpolates the cap between
// 1.3 and 2.0 by the limit: 2047 MB gives 2.0 and keeps a limit far above any live heap the
// daemon should have; 1024 (factor 1.6) measured ~15 MB less RSS but 0.975x the readings per
// CPU-second (within noise), and a limit a large daemon could reach. A semi-space of 8 MB
// instead of 16 halves the young generation. Together: ~375-390 MB instead of ~410-530 MB RSS
// with 10,000 entities (docs/BENCHMARKS.md, "Issue 15: memory, where it goes and what cut it").
//
// Only for `run`, the long-running daemon: `train` and `evaluate` hold whole data sets and are
// left to V8's defaults. A flag the user gives (before the script, `node --max-old-space-size=4096
// bin/seismo.js run ...`, or in NODE_OPTIONS) wins over the launcher's.
// The container image and deploy/k8s set the same flags in NODE_OPTIONS.
export const DAEMON_NODE_FLAGS = ['--max-old-space-size=2047', '--max-semi-space-size=8'];

/** The CLI command in an argument list: the first argument that is not an option. */
function commandOf(args) {
  return args.find((a) => !a.startsWith('-'));
}

/** `--max-old-space-size=2047` -> `max-old-space-size`; V8 treats `_` and `-` alike. */
function flagName(flag) {
  return flag.replace(/^--?/, '').split('=')[0].replaceAll('_', '-');
}

/**
 * The node flags the launcher adds for this command line: DAEMON_NODE_FLAGS for `run`, less
 * those the user set already in `execArgv` (node's own flags before the script) or in
 * `nodeOptions` (the NODE_OPTIONS variable); none for any other command.
 */
export function daemonNodeFlags(args, execArgv = [], nodeOptions = '') {
  if (commandOf(args) !== 'run') return [];
  const given = new Set([...execArgv, ...nodeOptions.split(/\s+/)].filter((a) => a.startsWith('-')).map(flagName));
  return DAEMON_NODE_FLAGS.filter((f) => !given.has(flagName(f)));
}
