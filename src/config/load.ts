import { readFileSync } from 'node:fs';
import { isMap, isScalar, LineCounter, parseDocument, type Document, type Node as YamlNode, type Pair } from 'yaml';
import type { ZodIssue } from 'zod';
import { SeismoError } from '../errors.js';
import { crossFieldProblems } from './rules.js';
import { configSchema, envName, listConfigFields, type SeismoConfig } from './schema.js';
import { suggestKey } from './suggest.js';

export interface ConfigProblem {
  /** `file:line:column`, or `env SEISMO_X` for an override. */
  where: string;
  /** Dotted field path, e.g. `model.encoderUnits[1]`. */
  path: string;
  message: string;
}

export function formatProblems(problems: ConfigProblem[]): string {
  return problems.map((p) => (p.path === '' && p.message.startsWith('YAML: ') ? `${p.where}: ${p.message}` : `${p.where}: ${p.path || '(root)'}: ${p.message}`)).join('\n');
}

function dotted(path: (string | number)[]): string {
  return path.reduce<string>((acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part), '');
}

/**
 * Reads a YAML config, applies SEISMO_* overrides from `env`, validates (fields, then the rules
 * across fields), and either returns the config or throws listing every problem at once with
 * its position: SEISMO_CONFIG_UNREADABLE when the YAML itself is broken (with the schema
 * problems of what could still be read), SEISMO_CONFIG_INVALID otherwise.
 */
export function loadConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): SeismoConfig {
  let text = '';
  if (file !== undefined) {
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new SeismoError('SEISMO_CONFIG_UNREADABLE', `cannot read config ${file}: ${(err as Error).message}`, { cause: err });
    }
  }
  return parseConfig(text, file ?? '(defaults)', env);
}

export function parseConfig(text: string, fileName: string, env: NodeJS.ProcessEnv = {}): SeismoConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number | undefined): string => {
    if (offset === undefined) return `${fileName}:1:1`;
    const { line, col } = lineCounter.linePos(offset);
    return `${fileName}:${line}:${col}`;
  };

  const syntax = doc.errors.map((e) => ({ where: at(e.pos[0]), path: '', message: `YAML: ${e.message.split('\n')[0] ?? e.message}` }));
  // The yaml parser recovers from most syntax errors with a partial document: validate what it
  // could read too, so one stray bracket does not hide every other problem of the file.
  let raw: unknown = {};
  try {
    raw = doc.toJS() ?? {};
  } catch (err) {
    // Not a silent default config: e.g. the yaml library's alias limit (a "billion laughs"
    // document) throws here, and every value of the file would otherwise be dropped unseen.
    syntax.push({ where: at(0), path: '', message: `YAML: the document cannot be read as data: ${(err as Error).message.split('\n')[0]}` });
  }
  const { value, problems: envProblems, fromEnv } = applyEnvOverrides(raw, env);
  const result = configSchema.safeParse(value);
  const problems = [...envProblems];
  if (!result.success) {
    for (const issue of result.error.issues) problems.push(...describeIssue(issue, doc, at, fromEnv));
  } else {
    for (const rule of crossFieldProblems(result.data as SeismoConfig)) {
      problems.push(...describeIssue({ code: 'custom', path: rule.path, message: rule.message }, doc, at, fromEnv));
    }
  }
  if (syntax.length > 0) {
    const all = [...syntax, ...problems];
    throw new SeismoError('SEISMO_CONFIG_UNREADABLE', `config is not valid YAML (${all.length} problem${all.length > 1 ? 's' : ''}${problems.length > 0 ? ', the ones after the YAML errors found in what could still be read' : ''}):\n${formatProblems(all)}`);
  }
  if (problems.length > 0) {
    throw new SeismoError('SEISMO_CONFIG_INVALID', `invalid config (${problems.length} problem${problems.length > 1 ? 's' : ''}):\n${formatProblems(problems)}`);
  }
  return result.data as SeismoConfig;
}

function describeIssue(issue: ZodIssue, doc: Document, at: (offset: number | undefined) => string, fromEnv: Map<string, string>): ConfigProblem[] {
  if (issue.code === 'unrecognized_keys') {
    // One problem per key, pointing at the key itself (not its parent object), with the key it
    // probably meant.
    const parent = doc.getIn(issue.path, true) as YamlNode | undefined;
    return issue.keys.map((key) => {
      const pair = isMap(parent) ? (parent.items as Pair[]).find((p) => isScalar(p.key) && p.key.value === key) : undefined;
      const offset = pair && isScalar(pair.key) ? pair.key.range?.[0] : parent?.range?.[0];
      const suggestion = suggestKey(issue.path, key);
      return { where: at(offset), path: dotted([...issue.path, key]), message: `unknown key "${key}"${suggestion ? ` (did you mean ${suggestion}?)` : ''}` };
    });
  }
  return [describeAt(issue, doc, at, fromEnv)];
}

function describeAt(issue: ZodIssue, doc: Document, at: (offset: number | undefined) => string, fromEnv: Map<string, string>): ConfigProblem {
  const envVar = fromEnv.get(dotted(issue.path.filter((p): p is string => typeof p === 'string')));
  if (envVar !== undefined) return { where: `env ${envVar}`, path: dotted(issue.path), message: issue.message };
  // Walk up to the nearest node that exists in the file (a missing key points at its parent).
  for (let n = issue.path.length; n >= 0; n--) {
    const node = doc.getIn(issue.path.slice(0, n), true) as YamlNode | undefined;
    if (node?.range) return { where: at(node.range[0]), path: dotted(issue.path), message: issue.message };
  }
  return { where: at(undefined), path: dotted(issue.path), message: issue.message };
}

/**
 * Environment overrides win over the file, for deployment. Names come from the schema
 * (envName), so every key can be overridden and no list has to be kept in sync by hand.
 */
function applyEnvOverrides(raw: unknown, env: NodeJS.ProcessEnv): { value: unknown; problems: ConfigProblem[]; fromEnv: Map<string, string> } {
  const problems: ConfigProblem[] = [];
  const fromEnv = new Map<string, string>();
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { value: raw, problems, fromEnv };
  const root = structuredClone(raw) as Record<string, unknown>;
  for (const field of listConfigFields()) {
    const name = envName(field.path);
    const text = env[name];
    if (text === undefined) continue;
    let value: unknown = text;
    if (field.kind === 'number') {
      value = Number(text);
      if (text.trim() === '' || !Number.isFinite(value)) {
        problems.push({ where: `env ${name}`, path: field.path.join('.'), message: `expected a number, got "${text}"` });
        continue;
      }
    } else if (field.kind === 'boolean') {
      if (!['true', 'false'].includes(text)) {
        problems.push({ where: `env ${name}`, path: field.path.join('.'), message: `expected true or false, got "${text}"` });
        continue;
      }
      value = text === 'true';
    } else if (field.kind === 'array') {
      const items = text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
      value = items.map((s) => (/^-?\d+(\.\d+)?$/.test(s) && Array.isArray(field.defaultValue) && typeof field.defaultValue[0] === 'number' ? Number(s) : s));
    }
    let obj = root;
    for (const key of field.path.slice(0, -1)) {
      const next = obj[key];
      if (typeof next !== 'object' || next === null || Array.isArray(next)) obj[key] = {};
      obj = obj[key] as Record<string, unknown>;
    }
    obj[field.path[field.path.length - 1] as string] = value;
    fromEnv.set(field.path.join('.'), name);
  }
  return { value: root, problems, fromEnv };
}
