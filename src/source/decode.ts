import type { PoisonRecord, Position, Reading } from '../pipeline/types.js';

export type Decoded = { ok: true; reading: Reading } | { ok: false; poison: PoisonRecord };

const poison = (reason: PoisonRecord['reason'], detail: string, position: Position, raw: string): Decoded => ({
  ok: false,
  poison: { reason, detail, position, raw },
});

/**
 * The range a reading's time may have: 1970-01-01 (epoch ms are never negative for sensor data;
 * a negative value is a unit or parsing mistake) to the end of year 9999 (the last time with a
 * four-digit ISO year). Narrower, configurable bounds against the clocks are the windower's.
 */
export const MIN_TIMESTAMP_MS = 0;
export const MAX_TIMESTAMP_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

const DECIMAL_EPOCH = /^\d+(\.\d+)?$/;
// Date, optional time (a zone-less one is UTC), optional zone: nothing of Date.parse's lenient
// legacy formats, which read "foo 1" as 2001-01-01.
const ISO_8601 = /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * Parses an ISO 8601 timestamp (a zone-less "YYYY-MM-DD HH:MM:SS" is read as UTC) or decimal
 * epoch milliseconds. NaN for anything else, and for times outside MIN..MAX_TIMESTAMP_MS.
 */
export function parseTimestamp(text: string | number): number {
  return inTimestampRange(typeof text === 'number' ? text : parseTimestampText(text.trim()));
}

/** `ms` when it is a time a reading may have (MIN..MAX_TIMESTAMP_MS), else NaN. */
export function inTimestampRange(ms: number): number {
  return Number.isFinite(ms) && ms >= MIN_TIMESTAMP_MS && ms <= MAX_TIMESTAMP_MS ? ms : NaN;
}

function parseTimestampText(t: string): number {
  if (DECIMAL_EPOCH.test(t)) return Number(t);
  const m = ISO_8601.exec(t);
  if (m === null) return NaN;
  const [, date, time, zone] = m as unknown as [string, string, string | undefined, string | undefined];
  if (!realDate(date)) return NaN;
  if (time === undefined) return Date.parse(`${date}T00:00:00Z`);
  // Date.parse takes at most milliseconds; finer digits are cut, not rounded.
  const clipped = time.replace(/(\.\d{3})\d+$/, '$1');
  const z = zone === undefined || zone.toUpperCase() === 'Z' ? 'Z' : zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone;
  return Date.parse(`${date}T${clipped}${z}`);
}

/** Date.parse rolls 2020-02-30 over into March; a calendar date that does not exist is an error. */
function realDate(date: string): boolean {
  const [y, mo, d] = date.split('-').map(Number) as [number, number, number];
  const probe = new Date(Date.UTC(y, mo - 1, d));
  return probe.getUTCFullYear() === y && probe.getUTCMonth() === mo - 1 && probe.getUTCDate() === d;
}

/** Why a timestamp did not parse, for a poison record's detail. */
export function timestampProblem(text: string | number): string {
  return `"ts" ${JSON.stringify(text)} is not ISO 8601 or decimal epoch milliseconds between 1970-01-01 and 9999-12-31`;
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
  if (!Number.isFinite(ts)) return poison('invalid_timestamp', timestampProblem(msg.ts), position, raw);
  if (typeof msg.values !== 'object' || msg.values === null || Array.isArray(msg.values)) return poison('invalid_shape', '"values" must be an object of numbers', position, raw);
  const values: Record<string, number> = {};
  for (const [name, v] of Object.entries(msg.values as Record<string, unknown>)) {
    if (v === null) continue; // an explicit null is a missing value: the windower's policy decides
    else if (typeof v === 'number') values[name] = v;
    else return poison('invalid_shape', `"values.${name}" must be a number or null, got ${typeof v}`, position, raw);
  }
  return { ok: true, reading: { entity, ts, values } };
}
