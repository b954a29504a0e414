#!/usr/bin/env node
// The `seismo` command. It is a committed, executable file so that `npx seismo`, `npm link`
// and `npm install -g .` always link to something that exists and can run: the compiled CLI
// (dist/, built by the `prepare` script on `npm ci`) may be missing or rebuilt without its
// executable bit, and a link to it then fails as `sh: seismo: not found`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  process.stderr.write(`seismo: the CLI is not built (no ${fileURLToPath(cli)}); run \`npm run build\` in ${root}\n`);
  process.exit(70);
}
await import(cli.href);
