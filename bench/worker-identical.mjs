// Are the scoring worker's scores the in-thread Scorer's? Scores 3,000 synthetic windows of the
// artifact's shape both ways at several scoring.maxBatch values and counts the differences.
//   node bench/worker-identical.mjs <artifactDir>      (needs a build: npx tsc -p .)
import { chooseBackend } from '../dist/model/backend.js';
import { loadArtifact } from '../dist/model/artifact.js';
import { Scorer } from '../dist/score/scorer.js';
import { WorkerScorer } from '../dist/score/worker-scorer.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: node bench/worker-identical.mjs <artifactDir>');
await chooseBackend('auto');
const artifact = await loadArtifact(dir);
const F = artifact.scaler.features.length;
const T = artifact.manifest.lookback;
const windows = Array.from({ length: 3000 }, (_, i) => ({ entity: `e${i % 7}`, startTs: i, endTs: i + T, data: Float32Array.from({ length: T * F }, (_, k) => Math.sin(i * 0.37 + k) * 2) }));
for (const maxBatch of [64, 256, 1024]) {
  const local = new Scorer(artifact.model, T, F, maxBatch);
  local.warmUp();
  const worker = await WorkerScorer.start(artifact.model, { lookback: T, features: F, maxBatch, backend: 'auto', threads: 0 });
  const inThread = local.score(windows);
  const inWorker = await worker.score(windows);
  let differ = 0;
  let maxRelative = 0;
  inThread.forEach((s, i) => {
    if (s.score !== inWorker[i].score) differ++;
    s.featureErrors.forEach((e, j) => (maxRelative = Math.max(maxRelative, Math.abs(e - inWorker[i].featureErrors[j]) / Math.abs(e))));
  });
  console.log(`scoring.maxBatch ${maxBatch}: ${differ} of ${windows.length} window scores differ; largest relative per-feature difference ${maxRelative}; path ${worker.path} (worker), ${local.path} (in thread)`);
  await worker.dispose();
  local.dispose();
}
