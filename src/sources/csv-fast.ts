// What the two passes do with each record of the CSV byte path: fold its cells into the schema
// inference, or write it as wire JSON. Cells stay bytes; a cell that is not in a common shape
// (escaped quotes, broken UTF-8, a number spelled unusually) takes the string route of
// values.ts and the serializer, so both paths agree on every value and every error.

import { isUtf8 } from 'node:buffer';

import { InternalError } from '../errors.js';
import { createRowSerializer, jsonString } from '../chunker/serialize.js';
import { ASK_TEXT, classifyBytes, isWireReady } from '../schema/byte-values.js';
import { CELL_MODE } from '../schema/infer.js';
import type { CellFold } from '../schema/infer.js';
import type { RawCell, WireType } from '../schema/types.js';
import { DEFAULT_NULL_TOKENS, VALUE_KIND, classifyValue, createNullTokenTest, normalizeValue } from '../schema/values.js';
import { FIELD_ESCAPED } from './csv-bytes.js';
import type { ByteFields, ByteRecordHandler } from './csv-bytes.js';
import type { EncodedBatch } from './types.js';

/** Tests "these bytes are a null token"; bytes equal to a token's UTF-8 are that token's text. */
export function createByteNullTest(tokens: readonly string[]): (buf: Uint8Array, s: number, e: number) => boolean {
  const byLength: (Buffer[] | undefined)[] = [];
  // Most cells start with a byte no token starts with (a digit, say): one lookup settles them.
  const firstBytes = new Uint8Array(256);
  let empty = false;
  for (const token of tokens) {
    const bytes = Buffer.from(token, 'utf8');
    (byLength[bytes.length] ??= []).push(bytes);
    if (bytes.length === 0) empty = true;
    else firstBytes[bytes[0]!] = 1;
  }
  const maxLength = byLength.length - 1;
  return (buf, s, e) => {
    const n = e - s;
    if (n === 0) return empty;
    if (n > maxLength || firstBytes[buf[s]!] === 0) return false;
    const bucket = byLength[n];
    if (bucket === undefined) return false;
    outer: for (const token of bucket) {
      for (let k = 0; k < n; k++) if (buf[s + k] !== token[k]) continue outer;
      return true;
    }
    return false;
  };
}

/** Reads one cell as text, the way the string tokenizer would have handed it over. */
export function createCellDecoder(quote: string | null): (buf: Buffer, s: number, e: number, flags: number) => string {
  // Not fatal, like the decoder of the string path: broken sequences become U+FFFD the same way.
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  const doubled = quote === null ? '' : quote + quote;
  return (buf, s, e, flags) => {
    const text = isAscii(buf, s, e) ? buf.toString('latin1', s, e) : decoder.decode(buf.subarray(s, e));
    return (flags & FIELD_ESCAPED) !== 0 && quote !== null ? text.replaceAll(doubled, quote) : text;
  };
}

function isAscii(buf: Uint8Array, s: number, e: number): boolean {
  for (let p = s; p < e; p++) if (buf[p]! >= 0x80) return false;
  return true;
}

/** The scan pass's record handler, and what it learnt about each column's cells on the way. */
export interface CsvCellScanner {
  onRecord: ByteRecordHandler;
  /** Per column, the OR of the kinds classifyBytes gave its non-null cells. */
  readonly fastKinds: Int32Array;
  /** Per column, 1 once a non-null cell needed the string route (escapes, odd spellings, UTF-8). */
  readonly slowCells: Uint8Array;
}

/** The scan pass's record handler: folds every cell into `cells`, as SchemaInferrer.add does. */
export function createCsvCellScanner(
  tokenizer: ByteFields,
  cells: CellFold,
  options: { nullTokens?: readonly string[] | undefined; quote: string | null },
): CsvCellScanner {
  const { starts, ends, flags } = tokenizer;
  const modes = cells.modes;
  const width = modes.length;
  const isNullBytes = createByteNullTest(options.nullTokens ?? DEFAULT_NULL_TOKENS);
  const isNullText = createNullTokenTest(options.nullTokens ?? DEFAULT_NULL_TOKENS);
  const decode = createCellDecoder(options.quote);

  // The string route, for cells whose bytes cannot be read directly.
  const foldText = (c: number, text: string, line: number): void => {
    if (isNullText(text)) {
      cells.addNull(c);
      return;
    }
    if (cells.wantsExample(c)) cells.setExample(c, text);
    needsExample[c] = 0;
    const mode = modes[c];
    if (mode === CELL_MODE.SKIP) return;
    const kind = classifyValue(text);
    if (mode === CELL_MODE.INFER) cells.addKind(c, kind);
    else if (!cells.conforms(c, kind)) throw cells.valueError(c, text, line);
  };

  const maxNullBytes = longestUtf8(options.nullTokens ?? DEFAULT_NULL_TOKENS);
  const seen = new Int32Array(width);
  const fastKinds = new Int32Array(width);
  const slowCells = new Uint8Array(width);
  const needsExample = new Uint8Array(width).map((_, c) => (cells.wantsExample(c) ? 1 : 0));
  const onRecord: ByteRecordHandler = (buf, line) => {
    for (let c = 0; c < width; c++) {
      const s = starts[c]!;
      const e = ends[c]!;
      const flag = flags[c]!;
      if ((flag & FIELD_ESCAPED) !== 0) {
        slowCells[c] = 1;
        foldText(c, decode(buf, s, e, flag), line);
        continue;
      }
      if (e - s <= maxNullBytes && isNullBytes(buf, s, e)) {
        cells.addNull(c);
        continue;
      }
      if (needsExample[c] !== 0) {
        cells.setExample(c, decode(buf, s, e, flag));
        needsExample[c] = 0;
      }
      const mode = modes[c];
      if (mode === CELL_MODE.SKIP) continue;
      let kind = classifyBytes(buf, s, e);
      if (kind === ASK_TEXT) {
        slowCells[c] = 1;
        kind = classifyValue(decode(buf, s, e, flag));
      } else {
        fastKinds[c]! |= kind;
      }
      if (mode === CELL_MODE.INFER) {
        // Most cells repeat a kind their column has already seen: nothing to tell the inferrer.
        const before = seen[c]!;
        if ((before | kind) !== before) {
          seen[c] = before | kind;
          cells.addKind(c, kind);
        }
      } else if (!cells.conforms(c, kind)) {
        throw cells.valueError(c, decode(buf, s, e, flag), line);
      }
    }
    cells.addRows(1);
  };
  return { onRecord, fastKinds, slowCells };
}

const { INT32, INT64, FRACTION, BOOL, DATE, DATETIME } = VALUE_KIND;

/**
 * Per column, 1 when every non-null cell the scan saw is already the wire text of `types[c]`, as
 * classifyBytes showed (its kinds imply the canonical spelling): the upload pass may then copy
 * those cells without checking them again. Only sound while the file is the one that was scanned.
 */
export function wireReadyColumns(types: readonly WireType[], fastKinds: Int32Array, slowCells: Uint8Array): Uint8Array {
  return Uint8Array.from(types, (type, c) => {
    if (slowCells[c] !== 0) return 0;
    const kinds = fastKinds[c]!;
    switch (type) {
      case 'INTEGER':
        return (kinds & ~INT32) === 0 ? 1 : 0;
      // The kernel gives INT64 to integers of up to 16 digits, all wire-ready for these two.
      case 'BIGINTEGER':
        return (kinds & ~(INT32 | INT64)) === 0 ? 1 : 0;
      case 'BIGDECIMAL':
        return (kinds & ~(INT32 | INT64 | FRACTION)) === 0 ? 1 : 0;
      case 'DOUBLE':
        return (kinds & ~(INT32 | FRACTION)) === 0 ? 1 : 0;
      case 'BOOL':
        return (kinds & ~BOOL) === 0 ? 1 : 0;
      case 'DATE':
        return (kinds & ~DATE) === 0 ? 1 : 0;
      case 'DATETIME':
        return (kinds & ~DATETIME) === 0 ? 1 : 0;
      default:
        return 0;
    }
  });
}

function longestUtf8(tokens: readonly string[]): number {
  return tokens.reduce((max, token) => Math.max(max, Buffer.byteLength(token, 'utf8')), 0);
}

/**
 * Whether the byte path reads these null tokens exactly as the string path does. A token holding
 * the quote character or U+FFFD could match a cell whose bytes differ from the token's.
 */
export function byteNullTokensSupported(tokens: readonly string[], quote: string | null): boolean {
  return tokens.every((token) => !token.includes('\uFFFD') && (quote === null || !token.includes(quote)));
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const HEX = '0123456789abcdef';
// JSON.stringify's short escapes; other control characters become \u00XX.
const SHORT_ESCAPES: Readonly<Record<number, number>> = { 8: 0x62, 9: 0x74, 10: 0x6e, 12: 0x66, 13: 0x72 };

function isQuotedOnWire(type: WireType): boolean {
  return type === 'STRING' || type === 'DATE' || type === 'TIME' || type === 'DATETIME';
}

/**
 * The upload pass's record handler: appends each record as a JSON row array, byte for byte what
 * createRowSerializer writes for the same cells, and fails on the same values in the same way.
 */
export class CsvRowEncoder {
  readonly #tokenizer: ByteFields;
  readonly #types: readonly WireType[];
  readonly #quoted: boolean[];
  readonly #isNullBytes: (buf: Uint8Array, s: number, e: number) => boolean;
  readonly #maxNullBytes: number;
  readonly #quoteByte: number;
  readonly #wireReady: Uint8Array;
  readonly #isNullText: (text: string) => boolean;
  readonly #decode: (buf: Buffer, s: number, e: number, flags: number) => string;
  readonly #serialize: ReturnType<typeof createRowSerializer>;
  #out: Buffer;
  #length = 0;
  #rows = 0;
  #rowEnds = new Uint32Array(4096);
  #lines = new Float64Array(4096);
  #skip: number;
  /** The handler to give CsvByteTokenizer.push and end. */
  readonly onRecord: ByteRecordHandler;

  constructor(
    tokenizer: ByteFields,
    columns: readonly { name: string; type: WireType }[],
    options: {
      nullTokens?: readonly string[] | undefined;
      quote: string | null;
      file?: string;
      skipRows?: number;
      /** From wireReadyColumns: columns whose cells the scan proved wire-ready. */
      wireReady?: Uint8Array | undefined;
    },
  ) {
    this.#tokenizer = tokenizer;
    this.#wireReady = options.wireReady ?? new Uint8Array(columns.length);
    this.#types = columns.map((c) => c.type);
    this.#quoted = this.#types.map(isQuotedOnWire);
    const tokens = options.nullTokens ?? DEFAULT_NULL_TOKENS;
    this.#isNullBytes = createByteNullTest(tokens);
    this.#maxNullBytes = longestUtf8(tokens);
    this.#quoteByte = options.quote === null ? -1 : options.quote.charCodeAt(0);
    this.#isNullText = createNullTokenTest(tokens);
    this.#decode = createCellDecoder(options.quote);
    this.#serialize = createRowSerializer(columns, { nullTokens: tokens, ...(options.file === undefined ? {} : { file: options.file }) });
    this.#out = Buffer.allocUnsafeSlow(1 << 22);
    this.#skip = options.skipRows ?? 0;
    this.onRecord = (buf, line) => {
      this.#encode(buf, line);
    };
  }

  /** Rows written since the last takeBatch. */
  get pendingRows(): number {
    return this.#rows;
  }

  /**
   * Hands over the rows written so far. The batch shares this encoder's buffers, so it is valid
   * until the next record is encoded: the chunker copies it first, and no garbage piles up.
   */
  takeBatch(bytesRead: number): EncodedBatch {
    const batch: EncodedBatch = {
      data: this.#out.subarray(0, this.#length),
      rowEnds: this.#rowEnds.subarray(0, this.#rows),
      rows: this.#rows,
      lines: this.#lines.subarray(0, this.#rows),
      bytesRead,
    };
    this.#length = 0;
    this.#rows = 0;
    return batch;
  }

  /**
   * Appends rows encoded elsewhere (the CSV kernel): JSON bytes that already start with a comma
   * when rows are pending, each row's end offset in `data`, and each row's line.
   */
  append(data: Uint8Array, rowEnds: Uint32Array, lines: Float64Array): void {
    this.#ensure(data.length);
    const base = this.#length;
    this.#out.set(data, base);
    this.#length = base + data.length;
    const rows = rowEnds.length;
    while (this.#rows + rows > this.#rowEnds.length) this.#growRows();
    const ends = this.#rowEnds;
    for (let r = 0; r < rows; r++) ends[this.#rows + r] = base + rowEnds[r]!;
    this.#lines.set(lines, this.#rows);
    this.#rows += rows;
  }

  #growRows(): void {
    const ends = new Uint32Array(this.#rowEnds.length * 2);
    ends.set(this.#rowEnds);
    this.#rowEnds = ends;
    const lines = new Float64Array(this.#lines.length * 2);
    lines.set(this.#lines);
    this.#lines = lines;
  }

  #ensure(bytes: number): void {
    if (this.#length + bytes <= this.#out.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.#out.length * 2, this.#length + bytes));
    this.#out.copy(grown, 0, 0, this.#length);
    this.#out = grown;
  }

  #encode(buf: Buffer, line: number): void {
    if (this.#skip > 0) {
      this.#skip--;
      return;
    }
    const { starts, ends, flags } = this.#tokenizer;
    const types = this.#types;
    const quoted = this.#quoted;
    const isNullBytes = this.#isNullBytes;
    const maxNullBytes = this.#maxNullBytes;
    const wireReady = this.#wireReady;
    const width = types.length;
    // Worst case: every byte escaped as \u00XX, plus quotes, commas and nulls.
    this.#ensure(6 * (ends[width - 1]! - starts[0]!) + 8 * width + 4);
    let out = this.#out;
    let o = this.#length;
    if (this.#rows > 0) out[o++] = 0x2c;
    out[o++] = 0x5b;
    for (let c = 0; c < width; c++) {
      if (c !== 0) out[o++] = 0x2c;
      const s = starts[c]!;
      const e = ends[c]!;
      const flag = flags[c]!;
      const type = types[c]!;
      if ((flag & FIELD_ESCAPED) !== 0) {
        const end = type === 'STRING' ? writeJsonStringBytes(out, o, buf, s, e, this.#quoteByte) : -1;
        if (end >= 0) {
          o = end;
        } else {
          o = this.#writeText(c, this.#decode(buf, s, e, flag), o, buf, line);
          out = this.#out;
        }
      } else if (e - s <= maxNullBytes && isNullBytes(buf, s, e)) {
        out[o++] = 0x6e;
        out[o++] = 0x75;
        out[o++] = 0x6c;
        out[o++] = 0x6c;
      } else if (type === 'STRING') {
        const end = writeJsonStringBytes(out, o, buf, s, e, -1);
        if (end >= 0) {
          o = end;
        } else {
          o = this.#writeText(c, this.#decode(buf, s, e, flag), o, buf, line);
          out = this.#out;
        }
      } else if (wireReady[c] !== 0 || isWireReady(type, buf, s, e)) {
        // Cells are short: a loop beats Buffer#copy, whose argument checks cost more than the bytes.
        if (quoted[c]) out[o++] = QUOTE;
        for (let p = s; p < e; p++) out[o++] = buf[p]!;
        if (quoted[c]) out[o++] = QUOTE;
      } else {
        o = this.#writeText(c, this.#decode(buf, s, e, flag), o, buf, line);
        out = this.#out;
      }
    }
    out[o++] = 0x5d;
    this.#length = o;
    this.#pushRow(o, line);
  }

  #pushRow(end: number, line: number): void {
    if (this.#rows === this.#rowEnds.length) this.#growRows();
    this.#rowEnds[this.#rows] = end;
    this.#lines[this.#rows] = line;
    this.#rows++;
  }

  // The string route for one cell: null tokens, normalizeValue and jsonString, as the serializer.
  #writeText(c: number, text: string, o: number, buf: Buffer, line: number): number {
    let wire: string;
    if (this.#isNullText(text)) {
      wire = 'null';
    } else if (this.#types[c] === 'STRING') {
      wire = jsonString(text);
    } else {
      const value = normalizeValue(this.#types[c]!, text);
      if (value === undefined) this.#failRow(buf, line);
      wire = this.#quoted[c] ? `"${value}"` : value;
    }
    const bytes = Buffer.byteLength(wire, 'utf8');
    if (o + bytes > this.#out.length) {
      this.#length = o;
      this.#ensure(bytes);
    }
    return o + this.#out.write(wire, o, 'utf8');
  }

  // Lets the serializer itself reject the row, so the error is exactly the one it gives.
  #failRow(buf: Buffer, line: number): never {
    const { starts, ends, flags } = this.#tokenizer;
    const row: RawCell[] = [];
    for (let c = 0; c < this.#types.length; c++) row.push(this.#decode(buf, starts[c]!, ends[c]!, flags[c]!));
    this.#serialize(row, line);
    throw new InternalError(`the serializer accepted the row at line ${line} that the CSV encoder refused`);
  }
}

/**
 * A JSON string of the cell's bytes, escaped as JSON.stringify escapes the same text; with
 * `unquote`, each doubled quote of a quoted CSV field stands for one. Returns the end offset, or
 * -1 when the bytes are not valid UTF-8 (the caller then takes the string route).
 */
function writeJsonStringBytes(out: Buffer, o: number, buf: Buffer, s: number, e: number, unquote: number): number {
  let high = 0;
  out[o++] = QUOTE;
  for (let p = s; p < e; p++) {
    const b = buf[p]!;
    if (b >= 0x20 && b !== QUOTE && b !== BACKSLASH) {
      out[o++] = b;
      high |= b;
      if (b === unquote) p++;
      continue;
    }
    out[o++] = BACKSLASH;
    if (b === QUOTE || b === BACKSLASH) {
      out[o++] = b;
      if (b === unquote) p++;
      continue;
    }
    const short = SHORT_ESCAPES[b];
    if (short !== undefined) {
      out[o++] = short;
      continue;
    }
    out[o++] = 0x75;
    out[o++] = 0x30;
    out[o++] = 0x30;
    out[o++] = HEX.charCodeAt(b >> 4);
    out[o++] = HEX.charCodeAt(b & 15);
  }
  out[o++] = QUOTE;
  if (high >= 0x80 && !isUtf8(buf.subarray(s, e))) return -1;
  return o;
}
