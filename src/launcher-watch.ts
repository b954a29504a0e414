/**
 * The CLI's side of bin/seismo.js. The launcher runs Seismo as its child (to preload jemalloc
 * and give V8 its heap flags) and passes signals on; but a SIGKILLed launcher passes nothing,
 * and its child would run on as an orphan: still in the consumer group, holding partitions,
 * with no supervisor to stop it. So the child watches its parent: once it is reparented it sends
 * itself SIGTERM, which the daemon answers with its normal drain (and any other command by
 * exiting).
 */
const LAUNCHER_PID_ENV = 'SEISMO_LAUNCHER_PID';
const POLL_MS = 500;

export function watchLauncher(warn: (message: string) => void = (m) => process.stderr.write(`${m}\n`)): void {
  const launcher = Number(process.env[LAUNCHER_PID_ENV]);
  // Not inherited further: a refit's training child has the daemon as its parent, not the launcher.
  delete process.env[LAUNCHER_PID_ENV];
  if (!Number.isInteger(launcher) || launcher <= 0 || process.ppid !== launcher) return;
  const timer = setInterval(() => {
    if (process.ppid === launcher) return;
    clearInterval(timer);
    warn(`seismo: the launcher (pid ${launcher}) is gone without passing a signal on (SIGKILL?); stopping as on SIGTERM`);
    process.kill(process.pid, 'SIGTERM');
  }, POLL_MS);
  timer.unref();
}

export { LAUNCHER_PID_ENV };
