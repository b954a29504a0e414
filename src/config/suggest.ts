import { z } from 'zod';
import { configSchema, listConfigFields } from './schema.js';

/** Levenshtein distance, case-insensitive (a key typed in the wrong case is one typo, not many). */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const row = [i];
    for (let j = 1; j <= t.length; j++) {
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + (s[i - 1] === t[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[t.length] as number;
}

function unwrap(schema: z.ZodTypeAny): z.ZodTypeAny {
  let inner = schema;
  for (;;) {
    if (inner instanceof z.ZodDefault) inner = inner._def.innerType;
    else if (inner instanceof z.ZodOptional) inner = inner.unwrap();
    else if (inner instanceof z.ZodEffects) inner = inner.innerType();
    else return inner;
  }
}

/** The keys the schema allows in the object at `path` (empty when there is no object there). */
export function keysAt(path: (string | number)[]): string[] {
  let node: z.ZodTypeAny = configSchema;
  for (const part of path) {
    const inner = unwrap(node);
    if (!(inner instanceof z.ZodObject) || typeof part !== 'string') return [];
    const child = (inner.shape as Record<string, z.ZodTypeAny>)[part];
    if (child === undefined) return [];
    node = child;
  }
  const inner = unwrap(node);
  return inner instanceof z.ZodObject ? Object.keys(inner.shape as Record<string, unknown>) : [];
}

/**
 * What an unknown key probably meant: the nearest allowed key at the same level (close enough
 * to be a typo: two edits, or a third of its letters for long keys, or a prefix such as `maxGap`), else a key of
 * that name elsewhere in the schema (`maxGapSeconds` written at the top level means
 * `window.maxGapSeconds`). Undefined when nothing is close.
 */
export function suggestKey(path: (string | number)[], key: string): string | undefined {
  const here = keysAt(path);
  let best: { name: string; d: number } | undefined;
  for (const name of here) {
    const d = editDistance(key, name);
    if (best === undefined || d < best.d) best = { name, d };
  }
  const lower = key.toLowerCase();
  if (best !== undefined && best.d <= (key.length <= 3 ? 1 : Math.max(2, Math.floor(key.length / 3)))) return best.name;
  const prefixed = here.filter((name) => key.length >= 4 && name.toLowerCase().startsWith(lower));
  if (prefixed.length === 1) return prefixed[0];
  const elsewhere = listConfigFields()
    .map((f) => f.path)
    .filter((p) => editDistance(p[p.length - 1] as string, key) <= Math.max(1, Math.floor(key.length / 4)));
  if (elsewhere.length === 1) return (elsewhere[0] as string[]).join('.');
  return undefined;
}
