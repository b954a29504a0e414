/**
 * Moved to src/domain/types.ts (the bottom of the layering: detect/, score/ and the other
 * stages must not import from the pipeline layer above them). This re-export keeps modules not
 * yet switched over compiling; remove it once nothing imports this path.
 */
export * from '../domain/types.js';
