// Parquet values → wire text: exact decimals, calendars without Date's limits, nanoseconds kept,
// the shortest text for each float width, and strict UTF-8.

import {
  ParquetValueError,
  bytesToBigInt,
  createCellConverter,
  dateText,
  decimalText,
  floatText,
  roundToFloat16,
  timeText,
  timestampText,
} from '../../src/sources/parquet-values.js';
import { createRandom } from '../helpers/seeded-csv.js';

describe('decimalText', () => {
  it.each([
    [12345n, 2, '123.45'],
    [-12345n, 2, '-123.45'],
    [5n, 3, '0.005'],
    [-5n, 3, '-0.005'],
    [0n, 2, '0.00'],
    [100n, 2, '1.00'],
    [123n, 0, '123'],
    [-7n, 0, '-7'],
    [12n, -3, '12000'],
    [0n, -3, '0'],
    [99999999999999999999999999999999999999n, 10, '9999999999999999999999999999.9999999999'],
    [-(10n ** 76n) + 1n, 38, '-99999999999999999999999999999999999999.99999999999999999999999999999999999999'],
  ])('writes %s scaled by 10^-%i as %s', (unscaled, scale, text) => {
    expect(decimalText(unscaled, scale)).toBe(text);
  });
});

describe('bytesToBigInt', () => {
  it.each([
    [[], 0n],
    [[0x00], 0n],
    [[0x7f], 127n],
    [[0x80], -128n],
    [[0xff], -1n],
    [[0x00, 0xff], 255n],
    [[0xff, 0x00], -256n],
    [[0x01, 0x00, 0x00, 0x00, 0x00], 4294967296n],
    [[0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], -(2n ** 127n)],
  ])('reads big-endian two’s complement %j as %s', (bytes, value) => {
    expect(bytesToBigInt(new Uint8Array(bytes))).toBe(value);
  });

  it('agrees with a hex reading on seeded values of every length from 1 to 32 bytes', () => {
    const random = createRandom(17);
    for (let n = 1; n <= 32; n++) {
      for (let k = 0; k < 50; k++) {
        const bytes = Uint8Array.from({ length: n }, () => Math.floor(random() * 256));
        const unsigned = BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
        expect(bytesToBigInt(bytes)).toBe(BigInt.asIntN(n * 8, unsigned));
      }
    }
  });
});

describe('dateText', () => {
  it.each([
    [0, '1970-01-01'],
    [-1, '1969-12-31'],
    [19723, '2024-01-01'],
    [11016, '2000-02-29'],
    [-719162, '0001-01-01'],
    [2932896, '9999-12-31'],
    [-719163, '0000-12-31'],
    [2932897, '+010000-01-01'],
    [-2147483648, '-5877641-06-23'],
    [2147483647, '+5881580-07-11'],
  ])('writes day %i as %s', (days, text) => {
    expect(dateText(days)).toBe(text);
  });

  it('agrees with Date on every 97th day of years 0001 to 9999', () => {
    for (let days = -719162; days <= 2932896; days += 97) {
      expect(dateText(days)).toBe(new Date(days * 86_400_000).toISOString().slice(0, 10));
    }
  });
});

describe('timestampText', () => {
  it.each([
    [0n, 'MILLIS', '1970-01-01T00:00:00'],
    [1n, 'MILLIS', '1970-01-01T00:00:00.001'],
    [-1n, 'MILLIS', '1969-12-31T23:59:59.999'],
    [1_500n, 'MILLIS', '1970-01-01T00:00:01.5'],
    [-1n, 'MICROS', '1969-12-31T23:59:59.999999'],
    [1704067200123450n, 'MICROS', '2024-01-01T00:00:00.12345'],
    [1704067200123456789n, 'NANOS', '2024-01-01T00:00:00.123456789'],
    [-(2n ** 63n), 'NANOS', '1677-09-21T00:12:43.145224192'],
    [2n ** 63n - 1n, 'NANOS', '2262-04-11T23:47:16.854775807'],
    [253402300799999999n, 'MICROS', '9999-12-31T23:59:59.999999'],
    [-62135596800000000n, 'MICROS', '0001-01-01T00:00:00'],
    [2n ** 63n - 1n, 'MICROS', '+294247-01-10T04:00:54.775807'],
    [-(2n ** 63n), 'MILLIS', '-292275055-05-16T16:47:04.192'],
  ] as const)('writes %s %s as %s', (value, unit, text) => {
    expect(timestampText(value, unit)).toBe(text);
  });

  it('agrees with Date on seeded microsecond values of years 0001 to 9999', () => {
    const random = createRandom(5);
    for (let k = 0; k < 2000; k++) {
      const ms = Math.floor(-62135596800000 + random() * (253402300800000 + 62135596800000));
      const micros = BigInt(ms) * 1000n + BigInt(Math.floor(random() * 1000));
      const iso = new Date(ms).toISOString();
      const fraction = `${iso.slice(20, 23)}${String(micros % 1000n < 0n ? micros % 1000n + 1000n : micros % 1000n).padStart(3, '0')}`.replace(/0+$/, '');
      expect(timestampText(micros, 'MICROS')).toBe(`${iso.slice(0, 19)}${fraction ? `.${fraction}` : ''}`);
    }
  });
});

describe('timeText', () => {
  it.each([
    [0, 'MILLIS', '00:00:00'],
    [45296789, 'MILLIS', '12:34:56.789'],
    [45296780, 'MILLIS', '12:34:56.78'],
    [86399999999n, 'MICROS', '23:59:59.999999'],
    [86399999999999n, 'NANOS', '23:59:59.999999999'],
    [3600000000001n, 'NANOS', '01:00:00.000000001'],
    [86400000, 'MILLIS', '24:00:00'],
    [-1, 'MILLIS', '-00:00:00.001'],
  ] as const)('writes %s %s as %s', (value, unit, text) => {
    expect(timeText(value, unit)).toBe(text);
  });
});

function halfFromBits(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : Number.NaN;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

describe('roundToFloat16', () => {
  it('keeps every half-precision value as it is', () => {
    const changed: number[] = [];
    for (let bits = 0; bits < 0x10000; bits++) {
      const value = halfFromBits(bits);
      if (!Number.isNaN(value) && !Object.is(roundToFloat16(value), value)) changed.push(bits);
    }
    expect(changed).toEqual([]);
  });

  it('rounds halfway values to the even neighbour and overflow to infinity', () => {
    expect(roundToFloat16(1 + 2 ** -11)).toBe(1);
    expect(roundToFloat16(1 + 3 * 2 ** -11)).toBe(1 + 2 ** -9);
    expect(roundToFloat16(2 ** -25)).toBe(0);
    expect(roundToFloat16(3 * 2 ** -25)).toBe(2 ** -23);
    expect(roundToFloat16(65519.99)).toBe(65504);
    expect(roundToFloat16(65520)).toBe(Infinity);
    expect(roundToFloat16(-0.1)).toBe(-0.0999755859375);
  });
});

describe('floatText', () => {
  it.each([
    [Math.fround(0.1), 32, '0.1'],
    [Math.fround(-2.5), 32, '-2.5'],
    [Math.fround(3.4028234663852886e38), 32, '3.4028235e+38'],
    [Math.fround(1e-45), 32, '1e-45'],
    [16777216, 32, '16777216'],
    [Math.fround(16777217), 32, '16777216'],
    [Math.fround(123456.7), 32, '123456.7'],
    [0.0999755859375, 16, '0.1'],
    [65504, 16, '65500'],
    [2048, 16, '2048'],
    [2 ** -24, 16, '6e-8'],
    [0.1, 64, '0.1'],
    [1e21, 64, '1e+21'],
    [-0, 64, '-0'],
    [-0, 32, '-0'],
    [0, 16, '0'],
  ] as const)('writes %s of width %i as %s', (value, bits, text) => {
    expect(floatText(value, bits)).toBe(text);
  });

  it.each([Number.NaN, Infinity, -Infinity])('has no text for %s', (value) => {
    expect(floatText(value, 64)).toBeUndefined();
    expect(floatText(value, 32)).toBeUndefined();
    expect(floatText(value, 16)).toBeUndefined();
  });

  /** Texts that do not read back as `value`, or that have a shorter text that does. */
  function notShortest(value: number, text: string, round: (x: number) => number): string[] {
    if (round(Number(text)) !== value) return [`${value}: ${text} reads back as ${round(Number(text))}`];
    const digits = significantDigits(text);
    if (digits > 1 && round(Number(value.toPrecision(digits - 1))) === value) return [`${value}: ${text} is not the shortest`];
    return [];
  }

  function significantDigits(text: string): number {
    return text.replace(/^-/, '').replace(/e.*$/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '').length;
  }

  it('gives the shortest text that reads back as the same float for seeded FLOAT bit patterns', () => {
    const random = createRandom(99);
    const view = new DataView(new ArrayBuffer(4));
    const wrong: string[] = [];
    for (let k = 0; k < 20000; k++) {
      view.setUint32(0, Math.floor(random() * 2 ** 32));
      const value = view.getFloat32(0);
      if (Number.isFinite(value)) wrong.push(...notShortest(value, floatText(value, 32)!, Math.fround));
    }
    expect(wrong).toEqual([]);
  });

  it('gives the shortest text that reads back as the same half for every FLOAT16 value', () => {
    const wrong: string[] = [];
    for (let bits = 0; bits < 0x7c00; bits++) {
      const value = halfFromBits(bits);
      wrong.push(...notShortest(value, floatText(value, 16)!, roundToFloat16));
    }
    expect(wrong).toEqual([]);
  });
});

describe('createCellConverter', () => {
  it('writes booleans as true and false', () => {
    const convert = createCellConverter({ kind: 'boolean' });
    expect([convert(true), convert(false)]).toEqual(['true', 'false']);
  });

  it('writes integers of any size digit for digit', () => {
    const convert = createCellConverter({ kind: 'integer' });
    expect([convert(-2147483648), convert(18446744073709551615n)]).toEqual(['-2147483648', '18446744073709551615']);
  });

  it('reads decimals stored as int32, int64 and bytes', () => {
    const convert = createCellConverter({ kind: 'decimal', scale: 3 });
    expect([convert(-1234), convert(9223372036854775807n), convert(new Uint8Array([0xff, 0x85]))]).toEqual([
      '-1.234',
      '9223372036854775.807',
      '-0.123',
    ]);
  });

  it('decodes text strictly as UTF-8', () => {
    const convert = createCellConverter({ kind: 'text' });
    expect(convert(new TextEncoder().encode('ü 🎉'))).toBe('ü 🎉');
    expect(() => convert(new Uint8Array([0xc3]))).toThrow(new ParquetValueError('the bytes are not valid UTF-8 text'));
  });

  it('writes UUID bytes in the canonical hyphenated form', () => {
    const convert = createCellConverter({ kind: 'uuid' });
    const bytes = Uint8Array.from({ length: 16 }, (_, i) => i * 17);
    expect(convert(bytes)).toBe('00112233-4455-6677-8899-aabbccddeeff');
  });

  it('sends NaN and infinity as null and counts them', () => {
    let count = 0;
    const convert = createCellConverter({ kind: 'float', bits: 64 }, () => count++);
    expect([convert(1.5), convert(Number.NaN), convert(-Infinity)]).toEqual(['1.5', null, null]);
    expect(count).toBe(2);
  });

  it('writes INT96 nanoseconds as a timestamp and refuses values before the year 0001', () => {
    const convert = createCellConverter({ kind: 'int96' });
    expect(convert(1704141296123456000n)).toBe('2024-01-01T20:34:56.123456');
    expect(() => convert(-62135596800000000001n)).toThrow(ParquetValueError);
  });

  it('refuses a value of the wrong shape', () => {
    expect(() => createCellConverter({ kind: 'date' })('2024-01-01')).toThrow(ParquetValueError);
    expect(() => createCellConverter({ kind: 'boolean' })(1)).toThrow('the reader returned number where a boolean was expected');
  });
});
