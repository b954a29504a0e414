import cliProgress from 'cli-progress';
import type { EpochReport } from '../model/train.js';

export interface TrainingProgress {
  onEpoch: (r: EpochReport) => void;
  stop: () => void;
}

/**
 * Training progress on stderr: a redrawn bar (epoch, loss, val loss, ETA) on a terminal, one
 * plain line per epoch otherwise, so logs and CI output stay readable.
 */
export function trainingProgress(stream: NodeJS.WriteStream = process.stderr): TrainingProgress {
  const fmt = (r: EpochReport) => ({ loss: r.loss.toFixed(5), val: r.valLoss.toFixed(5), sec: r.seconds.toFixed(2) });
  if (!stream.isTTY) {
    const started = performance.now();
    return {
      onEpoch: (r) => {
        const p = fmt(r);
        const eta = ((performance.now() - started) / 1000 / r.epoch) * (r.epochs - r.epoch);
        stream.write(`training epoch ${r.epoch}/${r.epochs} loss ${p.loss} val ${p.val} ${p.sec}s/epoch ETA ${eta.toFixed(0)}s (at most; early stopping may end sooner)\n`);
      },
      stop: () => {},
    };
  }
  const bar = new cliProgress.SingleBar(
    { format: 'training |{bar}| epoch {value}/{total} | loss {loss} | val {val} | {sec}s/epoch | ETA {eta_formatted}', stream, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    onEpoch: (r) => {
      if (!started) {
        bar.start(r.epochs, r.epoch, fmt(r));
        started = true;
      } else bar.update(r.epoch, fmt(r));
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}
