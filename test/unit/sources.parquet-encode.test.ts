// The Parquet value encoders and checks against the slow path they stand in for: the converter's
// text through the serializer (encoders) or through classifyValue (checks), value for value, over
// edge cases and seeded random values of every physical shape.

import { serializeValue } from '../../src/chunker/serialize.js';
import { WIRE_TYPES } from '../../src/schema/types.js';
import type { WireType } from '../../src/schema/types.js';
import { classifyValue, conformsTo } from '../../src/schema/values.js';
import { JsonOutput, canFailCheck, createValueCheck, createValueEncoder } from '../../src/sources/parquet-encode.js';
import { createCellConverter } from '../../src/sources/parquet-values.js';
import type { ParquetValueRead } from '../../src/sources/parquet-values.js';
import { createRandom } from '../helpers/seeded-csv.js';

type Outcome = { json: string } | { refused: string } | { failed: string };

function failureOf(err: unknown): Outcome {
  const { name, message, text } = err as { name?: string; message: string; text?: string };
  if (name === 'WireValueError') return { refused: text! };
  if (name === 'ParquetValueError') return { failed: message };
  throw err;
}

/** What batches() and the serializer make of one value. */
function serialized(read: ParquetValueRead, type: WireType, value: unknown): Outcome {
  let text: string | null;
  try {
    text = createCellConverter(read)(value);
  } catch (err) {
    return failureOf(err);
  }
  if (text === null) return { json: 'null' };
  const json = serializeValue(type, text);
  return json === undefined ? { refused: text } : { json };
}

function encoded(read: ParquetValueRead, type: WireType, declared: WireType, value: unknown): Outcome {
  const out = new JsonOutput(8);
  // Something already in the buffer, so offsets other than 0 are exercised.
  out.buf.write('[7,', 0, 'latin1');
  out.pos = 3;
  try {
    out.ensure(6);
    createValueEncoder(read, type, declared)(out, [value], 0);
  } catch (err) {
    return failureOf(err);
  }
  expect(out.buf.toString('latin1', 0, 3)).toBe('[7,');
  return { json: out.buf.toString('utf8', 3, out.pos) };
}

/** What the inference pass over batches() makes of one value: undefined when it fits. */
function inferred(read: ParquetValueRead, type: WireType, value: unknown): Outcome | undefined {
  let text: string | null;
  try {
    text = createCellConverter(read)(value);
  } catch (err) {
    return failureOf(err);
  }
  if (text === null || type === 'STRING') return undefined;
  return conformsTo(type, classifyValue(text)) ? undefined : { refused: text };
}

function checked(read: ParquetValueRead, type: WireType, declared: WireType, value: unknown): Outcome | undefined {
  try {
    const text = createValueCheck(read, type, declared)(value);
    return text === undefined ? undefined : { refused: text };
  } catch (err) {
    return failureOf(err);
  }
}

const random = createRandom(20261122);
const int = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));
const randomBits = (bits: number): bigint => {
  let v = 0n;
  for (let i = 0; i < bits; i += 16) v = (v << 16n) | BigInt(int(0, 0xffff));
  return BigInt.asUintN(bits, v);
};
const repeat = <T>(n: number, make: () => T): T[] => Array.from({ length: n }, make);
const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);

function randomDoubles(n: number): number[] {
  const words = new Uint32Array(2);
  const view = new Float64Array(words.buffer);
  return repeat(n, () => {
    words[0] = int(0, 0xffffffff);
    words[1] = int(0, 0xffffffff);
    return view[0]!;
  });
}

/** Decimals of one to four fraction digits and up to 15 digits in all, with their neighbouring doubles. */
function shortDecimals(n: number): number[] {
  const words = new BigUint64Array(1);
  const view = new Float64Array(words.buffer);
  const step = (x: number, by: bigint): number => {
    view[0] = x;
    words[0] = words[0]! + by;
    return view[0]!;
  };
  return repeat(n, () => {
    const value = ((random() < 0.5 ? -1 : 1) * Math.floor(random() * 10 ** int(1, 15))) / 10 ** int(1, 4);
    return [value, step(value, 1n), step(value, -1n)];
  }).flat();
}

function randomText(): Uint8Array {
  const pool = [0x00, 0x08, 0x09, 0x0a, 0x0c, 0x0d, 0x1f, 0x20, 0x22, 0x2f, 0x5c, 0x41, 0x7f, 0x80, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff];
  return new Uint8Array(repeat(int(0, 40), () => (random() < 0.6 ? int(0x20, 0x7e) : pool[int(0, pool.length - 1)]!)));
}

function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

const INT32_EDGES = [0, 1, -1, 2147483647, -2147483648, 9, 10, 99, 100, 999999999, 1000000000, -1000000000];
const INT64_EDGES = [0n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n - 1n, 2n ** 53n, -(2n ** 53n) + 1n, -(2n ** 53n), 2n ** 31n, -(2n ** 31n) - 1n];
const DAY_EDGES = [-719162, 2932896, -719163, 2932897, 0, -1, 59, 60, 11016, -2147483648, 2147483647, 10957, 2932836];

interface Case {
  title: string;
  read: ParquetValueRead;
  declared: WireType;
  values: unknown[];
}

function timestampValues(unit: 'MILLIS' | 'MICROS' | 'NANOS'): bigint[] {
  const perSecond = { MILLIS: 1000n, MICROS: 1_000_000n, NANOS: 1_000_000_000n }[unit];
  const first = -62135596800n * perSecond;
  const last = 253402300800n * perSecond - 1n;
  return [
    first,
    last,
    first - 1n,
    last + 1n,
    0n,
    -1n,
    1n,
    perSecond,
    -perSecond,
    -perSecond - 1n,
    2n ** 53n,
    -(2n ** 53n),
    2n ** 53n + 1n,
    -(2n ** 53n) - 1n,
    2n ** 63n - 1n,
    -(2n ** 63n),
    ...repeat(400, () => BigInt.asIntN(64, randomBits(64))),
    ...repeat(400, () => BigInt(int(-62135596800, 253402300799)) * perSecond + BigInt(int(0, Number(perSecond) - 1))),
    ...repeat(100, () => BigInt(int(-86400 * 3, 86400 * 3)) * perSecond),
  ];
}

function timeValues(unit: 'MILLIS' | 'MICROS' | 'NANOS'): unknown[] {
  const perSecond = { MILLIS: 1000, MICROS: 1_000_000, NANOS: 1_000_000_000 }[unit];
  const day = 86400 * perSecond;
  const numbers = [0, 1, day - 1, day, -1, perSecond, 3600 * perSecond + 1, ...repeat(300, () => int(0, day - 1)), ...repeat(50, () => int(-day, 2 * day))];
  return unit === 'MILLIS' ? [...numbers, -2147483648, 2147483647] : [...numbers.map(BigInt), 2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n + 7n];
}

const cases: Case[] = [
  { title: 'BOOLEAN', read: { kind: 'boolean' }, declared: 'BOOL', values: [true, false, 1, 'true'] },
  {
    title: 'INT32 as INTEGER',
    read: { kind: 'integer' },
    declared: 'INTEGER',
    values: [...INT32_EDGES, ...repeat(300, () => int(-2147483648, 2147483647)), -0, 1.5, 2147483648, 1e20, 2n ** 40n, 5n],
  },
  {
    title: 'INT64 as BIGINTEGER',
    read: { kind: 'integer' },
    declared: 'BIGINTEGER',
    values: [...INT64_EDGES, ...repeat(300, () => BigInt.asIntN(64, randomBits(64))), ...INT32_EDGES, 2n ** 63n, 2n ** 64n - 1n, 1e20, 2 ** 53],
  },
  {
    title: 'UINT64 as BIGDECIMAL',
    read: { kind: 'integer' },
    declared: 'BIGDECIMAL',
    values: [...INT64_EDGES, 2n ** 64n - 1n, 2n ** 63n, ...repeat(300, () => randomBits(64)), 4294967295, 1e300],
  },
  {
    title: 'DOUBLE',
    read: { kind: 'float', bits: 64 },
    declared: 'DOUBLE',
    values: [
      0, -0, 1, -1, 0.1, 0.5, 1e21, 1e-7, 1e-6, 123456789012345680000, 2 ** 53, 2 ** 53 + 2, -(2 ** 60), 5e-324, -5e-324, 1e-307, 9.99e-308, 1e-308, 2.2250738585072014e-308,
      1.7976931348623157e308, -1.7976931348623157e308, 1e308, 9.999999999999999e307, 1e300, 1e-300, 1.5e-300, 9.5e299, NaN, Infinity, -Infinity, 1234.56, -0.000001,
      0.001, 0.0009999999999999998, 999999999999.999, 1e12 - 0.5, 1e12 + 0.5, 1.005, 2.675, 0.615, 0.1 + 0.2,
      ...randomDoubles(2000),
      ...repeat(300, () => Math.round(random() * 1e9) / 100),
      ...shortDecimals(3000),
      ...repeat(100, () => int(-1e9, 1e9)),
      7n,
    ],
  },
  { title: 'FLOAT', read: { kind: 'float', bits: 32 }, declared: 'DOUBLE', values: [0, -0, 0.1, Math.fround(0.1), 3.4028234663852886e38, 1.401298464324817e-45, NaN, ...randomDoubles(200).map(Math.fround)] },
  ...[0, 2, 10, -3].map((scale) => ({
    title: `DECIMAL scale ${scale}`,
    read: { kind: 'decimal', scale } as ParquetValueRead,
    declared: 'BIGDECIMAL' as WireType,
    values: [
      0, -0, 1, -1, 5, -5, 12345, -12345, 2147483647, -2147483648, 0n, 1n, -1n, 2n ** 53n - 1n, -(2n ** 53n) + 1n, 2n ** 53n, -(2n ** 63n), 10n ** 38n - 1n,
      ...repeat(200, () => BigInt.asIntN(64, randomBits(64)) >> BigInt(int(0, 60))),
      ...repeat(100, () => int(-2147483648, 2147483647)),
      bytes(0x00),
      bytes(0xff, 0xff),
      bytes(0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
      ...repeat(50, () => new Uint8Array(repeat(int(1, 16), () => int(0, 255)))),
      1.5,
    ],
  })),
  {
    title: 'text',
    read: { kind: 'text' },
    declared: 'STRING',
    values: [
      utf8(''),
      utf8('plain'),
      utf8('a"b\\c/d\b\f\n\r\t\u0000\u0001\u001f\u007f end'),
      utf8('ünïcödé ✓ emoji 🎉 and 𝄞'),
      utf8('\ufeffBOM first'),
      utf8('x'.repeat(17)),
      utf8(`${'long ascii '.repeat(20)}"quoted"`),
      utf8(`${'long ascii '.repeat(20)}ü`),
      utf8(Array.from({ length: 128 }, (_, c) => String.fromCharCode(c)).join('')),
      bytes(0xc0, 0x80),
      bytes(0xe0, 0x80, 0x80),
      bytes(0xed, 0xa0, 0x80),
      bytes(0xed, 0x9f, 0xbf),
      bytes(0xf4, 0x90, 0x80, 0x80),
      bytes(0xf4, 0x8f, 0xbf, 0xbf),
      bytes(0xf0, 0x9f, 0x8e),
      bytes(0x61, 0xff),
      bytes(0x22, 0x80),
      'already a string "with" quotes',
      'lone \ud800 surrogate',
      ...repeat(3000, randomText),
      42,
    ],
  },
  { title: 'UUID', read: { kind: 'uuid' }, declared: 'STRING', values: [new Uint8Array(16), new Uint8Array(16).fill(255), new Uint8Array(15)] },
  { title: 'DATE', read: { kind: 'date' }, declared: 'DATE', values: [...DAY_EDGES, ...repeat(500, () => int(-800000, 3000000)), ...repeat(50, () => int(-2147483648, 2147483647)), 1.5, 5n] },
  ...(['MILLIS', 'MICROS', 'NANOS'] as const).map((unit) => ({ title: `TIME(${unit})`, read: { kind: 'time', unit } as ParquetValueRead, declared: 'TIME' as WireType, values: timeValues(unit) })),
  ...(['MILLIS', 'MICROS', 'NANOS'] as const).map((unit) => ({
    title: `TIMESTAMP(${unit})`,
    read: { kind: 'timestamp', unit } as ParquetValueRead,
    declared: 'DATETIME' as WireType,
    values: [...timestampValues(unit), 5],
  })),
  {
    title: 'INT96',
    read: { kind: 'int96' },
    declared: 'DATETIME',
    values: [0n, -62_135_596_800_000_000_000n, -62_135_596_800_000_000_001n, 253402300799999999999n, 253402300800000000000n, ...repeat(100, () => BigInt.asIntN(80, randomBits(80)))],
  },
  { title: 'NULL', read: { kind: 'null' }, declared: 'STRING', values: [0, 'x'] },
];

describe('createValueEncoder', () => {
  it.each(cases.map((c) => [c.title, c] as const))('writes %s values of their own type as the serializer writes their text', (_, { read, declared, values }) => {
    const differences = values
      .map((value) => ({ value, fast: encoded(read, declared, declared, value), slow: serialized(read, declared, value) }))
      .filter(({ fast, slow }) => JSON.stringify(fast) !== JSON.stringify(slow));
    expect(differences).toEqual([]);
  });

  it.each(cases.map((c) => [c.title, c] as const))('writes %s values under every other wire type as the serializer does', (_, { read, declared, values }) => {
    for (const type of WIRE_TYPES) {
      const differences = values
        .slice(0, 120)
        .map((value) => ({ type, value, fast: encoded(read, type, declared, value), slow: serialized(read, type, value) }))
        .filter(({ fast, slow }) => JSON.stringify(fast) !== JSON.stringify(slow));
      expect(differences).toEqual([]);
    }
  });

  it('escapes every ASCII character as JSON.stringify does', () => {
    for (let c = 0; c < 128; c++) {
      const text = `a${String.fromCharCode(c)}b`;
      expect(encoded({ kind: 'text' }, 'STRING', 'STRING', utf8(text))).toEqual({ json: JSON.stringify(text) });
    }
  });

  it('grows the output for a value larger than the buffer', () => {
    const out = new JsonOutput(8);
    const text = 'é"'.repeat(5000);
    createValueEncoder({ kind: 'text' }, 'STRING', 'STRING')(out, [utf8(text)], 0);
    expect(out.buf.toString('utf8', 0, out.pos)).toBe(JSON.stringify(text));
  });

  it('counts NaN and infinite values as it writes them as null', () => {
    let count = 0;
    const out = new JsonOutput(64);
    const encode = createValueEncoder({ kind: 'float', bits: 64 }, 'DOUBLE', 'DOUBLE', () => count++);
    const values = [NaN, 1, null, Infinity, -Infinity];
    for (let row = 0; row < values.length; row++) encode(out, values, row);
    expect(out.buf.toString('latin1', 0, out.pos)).toBe('null1nullnullnull');
    expect(count).toBe(3);
  });
});

describe('createValueCheck', () => {
  it.each(cases.map((c) => [c.title, c] as const))('finds the same %s values bad as the inference pass, under every wire type', (_, { read, declared, values }) => {
    for (const type of WIRE_TYPES) {
      const differences = values
        .map((value) => ({ type, value, fast: checked(read, type, declared, value), slow: inferred(read, type, value) }))
        .filter(({ fast, slow }) => JSON.stringify(fast) !== JSON.stringify(slow));
      expect(differences).toEqual([]);
    }
  });
});

describe('canFailCheck', () => {
  const isInt32 = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31;
  const isInt64 = (v: unknown): boolean => typeof v === 'bigint' && v >= -(2n ** 63n) && v < 2n ** 63n;
  // Values of the shapes the reader hands over for each kind (not the odd shapes above).
  const wellShaped = (c: Case): unknown[] =>
    c.values.filter((v) => {
      switch (c.read.kind) {
        case 'integer':
          if (c.declared === 'INTEGER') return isInt32(v);
          return typeof v === 'bigint' && (c.declared === 'BIGDECIMAL' ? v >= 0n && v < 2n ** 64n : isInt64(v));
        case 'decimal':
          return isInt64(v) || v instanceof Uint8Array || isInt32(v);
        case 'float':
          return typeof v === 'number';
        case 'date':
          return isInt32(v);
        case 'time':
        case 'timestamp':
          return isInt64(v) || isInt32(v);
        case 'boolean':
          return typeof v === 'boolean';
        case 'uuid':
          return v instanceof Uint8Array && v.length === 16;
        default:
          return true;
      }
    });

  it.each(cases.map((c) => [c.title, c] as const))('is false only where no %s value can fail', (_, c) => {
    for (const type of WIRE_TYPES) {
      if (canFailCheck(c.read, type, c.declared)) continue;
      const failing = wellShaped(c)
        .map((value) => ({ type, value, outcome: inferred(c.read, type, value) }))
        .filter(({ outcome }) => outcome !== undefined);
      expect(failing).toEqual([]);
    }
  });

  it('reads text, doubles, dates, times and coarse timestamps in their own types, and nothing else', () => {
    const can = cases.filter((c) => canFailCheck(c.read, c.declared, c.declared)).map((c) => c.title);
    expect(can).toEqual(['DOUBLE', 'text', 'DATE', 'TIME(MILLIS)', 'TIME(MICROS)', 'TIME(NANOS)', 'TIMESTAMP(MILLIS)', 'TIMESTAMP(MICROS)', 'INT96']);
  });

  it('reads a column given another type, unless the type only widens it', () => {
    expect(canFailCheck({ kind: 'integer' }, 'BIGINTEGER', 'INTEGER')).toBe(false);
    expect(canFailCheck({ kind: 'integer' }, 'DOUBLE', 'BIGINTEGER')).toBe(false);
    expect(canFailCheck({ kind: 'integer' }, 'STRING', 'BIGINTEGER')).toBe(false);
    expect(canFailCheck({ kind: 'integer' }, 'INTEGER', 'BIGINTEGER')).toBe(true);
    expect(canFailCheck({ kind: 'text' }, 'DATE', 'STRING')).toBe(true);
    expect(canFailCheck({ kind: 'date' }, 'DATETIME', 'DATE')).toBe(true);
    expect(canFailCheck({ kind: 'null' }, 'DATE', 'STRING')).toBe(false);
  });
});
