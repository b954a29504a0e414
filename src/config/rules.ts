import type { SeismoConfig } from './schema.js';

/** A rule that spans fields: the path it is reported at, and why the config cannot work. */
export interface CrossFieldProblem {
  path: (string | number)[];
  message: string;
}

/**
 * Rules the per-field schema cannot express: combinations that are each valid alone but make
 * Seismo unable to do its job (an alert that can never open, a threshold the method cannot
 * place, a sink with nowhere to write). Checked after the schema, reported with it.
 */
export function crossFieldProblems(cfg: SeismoConfig): CrossFieldProblem[] {
  const problems: CrossFieldProblem[] = [];
  const { alerts, threshold, sink, training, window } = cfg;
  if (alerts.openK > alerts.openN) {
    problems.push({ path: ['alerts', 'openK'], message: `openK ${alerts.openK} > openN ${alerts.openN}: an alert opens when openK of the last openN windows are above the threshold, so it could never open` });
  }
  if (threshold.method === 'pot' && threshold.potRisk >= 1 - threshold.potInitialQuantile) {
    problems.push({
      path: ['threshold', 'potRisk'],
      message: `potRisk ${threshold.potRisk} is not below 1 - potInitialQuantile (${+(1 - threshold.potInitialQuantile).toPrecision(6)}): POT fits the tail above the potInitialQuantile and places the threshold further out, at a smaller exceedance probability`,
    });
  }
  if (cfg.input.entityColumn !== undefined && cfg.input.entityColumn === cfg.input.timestampColumn) {
    problems.push({ path: ['input', 'entityColumn'], message: `entityColumn "${cfg.input.entityColumn}" is also the timestampColumn: every reading would be its own entity` });
  }
  if (sink.kind === 'file' && sink.path === undefined) problems.push({ path: ['sink', 'kind'], message: 'sink.kind "file" needs sink.path (the NDJSON file to write flags to)' });
  if (training.maxRows !== undefined && training.maxRows < window.lookback) {
    problems.push({ path: ['training', 'maxRows'], message: `maxRows ${training.maxRows} < window.lookback ${window.lookback}: no window of ${window.lookback} readings fits in the training rows of an entity` });
  }
  if (window.warmupWindows % window.stride !== 0) {
    // Scored windows are runs 1, 1 + stride, ...: the alert tracker starts each entity's score
    // history afresh at the first window after the warm-up, which must be one of them.
    problems.push({ path: ['window', 'stride'], message: `stride ${window.stride} does not divide window.warmupWindows ${window.warmupWindows}: the first window after the warm-up (run ${window.warmupWindows + 1}) would not be scored; use a stride that divides it` });
  }
  if (cfg.features !== undefined) {
    const seen = new Set<string>();
    cfg.features.forEach((f, i) => {
      if (seen.has(f)) problems.push({ path: ['features', i], message: `"${f}" is listed twice` });
      seen.add(f);
    });
    if (Array.isArray(training.relativeFeatures)) {
      training.relativeFeatures.forEach((f, i) => {
        if (!seen.has(f)) problems.push({ path: ['training', 'relativeFeatures', i], message: `"${f}" is not one of features [${cfg.features?.join(', ')}]` });
      });
    }
  }
  return problems;
}
