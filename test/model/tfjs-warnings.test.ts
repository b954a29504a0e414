import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// Building an LSTM autoencoder of Seismo's sizes printed tfjs-layers' "Orthogonal initializer ...
// Slowness may result" once per layer (the demo printed it 4 times, a NAB evaluation 750 times).
// In a process of its own (vitest captures the console), on the built output (dist/).
describe('tfjs console noise', () => {
  it('building a [64, 32] LSTM autoencoder prints no orthogonal-initializer warning; other warnings still pass', () => {
    const dist = resolve('dist');
    const script = `
const { configSchema } = await import(${JSON.stringify(`${dist}/config/schema.js`)});
const { buildModel } = await import(${JSON.stringify(`${dist}/model/variants.js`)});
const model = buildModel(configSchema.parse({ model: { encoderUnits: [64, 32] } }).model, 10, 8);
console.warn('another warning');
console.log(model.countParams() > 0 ? 'built' : 'empty');`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('built');
    expect(r.stderr).not.toMatch(/Orthogonal initializer/);
    expect(r.stderr).toMatch(/another warning/);
  });
});
