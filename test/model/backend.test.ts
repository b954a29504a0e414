import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { activeBackend, chooseBackend } from '../../src/model/backend.js';
import { SeismoError } from '../../src/errors.js';

describe('backend choice', () => {
  it.runIf(process.env.CI === 'true')('CI runs on the native TensorFlow backend', () => {
    expect(tf.getBackend()).toBe('tensorflow');
    expect(activeBackend()).toMatchObject({ active: 'tensorflow' });
    expect(activeBackend()?.fallbackReason).toBeUndefined();
  });

  it('records what runs, and why when it is a fallback', () => {
    const choice = activeBackend();
    expect(choice?.active).toBe(tf.getBackend());
    if (choice?.active !== 'tensorflow' && choice?.requested === 'auto') expect(choice.fallbackReason).toMatch(/native/);
  });

  it('refuses to switch to a different explicit backend once one is active', async () => {
    const other = tf.getBackend() === 'cpu' ? 'wasm' : 'cpu';
    await expect(chooseBackend(other)).rejects.toBeInstanceOf(SeismoError);
    await expect(chooseBackend('auto')).resolves.toMatchObject({ active: tf.getBackend() });
  });
});
