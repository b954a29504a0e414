import fc from 'fast-check';

/**
 * Generators of raw Kafka messages for fuzzing Seismo (issue 12): well-formed readings mixed
 * with everything a real fleet, a broken producer or an attacker sends. Each generated message
 * says what must become of it:
 *  - `accept`: a well-formed reading of a "good" entity, in time order: it must be accepted;
 *  - `poison`: it cannot be a reading: it must be dead-lettered;
 *  - `either`: legitimate either way (odd but maybe valid): it must be one of the two, once.
 * Good entities only ever receive readings in time order (odd messages that are decoded as
 * readings go to entities of their own), so that `accept` holds whatever surrounds them.
 */

export type Expect = 'accept' | 'poison' | 'either';

export interface FuzzMessage {
  key: string | Uint8Array | null;
  value: string | Uint8Array | null;
  expect: Expect;
  /** Which generator made it: printed with failures. */
  kind: string;
}

export interface FuzzShape {
  /** The model's features, in any order. */
  features: string[];
  /** Typical values for each feature (good readings jitter around them). */
  typical: Record<string, number>;
  /** Entities that receive only well-formed, time-ordered readings. */
  goodEntities: string[];
  /** input.maxMessageBytes of the pipeline under test. */
  maxMessageBytes: number;
  /** Timestamp of the first good reading (epoch ms); good readings are 1 s apart per entity. */
  baseTs: number;
}

/** A message before its good-entity timestamps are assigned (they depend on the order). */
type Draft = { good: number; jitter: number[]; extreme?: number[]; literal?: boolean } | FuzzMessage;

/** Numbers at the edges of float64 and of what sensors send as sentinels. */
export const EXTREME_NUMBERS = [1e308, -1e308, Number.MAX_VALUE, -Number.MAX_VALUE, 5e-324, -5e-324, -0, 0, 1e30, -1e30, 3.4028235e38, 1e21, 1e-300, 2 ** 53, -(2 ** 53) - 2, 65535, -32768];

/** Timestamps outside, at and inside the Date range, as numbers and as text. */
export const ODD_TIMESTAMPS: (number | string)[] = [
  -1, 0, -0, 1, 1.5, 5e-324, -8.64e15, -8.64e15 - 1, 8.64e15, 8.64e15 + 1, 1e17, 1e308, -1e308, 253402300799999, 253402300800000,
  '2026-01-01T00:00:00Z', '2026-01-01T00:00:00.123456789Z', '2026-01-01 00:00', '2026-01-01 00:00:00', '2026-02-30T00:00:00Z', '2026-13-01T00:00:00Z',
  '+275760-09-13T00:00:00.000Z', '+275760-09-13T00:00:00.001Z', '-271821-04-20T00:00:00.000Z', '-271821-04-19T23:59:59.999Z', '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:59.999Z', '1970-01-01T00:00:00Z', '10000000000000000', '1e17', ' 1700000000000 ', '-1700000000000', '', ' ', 'NaN', 'Infinity',
  '-Infinity', 'yesterday', '2026-01-01T00:00:00+99:99', '\u0000', '٢٠٢٦-٠١-٠١',
];

/** Entity names no one plans for: controls, bidi overrides, lone surrogates, huge. */
const ODD_NAMES = ['\u0000', 'a\u0000b', '\u202eevil', 'مضخة-١', '\ud800', 'x\udfff', '\ud83d\ude00', '\uffff', '\ufeffbom', ' ', '../../etc', '%s%n', '"', '\\', '\n'];

const feature = (shape: FuzzShape) => fc.constantFrom(...shape.features);

/** A reading object of an odd entity, with all features at typical values (before mutation). */
const oddReading = (shape: FuzzShape, entity: string, ts: unknown = shape.baseTs) => ({ entity, ts, values: { ...shape.typical } as Record<string, unknown> });

const msg = (key: FuzzMessage['key'], value: FuzzMessage['value'], expect: Expect, kind: string): FuzzMessage => ({ key, value, expect, kind });

/** Replaces one feature's value in the JSON text of a reading with raw text (NaN literals, 1e999, -0). */
function withLiteral(shape: FuzzShape, entity: string, name: string, literal: string): string {
  const marker = '"__fuzz_literal__"';
  const body = oddReading(shape, entity);
  body.values[name] = '__fuzz_literal__';
  return JSON.stringify(body).replace(marker, literal);
}

function odd(shape: FuzzShape): fc.Arbitrary<FuzzMessage> {
  const oddEntity = fc.oneof(fc.constantFrom(...ODD_NAMES), fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }), fc.string({ minLength: 1, maxLength: 8 }).map((s) => `odd-${s}`));
  const json = (e: string, body: unknown, expect: Expect, kind: string) => msg(e, JSON.stringify(body), expect, kind);
  const limit = shape.maxMessageBytes;
  const { features } = shape;
  return fc.oneof(
    // Numbers in JSON text that JSON.parse refuses or turns into Infinity, or that are strings.
    fc.tuple(feature(shape), fc.constantFrom('NaN', 'Infinity', '-Infinity', 'nan', 'inf', '0x10', '+1', '.5', '1.', '01', '"1.5"', '"NaN"', '"Infinity"', 'true', '{}', '[]', '[1]')).map(([f, lit]) =>
      msg('lit', withLiteral(shape, 'lit', f, lit), 'poison', `literal ${lit}`),
    ),
    // Legal JSON numbers at the edge: -0 and 1e-400 parse to finite numbers, 1e999 to Infinity
    // (non_finite_value, or forward-filled under window.missing: forward-fill).
    fc.tuple(feature(shape), fc.constantFrom('-0', '1e999', '-1e999', '1e-400', '-1e-400', '1E+2', '0.0000000000000000000000001', '123456789012345678901234567890')).map(([f, lit]) =>
      msg('edge', withLiteral(shape, 'edge', f, lit), 'either', `edge number ${lit}`),
    ),
    // Odd timestamps on an entity of their own.
    fc.tuple(fc.constantFrom(...ODD_TIMESTAMPS), fc.nat(9)).map(([ts, i]) => json(`ts${i}`, oddReading(shape, `ts${i}`, ts), 'either', `timestamp ${JSON.stringify(ts)}`)),
    fc.constantFrom(null, true, {}, [], [1700000000000], { $date: 1 }).map((ts) => json('tsbad', oddReading(shape, 'tsbad', ts), 'poison', `timestamp of type ${JSON.stringify(ts)}`)),
    fc.double().map((ts) => json('tsd', oddReading(shape, 'tsd', ts), 'either', `timestamp double ${ts}`)),
    // Any double (finite ones: JSON.stringify would write null for the others) as a feature value.
    fc.tuple(feature(shape), fc.double({ noNaN: true, noDefaultInfinity: true })).map(([f, v]) => {
      const body = oddReading(shape, 'dbl', shape.baseTs);
      body.values[f] = v;
      return json('dbl', body, 'either', `value ${v}`);
    }),
    // Sizes: empty, tombstone, exactly at the limit (whitespace padding keeps it valid), one byte over.
    fc.constantFrom(msg('empty', '', 'poison', 'empty value'), msg('tomb', null, 'poison', 'tombstone'), msg('ws', '   ', 'poison', 'whitespace value')),
    fc.constantFrom(0, 1).map((over) => {
      const body = JSON.stringify(oddReading(shape, 'size', shape.baseTs));
      const text = body + ' '.repeat(limit - Buffer.byteLength(body) + over);
      return msg('size', text, over ? 'poison' : 'either', over ? 'one byte over maxMessageBytes' : 'exactly maxMessageBytes');
    }),
    // Unicode and huge entity names (key = the name, as producers do).
    oddEntity.map((e) => json(e, oddReading(shape, e), 'either', `entity ${JSON.stringify(e).slice(0, 40)}`)),
    fc.constantFrom(1000, Math.floor(limit / 2), limit + 10).map((n) => {
      const e = 'E'.repeat(n);
      return json(e, oddReading(shape, e), n > limit ? 'poison' : 'either', `entity of ${n} characters`);
    }),
    // Unicode feature names and values.
    oddEntity.map((name) => {
      const body = oddReading(shape, 'uf');
      body.values[name] = 1;
      return json('uf', body, 'either', `feature name ${JSON.stringify(name).slice(0, 40)}`);
    }),
    // Deep nesting: in values, in the entity, and as the whole message.
    fc.constantFrom(2, 100, 5000, 20000).map((depth) => {
      const nested = `${'['.repeat(depth)}1${']'.repeat(depth)}`;
      return msg('deep', withLiteral(shape, 'deep', features[0] as string, nested), 'poison', `value nested ${depth} deep`);
    }),
    fc.constantFrom(100, 30000).map((depth) => msg('deep', `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`, 'poison', `object nested ${depth} deep`)),
    fc.constantFrom(30000).map((depth) => msg('deep', `${'['.repeat(depth)}${']'.repeat(depth)}`, 'poison', `array nested ${depth} deep`)),
    // Duplicate keys: JSON.parse keeps the last one; either way it must end somewhere once.
    fc.constantFrom(
      `{"entity":"dup","entity":"dup2","ts":1,"ts":2,"values":{}}`,
      `{"entity":"dup","ts":${shape.baseTs},"values":${JSON.stringify(shape.typical)},"values":{"${features[0]}":"x"}}`,
      `{"entity":"dup","ts":${shape.baseTs},"values":{"${features[0]}":1,"${features[0]}":2}}`,
    ).map((text) => msg('dup', text, 'either', 'duplicate keys')),
    // The key names another entity than the body: state would be split between partitions.
    fc.constantFrom(...shape.goodEntities).map((e) => json(`not-${e}`, oddReading(shape, e), 'poison', 'key/entity mismatch')),
    // Arrays and scalars where objects are expected.
    fc.constantFrom<[unknown, string]>(
      [[oddReading(shape, 'arr')], 'message is an array'],
      [{ ...oddReading(shape, 'arr'), values: Object.values(shape.typical) }, 'values is an array'],
      [{ ...oddReading(shape, 'arr'), values: null }, 'values is null'],
      [{ ...oddReading(shape, 'arr'), values: 'a=1' }, 'values is a string'],
      [{ ...oddReading(shape, 'arr'), entity: ['arr'] }, 'entity is an array'],
      [{ ...oddReading(shape, 'arr'), entity: 7 }, 'entity is a number'],
      [{ ...oddReading(shape, 'arr'), values: { [features[0] as string]: { v: 1 } } }, 'a value is an object'],
      [{ ...oddReading(shape, 'arr'), values: { [features[0] as string]: '1.5' } }, 'a value is a numeric string'],
      ['{"entity":"arr"}', 'message is a JSON string'],
      [42, 'message is a number'],
      [null, 'message is null'],
    ).map(([body, kind]) => msg('arr', JSON.stringify(body), 'poison', kind)),
    // Missing and extra features, no entity in the body (the key stands in), no timestamp.
    feature(shape).map((f) => {
      const body = oddReading(shape, 'miss');
      delete body.values[f];
      return json('miss', body, 'either', `missing feature ${f}`);
    }),
    fc.constant(json('extra', { ...oddReading(shape, 'extra'), values: { ...shape.typical, zz_unknown: 1 } }, 'either', 'unknown feature')),
    fc.constant(msg('nobody', JSON.stringify({ ts: shape.baseTs, values: shape.typical }), 'either', 'no entity in the body')),
    fc.constant(msg('nots', JSON.stringify({ entity: 'nots', values: shape.typical }), 'poison', 'no timestamp')),
    // Keys: none, empty, binary (invalid UTF-8).
    fc.constantFrom<[FuzzMessage['key'], string]>([null, 'null key'], ['', 'empty key'], [Uint8Array.of(0xff, 0xfe, 0x80), 'binary key']).map(([key, kind]) =>
      msg(key, JSON.stringify(oddReading(shape, 'keyless')), 'poison', kind),
    ),
    // Binary values (invalid UTF-8 mostly) and random JSON.
    fc.uint8Array({ maxLength: 300 }).map((bytes) => msg('bin', bytes, 'either', 'random bytes')),
    fc.constantFrom(Uint8Array.of(0xc3, 0x28), Buffer.concat([Buffer.from('{"entity":"bin","ts":1,"values":{"'), Buffer.of(0xed, 0xa0, 0x80), Buffer.from('":1}}')])).map((bytes) => msg('bin', bytes, 'either', 'invalid UTF-8 in JSON')),
    fc.json({ maxDepth: 3 }).map((text) => msg('json', text, 'either', 'random JSON')),
  );
}

function draft(shape: FuzzShape): fc.Arbitrary<Draft> {
  const good = fc.record({ good: fc.nat(shape.goodEntities.length - 1), jitter: fc.array(fc.integer({ min: -5, max: 5 }), { minLength: shape.features.length, maxLength: shape.features.length }) });
  // An extreme but finite value on a good entity, in its time order: a PLC sentinel. Accepted (a flag at worst).
  const extreme = fc.record({
    good: fc.nat(shape.goodEntities.length - 1),
    jitter: fc.constant(shape.features.map(() => 0)),
    extreme: fc.array(fc.constantFrom(...EXTREME_NUMBERS), { minLength: shape.features.length, maxLength: shape.features.length }),
    literal: fc.boolean(),
  });
  return fc.oneof({ arbitrary: good, weight: 6 }, { arbitrary: extreme, weight: 1 }, { arbitrary: odd(shape), weight: 5 });
}

/** Assigns good readings their per-entity, strictly increasing timestamps. */
function materialize(shape: FuzzShape, drafts: Draft[], next: number[]): FuzzMessage[] {
  return drafts.map((d) => {
    if (!('good' in d)) return d;
    const entity = shape.goodEntities[d.good] as string;
    const seq = (next[d.good] = (next[d.good] ?? 0) + 1);
    const values: Record<string, number> = {};
    shape.features.forEach((f, i) => (values[f] = d.extreme?.[i] ?? (shape.typical[f] as number) * (1 + 0.001 * (d.jitter[i] ?? 0))));
    const ts = shape.baseTs + seq * 1000;
    let text = JSON.stringify({ entity, ts, values });
    // -0 written as "-0" (JSON.stringify writes 0), the extremes written with an exponent.
    if (d.literal && d.extreme) {
      const literal = (v: number) => (Object.is(v, -0) ? '-0' : v.toExponential());
      text = `{"entity":${JSON.stringify(entity)},"ts":${ts},"values":{${shape.features.map((f, i) => `${JSON.stringify(f)}:${literal(d.extreme?.[i] ?? 0)}`).join(',')}}}`;
    }
    return msg(entity, text, 'accept', d.extreme ? `extreme values ${JSON.stringify(d.extreme)}` : 'good reading');
  });
}

/** Chunks of messages; good entities' timestamps keep increasing across the chunks. */
export function fuzzChunks(shape: FuzzShape, opts: { maxChunks: number; maxPerChunk: number }): fc.Arbitrary<FuzzMessage[][]> {
  return fc.array(fc.array(draft(shape), { minLength: 0, maxLength: opts.maxPerChunk }), { minLength: 1, maxLength: opts.maxChunks }).map((chunks) => {
    const next: number[] = [];
    // A lane's event clock starts at its first reading: the stream starts with a sane one, as a
    // partition with history does (a lane whose very first reading is decades off loses its next
    // reading to the clock-jump guard of window.maxClockJumpSeconds, by design).
    const first: Draft = { good: 0, jitter: shape.features.map(() => 0) };
    return chunks.map((c, i) => materialize(shape, i === 0 ? [first, ...c] : c, next));
  });
}

/** A fixed, reproducible stream of n messages (for the broker fuzz). */
export function fuzzStream(shape: FuzzShape, n: number, seed: number): FuzzMessage[] {
  const drafts = fc.sample(draft(shape), { numRuns: n, seed });
  // Every good entity's first reading leads the stream (each partition's clock starts sane; see fuzzChunks).
  const firsts: Draft[] = shape.goodEntities.map((_, good) => ({ good, jitter: shape.features.map(() => 0) }));
  return materialize(shape, [...firsts, ...drafts.slice(firsts.length)], []);
}

export const bytesOf = (v: string | Uint8Array | null): Buffer | null => (v === null ? null : typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v));

/** Shortened description of a message for failure output. */
export function describeMessage(m: FuzzMessage): string {
  const show = (v: FuzzMessage['value']) => (v === null ? 'null' : typeof v === 'string' ? JSON.stringify(v.length > 160 ? `${v.slice(0, 160)}...(${v.length} chars)` : v) : `bytes[${v.length}] ${Buffer.from(v.subarray(0, 40)).toString('hex')}`);
  return `${m.kind} (expect ${m.expect}) key=${show(m.key)} value=${show(m.value)}`;
}
