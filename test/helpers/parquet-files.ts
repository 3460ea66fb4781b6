// Writes Parquet test files with hyparquet-writer: a seeded table with a column of every type the
// reader maps, NULLs in every column, and the wire text each cell must arrive as, worked out here
// from the value's own definition (Date for calendars, string digits for decimals), not by the
// code under test.

import { writeFileSync } from 'node:fs';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import type { CompressionCodec, SchemaElement } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { createRandom } from './seeded-csv.js';

export type ExpectedCell = string | null;

export interface GeneratedColumn {
  element: SchemaElement;
  /** Stored values as the writer takes them (bigint, number, bytes, string), null for NULL. */
  data: unknown[];
  /** The wire text of each cell. */
  expected: ExpectedCell[];
  /** The wire type the reader must declare. */
  wireType: string;
}

/**
 * A zstd frame of raw (stored) blocks. Node 20's zlib has no zstd compressor, and a raw-block
 * frame is valid zstd that every decoder must accept; the corpus covers real zstd compression.
 */
export function zstdRawFrame(input: Uint8Array): Uint8Array {
  const maxBlock = 128 * 1024;
  const blocks = Math.max(1, Math.ceil(input.length / maxBlock));
  const out = new Uint8Array(4 + 1 + 4 + blocks * 3 + input.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0xfd2fb528, true);
  // Single segment, 4-byte content size, no checksum, no dictionary.
  out[4] = 0xa0;
  view.setUint32(5, input.length, true);
  let at = 9;
  for (let b = 0; b < blocks; b++) {
    const start = b * maxBlock;
    const size = Math.min(maxBlock, input.length - start);
    const header = (size << 3) | (b === blocks - 1 ? 1 : 0);
    out[at] = header & 0xff;
    out[at + 1] = (header >> 8) & 0xff;
    out[at + 2] = (header >> 16) & 0xff;
    out.set(input.subarray(start, start + size), at + 3);
    at += 3 + size;
  }
  return out;
}

const COMPRESSORS = {
  GZIP: (input: Uint8Array) => new Uint8Array(gzipSync(input)),
  BROTLI: (input: Uint8Array) => new Uint8Array(brotliCompressSync(input)),
  ZSTD: zstdRawFrame,
};

export interface WriteOptions {
  codec?: CompressionCodec;
  rowGroupSize?: number;
  pageSize?: number;
}

/** Writes `columns` (all OPTIONAL) to `path`. */
export function writeParquetFile(path: string, columns: readonly { element: SchemaElement; data: unknown[] }[], options: WriteOptions = {}): void {
  const schema: SchemaElement[] = [
    { name: 'root', num_children: columns.length },
    ...columns.map((c) => ({ repetition_type: 'OPTIONAL' as const, ...c.element })),
  ];
  const buffer = parquetWriteBuffer({
    columnData: columns.map((c) => ({ name: c.element.name, data: c.data as never })),
    schema,
    codec: options.codec ?? 'SNAPPY',
    compressors: COMPRESSORS,
    rowGroupSize: options.rowGroupSize ?? 100_000,
    pageSize: options.pageSize ?? 1024 * 1024,
  });
  writeFileSync(path, new Uint8Array(buffer));
}

const pad = (v: number | bigint, n: number): string => String(v).padStart(n, '0');

/** `YYYY-MM-DDTHH:MM:SS[.f]` from whole milliseconds (via Date) plus finer digits, trailing zeros cut. */
function isoFrom(millis: bigint, finer: string): string {
  const iso = new Date(Number(millis)).toISOString();
  const fraction = `${iso.slice(20, 23)}${finer}`.replace(/0+$/, '');
  return `${iso.slice(0, 19)}${fraction ? `.${fraction}` : ''}`;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b < 0n ? q - 1n : q;
}

/** A table of `rows` rows with a column of every mapped type; column k is NULL where (row + k) % 7 === 3. */
export function generateTypeMatrix(rows: number, seed: number): GeneratedColumn[] {
  const random = createRandom(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));
  const big = (bits: number): bigint => {
    let v = 0n;
    for (let i = 0; i < bits; i += 16) v = (v << 16n) | BigInt(int(0, 0xffff));
    return BigInt.asUintN(bits, v);
  };
  const pick = <T>(list: readonly T[]): T => list[int(0, list.length - 1)]!;
  const columns: GeneratedColumn[] = [];
  const add = (element: SchemaElement, wireType: string, make: (row: number) => [unknown, ExpectedCell]): void => {
    const k = columns.length;
    const data: unknown[] = [];
    const expected: ExpectedCell[] = [];
    for (let r = 0; r < rows; r++) {
      if ((r + k) % 7 === 3) {
        data.push(null);
        expected.push(null);
      } else {
        const [value, text] = make(r);
        data.push(value);
        expected.push(text);
      }
    }
    columns.push({ element, data, expected, wireType });
  };
  // Integer widths by converted type only: hyparquet-writer writes the INTEGER logical type's
  // bitWidth with a Thrift type other readers reject, and older writers leave it out anyway.
  add({ name: 'int8', type: 'INT32', converted_type: 'INT_8' }, 'INTEGER', (r) => {
    const v = r === 0 ? -128 : r === 1 ? 127 : int(-128, 127);
    return [v, String(v)];
  });
  add({ name: 'int16', type: 'INT32', converted_type: 'INT_16' }, 'INTEGER', () => {
    const v = int(-32768, 32767);
    return [v, String(v)];
  });
  add({ name: 'int32', type: 'INT32' }, 'INTEGER', (r) => {
    const v = r === 0 ? -2147483648 : r === 1 ? 2147483647 : int(-2147483648, 2147483647);
    return [v, String(v)];
  });
  add({ name: 'uint8', type: 'INT32', converted_type: 'UINT_8' }, 'INTEGER', () => {
    const v = int(0, 255);
    return [v, String(v)];
  });
  add({ name: 'uint16', type: 'INT32', converted_type: 'UINT_16' }, 'INTEGER', () => {
    const v = int(0, 65535);
    return [v, String(v)];
  });
  add({ name: 'uint32', type: 'INT32', converted_type: 'UINT_32' }, 'BIGINTEGER', (r) => {
    const v = r === 0 ? 4294967295 : r === 1 ? 0 : int(0, 4294967295);
    return [v, String(v)];
  });
  add({ name: 'int64', type: 'INT64' }, 'BIGINTEGER', (r) => {
    const v = r === 0 ? -(2n ** 63n) : r === 1 ? 2n ** 63n - 1n : BigInt.asIntN(64, big(64));
    return [v, v.toString()];
  });
  add({ name: 'uint64', type: 'INT64', converted_type: 'UINT_64' }, 'BIGDECIMAL', (r) => {
    const v = r === 0 ? 2n ** 64n - 1n : r === 1 ? 2n ** 63n : big(64);
    return [v, v.toString()];
  });
  // Floats from short decimals: a decimal of at most 6 (FLOAT) or 15 (DOUBLE) significant digits
  // is the shortest text of its nearest value, so JS prints exactly what the reader must.
  const shortDecimal = (digits: number): string => {
    const mantissa = `${int(1, 9)}${Array.from({ length: digits - 1 }, () => int(0, 9)).join('')}`;
    const exponent = int(-20, 20);
    return `${random() < 0.5 ? '-' : ''}${mantissa[0]}.${mantissa.slice(1) || '0'}e${exponent}`;
  };
  add({ name: 'float32', type: 'FLOAT' }, 'DOUBLE', (r) => {
    const special: [string, string][] = [['0.1', '0.1'], ['-0', '-0'], ['3.4028235e38', '3.4028235e+38'], ['1e-45', '1e-45'], ['16777216', '16777216']];
    const [text, wire] = r < special.length ? special[r]! : ((t: string): [string, string] => [t, String(Number(t))])(shortDecimal(int(1, 6)));
    return [Math.fround(Number(text)), wire];
  });
  add({ name: 'float64', type: 'DOUBLE' }, 'DOUBLE', (r) => {
    const special = ['0.1', '1e21', '-0', '-1.7976931348623157e306', '123456789012345', '5e-300'];
    const text = r < special.length ? special[r]! : shortDecimal(int(1, 15));
    const value = Number(text);
    return [value, Object.is(value, -0) ? '-0' : String(value)];
  });
  add({ name: 'float16', type: 'FIXED_LEN_BYTE_ARRAY', type_length: 2, logical_type: { type: 'FLOAT16' } }, 'DOUBLE', () => {
    const text = pick(['0.1', '1.5', '-2.25', '60000', '0.0001', '-1000', '0.333', '6e-8']);
    // The writer rounds to half precision; its shortest text is `text` for these values.
    return [Number(text), String(Number(text))];
  });
  const decimal = (name: string, element: Omit<SchemaElement, 'name'>, precision: number, scale: number, make: (digits: string) => unknown): void => {
    add({ name, ...element, converted_type: 'DECIMAL', precision, scale, logical_type: { type: 'DECIMAL', precision, scale } }, 'BIGDECIMAL', (r) => {
      const length = r === 0 ? precision : int(1, precision);
      const digits = r === 1 ? '0' : `${int(1, 9)}${Array.from({ length: length - 1 }, () => int(0, 9)).join('')}`;
      const negative = r !== 1 && random() < 0.5;
      const padded = digits.padStart(scale + 1, '0');
      const text = scale === 0 ? digits : `${padded.slice(0, padded.length - scale)}.${padded.slice(padded.length - scale)}`;
      const unscaled = BigInt(`${negative ? '-' : ''}${digits}`);
      return [make(unscaled.toString()), `${negative ? '-' : ''}${text}`];
    });
  };
  decimal('dec_int32', { type: 'INT32' }, 9, 2, (u) => BigInt(u));
  decimal('dec_int64', { type: 'INT64' }, 18, 4, (u) => BigInt(u));
  decimal('dec_fixed', { type: 'FIXED_LEN_BYTE_ARRAY', type_length: 16 }, 38, 10, (u) => BigInt(u));
  decimal('dec_bytes', { type: 'BYTE_ARRAY' }, 45, 7, (u) => BigInt(u));
  add({ name: 'flag', type: 'BOOLEAN' }, 'BOOL', () => {
    const v = random() < 0.5;
    return [v, String(v)];
  });
  const texts = ['', 'NA', 'null', 'NULL', 'plain', 'with "quotes", commas; and\nnew lines', 'ünïcödé ✓', 'emoji 🎉 and 𝄞', '  padded  ', '\\back\\slash', '{"looks":"like json"}'];
  add({ name: 'text', type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } }, 'STRING', () => {
    const v = random() < 0.5 ? pick(texts) : `value ${int(0, 1e9)}`;
    return [v, v];
  });
  add({ name: 'category', type: 'BYTE_ARRAY', converted_type: 'ENUM', logical_type: { type: 'ENUM' } }, 'STRING', () => {
    const v = pick(['RED', 'GREEN', 'BLUE']);
    return [new TextEncoder().encode(v), v];
  });
  add({ name: 'doc', type: 'BYTE_ARRAY', converted_type: 'JSON', logical_type: { type: 'JSON' } }, 'STRING', () => {
    const v = { id: int(0, 1000), tags: [pick(['a', 'b']), 'ü'], ok: random() < 0.5 };
    return [v, JSON.stringify(v)];
  });
  add({ name: 'uuid', type: 'FIXED_LEN_BYTE_ARRAY', type_length: 16, logical_type: { type: 'UUID' } }, 'STRING', () => {
    const hex = Array.from({ length: 32 }, () => int(0, 15).toString(16)).join('');
    const v = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    return [v, v];
  });
  add({ name: 'day', type: 'INT32', converted_type: 'DATE', logical_type: { type: 'DATE' } }, 'DATE', (r) => {
    const days = r === 0 ? -719162 : r === 1 ? 2932896 : int(-719162, 2932896);
    return [days, new Date(days * 86_400_000).toISOString().slice(0, 10)];
  });
  const time = (name: string, element: Omit<SchemaElement, 'name'>, unitsPerMs: bigint, make: (v: bigint) => unknown): void => {
    add({ name, ...element }, 'TIME', (r) => {
      const ms = r === 0 ? 0 : r === 1 ? 86_399_999 : int(0, 86_399_999);
      const finer = unitsPerMs === 1n ? 0n : BigInt(int(0, Number(unitsPerMs) - 1));
      const v = BigInt(ms) * unitsPerMs + (r === 1 ? unitsPerMs - 1n : finer);
      const clock = new Date(ms).toISOString().slice(11, 19);
      const fraction = `${pad(ms % 1000, 3)}${unitsPerMs === 1n ? '' : pad(r === 1 ? unitsPerMs - 1n : finer, String(unitsPerMs).length - 1)}`.replace(/0+$/, '');
      return [make(v), `${clock}${fraction ? `.${fraction}` : ''}`];
    });
  };
  time('time_ms', { type: 'INT32', converted_type: 'TIME_MILLIS', logical_type: { type: 'TIME', isAdjustedToUTC: true, unit: 'MILLIS' } }, 1n, (v) => Number(v));
  time('time_us', { type: 'INT64', converted_type: 'TIME_MICROS', logical_type: { type: 'TIME', isAdjustedToUTC: false, unit: 'MICROS' } }, 1000n, (v) => v);
  time('time_ns', { type: 'INT64', logical_type: { type: 'TIME', isAdjustedToUTC: true, unit: 'NANOS' } }, 1_000_000n, (v) => v);
  // 0001-01-01T00:00:00 and 9999-12-31T23:59:59.999 in milliseconds since the epoch.
  const minMs = -62135596800000;
  const maxMs = 253402300799999;
  const timestamp = (name: string, element: Omit<SchemaElement, 'name'>, unitsPerMs: bigint): void => {
    // An int64 count of nanoseconds spans only 1677-09-21 to 2262-04-11.
    const lo = unitsPerMs === 1_000_000n ? -9223372036854 : minMs;
    const hi = unitsPerMs === 1_000_000n ? 9223372036853 : maxMs;
    add({ name, ...element }, 'DATETIME', (r) => {
      const ms = BigInt(r === 0 ? lo : r === 1 ? hi : r === 2 ? -1 : int(lo, hi));
      const finer = unitsPerMs === 1n ? 0n : r === 1 ? unitsPerMs - 1n : BigInt(int(0, Number(unitsPerMs) - 1));
      const v = ms * unitsPerMs + finer;
      const finerText = unitsPerMs === 1n ? '' : pad(finer, String(unitsPerMs).length - 1);
      return [v, isoFrom(floorDiv(v, unitsPerMs), finerText)];
    });
  };
  timestamp('ts_ms_utc', { type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' } }, 1n);
  timestamp('ts_us_utc', { type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' } }, 1000n);
  timestamp('ts_ns_utc', { type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'NANOS' } }, 1_000_000n);
  timestamp('ts_us_local', { type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: false, unit: 'MICROS' } }, 1000n);
  timestamp('ts_ms_legacy', { type: 'INT64', converted_type: 'TIMESTAMP_MILLIS' }, 1n);
  timestamp('ts_us_legacy', { type: 'INT64', converted_type: 'TIMESTAMP_MICROS' }, 1000n);
  return columns;
}

/** The expected rows of a generated table, row-major. */
export function expectedRows(columns: readonly GeneratedColumn[]): ExpectedCell[][] {
  const rows = columns[0]?.expected.length ?? 0;
  return Array.from({ length: rows }, (_, r) => columns.map((c) => c.expected[r]!));
}
