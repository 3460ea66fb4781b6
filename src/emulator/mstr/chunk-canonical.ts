// Checks a decoded ROW chunk byte by byte and writes the canonical rows its checksum is taken over,
// without a JS value per cell. It accepts only what decodeChunk accepts, with the same canonical
// text; for anything else it declines, and decodeChunk gives the verdict and the precise message.

import { isUtf8 } from 'node:buffer';
import type { WireType } from '../../schema/types.js';
import type { ScratchBuffers } from './scratch.js';
import { isClock, isRealDate, normaliseTemporal } from './validate.js';
import type { ChunkContext } from './validate.js';

/** The rows of an accepted chunk as `canonicalRowJson(row) + "\n"` each, back to back. */
export interface CanonicalRows {
  rowCount: number;
  /** Valid until release(); may share memory with the chunk bytes. */
  bytes: Buffer;
  release(): void;
}

const STRING = 0;
const BOOL = 1;
const INT32 = 2;
const INT64 = 3;
const DOUBLE = 4;
const DECIMAL = 5;
const DATE = 6;
const TIME = 7;
const DATETIME = 8;

const KIND: Record<WireType, number> = {
  STRING,
  BOOL,
  INTEGER: INT32,
  BIGINTEGER: INT64,
  DOUBLE,
  BIGDECIMAL: DECIMAL,
  DATE,
  TIME,
  DATETIME,
};

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const COLON = 0x3a;
const ZERO = 0x30;
const NINE = 0x39;
const NEWLINE = 0x0a;

// Inside a JSON string: 0 plain (UTF-8 validity is checked for the whole chunk up front), 1 the
// closing quote, 2 an escape, 3 a control character.
const STRING_CLASS = new Uint8Array(256);
for (let c = 0; c < 0x20; c++) STRING_CLASS[c] = 3;
STRING_CLASS[QUOTE] = 1;
STRING_CLASS[BACKSLASH] = 2;

const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX[ZERO + c] = c;
for (let c = 0; c < 6; c++) {
  HEX[0x41 + c] = 10 + c;
  HEX[0x61 + c] = 10 + c;
}

// Escapes JSON.stringify writes the same way: \" \\ \b \f \n \r \t. `\/` and `\u` are rewritten.
const KEPT_ESCAPE = new Uint8Array(256);
for (const c of '"\\bfnrt') KEPT_ESCAPE[c.charCodeAt(0)] = 1;

const INT32_MAX = Buffer.from('2147483647');
const INT32_MIN = Buffer.from('2147483648');
const INT64_MAX = Buffer.from('9223372036854775807');
const INT64_MIN = Buffer.from('9223372036854775808');
const NULL = Buffer.from('null');
const LOWER_HEX = Buffer.from('0123456789abcdef');

function isSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

// Output positions of the cells of the row being rearranged; grown for wide tables.
let cellStarts = new Int32Array(64);
let cellEnds = new Int32Array(64);

/**
 * Checks a ROW chunk's decoded bytes against the session's columns and returns its canonical
 * rows, or undefined when the chunk is not one it can vouch for (COLUMN orientation, any error,
 * nested values) so that decodeChunk must decide. `bytes` is left unchanged when it declines;
 * when it accepts, the rows may have been written over it.
 */
export function canonicalChunkRows(bytes: Buffer, context: ChunkContext, scratch: ScratchBuffers): CanonicalRows | undefined {
  if (context.spec.orientation !== 'ROW' || !isUtf8(bytes)) return undefined;
  const scanner = new RowScanner(bytes, context, scratch);
  const rows = scanner.run();
  if (rows === undefined) scanner.writer.release();
  return rows;
}

/**
 * The canonical output. Until the first real edit it is the input itself from `base` on, with
 * each row's following byte to become "\n" (kept as a patch list so a declined chunk stays
 * intact); from then on it is a scratch buffer filled by copying unchanged spans of the input.
 */
class Writer {
  out: Buffer | undefined = undefined;
  w = 0;
  /** Start of the input span not yet copied. */
  s: number;
  private patches = new Int32Array(1024);
  private patchCount = 0;

  constructor(
    readonly src: Buffer,
    private readonly base: number,
    private readonly scratch: ScratchBuffers,
  ) {
    this.s = base;
  }

  /** The input byte at `at` becomes a newline. */
  newlineAt(at: number): void {
    if (this.patchCount === this.patches.length) {
      const grown = new Int32Array(this.patches.length * 2);
      grown.set(this.patches);
      this.patches = grown;
    }
    this.patches[this.patchCount++] = at;
  }

  /** Copies the pending input span up to `to`. */
  flush(to: number): void {
    const n = to - this.s;
    let out = this.out;
    if (out === undefined) {
      out = this.scratch.take(this.src.length + (this.src.length >> 4) + 256);
      this.out = out;
    }
    if (this.w + n > out.length) out = this.grow(n);
    const { src, s, w } = this;
    if (n > 32) out.set(src.subarray(s, to), w);
    else for (let k = 0; k < n; k++) out[w + k] = src[s + k] ?? 0;
    for (let k = 0; k < this.patchCount; k++) out[w + (this.patches[k] ?? 0) - s] = NEWLINE;
    this.patchCount = 0;
    this.w = w + n;
    this.s = to;
  }

  /** Leaves input bytes `from`..`to` out of the output. */
  drop(from: number, to: number): void {
    this.flush(from);
    this.s = to;
  }

  /** Room for `n` more bytes after flush(). */
  reserve(n: number): Buffer {
    const out = this.out;
    if (out !== undefined && this.w + n <= out.length) return out;
    return this.grow(n);
  }

  put(byte: number): void {
    const out = this.reserve(1);
    out[this.w++] = byte;
  }

  putBytes(bytes: Uint8Array): void {
    const out = this.reserve(bytes.length);
    out.set(bytes, this.w);
    this.w += bytes.length;
  }

  /** The output position of input position `at` (copies everything before it). */
  mark(at: number): number {
    this.flush(at);
    return this.w;
  }

  finish(end: number): Buffer {
    if (this.out === undefined) {
      for (let k = 0; k < this.patchCount; k++) this.src[this.patches[k] ?? 0] = NEWLINE;
      return this.src.subarray(this.base, end);
    }
    this.flush(end);
    return this.out.subarray(0, this.w);
  }

  release(): void {
    this.scratch.give(this.out);
    this.out = undefined;
  }

  private grow(n: number): Buffer {
    const old = this.out;
    const grown = this.scratch.take(Math.max(1024, (this.w + n) * 2));
    if (old !== undefined) grown.set(old.subarray(0, this.w));
    this.scratch.give(old);
    this.out = grown;
    return grown;
  }
}

class RowScanner {
  readonly writer: Writer;
  private readonly src: Buffer;
  private readonly kinds: Int32Array;
  private readonly nullInvalidTemporal: boolean;
  /** Session position of each table column (-1: not carried), when rows must be rearranged. */
  private readonly reorder: Int32Array | undefined;
  private readonly tableWidth: number;
  // Details of the last string or number scanned.
  private escapes = 0;
  private intEnd = 0;
  private plainInteger = false;
  private hasExponent = false;

  constructor(src: Buffer, context: ChunkContext, scratch: ScratchBuffers) {
    this.src = src;
    const { spec } = context;
    const positions = spec.columnPositions;
    this.tableWidth = spec.table.columns.length;
    this.kinds = Int32Array.from(positions, (p) => KIND[spec.table.columns[p]?.dataType ?? 'STRING']);
    this.nullInvalidTemporal = context.invalidDate === 'null';
    const identity = positions.length === this.tableWidth && positions.every((p, i) => p === i);
    this.reorder = identity ? undefined : Int32Array.from({ length: this.tableWidth }, (_, t) => positions.indexOf(t));
    if (positions.length > cellStarts.length) {
      cellStarts = new Int32Array(positions.length);
      cellEnds = new Int32Array(positions.length);
    }
    this.writer = new Writer(src, this.firstRow(), scratch);
  }

  /** Where the first row starts (validated again by run()). */
  private firstRow(): number {
    const p = this.skipSpace(0);
    return this.skipSpace(p + 1);
  }

  run(): CanonicalRows | undefined {
    const { src, writer, kinds } = this;
    const width = kinds.length;
    const reorder = this.reorder;
    let p = this.skipSpace(0);
    if (src[p] !== OPEN) return undefined;
    p = this.skipSpace(p + 1);
    if (src[p] === CLOSE) {
      if (this.skipSpace(p + 1) !== src.length) return undefined;
      return { rowCount: 0, bytes: Buffer.alloc(0), release: () => undefined };
    }
    let rowCount = 0;
    for (;;) {
      // A row starts at p.
      if (src[p] !== OPEN) return undefined;
      const rowOut = reorder === undefined ? 0 : writer.mark(p);
      p++;
      // Whitespace is rare, so it is looked for only where a delimiter or value is not found.
      if ((src[p] ?? 0) <= 0x20) p = this.dropSpace(p);
      for (let c = 0; c < width; c++) {
        if (c > 0) {
          if (src[p] !== COMMA) {
            p = this.dropSpace(p);
            if (src[p] !== COMMA) return undefined;
          }
          p++;
          if ((src[p] ?? 0) <= 0x20) p = this.dropSpace(p);
        }
        if (reorder !== undefined) cellStarts[c] = writer.mark(p);
        p = this.cell(p, kinds[c] ?? STRING);
        if (p < 0) return undefined;
        if (reorder !== undefined) cellEnds[c] = writer.mark(p);
      }
      if (src[p] !== CLOSE) {
        p = this.dropSpace(p);
        if (src[p] !== CLOSE) return undefined;
      }
      rowCount++;
      p++;
      // p is the byte after the row: ',' or ']' or space, and becomes the row's newline.
      if (p >= src.length) return undefined;
      if (reorder === undefined) writer.newlineAt(p);
      else this.rearrange(rowOut, p);
      const q = this.skipSpace(p);
      if (src[q] === COMMA) {
        const next = this.skipSpace(q + 1);
        if (next !== p + 1) writer.drop(p + 1, next);
        p = next;
        continue;
      }
      if (src[q] !== CLOSE || this.skipSpace(q + 1) !== src.length) return undefined;
      const bytes = writer.finish(p + 1);
      return { rowCount, bytes, release: () => writer.release() };
    }
  }

  // Rewrites the row just copied to the output in table column order, null for the columns the
  // session does not carry, and ends it with a newline in place of the input byte at `after`.
  private rearrange(rowOut: number, after: number): void {
    const { writer } = this;
    const reorder = this.reorder ?? new Int32Array(0);
    writer.flush(after);
    const out = writer.out ?? writer.reserve(0);
    const copy = Buffer.from(out.subarray(rowOut, writer.w));
    writer.w = rowOut;
    writer.put(OPEN);
    for (let t = 0; t < this.tableWidth; t++) {
      if (t > 0) writer.put(COMMA);
      const c = reorder[t] ?? -1;
      if (c === -1) writer.putBytes(NULL);
      else writer.putBytes(copy.subarray((cellStarts[c] ?? 0) - rowOut, (cellEnds[c] ?? 0) - rowOut));
    }
    writer.put(CLOSE);
    writer.put(NEWLINE);
    writer.s = after + 1;
  }

  private skipSpace(from: number): number {
    const src = this.src;
    let p = from;
    while (isSpace(src[p])) p++;
    return p;
  }

  // Skips whitespace and leaves it out of the output.
  private dropSpace(from: number): number {
    const to = this.skipSpace(from);
    if (to !== from) this.writer.drop(from, to);
    return to;
  }

  /** Checks one value at p for a column of `kind`; returns the position after it, or -1. */
  private cell(p: number, kind: number): number {
    const src = this.src;
    const first = src[p];
    if (first === 0x6e) return src[p + 1] === 0x75 && src[p + 2] === 0x6c && src[p + 3] === 0x6c ? p + 4 : -1;
    switch (kind) {
      case STRING: {
        if (first !== QUOTE) return -1;
        // Most strings have no escapes: find the closing quote here, else take the long way.
        let i = p + 1;
        let c = STRING_CLASS[src[i] ?? 3];
        while (c === 0) c = STRING_CLASS[src[++i] ?? 3];
        if (c === 1) return i + 1;
        const end = this.string(p);
        if (end > 0 && this.escapes === 2) this.rewriteString(p, end);
        return end;
      }
      case BOOL:
        if (first === 0x74) return src[p + 1] === 0x72 && src[p + 2] === 0x75 && src[p + 3] === 0x65 ? p + 4 : -1;
        if (first === 0x66) return src[p + 1] === 0x61 && src[p + 2] === 0x6c && src[p + 3] === 0x73 && src[p + 4] === 0x65 ? p + 5 : -1;
        return -1;
      case INT32:
      case INT64: {
        const end = this.number(p);
        if (end < 0 || !this.plainInteger) return -1;
        return this.integerInRange(p, kind === INT32 ? INT32_MAX : INT64_MAX, kind === INT32 ? INT32_MIN : INT64_MIN) ? end : -1;
      }
      case DOUBLE: {
        const end = this.number(p);
        if (end < 0) return -1;
        // Without an exponent, up to 308 integer digits is below 1e308 and so finite.
        const negative = first === MINUS ? 1 : 0;
        if (!this.hasExponent && this.intEnd - p - negative <= 308) return end;
        return Number.isFinite(Number(src.toString('latin1', p, end))) ? end : -1;
      }
      case DECIMAL:
        return this.number(p);
      default: {
        // The stored form as it usually arrives (padded, no escapes) is accepted as it is.
        const q = p + 1;
        if (first === QUOTE) {
          if (kind === TIME) {
            const end = this.quotedClockEnd(q);
            if (end > 0) return end;
          } else if (src[q + 4] === MINUS && src[q + 7] === MINUS && isRealDate(this.year(q), this.two(q + 5), this.two(q + 8))) {
            if (kind === DATE && src[q + 10] === QUOTE) return q + 11;
            if (kind === DATETIME && src[q + 10] === 0x54) {
              const end = this.quotedClockEnd(q + 11);
              if (end > 0) return end;
            }
          }
        }
        return this.temporal(p, kind);
      }
    }
  }

  // HH:MM:SS[.f{1,9}] at `at` followed by the closing quote: the position after the quote, or -1
  // for anything else (which temporal() then examines in full).
  private quotedClockEnd(at: number): number {
    const src = this.src;
    if (src[at + 2] !== COLON || src[at + 5] !== COLON || !isClock(this.two(at), this.two(at + 3), this.two(at + 6))) return -1;
    let i = at + 8;
    if (src[i] === DOT) {
      const start = ++i;
      let c = src[i] ?? 0;
      while (c >= ZERO && c <= NINE) c = src[++i] ?? 0;
      if (i === start || i - start > 9) return -1;
    }
    return src[i] === QUOTE ? i + 1 : -1;
  }

  // DATE, TIME, DATETIME: a valid string is stored normalised; anything else is either an error
  // or, with invalidDate=null, stored as null.
  private temporal(p: number, kind: number): number {
    const src = this.src;
    const first = src[p];
    let end: number;
    let stored: Uint8Array | undefined;
    if (first === QUOTE) {
      end = this.string(p);
      if (end < 0) return -1;
      if (this.escapes !== 0) {
        const type = kind === DATE ? 'DATE' : kind === TIME ? 'TIME' : 'DATETIME';
        const text = normaliseTemporal(JSON.parse(src.toString('utf8', p, end)) as string, type);
        stored = text === undefined ? undefined : Buffer.from(JSON.stringify(text));
        if (stored !== undefined) {
          this.replace(p, end, stored);
          return end;
        }
      } else if (kind === DATE) {
        const fixed = this.date(p + 1, end - 1);
        if (fixed === 1) return end;
        if (fixed === 2) {
          this.writePaddedDate(p, end);
          return end;
        }
      } else if (kind === TIME ? this.clock(p + 1, end - 1) : this.dateTime(p + 1, end - 1)) {
        return end;
      }
    } else if (first === MINUS || (first !== undefined && first >= ZERO && first <= NINE)) {
      end = this.number(p);
    } else if (first === 0x74 && src[p + 1] === 0x72 && src[p + 2] === 0x75 && src[p + 3] === 0x65) {
      end = p + 4;
    } else if (first === 0x66 && src[p + 1] === 0x61 && src[p + 2] === 0x6c && src[p + 3] === 0x73 && src[p + 4] === 0x65) {
      end = p + 5;
    } else {
      // Arrays, objects and syntax errors are left to the general parser.
      return -1;
    }
    if (end < 0 || !this.nullInvalidTemporal) return -1;
    this.replace(p, end, NULL);
    return end;
  }

  private replace(from: number, to: number, bytes: Uint8Array): void {
    this.writer.drop(from, to);
    this.writer.putBytes(bytes);
  }

  /** A string at p (its opening quote); returns the position after it, or -1. Sets escapes. */
  private string(p: number): number {
    const src = this.src;
    let i = p + 1;
    let escapes = 0;
    for (;;) {
      let c = STRING_CLASS[src[i] ?? 3];
      while (c === 0) c = STRING_CLASS[src[++i] ?? 3];
      if (c === 1) {
        this.escapes = escapes;
        return i + 1;
      }
      if (c !== 2) return -1;
      const e = src[i + 1] ?? 0;
      if (KEPT_ESCAPE[e] === 1) {
        if (escapes === 0) escapes = 1;
        i += 2;
      } else if (e === 0x2f) {
        escapes = 2;
        i += 2;
      } else if (e === 0x75) {
        if ((HEX[src[i + 2] ?? 0] ?? -1) < 0 || (HEX[src[i + 3] ?? 0] ?? -1) < 0 || (HEX[src[i + 4] ?? 0] ?? -1) < 0 || (HEX[src[i + 5] ?? 0] ?? -1) < 0) return -1;
        escapes = 2;
        i += 6;
      } else {
        return -1;
      }
    }
  }

  private hex4(at: number): number {
    const src = this.src;
    return (
      ((HEX[src[at] ?? 0] ?? 0) << 12) | ((HEX[src[at + 1] ?? 0] ?? 0) << 8) | ((HEX[src[at + 2] ?? 0] ?? 0) << 4) | (HEX[src[at + 3] ?? 0] ?? 0)
    );
  }

  // Writes the string at [from, to) as JSON.stringify would write its value: `\/` and `\uXXXX`
  // become the character itself, except quotes, backslashes, control characters (short form
  // where there is one) and unpaired surrogates, which stay escaped in lower-case hex.
  private rewriteString(from: number, to: number): void {
    const { src, writer } = this;
    writer.drop(from, to);
    // The canonical form is never longer than the source.
    const out = writer.reserve(to - from);
    let w = writer.w;
    out[w++] = QUOTE;
    let i = from + 1;
    const last = to - 1;
    while (i < last) {
      const c = src[i] ?? 0;
      if (c !== BACKSLASH) {
        out[w++] = c;
        i++;
        continue;
      }
      const e = src[i + 1] ?? 0;
      if (e !== 0x75) {
        if (e === 0x2f) {
          out[w++] = 0x2f;
        } else {
          out[w++] = BACKSLASH;
          out[w++] = e;
        }
        i += 2;
        continue;
      }
      const unit = this.hex4(i + 2);
      i += 6;
      if (unit >= 0xd800 && unit <= 0xdbff && src[i] === BACKSLASH && src[i + 1] === 0x75) {
        const low = this.hex4(i + 2);
        if (low >= 0xdc00 && low <= 0xdfff) {
          const point = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
          out[w++] = 0xf0 | (point >> 18);
          out[w++] = 0x80 | ((point >> 12) & 0x3f);
          out[w++] = 0x80 | ((point >> 6) & 0x3f);
          out[w++] = 0x80 | (point & 0x3f);
          i += 6;
          continue;
        }
      }
      if (unit === QUOTE || unit === BACKSLASH) {
        out[w++] = BACKSLASH;
        out[w++] = unit;
      } else if (unit < 0x20) {
        const short = unit === 8 ? 0x62 : unit === 9 ? 0x74 : unit === 10 ? 0x6e : unit === 12 ? 0x66 : unit === 13 ? 0x72 : 0;
        out[w++] = BACKSLASH;
        if (short !== 0) {
          out[w++] = short;
        } else {
          out[w++] = 0x75;
          out[w++] = ZERO;
          out[w++] = ZERO;
          out[w++] = LOWER_HEX[unit >> 4] ?? 0;
          out[w++] = LOWER_HEX[unit & 15] ?? 0;
        }
      } else if (unit >= 0xd800 && unit <= 0xdfff) {
        out[w++] = BACKSLASH;
        out[w++] = 0x75;
        for (let shift = 12; shift >= 0; shift -= 4) out[w++] = LOWER_HEX[(unit >> shift) & 15] ?? 0;
      } else if (unit < 0x80) {
        out[w++] = unit;
      } else if (unit < 0x800) {
        out[w++] = 0xc0 | (unit >> 6);
        out[w++] = 0x80 | (unit & 0x3f);
      } else {
        out[w++] = 0xe0 | (unit >> 12);
        out[w++] = 0x80 | ((unit >> 6) & 0x3f);
        out[w++] = 0x80 | (unit & 0x3f);
      }
    }
    out[w++] = QUOTE;
    writer.w = w;
  }

  /** A JSON number at p; returns the position after it, or -1. Sets intEnd, plainInteger, hasExponent. */
  private number(p: number): number {
    const src = this.src;
    let i = p;
    if (src[i] === MINUS) i++;
    // (c - ZERO) >>> 0 <= 9: c is a digit (a missing byte, read as 0, is not).
    let c = src[i] ?? 0;
    if (c === ZERO) {
      c = src[++i] ?? 0;
      if ((c - ZERO) >>> 0 <= 9) return -1;
    } else if ((c - ZERO - 1) >>> 0 <= 8) {
      do c = src[++i] ?? 0;
      while ((c - ZERO) >>> 0 <= 9);
    } else {
      return -1;
    }
    this.intEnd = i;
    this.plainInteger = true;
    this.hasExponent = false;
    if (c === DOT) {
      const start = ++i;
      c = src[i] ?? 0;
      while ((c - ZERO) >>> 0 <= 9) c = src[++i] ?? 0;
      if (i === start) return -1;
      this.plainInteger = false;
    }
    if (c === 0x65 || c === 0x45) {
      c = src[++i] ?? 0;
      if (c === PLUS || c === MINUS) c = src[++i] ?? 0;
      const start = i;
      while ((c - ZERO) >>> 0 <= 9) c = src[++i] ?? 0;
      if (i === start) return -1;
      this.plainInteger = false;
      this.hasExponent = true;
    }
    return i;
  }

  // The integer token at p (already known to be -?(0|[1-9][0-9]*)) against the type's limits;
  // digit strings of equal length without leading zeros compare like their values.
  private integerInRange(p: number, max: Uint8Array, min: Uint8Array): boolean {
    const src = this.src;
    const negative = src[p] === MINUS;
    const start = negative ? p + 1 : p;
    const digits = this.intEnd - start;
    if (digits <= 9) return true;
    const limit = negative ? min : max;
    if (digits !== limit.length) return digits < limit.length;
    for (let k = 0; k < digits; k++) {
      const a = src[start + k] ?? 0;
      const b = limit[k] ?? 0;
      if (a !== b) return a < b;
    }
    return true;
  }

  // The value of the two ASCII digits at `at`, or -1.
  private two(at: number): number {
    const src = this.src;
    const tens = (src[at] ?? 0) - ZERO;
    const ones = (src[at + 1] ?? 0) - ZERO;
    return tens >= 0 && tens <= 9 && ones >= 0 && ones <= 9 ? tens * 10 + ones : -1;
  }

  // A four-digit year at `at`, or -1.
  private year(at: number): number {
    const high = this.two(at);
    const low = this.two(at + 2);
    return high < 0 || low < 0 ? -1 : high * 100 + low;
  }

  // The value of `count` ASCII digits at `at`, or -1.
  private digits(at: number, count: number): number {
    const src = this.src;
    let n = 0;
    for (let i = at; i < at + count; i++) {
      const d = (src[i] ?? 0) - ZERO;
      if (!(d >= 0 && d <= 9)) return -1;
      n = n * 10 + d;
    }
    return n;
  }

  // YYYY-M[M]-D[D] between from and to: 0 invalid, 1 valid and already padded, 2 valid unpadded.
  private date(from: number, to: number): number {
    const src = this.src;
    const length = to - from;
    if (length < 8 || length > 10 || src[from + 4] !== MINUS) return 0;
    const year = this.year(from);
    let i = from + 5;
    const monthDigits = src[i + 1] === MINUS ? 1 : 2;
    const month = this.digits(i, monthDigits);
    i += monthDigits;
    if (src[i] !== MINUS) return 0;
    i++;
    const dayDigits = to - i;
    if (dayDigits < 1 || dayDigits > 2) return 0;
    const day = this.digits(i, dayDigits);
    if (!isRealDate(year, month, day)) return 0;
    return monthDigits === 2 && dayDigits === 2 ? 1 : 2;
  }

  private writePaddedDate(from: number, to: number): void {
    const src = this.src;
    const first = from + 1;
    const monthDigits = src[first + 6] === MINUS ? 1 : 2;
    const month = this.digits(first + 5, monthDigits);
    const day = this.digits(first + 6 + monthDigits, to - 1 - (first + 6 + monthDigits));
    this.writer.drop(from, to);
    const out = this.writer.reserve(12);
    let w = this.writer.w;
    out[w++] = QUOTE;
    for (let k = 0; k < 4; k++) out[w++] = src[first + k] ?? 0;
    out[w++] = MINUS;
    out[w++] = ZERO + Math.floor(month / 10);
    out[w++] = ZERO + (month % 10);
    out[w++] = MINUS;
    out[w++] = ZERO + Math.floor(day / 10);
    out[w++] = ZERO + (day % 10);
    out[w++] = QUOTE;
    this.writer.w = w;
  }

  // HH:MM:SS[.f{1,9}] filling [at, to).
  private clock(at: number, to: number): boolean {
    const src = this.src;
    if (to - at < 8 || src[at + 2] !== COLON || src[at + 5] !== COLON) return false;
    if (!isClock(this.two(at), this.two(at + 3), this.two(at + 6))) return false;
    const rest = to - (at + 8);
    if (rest === 0) return true;
    return rest >= 2 && rest <= 10 && src[at + 8] === DOT && this.digits(at + 9, rest - 1) >= 0;
  }

  // YYYY-MM-DDTHH:MM:SS[.f{1,9}] filling [from, to).
  private dateTime(from: number, to: number): boolean {
    const src = this.src;
    return (
      to - from >= 19 &&
      src[from + 4] === MINUS &&
      src[from + 7] === MINUS &&
      src[from + 10] === 0x54 &&
      isRealDate(this.year(from), this.two(from + 5), this.two(from + 8)) &&
      this.clock(from + 11, to)
    );
  }
}
