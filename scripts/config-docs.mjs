#!/usr/bin/env node
// Regenerates the configuration table of docs/configuration.md and config/seismo.example.yaml from the schema
// (src/config/schema.ts, via dist/). Run after `npm run build`: `node scripts/config-docs.mjs`.
// test/config/* check that both stay complete.
import { readFileSync, writeFileSync } from 'node:fs';
import { envName, listConfigFields } from '../dist/config/schema.js';

const root = new URL('../', import.meta.url).pathname;
/** Example values for optional keys without a default (shown commented out). */
const EXAMPLES = {
  features: 'null',
  'input.entityColumn': '"machine"',
  'training.path': '"data/normal"',
  'training.maxRows': '400',
  'source.path': '"data/replay.ndjson"',
  'sink.path': '"flags.ndjson"',
  'sink.deadLetterPath': '"dead-letters.ndjson"',
  'kafka.ssl.caFile': '"/etc/seismo/ca.pem"',
  'kafka.ssl.certFile': '"/etc/seismo/client.pem"',
  'kafka.ssl.keyFile': '"/etc/seismo/client.key"',
  'kafka.sasl.username': '"seismo"',
  'kafka.sasl.password': '"use SEISMO_KAFKA_SASL_PASSWORD instead"',
  'http.metricsTokenFile': '"/run/secrets/seismo-metrics-token"',
  'admin.tokenFile': '"/run/secrets/seismo-admin-token"',
  'admin.token': '"use SEISMO_ADMIN_TOKEN instead"',
  'admin.modelRoot': '"/models"',
};

const fields = listConfigFields();

function yamlValue(v) {
  if (Array.isArray(v)) return `[ ${v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(', ')} ]`;
  if (typeof v === 'string') return /^[A-Za-z0-9_./-]+$/.test(v) && !/^\d/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v);
}

function wrap(text, indent, width = 95) {
  const words = text.split(' ');
  const lines = [];
  let line = `${indent}#`;
  for (const w of words) {
    if (line.length + 1 + w.length > width && line.trim() !== '#') {
      lines.push(line);
      line = `${indent}#`;
    }
    line += ` ${w}`;
  }
  lines.push(line);
  return lines.join('\n');
}

// ---- example YAML
const out = [
  '# Seismo configuration: every key, with its default. Validate with `seismo validate-config FILE`.',
  '# Any key can be overridden by an environment variable: SEISMO_ + the path in UPPER_SNAKE_CASE',
  '# (e.g. scoring.backend -> SEISMO_SCORING_BACKEND; lists are comma-separated).',
];
let openPath = [];
for (const f of fields) {
  const parents = f.path.slice(0, -1);
  let common = 0;
  while (common < parents.length && common < openPath.length && parents[common] === openPath[common]) common++;
  if (common < openPath.length || parents.length > openPath.length) {
    if (common === 0) out.push('');
    for (let i = common; i < parents.length; i++) out.push(`${'  '.repeat(i)}${parents[i]}:`);
    openPath = parents;
  } else if (parents.length === 0) out.push('');
  const indent = '  '.repeat(parents.length);
  const key = f.path[f.path.length - 1];
  out.push(wrap(f.description, indent));
  const id = f.path.join('.');
  if (f.defaultValue === undefined) out.push(`${indent}# ${key}: ${EXAMPLES[id] ?? '""'}   (optional, no default)`);
  else out.push(`${indent}${key}: ${yamlValue(f.defaultValue)}`);
}
writeFileSync(`${root}config/seismo.example.yaml`, `${out.join('\n')}\n`);

// ---- docs/configuration.md table
const rows = fields.map((f) => {
  const def = f.defaultValue === undefined ? '—' : `\`${JSON.stringify(f.defaultValue)}\``;
  return `| \`${f.path.join('.')}\` | ${envName(f.path)} | ${def} | ${f.description.replace(/\|/g, '\\|')} |`;
});
const readmePath = `${root}docs/configuration.md`;
const readme = readFileSync(readmePath, 'utf8');
const header = '| key | env | default | meaning |\n|---|---|---|---|\n';
const start = readme.indexOf(header);
if (start < 0) throw new Error('docs/configuration.md: configuration table header not found');
const bodyStart = start + header.length;
let end = bodyStart;
while (readme.startsWith('| `', end)) end = readme.indexOf('\n', end) + 1;
writeFileSync(readmePath, readme.slice(0, bodyStart) + rows.join('\n') + '\n' + readme.slice(end));
console.log(`${fields.length} keys -> config/seismo.example.yaml and docs/configuration.md`);
