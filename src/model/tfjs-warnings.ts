/**
 * tfjs-layers warns on the console ("Orthogonal initializer is being called on a matrix with more
 * than 2000 ... elements: Slowness may result.") each time an LSTM of 32 or more units gets its
 * recurrent kernel initialised: in every model build and every artifact load. For Seismo's sizes
 * the orthogonalisation takes milliseconds, so the line says nothing a user can act on, and it
 * buried the demo's output (4 lines) and an evaluation's stderr (750 lines for NAB held-out).
 * Only that message is dropped; every other console warning passes through unchanged.
 */
const NOISE = 'Orthogonal initializer is being called on a matrix with more than';

let installed = false;

export function quietOrthogonalInitializerWarning(): void {
  if (installed) return;
  installed = true;
  const warn = console.warn.bind(console);
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].startsWith(NOISE)) return;
    warn(...args);
  };
}
