// What every input format hands to the pipeline: batches of rows, re-readable from the start.

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
