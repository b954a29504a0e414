#!/usr/bin/env node
// The `seismo` command. It is a committed, executable file so that `npx seismo`, `npm link`
// and `npm install -g .` always link to something that exists and can run: the compiled CLI
// (dist/, built by the `prepare` script on `npm ci`) may be missing or rebuilt without its
// executable bit, and a link to it then fails as `sh: seismo: not found`.
//
// It also puts Seismo on jemalloc: glibc's malloc keeps what TensorFlow's threads and the Kafka
// client free, ~50-100 MB more RSS with 10,000 entities (docs/BENCHMARKS.md, "Issue 15: memory").
// An allocator replaces malloc only when it is loaded before the program starts, and Node
// cannot exec itself, so the launcher runs the CLI as a child with LD_PRELOAD set, passing
// signals on and exiting as the child did. Nothing is re-run when an allocator is already
// preloaded (the container image sets LD_PRELOAD itself), when SEISMO_ALLOCATOR=system, or
// off Linux. Without the library the daemon runs on glibc, logs a warning once, and reports
// the allocator in /readyz and in seismo_allocator_info.
//
// And it gives the daemon (`run`) V8 heap flags that keep ~130 MB of uncollected garbage out of
// its RSS at no cost in CPU per reading (bin/node-flags.js says which and why); node flags the
// user gives before this script are passed on and win. Node flags, too, take effect only when
// the process starts, so `run` is re-run as a child for them even where no library is found.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { daemonNodeFlags } from './node-flags.js';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  process.stderr.write(`seismo: the CLI is not built (no ${fileURLToPath(cli)}); run \`npm run build\` in ${root}\n`);
  process.exit(70);
}

// SEISMO_JEMALLOC_PATH when set (another distribution's path), else Debian and Ubuntu's
// libjemalloc2 (multiarch directory), then the usual other places.
const MULTIARCH = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' }[process.arch];
const JEMALLOC = process.env.SEISMO_JEMALLOC_PATH
  ? [process.env.SEISMO_JEMALLOC_PATH]
  : [...(MULTIARCH ? [`/usr/lib/${MULTIARCH}/libjemalloc.so.2`] : []), '/usr/lib64/libjemalloc.so.2', '/usr/lib/libjemalloc.so.2', '/usr/local/lib/libjemalloc.so.2'];
// Return freed pages to the system within a second, from jemalloc's own background thread
// (not on the next allocation): what keeps RSS down after a burst of scoring.
const MALLOC_CONF = 'background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0';

const env = process.env;
const args = process.argv.slice(2);
const launched = env.SEISMO_ALLOCATOR_LAUNCHED === '1';
const preloaded = /lib(jemalloc|tcmalloc|mimalloc)/.test(env.LD_PRELOAD ?? '');
const wanted = process.platform === 'linux' && env.SEISMO_ALLOCATOR !== 'system' && !preloaded && !launched;
const library = wanted ? JEMALLOC.find((p) => existsSync(p)) : undefined;
const nodeFlags = launched ? [] : daemonNodeFlags(args, process.execArgv, env.NODE_OPTIONS);
if (wanted && library === undefined) env.SEISMO_ALLOCATOR_MISSING = JEMALLOC.join(', '); // the daemon's warning names where it looked

if (library === undefined && nodeFlags.length === 0) {
  await import(cli.href);
} else {
  const child = spawn(process.execPath, [...nodeFlags, ...process.execArgv, fileURLToPath(cli), ...args], {
    stdio: 'inherit',
    env: {
      ...env,
      ...(library !== undefined ? { LD_PRELOAD: env.LD_PRELOAD ? `${library}:${env.LD_PRELOAD}` : library, MALLOC_CONF: env.MALLOC_CONF ?? MALLOC_CONF } : {}),
      SEISMO_ALLOCATOR_LAUNCHED: '1',
      // The child stops itself if this process dies without passing a signal on (src/launcher-watch.ts).
      SEISMO_LAUNCHER_PID: String(process.pid),
    },
  });
  // The child is Seismo: the signals meant for it go on to it, and this process exits only when
  // it has. A Ctrl-C (SIGINT, SIGQUIT) typed at a terminal already reaches both processes (one
  // process group), and a second SIGINT makes the daemon skip its drain, so those two are passed
  // on only when no terminal is attached (a supervisor or a script sent them to this process).
  const fromTerminal = process.stdin.isTTY === true;
  for (const signal of ['SIGTERM', 'SIGHUP', 'SIGINT', 'SIGQUIT']) {
    process.on(signal, () => {
      if (!(fromTerminal && (signal === 'SIGINT' || signal === 'SIGQUIT'))) child.kill(signal);
    });
  }
  child.on('error', (err) => {
    process.stderr.write(`seismo: could not start ${process.execPath}: ${err.message}\n`);
    process.exit(70);
  });
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else process.exit(code ?? 1);
  });
}
