import { chooseBackend } from '../src/model/backend.js';

// Every test file runs on the backend the process would pick (native when the addon loads),
// or on the one SEISMO_SCORING_BACKEND names.
await chooseBackend((process.env.SEISMO_SCORING_BACKEND as 'auto' | 'native' | 'wasm' | 'cpu' | undefined) ?? 'auto');
