// What every input format hands to the pipeline: batches of rows, re-readable from the start.

import type { SchemaInferrer } from '../schema/infer.js';
import type { RawCell, WireType } from '../schema/types.js';

export interface RowBatch {
  /** Rows in file order; each row has exactly `columns.length` cells (sources pad or reject). */
  rows: RawCell[][];
  /** For each row, the 1-based physical line (CSV) or row number (Parquet) where it starts. */
  lines: number[];
  /** Bytes of the source file consumed so far (compressed bytes for .gz), for progress. */
  bytesRead: number;
}

export type SourceFormat = 'csv' | 'parquet';

/**
 * Rows already in their wire form, for the upload pass: the JSON array text of each row, back to
 * back with one comma between rows and no brackets around them (`[1,"a"],[2,null]`). Rows stay
 * bytes from the file to the chunk, which is what keeps the upload pass cheap.
 */
export interface EncodedBatch {
  /** The rows' JSON text. Valid only until the next batch is asked for: sources may reuse it. */
  data: Buffer;
  /** Per row, the offset in `data` where its text ends (exclusive); the next row starts one byte later. */
  rowEnds: Uint32Array;
  /** How many rows the batch holds (rowEnds may be longer). */
  rows: number;
  /** Per row, the 1-based physical line (CSV) or row number (Parquet) where it starts. */
  lines: Float64Array;
  /** Bytes of the source file consumed so far (compressed bytes for .gz), for progress. */
  bytesRead: number;
}

/** What checkValues checks the values against. */
export interface ValueCheckOptions {
  /** The wire type each column must hold (declared, or overridden), in source order. */
  types: readonly WireType[];
  /** Told the rows checked so far and the progress in the file, as the check goes. */
  onProgress?: ((progress: { rows: number; bytesRead: number }) => void) | undefined;
}

/** A value that is not valid for its column's wire type: the first one in file order. */
export interface InvalidValue {
  /** Index of the column in the source's columns. */
  column: number;
  /** 1-based row number. */
  line: number;
  /** The value's text, as batches() hands it over. */
  text: string;
}

export interface ValueCheckResult {
  /** Rows of the file (from its metadata when no column had to be read). */
  rows: number;
  /** The columns that were read, in source order; empty when no value could fail. */
  columnsRead: readonly string[];
  invalid: InvalidValue | undefined;
}

/** How scanInto reads cells and reports progress. */
export interface ScanIntoOptions {
  /** Texts that mean NULL: the same list the inferrer was made with. */
  nullTokens: readonly string[];
  onProgress(bytesRead: number, rows: number): void;
}

/** What a source needs to know to encode rows for the wire. */
export interface EncodeOptions {
  /** Wire type of each source column, in source order. */
  types: readonly WireType[];
  /** Texts that mean NULL; typed sources ignore them (see nullTokensFor). */
  nullTokens: readonly string[];
  /** Rows to read past without encoding them (resume). */
  skipRows?: number;
}

export interface TableSource {
  /** What error messages call the input: the path, or `stdin`. */
  readonly displayName: string;
  readonly format: SourceFormat;
  /** Size of the input in the unit of `RowBatch.bytesRead`, when known (not for stdin before spooling). */
  readonly totalBytes: number | undefined;
  /** Column names, in file order. */
  readonly columns: readonly string[];
  /** Types the file itself declares (Parquet); undefined where they must be inferred (CSV). */
  readonly declaredTypes: readonly WireType[] | undefined;
  /**
   * A fresh pass over all data rows. May be called more than once (inference pass, then upload
   * pass). Breaking out of the loop or aborting the signal must release the file handle.
   */
  batches(signal?: AbortSignal): AsyncIterable<RowBatch>;
  /**
   * The upload pass: every row in file order as wire JSON, byte for byte what createRowSerializer
   * makes of `batches()`, and failing on the same values with the same errors. Optional: the
   * pipeline falls back to batches() and the serializer.
   */
  encodedBatches?(options: EncodeOptions, signal?: AbortSignal): AsyncIterable<EncodedBatch>;
  /**
   * The scan pass without RowBatches: folds every row into `inferrer` with the same outcome as
   * `inferrer.add` over batches(), calling `onProgress` as bytes are read. Optional.
   */
  scanInto?(inferrer: SchemaInferrer, options: ScanIntoOptions, signal?: AbortSignal): Promise<void>;
  /**
   * For sources with declared types: the columns checkValues would read for these wire types
   * (empty when no value can fail). Optional, together with checkValues.
   */
  columnsToCheck?(types: readonly WireType[]): string[];
  /**
   * The load's check of a source with declared types, without a full pass: only the columns whose
   * values can fail are read. The verdict is the inference pass's over batches(): values that
   * cannot become text throw the same InputError as batches(), and the first value whose text does
   * not fit its type comes back as `invalid`, for the caller to word as the inference pass does.
   */
  checkValues?(options: ValueCheckOptions, signal?: AbortSignal): Promise<ValueCheckResult>;
  /** Releases temporary files (a spooled stdin). Safe to call twice. */
  close(): Promise<void>;
}

/**
 * The text tokens that mean NULL for this source. Typed sources (Parquet) hand over real NULLs,
 * so a string such as "NA" in them is data, never a NULL token.
 */
export function nullTokensFor(source: Pick<TableSource, 'declaredTypes'>, tokens: readonly string[]): readonly string[] {
  return source.declaredTypes ? [] : tokens;
}

/** Names that occur more than once, each listed once, in order of their second occurrence. */
export function duplicateNames(names: readonly string[]): string[] {
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) duplicates.add(name);
    seen.add(name);
  }
  return [...duplicates];
}
