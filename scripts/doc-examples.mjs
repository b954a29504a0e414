// The shell examples of README.md and docs/*.md, and which of them a fresh clone can run verbatim.
// Every example is run by scripts/readme-examples.mjs unless a rule below marks it, with the
// reason, as needing something a fresh clone without a broker does not have (or as taking long).
// test/docs-examples.test.ts keeps this list honest: a new example is run, or marked here.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** What a line must start with to be a command (indented blocks also hold JSON and diagrams). */
const COMMAND = /^(npx |npm |node |kcat |kill |docker |podman |bash |scripts\/|~\/|[A-Z][A-Z0-9_]*=)/;

/** First match wins; unmatched commands are run. */
export const RULES = [
  { kind: 'self', test: /readme-examples\.mjs/, reason: 'this runner itself' },
  { kind: 'synopsis', test: /\[--|native\|wasm/, reason: 'a usage synopsis with placeholders, not a command' },
  { kind: 'own-files', test: /<variant>|rare\.yaml|rare\.csv|\/path\/to\//, reason: "needs the reader's own files" },
  { kind: 'container', test: /^(docker|podman) /, reason: 'needs a container engine and an image build' },
  { kind: 'broker', test: /kafka\.yaml|^kcat |kafka:(install|start|stop)|scripts\/kafka\/|BOOTSTRAP=|bench:e2e|^kill %1/, reason: 'needs a Kafka broker (docs/kafka.md); covered by test/kafka/' },
  { kind: 'long', test: /^npm ci|npm test|npm start|npm run bench|bench\/(run\.sh|scorer-bench\.mjs|keras_bench\.py|report\.mjs)/, reason: 'long (installs, the whole test suite, or benchmarks), or needs a benchmark run first' },
  { kind: 'long', test: /install-tfjs-native\.mjs( --force)?\s*(#.*)?$/, reason: 'rebuilds the native TensorFlow addon in node_modules' },
  { kind: 'long', test: /evaluate .*(--seeds \d+,\d+|--protocol nab|-d \.\.\/shared\/data\/skab(\s|$))/, reason: 'a whole-corpus evaluation (minutes to hours)' },
];

/** The kind of an example: 'run', or the first rule that marks it. */
export function classify(command) {
  for (const rule of RULES) if (rule.test.test(command)) return { kind: rule.kind, reason: rule.reason };
  return { kind: 'run', reason: '' };
}

/** Removes a trailing comment (a `#` after whitespace, outside quotes) and a trailing `&`. */
export function runnable(line) {
  let quote = null;
  let end = line.length;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote !== null) {
      if (c === quote) quote = null;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '#' && i > 0 && /\s/.test(line[i - 1])) {
      end = i;
      break;
    }
  }
  return line.slice(0, end).trim().replace(/\s*&$/, '');
}

/**
 * Shell examples of one Markdown file, in order: lines of 4-space indented blocks and of
 * ```sh fences that start like a command; `\`-continued lines joined.
 */
export function examplesOf(text) {
  const out = [];
  let fence = null;
  let pending = '';
  for (const raw of text.split('\n')) {
    if (/^```/.test(raw)) {
      fence = fence === null ? raw.slice(3).trim() : null;
      continue;
    }
    let line;
    if (fence !== null) {
      if (fence !== 'sh' && fence !== 'bash') continue;
      line = raw;
    } else if (/^ {4}\S/.test(raw) || (pending !== '' && /^ {4,}/.test(raw))) {
      line = raw.slice(4);
    } else {
      pending = '';
      continue;
    }
    const trimmed = line.trim();
    if (pending !== '') {
      pending += ` ${trimmed}`;
    } else if (COMMAND.test(trimmed)) {
      pending = trimmed;
    } else continue;
    if (/\\$/.test(pending)) {
      pending = pending.replace(/\s*\\$/, '');
      continue;
    }
    out.push(runnable(pending));
    pending = '';
  }
  return out;
}

/** Every example of README.md and docs/*.md, with its file and kind. */
export function docExamples(root) {
  const files = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
  return files.flatMap((file) => examplesOf(readFileSync(join(root, file), 'utf8')).map((command) => ({ file, command, ...classify(command) })));
}
