// Parquet cell values → the canonical wire text of their column type. Pure: works on the physical
// values the reader decodes (numbers, bigints, bytes) with integer arithmetic only, so decimals
// keep every digit and timestamps every nanosecond, and no date passes through JS Date.

/** Resolution of a Parquet TIME or TIMESTAMP. */
export type ParquetTimeUnit = 'MILLIS' | 'MICROS' | 'NANOS';

/** How to turn one decoded value of a column into text. */
export type ParquetValueRead =
  | { kind: 'boolean' }
  | { kind: 'integer' }
  | { kind: 'float'; bits: 16 | 32 | 64 }
  | { kind: 'decimal'; scale: number }
  | { kind: 'text' }
  | { kind: 'uuid' }
  | { kind: 'date' }
  | { kind: 'time'; unit: ParquetTimeUnit }
  | { kind: 'timestamp'; unit: ParquetTimeUnit }
  | { kind: 'int96' }
  | { kind: 'null' };

/**
 * Converts one decoded, non-null value to wire text, or to null where the value has no wire form
 * (NaN and ±Infinity; see createCellConverter). Throws ParquetValueError when the value cannot be
 * text of its type (bytes that are not UTF-8, a value of the wrong shape).
 */
export type ParquetCellConverter = (value: unknown) => string | null;

/** A value that cannot become text; the source adds the file, row and column. */
export class ParquetValueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ParquetValueError';
  }
}

const UNITS_PER_SECOND: Readonly<Record<ParquetTimeUnit, bigint>> = { MILLIS: 1000n, MICROS: 1_000_000n, NANOS: 1_000_000_000n };
const FRACTION_DIGITS: Readonly<Record<ParquetTimeUnit, number>> = { MILLIS: 3, MICROS: 6, NANOS: 9 };

function pad2(v: number): string {
  return v < 10 ? `0${v}` : `${v}`;
}

/** Years 0-9999 as four digits; others as a sign and six or more digits, as ISO 8601 expands them. */
function yearText(year: number): string {
  if (year >= 0 && year <= 9999) return String(year).padStart(4, '0');
  return `${year < 0 ? '-' : '+'}${String(Math.abs(year)).padStart(6, '0')}`;
}

/**
 * `YYYY-MM-DD` for a count of days since 1970-01-01 in the proleptic Gregorian calendar, for
 * any count a Parquet DATE (int32) can hold. Years outside 0001-9999 come out expanded
 * (`+010000-01-01`), which the DATE check then refuses with the row and column.
 */
export function dateText(days: number): string {
  // Days to civil date by 400-year eras (H. Hinnant's algorithm), exact for any safe integer.
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const dayOfEra = z - era * 146097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524) - Math.floor(dayOfEra / 146096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return `${yearText(year)}-${pad2(month)}-${pad2(day)}`;
}

/** `.fff…` without trailing zeros, or '' for a zero fraction. */
function fractionText(fraction: bigint, digits: number): string {
  if (fraction === 0n) return '';
  let text = fraction.toString().padStart(digits, '0');
  let end = text.length;
  while (text.charCodeAt(end - 1) === 48) end--;
  text = text.slice(0, end);
  return `.${text}`;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b < 0n ? q - 1n : q;
}

/**
 * `HH:MM:SS[.fraction]` for a time of day counted in `unit` since midnight. A value outside one
 * day (which Parquet forbids) comes out as such, e.g. `24:00:00`, and fails the TIME check.
 */
export function timeText(value: number | bigint, unit: ParquetTimeUnit): string {
  const ticks = BigInt(value);
  const perSecond = UNITS_PER_SECOND[unit];
  const sign = ticks < 0n ? '-' : '';
  const magnitude = ticks < 0n ? -ticks : ticks;
  const seconds = Number(magnitude / perSecond);
  const hours = Math.floor(seconds / 3600);
  const rest = `${pad2(Math.floor(seconds / 60) % 60)}:${pad2(seconds % 60)}${fractionText(magnitude % perSecond, FRACTION_DIGITS[unit])}`;
  return `${sign}${pad2(hours)}:${rest}`;
}

/**
 * `YYYY-MM-DDTHH:MM:SS[.fraction]` for a count of `unit` since 1970-01-01T00:00:00. A UTC-adjusted
 * timestamp thus reads in UTC and a local one as written, which is the same arithmetic. The
 * fraction keeps every digit the unit has (nanoseconds: nine) without trailing zeros.
 */
export function timestampText(value: bigint, unit: ParquetTimeUnit): string {
  const perSecond = UNITS_PER_SECOND[unit];
  const seconds = floorDiv(value, perSecond);
  const fraction = value - seconds * perSecond;
  // Whole seconds of any int64 count fit a double exactly (|s| < 2^53 for every unit).
  const s = Number(seconds);
  const days = Math.floor(s / 86400);
  const ofDay = s - days * 86400;
  const time = `${pad2(Math.floor(ofDay / 3600))}:${pad2(Math.floor(ofDay / 60) % 60)}:${pad2(ofDay % 60)}`;
  return `${dateText(days)}T${time}${fractionText(fraction, FRACTION_DIGITS[unit])}`;
}

/** Exact decimal text of `unscaled × 10^-scale`, with exactly `scale` fraction digits (`1.500`, `-0.005`). */
export function decimalText(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  let digits = (negative ? -unscaled : unscaled).toString();
  if (scale <= 0) {
    if (scale < 0 && unscaled !== 0n) digits += '0'.repeat(-scale);
    return negative ? `-${digits}` : digits;
  }
  if (digits.length <= scale) digits = digits.padStart(scale + 1, '0');
  const point = digits.length - scale;
  return `${negative ? '-' : ''}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** A big-endian two's-complement integer of any length, as Parquet stores binary decimals. */
export function bytesToBigInt(bytes: Uint8Array): bigint {
  const n = bytes.length;
  if (n === 0) return 0n;
  let value = 0n;
  let i = 0;
  // Four bytes per BigInt step: a 16-byte DECIMAL(38) takes 4 steps instead of 16.
  for (; i + 4 <= n; i += 4) {
    const word = ((bytes[i]! << 24) >>> 0) + (bytes[i + 1]! << 16) + (bytes[i + 2]! << 8) + bytes[i + 3]!;
    value = (value << 32n) | BigInt(word);
  }
  for (; i < n; i++) value = (value << 8n) | BigInt(bytes[i]!);
  return bytes[0]! >= 0x80 ? value - (1n << BigInt(n * 8)) : value;
}

/** Rounds to the nearest IEEE half-precision value (ties to even), as Math.f16round does in newer engines. */
export function roundToFloat16(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const a = Math.abs(x);
  // 65520 is halfway between the largest half (65504) and the next step, and rounds to infinity.
  if (a >= 65520) return x > 0 ? Infinity : -Infinity;
  let e = Math.floor(Math.log2(a));
  // log2 may be off by one next to a power of two.
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  if (e < -14) e = -14;
  const quantum = 2 ** (e - 10);
  const scaled = a / quantum;
  const floor = Math.floor(scaled);
  const rest = scaled - floor;
  const n = rest > 0.5 || (rest === 0.5 && floor % 2 === 1) ? floor + 1 : floor;
  return Math.sign(x) * n * quantum;
}

/**
 * The shortest decimal text that reads back as the same value of a `bits`-wide float: a FLOAT
 * 0.1 is `0.1`, not the `0.10000000149011612` its widened double would print. Undefined for NaN
 * and ±Infinity.
 */
export function floatText(value: number, bits: 16 | 32 | 64): string | undefined {
  if (!Number.isFinite(value)) return undefined;
  // String() drops the sign of zero; a stored -0.0 stays -0.
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  // Integers below 2^24 (FLOAT) or 2^11 (FLOAT16) are spaced at most 1 apart, so their digits are shortest.
  if (bits === 64 || (Number.isInteger(value) && Math.abs(value) < (bits === 32 ? 2 ** 24 : 2 ** 11))) return String(value);
  const round = bits === 32 ? Math.fround : roundToFloat16;
  const maxDigits = bits === 32 ? 9 : 5;
  for (let p = 1; p < maxDigits; p++) {
    const candidate = Number(value.toPrecision(p));
    if (round(candidate) === value) return String(candidate);
  }
  return String(Number(value.toPrecision(maxDigits)));
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** 0001-01-01T00:00:00 in nanoseconds since the epoch. */
const INT96_FIRST_NANOS = -62_135_596_800_000_000_000n;

function shapeError(value: unknown, expected: string): ParquetValueError {
  const got = value instanceof Uint8Array ? 'bytes' : typeof value;
  return new ParquetValueError(`the reader returned ${got} where ${expected} was expected`);
}

function integerFrom(value: unknown): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  if (value instanceof Uint8Array) return bytesToBigInt(value);
  throw shapeError(value, 'an integer');
}

/**
 * The converter for one column's decoded values; see ParquetCellConverter. NaN and ±Infinity
 * become null, since no wire type holds them, and each one is reported to `onNonFinite`.
 */
export function createCellConverter(read: ParquetValueRead, onNonFinite: () => void = () => {}): ParquetCellConverter {
  switch (read.kind) {
    case 'boolean':
      return (value) => {
        if (typeof value !== 'boolean') throw shapeError(value, 'a boolean');
        return value ? 'true' : 'false';
      };
    case 'integer':
      return (value) => {
        if (typeof value === 'number' && Number.isInteger(value)) return String(value);
        if (typeof value === 'bigint') return value.toString();
        throw shapeError(value, 'an integer');
      };
    case 'float': {
      const bits = read.bits;
      return (value) => {
        if (typeof value !== 'number') throw shapeError(value, 'a number');
        const text = floatText(value, bits);
        if (text !== undefined) return text;
        onNonFinite();
        return null;
      };
    }
    case 'decimal': {
      const scale = read.scale;
      return (value) => decimalText(integerFrom(value), scale);
    }
    case 'text':
      return (value) => {
        if (typeof value === 'string') return value;
        if (!(value instanceof Uint8Array)) throw shapeError(value, 'text');
        try {
          return utf8.decode(value);
        } catch {
          throw new ParquetValueError('the bytes are not valid UTF-8 text');
        }
      };
    case 'uuid':
      return (value) => {
        if (typeof value === 'string') return value;
        if (!(value instanceof Uint8Array) || value.length !== 16) throw shapeError(value, 'a 16-byte UUID');
        const hex = Buffer.from(value.buffer, value.byteOffset, 16).toString('hex');
        return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
      };
    case 'date':
      return (value) => {
        if (typeof value !== 'number' || !Number.isInteger(value)) throw shapeError(value, 'a day count');
        return dateText(value);
      };
    case 'time': {
      const unit = read.unit;
      return (value) => {
        if (typeof value !== 'number' && typeof value !== 'bigint') throw shapeError(value, 'a time of day');
        return timeText(value, unit);
      };
    }
    case 'timestamp': {
      const unit = read.unit;
      return (value) => {
        if (typeof value !== 'bigint' && !(typeof value === 'number' && Number.isInteger(value))) {
          throw shapeError(value, 'a timestamp');
        }
        return timestampText(BigInt(value), unit);
      };
    }
    case 'int96':
      return (value) => {
        if (typeof value !== 'bigint') throw shapeError(value, 'an INT96 timestamp');
        // The reader combines the 12 bytes in a way that loses the day when the time-of-day field
        // is negative, which lands the value just before year -4712: refuse rather than misdate.
        if (value < INT96_FIRST_NANOS) {
          throw new ParquetValueError(
            'the INT96 timestamp cannot be decoded: its time of day is out of range or its date lies before the year 0001 (Spark writes such values for years far past 9999)',
          );
        }
        return timestampText(value, 'NANOS');
      };
    case 'null':
      return () => null;
  }
}
