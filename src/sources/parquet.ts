// Parquet input: the schema comes from the file, and each pass reads one row group at a time with
// hyparquet, so memory follows the largest row group and not the file. Values are turned into
// exact wire text by parquet-values.ts (decimals digit for digit, timestamps to the nanosecond),
// or straight into wire JSON bytes by parquet-encode.ts for the upload pass.

import { open, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';

import { parquetMetadataAsync, parquetScan, parquetSchema } from 'hyparquet';
import type { AsyncBuffer, Compressors, DecodedArray, FileMetaData, ParquetParsers } from 'hyparquet';
import { compressors as bundledCompressors } from 'hyparquet-compressors';

import { createRowSerializer } from '../chunker/serialize.js';
import { InputError, InternalError, UsageError, isMstrPushError } from '../errors.js';
import type { RawCell, WireType } from '../schema/types.js';
import { fileError, messageOf, openInputFile, removeSpool } from './input-file.js';
import { JsonOutput, WireValueError, canFailCheck, createValueCheck, createValueEncoder } from './parquet-encode.js';
import type { ValueCheck, ValueEncoder } from './parquet-encode.js';
import { planParquetColumns } from './parquet-schema.js';
import type { ParquetColumnPlan, RefusedParquetColumn } from './parquet-schema.js';
import { ParquetValueError, createCellConverter } from './parquet-values.js';
import type { ParquetCellConverter } from './parquet-values.js';
import { duplicateNames, nullTokensFor } from './types.js';
import type { EncodeOptions, EncodedBatch, InvalidValue, RowBatch, TableSource, ValueCheckOptions, ValueCheckResult } from './types.js';

export interface ParquetSourceOptions {
  /** What messages call the input; defaults to the path, or `stdin` for `-`. */
  displayName?: string | undefined;
  /** Columns to leave out (`--exclude`); every name must be a column of the file unless `unknownExclude` is 'ignore'. */
  exclude?: readonly string[] | undefined;
  /** What an `exclude` name that is not a column of this file does: a UsageError (default), or nothing (for a name meant for another input). */
  unknownExclude?: 'error' | 'ignore' | undefined;
  /** Read BYTE_ARRAY columns without a logical type as UTF-8 text (`--binary-as-string`) instead of refusing them. */
  binaryAsString?: boolean | undefined;
  /** Read for the path `-`; defaults to process.stdin. */
  stdin?: NodeJS.ReadableStream | undefined;
  /** Rows per batch; default 4096. */
  batchRows?: number | undefined;
  /** JSON bytes after which an encoded batch ends (the row that crosses it is the last); default 16 MiB. */
  encodeBatchBytes?: number | undefined;
  /** Told about values read as NULL because no wire type holds them (NaN, ±Infinity): once per column, after the first whole pass that read it. */
  onWarning?: ((message: string) => void) | undefined;
}

/** A Parquet TableSource: types come from the file, and its values can be checked column by column. */
export interface ParquetTableSource extends TableSource {
  readonly format: 'parquet';
  readonly declaredTypes: readonly WireType[];
  encodedBatches(options: EncodeOptions, signal?: AbortSignal): AsyncIterable<EncodedBatch>;
  columnsToCheck(types: readonly WireType[]): string[];
  checkValues(options: ValueCheckOptions, signal?: AbortSignal): Promise<ValueCheckResult>;
  /** For each loaded column, the file's own type in words (`INT64 TIMESTAMP(MICROS, UTC)`). */
  readonly parquetTypes: readonly string[];
  /** Rows in the file: the sum over its row groups (some writers leave the footer's total at 0). */
  readonly rowCount: number;
  /** Every top-level column of the file, excluded ones too, in file order. */
  readonly fileColumns: readonly string[];
}

const DEFAULT_BATCH_ROWS = 4096;
const DEFAULT_ENCODE_BATCH_BYTES = 16 * 1024 * 1024;

interface RowGroupSpan {
  index: number;
  /** 0-based row index of the group's first row in the file. */
  start: number;
  rows: number;
  /** Byte offset just past the group's column chunks, for progress. */
  endByte: number;
}

// Timestamps, dates and byte arrays stay in their stored form: the library's defaults go through
// Date (milliseconds, a limited range) and a lenient UTF-8 decoder. parquet-values.ts converts them.
const RAW_PARSERS: ParquetParsers = {
  timestampFromMilliseconds: (value) => value,
  timestampFromMicroseconds: (value) => value,
  timestampFromNanoseconds: (value) => value,
  dateFromDays: (value) => value,
  stringFromBytes: (bytes) => bytes,
  jsonFromBytes: (bytes) => bytes,
  geometryFromBytes: (bytes) => bytes,
  geographyFromBytes: (bytes) => bytes,
  uuidFromBytes: (bytes) => bytes,
};

function sizedOutput(codec: string, output: Uint8Array, expected: number): Uint8Array {
  if (output.length !== expected) {
    throw new Error(`${codec} page decompressed to ${output.length} bytes, its header says ${expected}`);
  }
  return output;
}

// Node's zlib is native and faster for GZIP and BROTLI, and maxOutputLength stops a page that
// claims a small size from inflating without bound. An empty page needs no decompressor at all.
const COMPRESSORS: Compressors = {
  ...bundledCompressors,
  GZIP: (input, length) =>
    length === 0 ? new Uint8Array(0) : sizedOutput('GZIP', gunzipSync(input, { maxOutputLength: Math.max(length, 1) }), length),
  BROTLI: (input, length) =>
    length === 0 ? new Uint8Array(0) : sizedOutput('BROTLI', brotliDecompressSync(input, { maxOutputLength: Math.max(length, 1) }), length),
  SNAPPY: (input, length) => (length === 0 ? new Uint8Array(0) : bundledCompressors.SNAPPY!(input, length)),
};

/**
 * Opens a Parquet file (`-` for stdin, spooled to a temporary file) and reads its footer, so the
 * columns and their types are known when the promise resolves. Throws InputError INPUT_NOT_FOUND,
 * INPUT_READ (not Parquet, damaged, encrypted), INPUT_SCHEMA (nested or binary columns that are
 * not excluded, duplicate names), or UsageError for an `exclude` naming no column.
 */
export async function openParquetSource(path: string, options: ParquetSourceOptions = {}): Promise<ParquetTableSource> {
  const { filePath, size, displayName, spoolDir } = await openInputFile(path, {
    displayName: options.displayName,
    stdin: options.stdin,
    spoolName: 'stdin.parquet',
    pipeHint: 'pipe data in, for example: cat data.parquet | mstrpush ... - --format parquet',
  });
  try {
    const metadata = await readMetadata(filePath, size, displayName);
    return buildSource(filePath, size, metadata, displayName, options, spoolDir);
  } catch (err) {
    await removeSpool(spoolDir);
    throw err;
  }
}

function buildSource(
  filePath: string,
  size: number,
  metadata: FileMetaData,
  displayName: string,
  options: ParquetSourceOptions,
  spoolDir: string | undefined,
): ParquetSource {
  let decisions;
  try {
    decisions = planParquetColumns(parquetSchema(metadata), { binaryAsString: options.binaryAsString === true });
  } catch (err) {
    throw damaged(err, displayName, 'its schema');
  }
  const fileColumns = decisions.map((d) => d.name);
  checkDuplicates(fileColumns, displayName);

  const exclude = new Set(options.exclude ?? []);
  const unknown = [...exclude].filter((name) => !fileColumns.includes(name));
  if (unknown.length > 0 && options.unknownExclude !== 'ignore') {
    throw new UsageError(`--exclude names ${unknown.map((n) => JSON.stringify(n)).join(', ')}, which ${displayName} does not have`, {
      hint: `its columns: ${fileColumns.join(', ')}`,
    });
  }
  const kept = decisions.filter((d) => !exclude.has(d.name));
  const refused = kept.filter((d): d is RefusedParquetColumn & { refused: true } => d.refused === true);
  if (refused.length > 0) throw refusal(refused, displayName);
  if (fileColumns.length === 0) {
    throw new InputError('INPUT_SCHEMA', 'the file has no columns', { location: { file: displayName } });
  }
  if (kept.length === 0) {
    throw new UsageError(`every column of ${displayName} is excluded`, { hint: 'leave at least one column out of --exclude' });
  }
  const columns = kept as ParquetColumnPlan[];

  const spans = rowGroupSpans(metadata, size, displayName);
  return new ParquetSource({ filePath, size, metadata: withRawDecimals(metadata, columns), columns, spans, displayName, options, spoolDir });
}

function checkDuplicates(names: readonly string[], displayName: string): void {
  const duplicates = duplicateNames(names);
  if (duplicates.length > 0) {
    const list = duplicates.map((n) => JSON.stringify(n)).join(', ');
    throw new InputError('INPUT_SCHEMA', `duplicate column names: ${list}`, {
      location: { file: displayName, value: duplicates.join(', ') },
      hint: 'write the file again with unique column names',
    });
  }
}

const LISTED_COLUMNS = 10;

function refusal(refused: readonly RefusedParquetColumn[], displayName: string): InputError {
  // The message names the first few; the hint lists them all, ready to copy.
  const more = refused.length - LISTED_COLUMNS;
  const list = `${refused
    .slice(0, LISTED_COLUMNS)
    .map((c) => `${JSON.stringify(c.name)} (${c.what})`)
    .join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
  const noun = refused.length === 1 ? 'column' : 'columns';
  const why = refused.every((c) => c.reason === 'nested')
    ? 'nested columns (lists, maps, structs) do not fit a dataset table'
    : refused.every((c) => c.reason === 'binary')
      ? 'raw bytes have no wire type'
      : 'mstrpush loads flat columns of text, numbers, booleans, dates and times only';
  const excludes = refused.map((c) => `--exclude ${/^[\w.-]+$/.test(c.name) ? c.name : JSON.stringify(c.name)}`).join(' ');
  const binaryText = refused.some((c) => c.what === 'BINARY');
  return new InputError('INPUT_SCHEMA', `cannot load ${noun} ${list}: ${why}`, {
    location: { file: displayName, column: refused[0]!.name },
    hint: `leave ${refused.length === 1 ? 'it' : 'them'} out with ${excludes}${
      binaryText ? '; or, if a BINARY column holds text, read it as UTF-8 with --binary-as-string' : ''
    }`,
  });
}

function rowGroupSpans(metadata: FileMetaData, size: number, displayName: string): RowGroupSpan[] {
  const spans: RowGroupSpan[] = [];
  let start = 0;
  metadata.row_groups.forEach((group, index) => {
    const rows = Number(group.num_rows);
    if (!Number.isSafeInteger(rows) || rows < 0) {
      throw new InputError('INPUT_READ', `row group ${index + 1} declares ${group.num_rows} rows`, {
        location: { file: displayName },
        hint: 'the file footer is damaged',
      });
    }
    let endByte = 0;
    for (const chunk of group.columns) {
      const meta = chunk.meta_data;
      if (meta === undefined) continue;
      const first = meta.dictionary_page_offset !== undefined && meta.dictionary_page_offset > 0n ? meta.dictionary_page_offset : meta.data_page_offset;
      endByte = Math.max(endByte, Number(first + meta.total_compressed_size));
    }
    spans.push({ index, start, rows, endByte: Math.min(endByte, size) });
    start += rows;
  });
  return spans;
}

/**
 * The library turns DECIMAL into a double, which loses digits. With the annotation taken off its
 * copy of the schema it hands over the stored integer or big-endian bytes instead, and the column
 * plan (made from the untouched schema) supplies the scale.
 */
function withRawDecimals(metadata: FileMetaData, columns: readonly ParquetColumnPlan[]): FileMetaData {
  const raw = new Set(columns.filter((c) => c.rawDecimal).map((c) => c.name));
  if (raw.size === 0) return metadata;
  const schema = [...metadata.schema];
  // The schema is a flat pre-order list: a top-level column sits after the whole subtree of the previous one.
  let index = 1;
  for (const child of parquetSchema(metadata).children) {
    if (raw.has(child.element.name) && child.children.length === 0) {
      const { converted_type: _converted, logical_type: _logical, ...plain } = child.element;
      schema[index] = plain;
    }
    index += child.count;
  }
  return { ...metadata, schema };
}

interface ParquetSourceInit {
  filePath: string;
  size: number;
  metadata: FileMetaData;
  columns: readonly ParquetColumnPlan[];
  spans: readonly RowGroupSpan[];
  displayName: string;
  options: ParquetSourceOptions;
  spoolDir: string | undefined;
}

class ParquetSource implements ParquetTableSource {
  readonly format = 'parquet' as const;
  readonly displayName: string;
  readonly totalBytes: number;
  readonly columns: readonly string[];
  readonly declaredTypes: readonly WireType[];
  readonly parquetTypes: readonly string[];
  readonly rowCount: number;
  readonly fileColumns: readonly string[];
  private readonly init: ParquetSourceInit;
  private spoolDir: string | undefined;
  /** Per column: whether a whole pass already told about its NaN and infinite values. */
  private readonly warned: boolean[];

  constructor(init: ParquetSourceInit) {
    this.init = init;
    this.displayName = init.displayName;
    this.totalBytes = init.size;
    this.columns = init.columns.map((c) => c.name);
    this.declaredTypes = init.columns.map((c) => c.wireType);
    this.parquetTypes = init.columns.map((c) => c.parquetType);
    this.rowCount = init.spans.reduce((sum, span) => sum + span.rows, 0);
    this.fileColumns = parquetSchema(init.metadata).children.map((c) => c.element.name);
    this.spoolDir = init.spoolDir;
    this.warned = init.columns.map(() => false);
  }

  private get batchRows(): number {
    return this.init.options.batchRows ?? DEFAULT_BATCH_ROWS;
  }

  async *batches(signal?: AbortSignal): AsyncGenerator<RowBatch> {
    signal?.throwIfAborted();
    const { columns, spans } = this.init;
    const batchRows = this.batchRows;
    const width = columns.length;
    const nonFinite = new Array<number>(width).fill(0);
    const converters: ParquetCellConverter[] = columns.map((c, i) => createCellConverter(c.read, () => nonFinite[i]!++));
    const handle = await openFile(this.init.filePath, this.displayName);
    try {
      const scan = await this.prepareScan(handle, this.columns);
      let bytesBefore = 0;
      const last = spans.length - 1;
      for (const span of spans) {
        signal?.throwIfAborted();
        if (span.rows === 0) continue;
        const data = await this.readRowGroup(scan, span, this.columns);
        signal?.throwIfAborted();
        const bytesAfter = Math.max(bytesBefore, span.index === last ? this.totalBytes : span.endByte);
        for (let from = 0; from < span.rows; from += batchRows) {
          const to = Math.min(from + batchRows, span.rows);
          const rows = this.convertRows(data, converters, span, from, to);
          const lines = Array.from({ length: to - from }, (_, k) => span.start + from + k + 1);
          const bytesRead = Math.round(bytesBefore + ((bytesAfter - bytesBefore) * to) / span.rows);
          signal?.throwIfAborted();
          yield { rows, lines, bytesRead };
        }
        bytesBefore = bytesAfter;
      }
      this.warnOnce(nonFinite, columns.map((_, i) => i));
    } finally {
      await handle.close().catch(() => {});
    }
  }

  /**
   * The upload pass without strings: each row group's columns are decoded as for batches(), then
   * every row is written as wire JSON by per-column encoders. Row groups wholly within skipRows
   * are not even decoded.
   */
  async *encodedBatches(options: EncodeOptions, signal?: AbortSignal): AsyncGenerator<EncodedBatch> {
    signal?.throwIfAborted();
    const { columns, spans } = this.init;
    const types = this.checkTypes(options.types);
    const skipRows = options.skipRows ?? 0;
    const nonFinite = new Array<number>(columns.length).fill(0);
    const encoders = columns.map((c, i) => createValueEncoder(c.read, types[i]!, c.wireType, () => nonFinite[i]!++));
    const target = this.init.options.encodeBatchBytes ?? DEFAULT_ENCODE_BATCH_BYTES;
    const out = new JsonOutput(Math.min(target, 1 << 20) + 4096);
    const context: EncodeContext = { encoders, types, nullTokens: options.nullTokens, out, target };
    const handle = await openFile(this.init.filePath, this.displayName);
    try {
      let bytesBefore = 0;
      const last = spans.length - 1;
      for (const span of spans) {
        signal?.throwIfAborted();
        const bytesAfter = Math.max(bytesBefore, span.index === last ? this.totalBytes : span.endByte);
        let from = Math.max(0, skipRows - span.start);
        if (from < span.rows) {
          // A scan per row group: the library caches the columns it decoded last, and a shared
          // scan would keep the previous row group alive while the next one is decoded.
          let data: DecodedArray[] | undefined = await this.readRowGroup(await this.prepareScan(handle, this.columns), span, this.columns);
          signal?.throwIfAborted();
          while (from < span.rows) {
            const batch = this.encodeRows(data, context, span, from);
            from += batch.rows;
            batch.bytesRead = Math.round(bytesBefore + ((bytesAfter - bytesBefore) * from) / span.rows);
            signal?.throwIfAborted();
            yield batch;
          }
          // Dropped before the next row group is read, so two are never held at once.
          data = undefined;
        }
        bytesBefore = bytesAfter;
      }
      this.warnOnce(nonFinite, columns.map((_, i) => i));
    } finally {
      await handle.close().catch(() => {});
    }
  }

  columnsToCheck(types: readonly WireType[]): string[] {
    return this.columnsThatCanFail(types).map((i) => this.columns[i]!);
  }

  /**
   * The lean scan: reads only the columns whose values can fail their types, one row group at a
   * time, and finds the same first bad value as the inference pass over batches() would.
   */
  async checkValues(options: ValueCheckOptions, signal?: AbortSignal): Promise<ValueCheckResult> {
    signal?.throwIfAborted();
    const { columns, spans } = this.init;
    const types = this.checkTypes(options.types);
    const indexes = this.columnsThatCanFail(types);
    const names = indexes.map((i) => this.columns[i]!);
    if (indexes.length === 0) return { rows: this.rowCount, columnsRead: [], invalid: undefined };
    const nonFinite = new Array<number>(columns.length).fill(0);
    const checks = indexes.map((i) => createValueCheck(columns[i]!.read, types[i]!, columns[i]!.wireType, () => nonFinite[i]!++));
    const batchRows = this.batchRows;
    const handle = await openFile(this.init.filePath, this.displayName);
    try {
      const scan = await this.prepareScan(handle, names);
      let bytesBefore = 0;
      let rows = 0;
      const last = spans.length - 1;
      for (const span of spans) {
        signal?.throwIfAborted();
        if (span.rows === 0) continue;
        const data = await this.readRowGroup(scan, span, names);
        signal?.throwIfAborted();
        const bytesAfter = Math.max(bytesBefore, span.index === last ? this.totalBytes : span.endByte);
        for (let from = 0; from < span.rows; from += batchRows) {
          const to = Math.min(from + batchRows, span.rows);
          const invalid = this.checkRows(data, checks, indexes, span, from, to);
          if (invalid !== undefined) return { rows: this.rowCount, columnsRead: names, invalid };
          rows += to - from;
          options.onProgress?.({ rows, bytesRead: Math.round(bytesBefore + ((bytesAfter - bytesBefore) * to) / span.rows) });
        }
        bytesBefore = bytesAfter;
      }
      this.warnOnce(nonFinite, indexes);
      return { rows, columnsRead: names, invalid: undefined };
    } finally {
      await handle.close().catch(() => {});
    }
  }

  async close(): Promise<void> {
    const dir = this.spoolDir;
    this.spoolDir = undefined;
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }

  private checkTypes(types: readonly WireType[]): readonly WireType[] {
    if (types.length !== this.columns.length) {
      throw new InternalError(`${types.length} wire types given for the ${this.columns.length} columns of ${this.displayName}`);
    }
    return types;
  }

  private columnsThatCanFail(types: readonly WireType[]): number[] {
    const { columns } = this.init;
    this.checkTypes(types);
    const indexes: number[] = [];
    columns.forEach((c, i) => {
      if (canFailCheck(c.read, types[i]!, c.wireType)) indexes.push(i);
    });
    return indexes;
  }

  private async prepareScan(handle: FileHandle, columns: readonly string[]): Promise<Awaited<ReturnType<typeof parquetScan>>> {
    try {
      return await parquetScan({
        file: fileBuffer(handle, this.totalBytes),
        metadata: this.init.metadata,
        columns: [...columns],
        compressors: COMPRESSORS,
        parsers: RAW_PARSERS,
        utf8: false,
        geoparquet: false,
        useOffsetIndex: false,
      });
    } catch (err) {
      throw damaged(err, this.displayName, 'its row groups');
    }
  }

  private async readRowGroup(scan: Awaited<ReturnType<typeof parquetScan>>, span: RowGroupSpan, columns: readonly string[]): Promise<DecodedArray[]> {
    const data: DecodedArray[] = [];
    for (const column of columns) {
      let values: DecodedArray;
      try {
        values = await scan.readColumn({ column, rowStart: span.start, rowEnd: span.start + span.rows });
      } catch (err) {
        throw damaged(err, this.displayName, `column ${JSON.stringify(column)} in row group ${span.index + 1}`);
      }
      // A short column would shift every later value into the wrong row, so it is an error.
      if (values.length !== span.rows) {
        throw new InputError('INPUT_READ', `column ${JSON.stringify(column)} holds ${values.length} values in row group ${span.index + 1}, which has ${span.rows} rows`, {
          location: { file: this.displayName, column },
          hint: 'the file is damaged',
        });
      }
      data.push(values);
    }
    return data;
  }

  private convertRows(data: readonly DecodedArray[], converters: readonly ParquetCellConverter[], span: RowGroupSpan, from: number, to: number): RawCell[][] {
    const width = converters.length;
    const rows: RawCell[][] = new Array<RawCell[]>(to - from);
    let r = from;
    let c = 0;
    try {
      for (; r < to; r++) {
        const row = new Array<RawCell>(width);
        for (c = 0; c < width; c++) {
          const value: unknown = data[c]![r];
          row[c] = value === null || value === undefined ? null : converters[c]!(value);
        }
        rows[r - from] = row;
      }
    } catch (err) {
      if (!(err instanceof ParquetValueError)) throw err;
      throw this.valueError(err, c, span.start + r + 1);
    }
    return rows;
  }

  /** Encodes rows from `from` until the row group ends or the batch reaches its byte target. */
  private encodeRows(data: readonly DecodedArray[], context: EncodeContext, span: RowGroupSpan, from: number): EncodedBatch {
    const { encoders, out, target } = context;
    const width = encoders.length;
    let capacity = Math.min(span.rows - from, 8192);
    let rowEnds = new Uint32Array(capacity);
    let lines = new Float64Array(capacity);
    let n = 0;
    let r = from;
    let c = 0;
    out.pos = 0;
    try {
      for (; r < span.rows; r++) {
        // A comma after the previous row, the bracket, and per cell a comma plus `null` at most.
        out.ensure(2);
        if (n > 0) out.buf[out.pos++] = 44;
        out.buf[out.pos++] = 91;
        for (c = 0; c < width; c++) {
          out.ensure(6);
          if (c > 0) out.buf[out.pos++] = 44;
          encoders[c]!(out, data[c]!, r);
        }
        out.ensure(1);
        out.buf[out.pos++] = 93;
        if (n === capacity) {
          capacity *= 2;
          const ends = new Uint32Array(capacity);
          ends.set(rowEnds);
          rowEnds = ends;
          const numbers = new Float64Array(capacity);
          numbers.set(lines);
          lines = numbers;
        }
        rowEnds[n] = out.pos;
        lines[n] = span.start + r + 1;
        n++;
        if (out.pos >= target) {
          r++;
          break;
        }
      }
    } catch (err) {
      throw this.encodeError(err, data, context, span, r, c);
    }
    return { data: out.buf.subarray(0, out.pos), rowEnds, rows: n, lines, bytesRead: 0 };
  }

  /**
   * The error the batches() + serializer path stops at for a failure at row `r`, column `c`.
   * batches() converts a whole batch of rows to text before the serializer sees the first of
   * them, so a value that cannot become text later in that batch wins over a value the serializer
   * refuses; and the serializer words its own refusal.
   */
  private encodeError(err: unknown, data: readonly DecodedArray[], context: EncodeContext, span: RowGroupSpan, r: number, c: number): unknown {
    if (err instanceof ParquetValueError) return this.valueError(err, c, span.start + r + 1);
    if (!(err instanceof WireValueError)) return err;
    const batchEnd = Math.min(span.rows, (Math.floor(r / this.batchRows) + 1) * this.batchRows);
    const converters = this.init.columns.map((column) => createCellConverter(column.read));
    let row = r;
    let column = c + 1;
    try {
      for (; row < batchEnd; row++, column = 0) {
        for (; column < converters.length; column++) {
          const value: unknown = data[column]![row];
          if (value !== null && value !== undefined) converters[column]!(value);
        }
      }
    } catch (later) {
      if (later instanceof ParquetValueError) return this.valueError(later, column, span.start + row + 1);
      return later;
    }
    const name = this.columns[c]!;
    const type = context.types[c]!;
    const serialize = createRowSerializer([{ name, type }], { nullTokens: nullTokensFor(this, context.nullTokens), file: this.displayName });
    try {
      serialize([err.text], span.start + r + 1);
    } catch (refusal) {
      return refusal;
    }
    return new InternalError(`the encoder refused ${JSON.stringify(err.text)} in column ${JSON.stringify(name)}, which the serializer takes as ${type}`);
  }

  /**
   * Checks rows [from, to) of one row group, column by column, and returns the first value (row
   * by row, then column by column) whose text does not fit its type. As for encodeError, these
   * rows are one batch of batches(): a value that cannot become text anywhere in them wins.
   */
  private checkRows(data: readonly DecodedArray[], checks: readonly ValueCheck[], indexes: readonly number[], span: RowGroupSpan, from: number, to: number): InvalidValue | undefined {
    let badRow = -1;
    let badColumn = -1;
    let badText = '';
    let failedRow = -1;
    let failedColumn = -1;
    let failure: ParquetValueError | undefined;
    for (let k = 0; k < checks.length; k++) {
      const check = checks[k]!;
      const values = data[k]!;
      let r = from;
      try {
        for (; r < to; r++) {
          const value: unknown = values[r];
          if (value === null || value === undefined) continue;
          const text = check(value);
          if (text !== undefined && (badRow < 0 || r < badRow)) {
            badRow = r;
            badColumn = indexes[k]!;
            badText = text;
          }
        }
      } catch (err) {
        if (!(err instanceof ParquetValueError)) throw err;
        if (failedRow < 0 || r < failedRow) {
          failedRow = r;
          failedColumn = indexes[k]!;
          failure = err;
        }
      }
    }
    if (failure !== undefined) throw this.valueError(failure, failedColumn, span.start + failedRow + 1);
    return badRow < 0 ? undefined : { column: badColumn, line: span.start + badRow + 1, text: badText };
  }

  private valueError(err: ParquetValueError, c: number, line: number): InputError {
    const column = this.columns[c]!;
    return new InputError('INPUT_VALUE', `column ${JSON.stringify(column)}: ${err.message}`, {
      location: { file: this.displayName, line, column },
      hint: `exclude the column with --exclude ${column}, or fix the file`,
    });
  }

  /** Tells about NaN and infinite values once per column, after the first whole pass that read it. */
  private warnOnce(nonFinite: readonly number[], columnsRead: readonly number[]): void {
    const onWarning = this.init.options.onWarning;
    for (const i of columnsRead) {
      if (this.warned[i]) continue;
      this.warned[i] = true;
      const count = nonFinite[i]!;
      if (count === 0 || onWarning === undefined) continue;
      const values = count === 1 ? 'value was' : 'values were';
      onWarning(`${this.displayName}: column ${JSON.stringify(this.columns[i])}: ${count} NaN or infinite ${values} read as NULL (no wire type holds them)`);
    }
  }
}

interface EncodeContext {
  encoders: readonly ValueEncoder[];
  types: readonly WireType[];
  nullTokens: readonly string[];
  out: JsonOutput;
  target: number;
}

/** Reads byte ranges through one open handle; the library asks for the footer and then whole column chunks. */
function fileBuffer(handle: FileHandle, size: number): AsyncBuffer {
  return {
    byteLength: size,
    async slice(start: number, end?: number): Promise<ArrayBuffer> {
      const stop = Math.min(end ?? size, size);
      const length = Math.max(0, stop - start);
      const buffer = new ArrayBuffer(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(new Uint8Array(buffer, done, length - done), 0, length - done, start + done);
        if (bytesRead === 0) throw new Error(`the file ends at byte ${start + done}, before byte ${stop}`);
        done += bytesRead;
      }
      return buffer;
    },
  };
}

async function openFile(filePath: string, displayName: string): Promise<FileHandle> {
  try {
    return await open(filePath, 'r');
  } catch (err) {
    throw fileError(err, filePath, displayName);
  }
}

async function readMetadata(filePath: string, size: number, displayName: string): Promise<FileMetaData> {
  const handle = await openFile(filePath, displayName);
  try {
    const file = fileBuffer(handle, size);
    if (size >= 4) {
      const tail = Buffer.from(await file.slice(size - 4, size)).toString('latin1');
      if (tail === 'PARE') {
        throw new InputError('INPUT_READ', 'the file is an encrypted Parquet file, which mstrpush cannot read', {
          location: { file: displayName },
          hint: 'decrypt it first, for example by writing it again without encryption',
        });
      }
    }
    return await parquetMetadataAsync(file, { parsers: RAW_PARSERS, geoparquet: false });
  } catch (err) {
    throw damaged(err, displayName, 'its footer');
  } finally {
    await handle.close().catch(() => {});
  }
}

/** Any failure of the library reading `part`: a clear INPUT_READ naming the file, never a bare TypeError. */
function damaged(err: unknown, displayName: string, part: string): unknown {
  if (isMstrPushError(err)) return err;
  const detail = messageOf(err).replace(/^parquet /, '');
  const codec = /unsupported compression codec: (\w+)/.exec(detail)?.[1];
  if (codec !== undefined) {
    return new InputError('INPUT_READ', `the file uses the ${codec} compression codec, which mstrpush cannot read`, {
      location: { file: displayName },
      cause: err,
      hint: 'write it again with SNAPPY, GZIP, ZSTD, BROTLI, LZ4_RAW or no compression',
    });
  }
  const encoding = /unsupported encoding: (\w+)/.exec(detail)?.[1];
  if (encoding !== undefined) {
    return new InputError('INPUT_READ', `the file uses the ${encoding} encoding, which mstrpush cannot read`, {
      location: { file: displayName },
      cause: err,
      hint: 'write it again with the default encodings of your Parquet writer',
    });
  }
  const notParquet = /footer != PAR1|too short|metadata length/.test(detail);
  // The library's own checks say what is wrong; anything else is the engine tripping over bad bytes.
  const own = messageOf(err).startsWith('parquet ');
  const message = notParquet ? `not a Parquet file (${detail})` : own ? `cannot read ${part}: ${detail}` : `cannot read ${part}: the data is damaged (${detail})`;
  return new InputError('INPUT_READ', message, {
    location: { file: displayName },
    cause: err,
    hint: notParquet
      ? 'the file is not Parquet, or it is cut short; for CSV use --format csv'
      : 'the file is damaged or was written in a way mstrpush cannot read; check it with another Parquet reader',
  });
}

