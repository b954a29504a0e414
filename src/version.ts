import { readFileSync } from 'node:fs';

/** Seismo's version, from package.json (one place to bump; reported by --version and recorded in artifacts). */
export const SEISMO_VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
