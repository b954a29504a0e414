import cliProgress from 'cli-progress';

export interface EvalProgress {
  tick: (done: number, total: number, label: string) => void;
  stop: () => void;
}

/**
 * Evaluation progress on stderr (file x seed runs, ETA): a redrawn bar on a terminal, one line
 * per run otherwise, so CI logs stay readable.
 */
export function evaluationProgress(stream: NodeJS.WriteStream = process.stderr): EvalProgress {
  const started = performance.now();
  if (!stream.isTTY) {
    return {
      tick: (done, total, label) => {
        const eta = ((performance.now() - started) / 1000 / done) * (total - done);
        stream.write(`evaluate ${done}/${total} ${label} ETA ${eta.toFixed(0)}s\n`);
      },
      stop: () => {},
    };
  }
  const bar = new cliProgress.SingleBar({ format: 'evaluate |{bar}| {value}/{total} runs | {label} | ETA {eta_formatted}', stream, hideCursor: true }, cliProgress.Presets.shades_classic);
  let started_ = false;
  return {
    tick: (done, total, label) => {
      if (!started_) {
        bar.start(total, done, { label });
        started_ = true;
      } else bar.update(done, { label });
    },
    stop: () => {
      if (started_) bar.stop();
    },
  };
}
