import type { PoisonRecord, Position, Reading } from '../pipeline/types.js';

export type Decoded = { ok: true; reading: Reading } | { ok: false; poison: PoisonRecord };

const poison = (reason: PoisonRecord['reason'], detail: string, position: Position, raw: string): Decoded => ({
  ok: false,
  poison: { reason, detail, position, raw },
});

/** Parses ISO 8601 (a zone-less "YYYY-MM-DD HH:MM:SS" is read as UTC) or epoch milliseconds. */
export function parseTimestamp(text: string | number): number {
  if (typeof text === 'number') return Number.isFinite(text) ? text : NaN;
  const t = text.trim();
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  const iso = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(t) ? `${t.replace(' ', 'T')}Z` : t;
  return Date.parse(iso);
}

/**
 * Decodes one DESIGN.md reading message: {"entity", "ts", "values": {name: number|null}}.
 * A null value means "missing": it is left out, so the windower's missing-value policy decides.
 * `fallbackEntity` is the Kafka key, used when the body has no entity.
 */
export function decodeReading(raw: string, position: Position, maxBytes: number, fallbackEntity?: string): Decoded {
  if (Buffer.byteLength(raw, 'utf8') > maxBytes) return poison('oversized', `message is ${Buffer.byteLength(raw, 'utf8')} bytes, limit ${maxBytes}`, position, raw.slice(0, 256));
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch (err) {
    return poison('invalid_json', (err as Error).message, position, raw);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return poison('invalid_shape', 'expected a JSON object', position, raw);
  const msg = body as Record<string, unknown>;
  const entity = msg.entity ?? fallbackEntity;
  if (typeof entity !== 'string' || entity.length === 0) return poison('invalid_shape', '"entity" must be a non-empty string', position, raw);
  // The key decides the partition, and a partition owns its entities' state: they must agree.
  if (fallbackEntity !== undefined && fallbackEntity !== '' && entity !== fallbackEntity) return poison('invalid_shape', `"entity" ${JSON.stringify(entity)} does not match the message key ${JSON.stringify(fallbackEntity)}`, position, raw);
  if (typeof msg.ts !== 'string' && typeof msg.ts !== 'number') return poison('invalid_timestamp', '"ts" must be an ISO 8601 string or epoch milliseconds', position, raw);
  const ts = parseTimestamp(msg.ts);
  if (!Number.isFinite(ts)) return poison('invalid_timestamp', `cannot parse "ts": ${JSON.stringify(msg.ts)}`, position, raw);
  if (typeof msg.values !== 'object' || msg.values === null || Array.isArray(msg.values)) return poison('invalid_shape', '"values" must be an object of numbers', position, raw);
  const values: Record<string, number> = {};
  for (const [name, v] of Object.entries(msg.values as Record<string, unknown>)) {
    if (v === null) continue; // an explicit null is a missing value: the windower's policy decides
    else if (typeof v === 'number') values[name] = v;
    else return poison('invalid_shape', `"values.${name}" must be a number or null, got ${typeof v}`, position, raw);
  }
  return { ok: true, reading: { entity, ts, values } };
}
