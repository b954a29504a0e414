/**
 * Timestamps the user describes instead of Seismo guessing: `input.timestampFormat` (tokens
 * below) and `input.timezone` (the zone of timestamps that carry none). No imports, so the
 * config schema can validate both with the very code that applies them.
 *
 * Tokens: YYYY (4-digit year), YY (2-digit year: 00-49 -> 2000s, 50-99 -> 1900s), M/MM (month),
 * D/DD (day), H/HH (hour 0-23), m/mm (minute), s/ss (second), SSS (milliseconds); any other
 * character must appear as written. E.g. `M/D/YY H:mm` reads `5/1/99 0:00`.
 */

type Field = 'year' | 'year2' | 'month' | 'day' | 'hour' | 'minute' | 'second' | 'ms';

const TOKENS: [string, Field, string][] = [
  ['YYYY', 'year', '(\\d{4})'],
  ['SSS', 'ms', '(\\d{3})'],
  ['YY', 'year2', '(\\d{2})'],
  ['MM', 'month', '(\\d{2})'],
  ['DD', 'day', '(\\d{2})'],
  ['HH', 'hour', '(\\d{2})'],
  ['mm', 'minute', '(\\d{2})'],
  ['ss', 'second', '(\\d{2})'],
  ['M', 'month', '(\\d{1,2})'],
  ['D', 'day', '(\\d{1,2})'],
  ['H', 'hour', '(\\d{1,2})'],
  ['m', 'minute', '(\\d{1,2})'],
  ['s', 'second', '(\\d{1,2})'],
];

interface Compiled {
  regex: RegExp;
  fields: Field[];
}

function compile(format: string): Compiled {
  let pattern = '';
  const fields: Field[] = [];
  for (let i = 0; i < format.length; ) {
    const token = TOKENS.find(([t]) => format.startsWith(t, i));
    if (token) {
      pattern += token[2];
      fields.push(token[1]);
      i += token[0].length;
    } else {
      pattern += (format[i] as string).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      i++;
    }
  }
  return { regex: new RegExp(`^${pattern}$`), fields };
}

/** Why a timestampFormat cannot work, or undefined when it can. */
export function timestampFormatProblem(format: string): string | undefined {
  const { fields } = compile(format);
  const has = (f: Field) => fields.includes(f);
  const missing = [!(has('year') || has('year2')) && 'a year (YYYY or YY)', !has('month') && 'a month (M or MM)', !has('day') && 'a day (D or DD)'].filter(Boolean);
  if (missing.length > 0) return `"${format}" has no ${missing.join(', ')}`;
  const twice = fields.find((f, i) => fields.indexOf(f) !== i);
  if (twice !== undefined) return `"${format}" gives the ${twice} twice`;
  return undefined;
}

/** Why a timezone cannot be used, or undefined: `UTC`, a fixed offset `+02:00`, or an IANA name. */
export function timezoneProblem(zone: string): string | undefined {
  if (fixedOffsetMs(zone) !== undefined) return undefined;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return undefined;
  } catch {
    return `unknown time zone "${zone}" (use UTC, an offset such as +02:00, or an IANA name such as Europe/Berlin)`;
  }
}

function fixedOffsetMs(zone: string): number | undefined {
  if (zone === 'UTC' || zone === 'Z') return 0;
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(zone);
  if (!m) return undefined;
  // Real offsets run from -12:00 to +14:00; "+25:00" is a typo, not a time zone.
  if (Number(m[2]) > 14 || Number(m[3]) > 59) return undefined;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) * 60_000;
}

/** Offset of `zone` from UTC at the instant `utcMs` (ms; positive east of Greenwich). */
function zoneOffsetMs(zone: string, utcMs: number, formatter: Intl.DateTimeFormat): number {
  const parts = Object.fromEntries(formatter.formatToParts(new Date(utcMs)).map((p) => [p.type, p.value]));
  const asUtc = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour) % 24, Number(parts.minute), Number(parts.second));
  return asUtc - Math.floor(utcMs / 1000) * 1000;
}

/**
 * Converts a wall-clock time in `zone` to epoch ms. The zone's offsets half a day either side
 * are the candidates: the one that reproduces the wall-clock time wins; in the ambiguous hour of
 * a DST change both do and the earlier instant wins; a skipped hour (none does) is read with
 * the offset before the change, i.e. moved forward (02:30 -> 03:30).
 */
export function wallClockToUtc(zone: string, y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): number {
  const guess = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  const fixed = fixedOffsetMs(zone);
  if (fixed !== undefined) return guess - fixed;
  const formatter = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
  const before = zoneOffsetMs(zone, guess - 12 * 3600_000, formatter);
  const after = zoneOffsetMs(zone, guess + 12 * 3600_000, formatter);
  const fits = [before, after].map((o) => guess - o).filter((t) => guess - zoneOffsetMs(zone, t, formatter) === t);
  return fits.length > 0 ? Math.min(...fits) : guess - before;
}

/**
 * Whether a zone-less ISO wall-clock time exists, by the rules the UTC branch applies
 * (`parseTimestamp`): Date.UTC would roll 2026-02-30 into March and 10:75 into 11:15, so a typo
 * would become a valid-looking, out-of-order time instead of an invalid one. As there, 24:00:00
 * (ISO 8601's end of day) is the next midnight and there is no leap second (:60).
 */
function realWallClock(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): boolean {
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return false;
  if (h === 24) return mi === 0 && s === 0 && ms === 0;
  return h <= 23 && mi <= 59 && s <= 59;
}

// Gregorian, by arithmetic: Date.UTC reads years 0-99 as 1900-1999.
function daysInMonth(y: number, mo: number): number {
  if (mo === 2) return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(mo) ? 30 : 31;
}

const EPOCH_OR_ISO = /^(-?\d+(\.\d+)?|\d{4}-\d{2}-\d{2}([ T].*)?)$/;
const ZONELESS_ISO = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3})\d*)?)?$/;

/**
 * A parser for one column's timestamps. With a format: exactly that format, read in `zone`.
 * Without: epoch ms or ISO 8601 (`fallback`), a zone-less ISO time read in `zone`. NaN when the
 * text does not fit.
 */
export function timestampParser(format: string | undefined, zone: string, fallback: (text: string) => number): (text: string) => number {
  if (format === undefined) {
    return (text) => {
      const t = text.trim();
      // Only epoch ms and ISO 8601: anything else (5/1/99) would be guessed, in the machine's zone.
      if (!EPOCH_OR_ISO.test(t)) return NaN;
      const m = ZONELESS_ISO.exec(t);
      if (!m || zone === 'UTC') return fallback(t);
      const f = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0)) as [number, number, number, number, number, number];
      const ms = Number((m[7] ?? '0').padEnd(3, '0'));
      if (!realWallClock(...f, ms)) return NaN;
      return wallClockToUtc(zone, ...f, ms);
    };
  }
  const { regex, fields } = compile(format);
  return (text) => {
    const m = regex.exec(text.trim());
    if (!m) return NaN;
    const v: Partial<Record<Field, number>> = {};
    fields.forEach((f, i) => (v[f] = Number(m[i + 1])));
    const year = v.year ?? ((v.year2 as number) < 50 ? 2000 + (v.year2 as number) : 1900 + (v.year2 as number));
    const [mo, d, h, mi, s] = [v.month as number, v.day as number, v.hour ?? 0, v.minute ?? 0, v.second ?? 0];
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return NaN;
    const t = wallClockToUtc(zone, year, mo, d, h, mi, s, v.ms ?? 0);
    // Reject dates that do not exist (31 April) instead of rolling them over.
    return new Date(Date.UTC(year, mo - 1, d)).getUTCDate() === d ? t : NaN;
  };
}
