import cliProgress from 'cli-progress';
import type { EpochReport } from '../model/train.js';

/** A training progress bar on stderr: epoch, loss, val loss, ETA. Silent when stderr is not a TTY and `quiet`. */
export function trainingProgress(stream: NodeJS.WriteStream = process.stderr): { onEpoch: (r: EpochReport) => void; stop: () => void } {
  const bar = new cliProgress.SingleBar(
    {
      format: 'training |{bar}| epoch {value}/{total} | loss {loss} | val {val} | {sec}s/epoch | ETA {eta_formatted}',
      stream,
      // Without a TTY, print one line per epoch instead of redrawing.
      noTTYOutput: true,
      notTTYSchedule: 0,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    onEpoch: (r) => {
      const payload = { loss: r.loss.toFixed(5), val: r.valLoss.toFixed(5), sec: r.seconds.toFixed(2) };
      if (!started) {
        bar.start(r.epochs, r.epoch, payload);
        started = true;
      } else bar.update(r.epoch, payload);
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}
