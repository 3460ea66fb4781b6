// Decoded Parquet values → wire JSON bytes, and the value checks of the lean scan pass. Each column
// gets an encoder picked once from its (Parquet read, wire type) pair; the fast ones write digits
// and bytes straight into the output, and everything else goes the generic way (parquet-values
// text, then the serializer's own checks), so both ways give the same bytes and the same failures.
// Columns are encoded one at a time into ColumnCells, and RowJoiner interleaves them into rows.

import { isUtf8 } from 'node:buffer';

import { serializeValue } from '../chunker/serialize.js';
import { classifyValue, conformsTo } from '../schema/values.js';
import type { WireType } from '../schema/types.js';
import { createCellConverter } from './parquet-values.js';
import type { ParquetValueRead } from './parquet-values.js';
import type { EncodedBatch } from './types.js';

/** A growing byte buffer the encoders write JSON into; `buf` may be replaced by `ensure`. */
export class JsonOutput {
  buf: Buffer;
  pos = 0;

  constructor(initialBytes: number) {
    this.buf = Buffer.allocUnsafe(Math.max(64, initialBytes));
  }

  /** Makes room for `extra` more bytes after `pos`. */
  ensure(extra: number): void {
    if (this.pos + extra > this.buf.length) this.resize(Math.max(this.buf.length * 2, this.pos + extra));
  }

  /** Grows the buffer to `bytes` (at least), keeping what it holds. */
  resize(bytes: number): void {
    if (bytes <= this.buf.length) return;
    const next = Buffer.allocUnsafe(bytes);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
}

// The joiner copies a cell's first eight bytes whatever its length, then four bytes at a time,
// so it reads and writes up to seven bytes past the cell's end: the next write overwrites them,
// and buffers keep this much room at their ends. Fewer branches make it much faster than a copy
// byte by byte, or a native copy per cell.
const COPY_SLACK = 8;
/** A length byte of 255 says the cell's length follows in four bytes. */
const LONG_CELL = 255;
/** Distinct object values after which a column's repeats are no longer looked up. */
const DISTINCT_LIMIT = 4096;

/** Whether the first non-null of `values[0..count)` (within a few) is an object, as bytes are. */
export function objectValues(values: ArrayLike<unknown>, count: number): boolean {
  const end = Math.min(count, 64);
  for (let i = 0; i < end; i++) {
    const value = values[i];
    if (value !== null && value !== undefined) return typeof value === 'object';
  }
  return false;
}

/**
 * One column's cells over a stretch of rows, as wire JSON back to back, each after its length:
 * one byte, or 255 and four bytes for a cell of 255 bytes or more. Kept from one stretch to the
 * next, so its buffer is allocated once per pass and only grows. The joiner reads the cells in
 * order through `cursor`.
 */
export class ColumnCells {
  readonly out = new JsonOutput(1 << 16);
  /** Cells the last encode wrote. */
  count = 0;
  /** Bytes of the longest of them. */
  widest = 0;
  /** What the cell after the last one written threw, when encode stopped early; else undefined. */
  failure: unknown = undefined;
  /** Where the next cell to join starts (its length), and its index. */
  cursor = 0;
  joined = 0;
  private view: DataView | undefined;

  /**
   * Writes `values[0..count)` with `encoder`, replacing what the cells held. Stops at the first
   * value that throws and keeps what it threw in `failure`. Returns the number of cells written.
   */
  encode(encoder: ValueEncoder, values: ArrayLike<unknown>, count: number): number {
    const out = this.out;
    out.pos = 0;
    this.failure = undefined;
    this.cursor = 0;
    this.joined = 0;
    let widest = 0;
    let i = 0;
    let at = 0;
    // Values that are objects (bytes) come from a dictionary page as often as not, one object per
    // distinct value: a repeat is copied from its first cell instead of being encoded again.
    // Encoders are pure functions of such values, and only a cell that was written is reused.
    let firsts = objectValues(values, count) ? new Map<unknown, number>() : undefined;
    try {
      for (; i < count; i++) {
        // The length byte, room for a long length, and a `null`, which encoders write unasked.
        if (out.pos + 9 > out.buf.length) this.grow(i, count);
        if (firsts !== undefined) {
          const first = firsts.get(values[i]);
          if (first !== undefined) {
            this.repeat(first);
            continue;
          }
        }
        at = out.pos;
        out.pos = at + 1;
        encoder(out, values, i);
        const length = out.pos - at - 1;
        if (length < LONG_CELL) out.buf[at] = length;
        else this.lengthen(at, length);
        if (length > widest) widest = length;
        if (firsts !== undefined && typeof values[i] === 'object' && values[i] !== null) {
          firsts.set(values[i], at);
          // Mostly distinct values: not worth the look-ups.
          if (firsts.size > DISTINCT_LIMIT) firsts = undefined;
        }
      }
    } catch (err) {
      this.failure = err;
      out.pos = at;
    }
    out.ensure(COPY_SLACK);
    this.count = i;
    this.widest = widest;
    return i;
  }

  /** The cells' bytes as a DataView, for copies of four bytes at a time (see COPY_SLACK). */
  dataView(): DataView {
    const buf = this.out.buf;
    if (this.view?.buffer !== buf.buffer || this.view.byteOffset !== buf.byteOffset || this.view.byteLength !== buf.length) {
      this.view = new DataView(buf.buffer, buf.byteOffset, buf.length);
    }
    return this.view;
  }

  /** Grows by what the cells so far say all `count` will take, rather than doubling. */
  private grow(written: number, count: number): void {
    const out = this.out;
    const estimate = written === 0 ? 0 : Math.ceil((out.pos / written) * count * 1.0625);
    out.resize(Math.max(estimate, Math.ceil(out.buf.length * 1.25), out.pos + 4096));
  }

  /** Writes again the cell (with its length) that starts at `first`. */
  private repeat(first: number): void {
    const out = this.out;
    const head = out.buf[first]!;
    const size = head === LONG_CELL ? 5 + out.buf.readUInt32LE(first + 1) : 1 + head;
    out.ensure(size);
    const buf = out.buf;
    const p = out.pos;
    if (size > 32) buf.copyWithin(p, first, first + size);
    else for (let k = 0; k < size; k++) buf[p + k] = buf[first + k]!;
    out.pos = p + size;
  }

  /** Moves a long cell four bytes on, to put its length in front of it. */
  private lengthen(at: number, length: number): void {
    const out = this.out;
    out.ensure(4);
    out.buf.copyWithin(at + 5, at + 1, at + 1 + length);
    out.buf[at] = LONG_CELL;
    out.buf.writeUInt32LE(length, at + 1);
    out.pos += 4;
  }
}

/**
 * Joins the cells of every column into rows of an EncodedBatch: `[c0,c1,...]` per row, one comma
 * between rows. A batch may take rows from several stretches of cells; take() hands it over.
 */
export class RowJoiner {
  readonly out: JsonOutput;
  /** Rows in the batch being joined. */
  rows = 0;
  private rowEnds = new Uint32Array(0);
  private lines = new Float64Array(0);

  constructor(initialBytes: number) {
    this.out = new JsonOutput(initialBytes);
  }

  /**
   * Appends rows made of the next cells of `columns` (all at the same index) up to cell `to`,
   * cell i being row number `firstLine + i`, and stops after the row that brings the batch to
   * `target` bytes. Returns the index of the first cell it did not take.
   */
  append(columns: readonly ColumnCells[], to: number, firstLine: number, target: number): number {
    const width = columns.length;
    const views = columns.map((c) => c.dataView());
    const sources = columns.map((c) => new Uint8Array(c.out.buf.buffer, c.out.buf.byteOffset, c.out.buf.length));
    // A typed array keeps the cursors unboxed in the loop.
    const cursors = Float64Array.from(columns, (c) => c.cursor);
    // Brackets, commas between cells and one before the row, and the copies' overrun.
    const frame = width + 2 + COPY_SLACK;
    const widest = columns.reduce((sum, c) => sum + c.widest, frame);
    const out = this.out;
    if (this.rows === 0) out.pos = 0;
    // Plain views: element access on them is cheaper than on a Buffer.
    let room = out.buf.length;
    let bytes = new Uint8Array(out.buf.buffer, out.buf.byteOffset, room);
    let view = new DataView(out.buf.buffer, out.buf.byteOffset, room);
    let p = out.pos;
    let n = this.rows;
    let rowEnds = this.rowEnds;
    let lines = this.lines;
    let i = columns[0]!.joined;
    for (; i < to; i++) {
      if (p + widest > room) {
        out.pos = p;
        out.ensure(this.rowBytes(columns, cursors) + frame);
        room = out.buf.length;
        bytes = new Uint8Array(out.buf.buffer, out.buf.byteOffset, room);
        view = new DataView(out.buf.buffer, out.buf.byteOffset, room);
      }
      if (n > 0) bytes[p++] = 44;
      bytes[p++] = 91;
      for (let c = 0; c < width; c++) {
        const source = views[c]!;
        let s = cursors[c]!;
        let length = sources[c]![s]!;
        if (length === LONG_CELL) {
          length = source.getUint32(s + 1, true);
          s += 5;
        } else {
          s += 1;
        }
        view.setUint32(p, source.getUint32(s));
        view.setUint32(p + 4, source.getUint32(s + 4));
        for (let k = 8; k < length; k += 4) view.setUint32(p + k, source.getUint32(s + k));
        cursors[c] = s + length;
        p += length;
        bytes[p++] = 44;
      }
      bytes[p - 1] = 93;
      if (n === rowEnds.length) {
        const capacity = Math.max(1024, n * 2);
        const ends = new Uint32Array(capacity);
        ends.set(rowEnds);
        rowEnds = ends;
        const numbers = new Float64Array(capacity);
        numbers.set(lines);
        lines = numbers;
      }
      rowEnds[n] = p;
      lines[n] = firstLine + i;
      n++;
      if (p >= target) {
        i++;
        break;
      }
    }
    out.pos = p;
    this.rows = n;
    this.rowEnds = rowEnds;
    this.lines = lines;
    columns.forEach((c, k) => {
      c.cursor = cursors[k]!;
      c.joined = i;
    });
    return i;
  }

  /** Hands over the rows joined so far and starts the next batch; its data is valid until the next append. */
  take(bytesRead: number): EncodedBatch {
    const batch: EncodedBatch = { data: this.out.buf.subarray(0, this.out.pos), rowEnds: this.rowEnds, rows: this.rows, lines: this.lines, bytesRead };
    this.rows = 0;
    this.rowEnds = new Uint32Array(0);
    this.lines = new Float64Array(0);
    return batch;
  }

  /** The cells' bytes of the row at `cursors`. */
  private rowBytes(columns: readonly ColumnCells[], cursors: Float64Array): number {
    let size = 0;
    columns.forEach((c, k) => {
      const at = cursors[k]!;
      const length = c.out.buf[at]!;
      size += length === LONG_CELL ? c.out.buf.readUInt32LE(at + 1) : length;
    });
    return size;
  }
}

/** A value whose text is not valid for its column's wire type; the source words the error. */
export class WireValueError extends Error {
  readonly text: string;
  constructor(text: string) {
    super('the value is not valid for its column type');
    this.name = 'WireValueError';
    this.text = text;
  }
}

/**
 * Writes the JSON of `values[row]` to `out`: `null` for a NULL (the caller has made room for
 * that), else the value. Throws ParquetValueError where the value cannot become text (as
 * createCellConverter does) and WireValueError where its text does not fit the wire type (as the
 * row serializer refuses it). Each kind of column has its own function, which keeps the loads of
 * `values[row]` and the calls in it specialised to that kind's arrays.
 */
export type ValueEncoder = (out: JsonOutput, values: ArrayLike<unknown>, row: number) => void;

/** Writes one non-null value; the fallback of the fast encoders. */
type ValueWriter = (out: JsonOutput, value: unknown) => void;

/**
 * Checks one non-null decoded value against a wire type: undefined when it fits, else its text.
 * Throws ParquetValueError as createCellConverter does.
 */
export type ValueCheck = (value: unknown) => string | undefined;

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const MAX_SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** 0001-01-01 and 9999-12-31 in days since 1970-01-01: the DATE range of the wire. */
const FIRST_DAY = -719162;
const LAST_DAY = 2932896;
const SECONDS_PER_DAY = 86400;
const FIRST_SECOND = FIRST_DAY * SECONDS_PER_DAY;
const END_SECOND = (LAST_DAY + 1) * SECONDS_PER_DAY;

const TICKS_PER_SECOND = { MILLIS: 1000, MICROS: 1_000_000, NANOS: 1_000_000_000 } as const;
const FRACTION_DIGITS = { MILLIS: 3, MICROS: 6, NANOS: 9 } as const;

const QUOTE = 34;
const BACKSLASH = 92;
const HEX = '0123456789abcdef';

// Per byte: 0 copies as is, 1 needs a JSON escape, 2 is part of a multi-byte UTF-8 sequence.
const BYTE_CLASS = new Uint8Array(256);
for (let b = 0; b < 256; b++) BYTE_CLASS[b] = b < 32 || b === QUOTE || b === BACKSLASH ? 1 : b >= 0x80 ? 2 : 0;
const NULL_BYTES = [110, 117, 108, 108] as const;

/** Writes `null`; the caller made room for it. */
function writeNull(out: JsonOutput): void {
  const buf = out.buf;
  const p = out.pos;
  buf[p] = NULL_BYTES[0];
  buf[p + 1] = NULL_BYTES[1];
  buf[p + 2] = NULL_BYTES[2];
  buf[p + 3] = NULL_BYTES[3];
  out.pos = p + 4;
}

function digitCount(v: number): number {
  if (v < 1e8) {
    if (v < 1e4) return v < 10 ? 1 : v < 100 ? 2 : v < 1000 ? 3 : 4;
    return v < 1e5 ? 5 : v < 1e6 ? 6 : v < 1e7 ? 7 : 8;
  }
  let n = 9;
  let limit = 1e9;
  while (v >= limit && n < 16) {
    n++;
    limit *= 10;
  }
  return n;
}

/** Writes the digits of a non-negative safe integer at `pos`; returns the position after them. */
function writeUint(buf: Buffer, pos: number, value: number): number {
  const end = pos + digitCount(value);
  let p = end;
  let v = value;
  // Above int32 the digits come by float division, exact for safe integers.
  while (v > 0x7fffffff) {
    const q = Math.floor(v / 10);
    buf[--p] = 48 + (v - q * 10);
    v = q;
  }
  let x = v | 0;
  while (x >= 10) {
    const q = (x / 10) | 0;
    buf[--p] = 48 + (x - q * 10);
    x = q;
  }
  buf[--p] = 48 + x;
  return end;
}

/** Writes a safe integer (`-0` as `0`, like String). */
function writeInt(buf: Buffer, pos: number, value: number): number {
  if (value < 0) {
    buf[pos] = 45;
    return writeUint(buf, pos + 1, -value);
  }
  return writeUint(buf, pos, value);
}

/** Writes `width` digits of `value` (a non-negative int32), zero-padded. */
function writePadded(buf: Buffer, pos: number, value: number, width: number): number {
  let v = value;
  for (let p = pos + width - 1; p >= pos; p--) {
    const q = (v / 10) | 0;
    buf[p] = 48 + v - q * 10;
    v = q;
  }
  return pos + width;
}

/** Writes two digits of 0..99. */
function write2(buf: Buffer, pos: number, value: number): void {
  const tens = (value / 10) | 0;
  buf[pos] = 48 + tens;
  buf[pos + 1] = 48 + value - tens * 10;
}

function writeAscii(out: JsonOutput, text: string): void {
  const n = text.length;
  out.ensure(n);
  const buf = out.buf;
  let p = out.pos;
  for (let i = 0; i < n; i++) buf[p++] = text.charCodeAt(i);
  out.pos = p;
}

/**
 * `YYYY-MM-DD` for a day count within 0001-01-01..9999-12-31, by the civil algorithm of dateText.
 * In that range every intermediate is a non-negative int32 (days since 0000-03-01), so `| 0`
 * truncation is floor division.
 */
function writeDate(buf: Buffer, pos: number, days: number): number {
  const z = days + 719468;
  const era = (z / 146097) | 0;
  const dayOfEra = z - era * 146097;
  const yearOfEra = ((dayOfEra - ((dayOfEra / 1460) | 0) + ((dayOfEra / 36524) | 0) - ((dayOfEra / 146096) | 0)) / 365) | 0;
  const dayOfYear = dayOfEra - (365 * yearOfEra + ((yearOfEra / 4) | 0) - ((yearOfEra / 100) | 0));
  const mp = ((5 * dayOfYear + 2) / 153) | 0;
  const day = dayOfYear - (((153 * mp + 2) / 5) | 0) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const hundreds = (year / 100) | 0;
  write2(buf, pos, hundreds);
  write2(buf, pos + 2, year - hundreds * 100);
  buf[pos + 4] = 45;
  write2(buf, pos + 5, month);
  buf[pos + 7] = 45;
  write2(buf, pos + 8, day);
  return pos + 10;
}

/** `HH:MM:SS` then `.fraction` without trailing zeros, left off when the fraction is zero. */
function writeClock(buf: Buffer, pos: number, secondOfDay: number, fraction: number, digits: number): number {
  const hours = (secondOfDay / 3600) | 0;
  const minutes = ((secondOfDay / 60) | 0) - hours * 60;
  write2(buf, pos, hours);
  buf[pos + 2] = 58;
  write2(buf, pos + 3, minutes);
  buf[pos + 5] = 58;
  write2(buf, pos + 6, secondOfDay - hours * 3600 - minutes * 60);
  let p = pos + 8;
  if (fraction === 0) return p;
  let f = fraction;
  let width = digits;
  while (f % 10 === 0) {
    f /= 10;
    width--;
  }
  buf[p++] = 46;
  return writePadded(buf, p, f, width);
}

/** The serializer's way for one value: parquet-values text, then serializeValue. */
function genericWriter(read: ParquetValueRead, type: WireType, onNonFinite: () => void): ValueWriter {
  const convert = createCellConverter(read, onNonFinite);
  return (out, value) => {
    const text = convert(value);
    if (text === null) {
      out.ensure(4);
      writeNull(out);
      return;
    }
    const json = serializeValue(type, text);
    if (json === undefined) throw new WireValueError(text);
    // Three bytes per UTF-16 unit at most; long texts are measured rather than over-allocated.
    out.ensure(json.length < 4096 ? json.length * 3 : Buffer.byteLength(json, 'utf8'));
    out.pos += out.buf.write(json, out.pos, 'utf8');
  };
}

/**
 * The encoder for one column whose values are read as `read` and go out as `type`. `declared`
 * is the column's own wire type: only then are the fast encoders used, since they write the text
 * parquet-values gives for that type. NaN and ±Infinity go out as null and are counted.
 */
export function createValueEncoder(read: ParquetValueRead, type: WireType, declared: WireType, onNonFinite: () => void = () => {}): ValueEncoder {
  const generic = genericWriter(read, type, onNonFinite);
  if (type !== declared) return genericEncoder(generic);
  switch (read.kind) {
    case 'boolean':
      return booleanEncoder(generic);
    case 'integer':
      return integerEncoder(type, generic);
    case 'float':
      return read.bits === 64 ? doubleEncoder(generic, onNonFinite) : genericEncoder(generic);
    case 'decimal':
      return decimalEncoder(read.scale, generic);
    case 'text':
      return textEncoder(generic);
    case 'date':
      return dateEncoder(generic);
    case 'time':
      return timeEncoder(read.unit, generic);
    case 'timestamp':
      return timestampEncoder(read.unit, generic);
    default:
      return genericEncoder(generic);
  }
}

function genericEncoder(generic: ValueWriter): ValueEncoder {
  return (out, values, row) => {
    const value = values[row];
    if (value === null || value === undefined) writeNull(out);
    else generic(out, value);
  };
}

function booleanEncoder(generic: ValueWriter): ValueEncoder {
  return (out, values, row) => {
    const value = values[row];
    if (value === null || value === undefined) return writeNull(out);
    if (typeof value !== 'boolean') return generic(out, value);
    writeAscii(out, value ? 'true' : 'false');
  };
}

function integerEncoder(type: WireType, generic: ValueWriter): ValueEncoder {
  const int32Only = type === 'INTEGER';
  const int64Only = type === 'BIGINTEGER';
  return (out, values, row) => {
    const value = values[row];
    if (value === null || value === undefined) return writeNull(out);
    let n: number;
    if (typeof value === 'number') {
      if (!Number.isSafeInteger(value)) return generic(out, value);
      n = value;
    } else if (typeof value === 'bigint') {
      if (value > MAX_SAFE_BIG || value < -MAX_SAFE_BIG) {
        if (int32Only || (int64Only && (value < INT64_MIN || value > INT64_MAX))) return generic(out, value);
        writeAscii(out, value.toString());
        return;
      }
      n = Number(value);
    } else {
      return generic(out, value);
    }
    if (int32Only && (n > 2147483647 || n < -2147483648)) return generic(out, value);
    out.ensure(17);
    out.pos = writeInt(out.buf, out.pos, n);
  };
}

/** True when String(x) of a finite double has an exponent the DOUBLE check refuses (beyond ±307). */
function isOutOfDoubleRange(text: string): boolean {
  const e = text.indexOf('e');
  if (e < 0) return false;
  const exponent = Number(text.slice(e + 1));
  return exponent > 307 || exponent < -307;
}

// The DOUBLE wire check refuses numbers whose first digit lies beyond 10^±307, which only
// String's exponent form can show; magnitudes well inside that need no look at the text.
const DOUBLE_SAFE_MAX = 1e300;
const DOUBLE_SAFE_MIN = 1e-300;

/**
 * Writes String(x) for a finite, non-integer x that is a decimal of one to three fraction digits
 * with 0.001 <= |x| < 1e12 (prices, rates, measurements), without String's digit generation;
 * returns false for anything else. The first number of fraction digits whose decimal reads back
 * as x is the shortest text there is, and it is the only one of that length because doubles below
 * 1e12 lie less than 0.001 apart: so it is what String gives.
 */
function writeShortDecimal(out: JsonOutput, value: number): boolean {
  const magnitude = value < 0 ? -value : value;
  if (!(magnitude >= 1e-3 && magnitude < 1e12)) return false;
  let scale = 10;
  for (let digits = 1; digits <= 3; digits++, scale *= 10) {
    const scaled = Math.round(magnitude * scale);
    if (scaled / scale !== magnitude) continue;
    const fraction = scaled % scale;
    const buf = out.buf;
    let p = out.pos;
    if (value < 0) buf[p++] = 45;
    p = writeUint(buf, p, (scaled - fraction) / scale);
    buf[p++] = 46;
    out.pos = writePadded(buf, p, fraction, digits);
    return true;
  }
  return false;
}

function doubleEncoder(generic: ValueWriter, onNonFinite: () => void): ValueEncoder {
  return (out, values, row) => {
    const value = values[row];
    if (value === null || value === undefined) return writeNull(out);
    if (typeof value !== 'number') return generic(out, value);
    out.ensure(32);
    if (Number.isInteger(value)) {
      if (value === 0) {
        if (Object.is(value, -0)) writeAscii(out, '-0');
        else out.buf[out.pos++] = 48;
        return;
      }
      if (value <= MAX_SAFE && value >= -MAX_SAFE) {
        out.pos = writeInt(out.buf, out.pos, value);
        return;
      }
    } else if (value !== value || value === Infinity || value === -Infinity) {
      onNonFinite();
      writeNull(out);
      return;
    } else if (writeShortDecimal(out, value)) {
      return;
    }
    const text = String(value);
    const magnitude = value < 0 ? -value : value;
    if ((magnitude >= DOUBLE_SAFE_MAX || magnitude < DOUBLE_SAFE_MIN) && isOutOfDoubleRange(text)) throw new WireValueError(text);
    writeAscii(out, text);
  };
}

function decimalEncoder(scale: number, generic: ValueWriter): ValueEncoder {
  return (out, values, row) => {
    const value = values[row];
    if (value === null || value === undefined) return writeNull(out);
    let n: number;
    if (typeof value === 'number' && Number.isSafeInteger(value)) n = value;
    else if (typeof value === 'bigint' && value <= MAX_SAFE_BIG && value >= -MAX_SAFE_BIG) n = Number(value);
    else return generic(out, value);
    out.ensure(40 + (scale < 0 ? -scale : scale));
    const buf = out.buf;
    let p = out.pos;
    if (n < 0 || Object.is(n, -0)) {
      if (n !== 0) buf[p++] = 45;
      n = -n;
    }
    if (scale <= 0) {
      p = writeUint(buf, p, n);
      if (n !== 0) for (let k = scale; k < 0; k++) buf[p++] = 48;
    } else {
      const digits = digitCount(n);
      if (digits <= scale) {
        buf[p++] = 48;
        buf[p++] = 46;
        for (let k = digits; k < scale; k++) buf[p++] = 48;
        p = writeUint(buf, p, n);
      } else {
        const end = writeUint(buf, p, n);
        const point = end - scale;
        buf.copyWithin(point + 1, point, end);
        buf[point] = 46;
        p = end + 1;
      }
    }
    out.pos = p;
  };
}

/**
 * Copies UTF-8 bytes as a JSON string, escaping as JSON.stringify does (`\"`, `\\`, the short
 * control escapes, else `\u00xx`). Bytes are validated only when a non-ASCII byte appears.
 */
function textEncoder(generic: ValueWriter): ValueEncoder {
  return (out, values, row) => {
    const value = values[row];
    if (value === null || value === undefined) return writeNull(out);
    if (!(value instanceof Uint8Array)) return generic(out, value);
    const n = value.length;
    out.ensure(n + 2);
    let buf = out.buf;
    let p = out.pos;
    buf[p++] = QUOTE;
    // Most text needs no escape and is ASCII: find out with loads only, then copy in one go.
    let start = 0;
    while (start < n && BYTE_CLASS[value[start]!] === 0) start++;
    if (start === n) {
      if (n > 16) buf.set(value, p);
      else for (let i = 0; i < n; i++) buf[p + i] = value[i]!;
      buf[p + n] = QUOTE;
      out.pos = p + n + 1;
      return;
    }
    for (let i = 0; i < start; i++) buf[p++] = value[i]!;
    let validated = false;
    for (let i = start; i < n; i++) {
      const b = value[i]!;
      const kind = BYTE_CLASS[b]!;
      if (kind === 0) {
        buf[p++] = b;
        continue;
      }
      if (kind === 2) {
        if (!validated) {
          // The converter's strict decoder words the error.
          if (!isUtf8(value)) return generic(out, value);
          validated = true;
        }
        buf[p++] = b;
        continue;
      }
      // An escape takes up to six bytes for one: make room for it and the rest of the value.
      if (p + 7 + n - i > buf.length) {
        out.pos = p;
        out.ensure(7 + n - i);
        buf = out.buf;
      }
      buf[p++] = BACKSLASH;
      switch (b) {
        case QUOTE:
        case BACKSLASH:
          buf[p++] = b;
          break;
        case 8:
          buf[p++] = 98;
          break;
        case 9:
          buf[p++] = 116;
          break;
        case 10:
          buf[p++] = 110;
          break;
        case 12:
          buf[p++] = 102;
          break;
        case 13:
          buf[p++] = 114;
          break;
        default:
          buf[p++] = 117;
          buf[p++] = 48;
          buf[p++] = 48;
          buf[p++] = HEX.charCodeAt(b >> 4);
          buf[p++] = HEX.charCodeAt(b & 15);
      }
    }
    buf[p++] = QUOTE;
    out.pos = p;
  };
}

function dateEncoder(generic: ValueWriter): ValueEncoder {
  return (out, values, row) => {
    const value = values[row];
    if (value === null || value === undefined) return writeNull(out);
    if (typeof value !== 'number' || !(value >= FIRST_DAY && value <= LAST_DAY) || !Number.isInteger(value)) return generic(out, value);
    out.ensure(12);
    const buf = out.buf;
    buf[out.pos] = QUOTE;
    const p = writeDate(buf, out.pos + 1, value);
    buf[p] = QUOTE;
    out.pos = p + 1;
  };
}

function timeEncoder(unit: keyof typeof TICKS_PER_SECOND, generic: ValueWriter): ValueEncoder {
  const perSecond = TICKS_PER_SECOND[unit];
  const digits = FRACTION_DIGITS[unit];
  // A day of nanoseconds (8.64e13) is still a safe integer.
  const perDay = perSecond * SECONDS_PER_DAY;
  return (out, values, row) => {
    const value = values[row];
    if (value === null || value === undefined) return writeNull(out);
    let n: number;
    if (typeof value === 'number') n = value;
    else if (typeof value === 'bigint' && value >= 0n && value <= MAX_SAFE_BIG) n = Number(value);
    else return generic(out, value);
    if (!(n >= 0 && n < perDay) || !Number.isInteger(n)) return generic(out, value);
    out.ensure(24);
    const buf = out.buf;
    buf[out.pos] = QUOTE;
    const second = Math.floor(n / perSecond);
    const p = writeClock(buf, out.pos + 1, second, n - second * perSecond, digits);
    buf[p] = QUOTE;
    out.pos = p + 1;
  };
}

/** First and last tick count of `unit` whose timestamp lies within years 0001-9999. */
function tickRange(unit: keyof typeof TICKS_PER_SECOND): [bigint, bigint] {
  const perSecond = BigInt(TICKS_PER_SECOND[unit]);
  return [BigInt(FIRST_SECOND) * perSecond, BigInt(END_SECOND) * perSecond - 1n];
}

function timestampEncoder(unit: keyof typeof TICKS_PER_SECOND, generic: ValueWriter): ValueEncoder {
  const perSecond = TICKS_PER_SECOND[unit];
  const perSecondBig = BigInt(perSecond);
  const digits = FRACTION_DIGITS[unit];
  return (out, values, row) => {
    const value = values[row];
    if (value === null || value === undefined) return writeNull(out);
    if (typeof value !== 'bigint') return generic(out, value);
    let seconds: number;
    let fraction: number;
    // Number() is exact within ±(2^53 - 1) and lands outside it for anything beyond.
    const n = Number(value);
    if (n <= MAX_SAFE && n >= -MAX_SAFE) {
      // The float quotient may be one off near a whole second; the remainder puts it right.
      seconds = Math.floor(n / perSecond);
      fraction = n - seconds * perSecond;
      if (fraction < 0) {
        seconds--;
        fraction += perSecond;
      } else if (fraction >= perSecond) {
        seconds++;
        fraction -= perSecond;
      }
    } else {
      let q = value / perSecondBig;
      let r = value - q * perSecondBig;
      if (r < 0n) {
        q--;
        r += perSecondBig;
      }
      seconds = Number(q);
      fraction = Number(r);
    }
    // Exact for the wire's years (|seconds| < 2^38); far beyond them it may be off by one, and
    // is still out of range, so such values take the slow way.
    const days = Math.floor(seconds / SECONDS_PER_DAY);
    if (days < FIRST_DAY || days > LAST_DAY) return generic(out, value);
    out.ensure(34);
    const buf = out.buf;
    buf[out.pos] = QUOTE;
    let p = writeDate(buf, out.pos + 1, days);
    buf[p++] = 84;
    p = writeClock(buf, p, seconds - days * SECONDS_PER_DAY, fraction, digits);
    buf[p] = QUOTE;
    out.pos = p + 1;
  };
}

/**
 * Whether a value read as `read` can fail a check for `type` (the column's `declared` type or
 * an override): the columns the lean scan must read. Integers, booleans, decimals, floats and
 * UUIDs always fit their own types, and anything fits STRING once it is text; text can be bad
 * UTF-8, and doubles, dates, times and timestamps can lie outside the wire's ranges.
 */
export function canFailCheck(read: ParquetValueRead, type: WireType, declared: WireType): boolean {
  if (read.kind === 'null') return false;
  if (type === 'STRING') return read.kind === 'text' || read.kind === 'int96';
  if (type !== declared) {
    // Any whole number of up to 20 digits is a valid DOUBLE and BIGDECIMAL, an int32 a BIGINTEGER.
    if (read.kind === 'integer') return !(type === 'DOUBLE' || type === 'BIGDECIMAL' || (type === 'BIGINTEGER' && declared === 'INTEGER'));
    return true;
  }
  switch (read.kind) {
    case 'float':
      return read.bits === 64;
    case 'text':
    case 'date':
    case 'time':
    case 'int96':
      return true;
    case 'timestamp':
      // An int64 count of nanoseconds only spans 1677-2262.
      return read.unit !== 'NANOS';
    default:
      return false;
  }
}

/** The inference pass's way for one value: parquet-values text, then classifyValue. */
function genericCheck(read: ParquetValueRead, type: WireType, onNonFinite: () => void): ValueCheck {
  const convert = createCellConverter(read, onNonFinite);
  return (value) => {
    const text = convert(value);
    if (text === null || type === 'STRING') return undefined;
    return conformsTo(type, classifyValue(text)) ? undefined : text;
  };
}

/**
 * The check of one column's values against `type`, as the inference pass makes it (same text,
 * same verdict), with fast paths for the column's own type. NaN and ±Infinity are counted.
 */
export function createValueCheck(read: ParquetValueRead, type: WireType, declared: WireType, onNonFinite: () => void = () => {}): ValueCheck {
  const generic = genericCheck(read, type, onNonFinite);
  if (type !== declared) return generic;
  switch (read.kind) {
    case 'float':
      if (read.bits !== 64) return generic;
      return (value) => {
        if (typeof value !== 'number') return generic(value);
        if (value !== value || value === Infinity || value === -Infinity) {
          onNonFinite();
          return undefined;
        }
        const magnitude = value < 0 ? -value : value;
        if (magnitude < DOUBLE_SAFE_MAX && (magnitude >= DOUBLE_SAFE_MIN || magnitude === 0)) return undefined;
        return generic(value);
      };
    case 'text':
      return (value) => (value instanceof Uint8Array && isUtf8(value) ? undefined : generic(value));
    case 'date':
      return (value) => (typeof value === 'number' && value >= FIRST_DAY && value <= LAST_DAY && Number.isInteger(value) ? undefined : generic(value));
    case 'time': {
      const perDay = TICKS_PER_SECOND[read.unit] * SECONDS_PER_DAY;
      const perDayBig = BigInt(perDay);
      return (value) => {
        if (typeof value === 'bigint') return value >= 0n && value < perDayBig ? undefined : generic(value);
        return typeof value === 'number' && value >= 0 && value < perDay && Number.isInteger(value) ? undefined : generic(value);
      };
    }
    case 'timestamp': {
      const [first, last] = tickRange(read.unit);
      return (value) => (typeof value === 'bigint' && value >= first && value <= last ? undefined : generic(value));
    }
    default:
      return generic;
  }
}
