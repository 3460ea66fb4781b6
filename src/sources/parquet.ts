// Parquet input: the schema comes from the file, and each pass reads one row group at a time with
// hyparquet. Values are turned into exact wire text by parquet-values.ts (decimals digit for
// digit, timestamps to the nanosecond), or straight into wire JSON bytes by parquet-encode.ts for
// the upload pass. The upload and check passes decode one column of a window of rows at a time,
// so their memory follows neither the file nor the row group.

import { open, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';

import { parquetMetadataAsync, parquetScan, parquetSchema } from 'hyparquet';
import type { AsyncBuffer, Compressors, DecodedArray, FileMetaData, ParquetParsers } from 'hyparquet';
import { compressors as bundledCompressors } from 'hyparquet-compressors';
import { getTreePath, isFlatColumn } from 'hyparquet/src/schema.js';
import type { ColumnDecoder } from 'hyparquet/src/types.js';

import { createRowSerializer } from '../chunker/serialize.js';
import { InputError, InternalError, UsageError, isMstrPushError } from '../errors.js';
import type { RawCell, WireType } from '../schema/types.js';
import { fileError, messageOf, openInputFile, removeSpool } from './input-file.js';
import { ColumnCells, RowJoiner, WireValueError, canFailCheck, createValueCheck, createValueEncoder, objectValues } from './parquet-encode.js';
import type { ValueCheck, ValueEncoder } from './parquet-encode.js';
import { PageScratch, readFlatColumnRows } from './parquet-pages.js';
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
  /** JSON bytes after which an encoded batch ends (the row that crosses it is the last); default 4 MiB. */
  encodeBatchBytes?: number | undefined;
  /**
   * Most rows of a row group the upload and check passes decode at once, rounded down to whole
   * batches of `batchRows`; default 131,072, fewer where the row group's columns are wide.
   */
  windowRows?: number | undefined;
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
// A batch is copied into its chunk at once, so its buffer only adds to the memory of a push.
const DEFAULT_ENCODE_BATCH_BYTES = 4 * 1024 * 1024;
// A window of rows is decoded column by column, and the JSON cells of all its columns are held
// until they are joined into rows: about 100 bytes a row for ten columns. A window inside a row
// group re-reads the compressed chunk and decodes again the page it starts in. With pages of
// the usual 1 MB that is little; where a writer puts a whole row group in one page per column,
// 131,072 rows keep the cells near 13 MB, and decoding such a page four times costs little
// next to encoding its values.
const DEFAULT_WINDOW_ROWS = 1 << 17;
// Stored (uncompressed) column bytes per window, so wide values get fewer rows at once.
const WINDOW_BYTES = 64 * 1024 * 1024;

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
export const RAW_PARSERS: ParquetParsers = {
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
export const COMPRESSORS: Compressors = {
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
  private readonly decoders = new Map<string, Omit<ColumnDecoder, 'type' | 'codec'>>();
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
   * The upload pass without strings. Each window of a row group is decoded one column at a time,
   * and each column is written as wire JSON cells (ColumnCells) before the next is decoded; then
   * the cells are joined into rows. Row groups and rows within skipRows are not even decoded.
   */
  async *encodedBatches(options: EncodeOptions, signal?: AbortSignal): AsyncGenerator<EncodedBatch> {
    signal?.throwIfAborted();
    const { columns, spans } = this.init;
    const types = this.checkTypes(options.types);
    const skipRows = options.skipRows ?? 0;
    const nonFinite = new Array<number>(columns.length).fill(0);
    const encoders = columns.map((c, i) => createValueEncoder(c.read, types[i]!, c.wireType, () => nonFinite[i]!++));
    const target = this.init.options.encodeBatchBytes ?? DEFAULT_ENCODE_BATCH_BYTES;
    const joiner = new RowJoiner(Math.min(target, 1 << 20) + 4096);
    const cells = columns.map(() => new ColumnCells());
    // The read buffers of every column in turn: each column is written to cells before the next is read.
    const scratch = new PageScratch();
    const handle = await openFile(this.init.filePath, this.displayName);
    try {
      let bytesBefore = 0;
      const last = spans.length - 1;
      for (const span of spans) {
        signal?.throwIfAborted();
        const bytesAfter = Math.max(bytesBefore, span.index === last ? this.totalBytes : span.endByte);
        const progress = (row: number): number => Math.round(bytesBefore + ((bytesAfter - bytesBefore) * row) / span.rows);
        const windowRows = this.windowRows(span, this.columns);
        let from = Math.max(0, skipRows - span.start);
        while (from < span.rows) {
          const end = Math.min(span.rows, from - (from % windowRows) + windowRows);
          const { stop, failure } = await this.encodeWindow(handle, span, from, end, encoders, cells, scratch, signal);
          // Rows before a failing value still go out in the batches they complete, as they would row by row.
          let cell = 0;
          while (cell < stop - from) {
            cell = joiner.append(cells, stop - from, span.start + from + 1, target);
            if (joiner.out.pos >= target) {
              signal?.throwIfAborted();
              yield joiner.take(progress(from + cell));
            }
          }
          if (failure !== undefined) throw await this.encodeError(failure, handle, span, scratch, { types, nullTokens: options.nullTokens });
          from = end;
        }
        if (joiner.rows > 0) {
          signal?.throwIfAborted();
          yield joiner.take(progress(span.rows));
        }
        bytesBefore = bytesAfter;
      }
      this.warnOnce(nonFinite, columns.map((_, i) => i));
    } finally {
      await handle.close().catch(() => {});
    }
  }

  /**
   * Encodes rows [from, end) of a row group into `cells`, a column at a time, up to the first
   * value in row order that fails. Every column of the window is decoded even after a failure,
   * so a damaged column chunk is reported first, as when the whole group was decoded at once.
   */
  private async encodeWindow(
    handle: FileHandle,
    span: RowGroupSpan,
    from: number,
    end: number,
    encoders: readonly ValueEncoder[],
    cells: readonly ColumnCells[],
    scratch: PageScratch,
    signal: AbortSignal | undefined,
  ): Promise<{ stop: number; failure: CellFailure | undefined }> {
    let stop = end;
    let failure: CellFailure | undefined;
    for (let c = 0; c < encoders.length; c++) {
      signal?.throwIfAborted();
      let values: DecodedArray | undefined = await this.readColumnRows(handle, span, this.columns[c]!, from, end, scratch);
      const column = cells[c]!;
      // Cells at or after an earlier column's failure cannot fail first, so they are not written.
      if (column.encode(encoders[c]!, values, stop - from) < stop - from) {
        stop = from + column.count;
        failure = { row: stop, column: c, error: column.failure };
      }
      values = undefined;
    }
    return { stop, failure };
  }

  columnsToCheck(types: readonly WireType[]): string[] {
    return this.columnsThatCanFail(types).map((i) => this.columns[i]!);
  }

  /**
   * The lean scan: reads only the columns whose values can fail their types, one column of a
   * window of rows at a time, and finds the same first bad value as the inference pass over
   * batches() would.
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
    // The read buffers of every column in turn: each column is checked before the next is read.
    const scratch = new PageScratch();
    const handle = await openFile(this.init.filePath, this.displayName);
    try {
      let bytesBefore = 0;
      let rows = 0;
      const last = spans.length - 1;
      for (const span of spans) {
        signal?.throwIfAborted();
        const bytesAfter = Math.max(bytesBefore, span.index === last ? this.totalBytes : span.endByte);
        const windowRows = this.windowRows(span, names);
        for (let from = 0; from < span.rows; from += windowRows) {
          const end = Math.min(from + windowRows, span.rows);
          const found = await this.checkWindow(handle, span, from, end, checks, indexes, names, scratch, signal);
          // Windows are whole batches of batches(): the progress is told batch by batch up to the first bad one.
          const clean = found === undefined ? end : from + found.batch * batchRows;
          for (let to = from; to < clean; ) {
            const batchStart = to;
            to = Math.min(to + batchRows, clean);
            rows += to - batchStart;
            options.onProgress?.({ rows, bytesRead: Math.round(bytesBefore + ((bytesAfter - bytesBefore) * to) / span.rows) });
          }
          if (found !== undefined) {
            if (found.failure !== undefined) throw found.failure;
            return { rows: this.rowCount, columnsRead: names, invalid: found.invalid };
          }
        }
        bytesBefore = bytesAfter;
      }
      this.warnOnce(nonFinite, indexes);
      return { rows, columnsRead: names, invalid: undefined };
    } finally {
      await handle.close().catch(() => {});
    }
  }

  /**
   * Checks rows [from, end) of one row group, a column at a time, and returns the first of its
   * batches (of batches(), `batchRows` rows from the group's start) holding a value that fails,
   * with what the full pass makes of that batch. As for encodeError, a value that cannot become
   * text anywhere in the batch wins over an earlier value whose text does not fit its type.
   */
  private async checkWindow(
    handle: FileHandle,
    span: RowGroupSpan,
    from: number,
    end: number,
    checks: readonly ValueCheck[],
    indexes: readonly number[],
    names: readonly string[],
    scratch: PageScratch,
    signal: AbortSignal | undefined,
  ): Promise<{ batch: number; failure: unknown; invalid: InvalidValue | undefined } | undefined> {
    const batchRows = this.batchRows;
    let first = Infinity;
    const found: Array<ColumnCheck | undefined> = [];
    for (let k = 0; k < checks.length; k++) {
      signal?.throwIfAborted();
      let values: DecodedArray | undefined = await this.readColumnRows(handle, span, names[k]!, from, end, scratch);
      // Values (bytes) already found to fit, when they are objects that repeat; see ColumnCells.
      const fitting = objectValues(values, values.length) ? new Set<unknown>() : undefined;
      // Batches after one that already failed in an earlier column need no look.
      for (let batch = 0, start = 0; start < values.length && batch <= first; batch++, start += batchRows) {
        const result = checkColumn(checks[k]!, values, start, Math.min(start + batchRows, values.length), fitting);
        if (result !== undefined) {
          found[k] = { ...result, batch };
          first = batch;
          break;
        }
      }
      values = undefined;
    }
    if (first === Infinity) return undefined;
    // Row by row, then column by column, within the first failing batch; the full pass stops at
    // once at an unexpected error, and at a value that cannot become text after the batch.
    let bad: { row: number; k: number; text: string } | undefined;
    let failed: { row: number; k: number; error: unknown } | undefined;
    for (let k = 0; k < checks.length; k++) {
      const result = found[k];
      if (result === undefined || result.batch !== first) continue;
      if (result.failure !== undefined && !(result.failure instanceof ParquetValueError)) return { batch: first, failure: result.failure, invalid: undefined };
      if (result.failure !== undefined && (failed === undefined || result.failRow < failed.row)) failed = { row: result.failRow, k, error: result.failure };
      if (result.badRow >= 0 && (bad === undefined || result.badRow < bad.row)) bad = { row: result.badRow, k, text: result.badText };
    }
    if (failed !== undefined) {
      return { batch: first, failure: this.valueError(failed.error as ParquetValueError, indexes[failed.k]!, span.start + from + failed.row + 1), invalid: undefined };
    }
    return { batch: first, failure: undefined, invalid: { column: indexes[bad!.k]!, line: span.start + from + bad!.row + 1, text: bad!.text } };
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

  /** Rows [from, end) of one column of a row group, read from its column chunk page by page (parquet-pages.ts). */
  private async readColumnRows(handle: FileHandle, span: RowGroupSpan, column: string, from: number, end: number, scratch: PageScratch): Promise<DecodedArray> {
    let values: DecodedArray;
    try {
      const meta = this.init.metadata.row_groups[span.index]!.columns.find((chunk) => chunk.meta_data?.path_in_schema[0] === column);
      if (meta?.file_path) throw new Error('parquet file_path not supported');
      if (meta?.meta_data === undefined) throw new Error('parquet column metadata is undefined');
      const chunkMeta = meta.meta_data;
      const start = Number(chunkMeta.dictionary_page_offset || chunkMeta.data_page_offset);
      const bytes = await readRange(handle, start, Math.min(start + Number(chunkMeta.total_compressed_size), this.totalBytes), scratch);
      values = readFlatColumnRows(bytes, { ...this.decoderBase(column), ...chunkMeta }, from, end, scratch);
    } catch (err) {
      throw damaged(err, this.displayName, `column ${JSON.stringify(column)} in row group ${span.index + 1}`);
    }
    if (values.length !== end - from) {
      // Every earlier window was whole, so the column ends where this part of it does.
      throw this.shortColumn(column, from + values.length, span);
    }
    return values;
  }

  /** What the page functions need to know of a column besides its chunk's metadata, as the library's row group reader gives them. */
  private decoderBase(column: string): Omit<ColumnDecoder, 'type' | 'codec'> {
    let base = this.decoders.get(column);
    if (base === undefined) {
      const schemaPath = getTreePath(parquetSchema(this.init.metadata), [column]);
      // The loaded columns are flat (parquet-schema.ts refuses the others); the page reader reads only those.
      if (!isFlatColumn(schemaPath)) throw new InternalError(`column ${JSON.stringify(column)} is not flat`);
      base = { pathInSchema: [column], element: schemaPath[schemaPath.length - 1]!.element, schemaPath, parsers: RAW_PARSERS, compressors: COMPRESSORS, utf8: false };
      this.decoders.set(column, base);
    }
    return base;
  }

  /** Rows of `span` to decode at once for `columns`: whole batches, fewer for wide columns. */
  private windowRows(span: RowGroupSpan, columns: readonly string[]): number {
    const wanted = new Set(columns);
    let bytes = 0;
    for (const chunk of this.init.metadata.row_groups[span.index]!.columns) {
      const meta = chunk.meta_data;
      if (meta !== undefined && wanted.has(meta.path_in_schema[0]!)) bytes += Number(meta.total_uncompressed_size);
    }
    const rows = Math.min(this.init.options.windowRows ?? DEFAULT_WINDOW_ROWS, Math.floor(WINDOW_BYTES / Math.max(1, bytes / Math.max(1, span.rows))));
    return Math.max(1, Math.floor(rows / this.batchRows)) * this.batchRows;
  }

  private shortColumn(column: string, values: number, span: RowGroupSpan): InputError {
    // A short column would shift every later value into the wrong row, so it is an error.
    return new InputError('INPUT_READ', `column ${JSON.stringify(column)} holds ${values} values in row group ${span.index + 1}, which has ${span.rows} rows`, {
      location: { file: this.displayName, column },
      hint: 'the file is damaged',
    });
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
      if (values.length !== span.rows) throw this.shortColumn(column, values.length, span);
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

  /**
   * The error the batches() + serializer path stops at for the first failing cell in row order.
   * batches() converts a whole batch of rows to text before the serializer sees the first of
   * them, so a value that cannot become text later in that batch wins over a value the serializer
   * refuses; and the serializer words its own refusal. The rest of the batch is decoded again
   * for that look, a column at a time: only a failing load pays for it.
   */
  private async encodeError(failure: CellFailure, handle: FileHandle, span: RowGroupSpan, scratch: PageScratch, context: { types: readonly WireType[]; nullTokens: readonly string[] }): Promise<unknown> {
    const { row: r, column: c, error: err } = failure;
    if (err instanceof ParquetValueError) return this.valueError(err, c, span.start + r + 1);
    if (!(err instanceof WireValueError)) return err;
    const batchEnd = Math.min(span.rows, (Math.floor(r / this.batchRows) + 1) * this.batchRows);
    let later: CellFailure | undefined;
    for (let k = 0; k < this.columns.length; k++) {
      // Columns after the failing one from its row, the others from the next; and only rows
      // before a failure already found in an earlier column could come first.
      const first = k > c ? r : r + 1;
      const end = later === undefined ? batchEnd : later.row;
      if (first >= end) continue;
      const values = await this.readColumnRows(handle, span, this.columns[k]!, first, end, scratch);
      const convert = createCellConverter(this.init.columns[k]!.read);
      for (let i = 0; i < values.length; i++) {
        const value: unknown = values[i];
        if (value === null || value === undefined) continue;
        try {
          convert(value);
        } catch (error) {
          later = { row: first + i, column: k, error };
          break;
        }
      }
    }
    if (later !== undefined) return later.error instanceof ParquetValueError ? this.valueError(later.error, later.column, span.start + later.row + 1) : later.error;
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

/** The first cell in row order whose encoder threw: its row in the row group, its column, what it threw. */
interface CellFailure {
  row: number;
  column: number;
  error: unknown;
}

/** The first value of one column's batch that fails its check (badRow) or throws (failRow), -1 for none. */
interface ColumnCheck {
  batch: number;
  badRow: number;
  badText: string;
  failRow: number;
  failure: unknown;
}

/** Distinct fitting values a check remembers per column and window. */
const DISTINCT_FITTING = 4096;

/**
 * Checks values[from..to) and returns its first value whose text does not fit, and the first
 * value that throws (the check goes no further), or undefined when all fit.
 */
function checkColumn(check: ValueCheck, values: DecodedArray, from: number, to: number, fitting: Set<unknown> | undefined): Omit<ColumnCheck, 'batch'> | undefined {
  let badRow = -1;
  let badText = '';
  let r = from;
  try {
    for (; r < to; r++) {
      const value: unknown = values[r];
      if (value === null || value === undefined) continue;
      if (fitting !== undefined) {
        if (fitting.has(value)) continue;
        const text = check(value);
        if (text === undefined) {
          if (fitting.size < DISTINCT_FITTING) fitting.add(value);
        } else if (badRow < 0) {
          badRow = r;
          badText = text;
        }
        continue;
      }
      const text = check(value);
      if (text !== undefined && badRow < 0) {
        badRow = r;
        badText = text;
      }
    }
  } catch (err) {
    return { badRow, badText, failRow: r, failure: err };
  }
  return badRow < 0 ? undefined : { badRow, badText, failRow: -1, failure: undefined };
}

/** Reads byte ranges through one open handle; the library asks for the footer and then whole column chunks. */
function fileBuffer(handle: FileHandle, size: number): AsyncBuffer {
  return {
    byteLength: size,
    async slice(start: number, end?: number): Promise<ArrayBuffer> {
      const stop = Math.min(end ?? size, size);
      const length = Math.max(0, stop - start);
      // Not zeroed first: every byte is read into it, or the read throws.
      const buffer = Buffer.allocUnsafeSlow(length).buffer as ArrayBuffer;
      await readFully(handle, new Uint8Array(buffer), start);
      return buffer;
    },
  };
}

/** Bytes [start, stop) of the file, in the scratch's reused buffer: good until its next read. */
async function readRange(handle: FileHandle, start: number, stop: number, scratch: PageScratch): Promise<Uint8Array> {
  const bytes = scratch.bytesFor(Math.max(0, stop - start));
  await readFully(handle, bytes, start);
  return bytes;
}

/** Fills `target` with the file's bytes from `start` on; throws when the file ends first. */
async function readFully(handle: FileHandle, target: Uint8Array, start: number): Promise<void> {
  let done = 0;
  while (done < target.length) {
    const { bytesRead } = await handle.read(target, done, target.length - done, start + done);
    if (bytesRead === 0) throw new Error(`the file ends at byte ${start + done}, before byte ${start + target.length}`);
    done += bytesRead;
  }
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

