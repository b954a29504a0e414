// V8 heap settings the launcher (bin/seismo.js) gives the daemon, `seismo run`.
//
// Why: with 10,000 entities the daemon's live JS heap is ~60 MB, but by default V8 lets the old
// generation grow to up to 4x what survived the last full collection before collecting again
// (its growing factor is capped at 4 when the heap limit is 2 GB or more; Node sets ~4 GB on
// this machine), so at any moment 100-170 MB of the heap is garbage not yet collected, and the
// ArrayBuffers that garbage holds (decoded windows, Kafka message buffers: 40-55 MB) are not
// freed either. A 1 GB limit caps the factor near 1.6 (V8 interpolates it between 1.3 and 2.0 for
// limits between 256 MB and 2 GB), and a semi-space of 8 MB instead of 16 halves the young
// generation. Together: ~390 MB instead of ~520 MB RSS at the same readings per CPU-second
// (docs/BENCHMARKS.md, "Issue 15: memory, where it goes").
//
// Only for `run`, the long-running daemon: `train` and `evaluate` hold whole data sets and are
// left to V8's defaults. A flag the user gives (before the script, `node --max-old-space-size=2048
// bin/seismo.js run ...`, or in NODE_OPTIONS) wins over the launcher's.
// The container image and deploy/k8s set the same flags in NODE_OPTIONS.
export const DAEMON_NODE_FLAGS = ['--max-old-space-size=1024', '--max-semi-space-size=8'];

/** The CLI command in an argument list: the first argument that is not an option. */
function commandOf(args) {
  return args.find((a) => !a.startsWith('-'));
}

/** `--max-old-space-size=1024` -> `max-old-space-size`; V8 treats `_` and `-` alike. */
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
