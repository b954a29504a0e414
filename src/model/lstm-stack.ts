import type * as tf from '@tensorflow/tfjs';

type Layer = tf.LayersModel['layers'][number];

/** One step of the autoencoder as a plain chain of layers, in execution order. */
export type LstmActivation = 'tanh' | 'relu';
export type LstmGates = 'sigmoid' | 'hardSigmoid';

export type StackStep =
  | { kind: 'lstm'; layer: Layer; units: number; returnSequences: boolean; activation: LstmActivation; gates: LstmGates }
  | { kind: 'repeat'; n: number }
  | { kind: 'dense'; layer: Layer; units: number; useBias: boolean };

export interface LstmStack {
  steps: StackStep[];
  lookback: number;
  features: number;
}

export type StackAnalysis = { ok: true; stack: LstmStack } | { ok: false; reason: string };

/**
 * Recognises the only topology the fast paths know how to run: a single-input chain
 * [LSTM..., optional RepeatVector, LSTM..., TimeDistributed(Dense linear)] whose LSTMs use tanh
 * or relu cells and sigmoid or hardSigmoid gates. Anything else gets a reason, so callers fall
 * back to model.predict and can say why. blockLstmUnsupported() narrows it to BlockLSTMV2.
 */
export function analyseLstmStack(model: tf.LayersModel): StackAnalysis {
  const fail = (reason: string): StackAnalysis => ({ ok: false, reason });
  if (model.inputs.length !== 1 || model.outputs.length !== 1) return fail('model has more than one input or output');
  const inputShape = model.inputs[0]?.shape ?? [];
  const [, lookback, features] = inputShape;
  if (inputShape.length !== 3 || typeof lookback !== 'number' || typeof features !== 'number') return fail(`input shape ${JSON.stringify(inputShape)} is not [batch, T, F]`);

  const steps: StackStep[] = [];
  // What flows between steps: a sequence [T, B, d] or a single vector [B, d].
  let flowing: 'sequence' | 'vector' = 'sequence';
  let previous: Layer | undefined;
  for (const layer of model.layers) {
    const kind = layer.getClassName();
    if (kind === 'InputLayer') {
      previous = layer;
      continue;
    }
    const inbound = layer.inboundNodes;
    if (inbound.length !== 1 || inbound[0]?.inboundLayers.length !== 1 || inbound[0].inboundLayers[0] !== previous) {
      return fail(`layer ${layer.name} is not fed by the layer before it (not a plain chain)`);
    }
    if (steps.at(-1)?.kind === 'dense') return fail(`layer ${layer.name} follows the output Dense`);
    const cfg = layer.getConfig();
    if (kind === 'LSTM') {
      if (flowing !== 'sequence') return fail(`LSTM ${layer.name} gets a vector, not a sequence`);
      const activation = cfg.activation;
      const gates = cfg.recurrentActivation;
      if (activation !== 'tanh' && activation !== 'relu') return fail(`LSTM ${layer.name} has activation ${String(activation)}`);
      if (gates !== 'sigmoid' && gates !== 'hardSigmoid') return fail(`LSTM ${layer.name} has recurrentActivation ${String(gates)}`);
      if (cfg.useBias !== true || cfg.goBackwards === true || cfg.stateful === true || cfg.returnState === true) {
        return fail(`LSTM ${layer.name} uses an option the native path does not implement (no bias, goBackwards, stateful or returnState)`);
      }
      const returnSequences = cfg.returnSequences === true;
      steps.push({ kind: 'lstm', layer, units: Number(cfg.units), returnSequences, activation, gates });
      flowing = returnSequences ? 'sequence' : 'vector';
    } else if (kind === 'RepeatVector') {
      if (flowing !== 'vector') return fail(`RepeatVector ${layer.name} gets a sequence`);
      if (cfg.n !== lookback) return fail(`RepeatVector ${layer.name} repeats ${String(cfg.n)} times, not the lookback ${lookback}`);
      steps.push({ kind: 'repeat', n: lookback });
      flowing = 'sequence';
    } else if (kind === 'TimeDistributed') {
      const inner = (layer as Layer & { layer?: Layer }).layer;
      if (inner?.getClassName() !== 'Dense') return fail(`TimeDistributed ${layer.name} does not wrap a Dense`);
      const dense = inner.getConfig();
      if (dense.activation !== 'linear') return fail(`Dense in ${layer.name} has activation ${String(dense.activation)}`);
      if (flowing !== 'sequence') return fail(`TimeDistributed ${layer.name} gets a vector`);
      steps.push({ kind: 'dense', layer: inner, units: Number(dense.units), useBias: dense.useBias === true });
    } else {
      return fail(`layer ${layer.name} is a ${kind}, which the native path does not implement`);
    }
    previous = layer;
  }
  const last = steps.at(-1);
  if (last?.kind !== 'dense' || last.units !== features) return fail('the model does not end in a TimeDistributed Dense that rebuilds every feature');
  if (model.outputs[0] !== undefined && model.outputs[0].sourceLayer !== previous) return fail('the model output is not the last layer of the chain');
  return { ok: true, stack: { steps, lookback, features } };
}

/**
 * Why TensorFlow's BlockLSTMV2 cannot compute this stack, or undefined when it can: the op has
 * no activation attributes, it always uses tanh cells and logistic-sigmoid gates.
 */
export function blockLstmUnsupported(stack: LstmStack): string | undefined {
  for (const step of stack.steps) {
    if (step.kind !== 'lstm') continue;
    if (step.activation !== 'tanh') return `LSTM ${step.layer.name} has activation ${step.activation}; BlockLSTMV2 computes tanh only`;
    if (step.gates !== 'sigmoid') return `LSTM ${step.layer.name} has recurrentActivation ${step.gates}; BlockLSTMV2 computes sigmoid gates only`;
  }
  return undefined;
}
