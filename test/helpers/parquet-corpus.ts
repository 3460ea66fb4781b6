// The apache/parquet-testing corpus and what each file must give: fixtures/parquet/corpus-expected.json
// (an independent DuckDB reading, see make-corpus-expected.mjs) and the corpus's own _expect.csv files.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { repoRoot, sharedDir } from './cli.js';

export const corpusDataDir = path.join(sharedDir, 'corpus', 'parquet-testing', 'data');
export const corpusBadDir = path.join(sharedDir, 'corpus', 'parquet-testing', 'bad_data');

export type Cell = string | null;

export interface CorpusEntry {
  file: string;
  /** Columns refused by default (nested, binary), or 'all' when nothing flat is left. */
  refused: string[] | 'all';
  /** The options that load the rest. */
  wayOut?: { exclude?: string[]; binaryAsString?: boolean };
  /** The way out fails too, with this error. */
  wayOutError?: { code: string };
  /** Reading stops at this row with this error; the rows before it are checked. */
  valueError?: { code: string; line: number; column: string };
  reference?: {
    source: string;
    columns: string[];
    duckdbTypes: string[];
    rowCount: number;
    columnDigests?: string[];
    rows?: Cell[][];
    head?: Cell[][];
  };
}

export function corpusEntries(): CorpusEntry[] {
  const text = readFileSync(path.join(repoRoot, 'fixtures', 'parquet', 'corpus-expected.json'), 'utf8');
  return (JSON.parse(text) as { files: CorpusEntry[] }).files;
}

/** The wire type mstrpush must declare for a column DuckDB reads as `duckdbType`. */
export function wireTypeOf(duckdbType: string): string {
  if (/^(TINYINT|SMALLINT|INTEGER|UTINYINT|USMALLINT)$/.test(duckdbType)) return 'INTEGER';
  if (/^(UINTEGER|BIGINT)$/.test(duckdbType)) return 'BIGINTEGER';
  if (/^(UBIGINT|HUGEINT|DECIMAL)/.test(duckdbType)) return 'BIGDECIMAL';
  if (/^(FLOAT|DOUBLE)$/.test(duckdbType)) return 'DOUBLE';
  if (duckdbType === 'BOOLEAN') return 'BOOL';
  if (duckdbType === 'DATE') return 'DATE';
  if (duckdbType.startsWith('TIMESTAMP')) return 'DATETIME';
  if (duckdbType.startsWith('TIME')) return 'TIME';
  return 'STRING';
}

/** The first 16 hex digits of SHA-256 over the JSON of a column's cells, as the fixture stores them. */
export function columnDigest(cells: readonly Cell[]): string {
  return createHash('sha256').update(JSON.stringify(cells)).digest('hex').slice(0, 16);
}

/** An `_expect.csv` of the corpus: quoted fields are text, an unquoted empty field is NULL. */
export function readExpectCsv(parquetFile: string): Cell[][] {
  const csv = readFileSync(path.join(corpusDataDir, parquetFile.replace(/\.parquet$/, '_expect.csv')), 'utf8');
  const records = parse(csv, {
    cast: (value: string, context: { quoting: boolean }) => (value === '' && !context.quoting ? null : value),
  }) as Cell[][];
  return records.slice(1);
}

/**
 * Where `rows` (as read or as published) differ from the reference, in words; empty when equal.
 * Compares the whole table where the fixture has it, else per-column digests and the first rows.
 */
export function differences(entry: CorpusEntry, columns: readonly string[], types: readonly string[], rows: readonly Cell[][]): string[] {
  const ref = entry.reference;
  if (ref === undefined) return ['the fixture has no reference for this file'];
  const found: string[] = [];
  if (JSON.stringify(columns) !== JSON.stringify(ref.columns)) found.push(`columns ${JSON.stringify(columns)}, expected ${JSON.stringify(ref.columns)}`);
  const wantTypes = ref.duckdbTypes.map(wireTypeOf);
  if (JSON.stringify(types) !== JSON.stringify(wantTypes)) found.push(`types ${JSON.stringify(types)}, expected ${JSON.stringify(wantTypes)}`);
  if (rows.length !== ref.rowCount) found.push(`${rows.length} rows, expected ${ref.rowCount}`);
  if (ref.source === 'expect.csv') {
    const want = readExpectCsv(entry.file);
    const at = rows.findIndex((row, r) => JSON.stringify(row) !== JSON.stringify(want[r]));
    if (at >= 0) found.push(`row ${at + 1}: ${JSON.stringify(rows[at])}, the _expect.csv has ${JSON.stringify(want[at])}`);
    return found;
  }
  const whole = ref.rows;
  if (whole !== undefined) {
    const at = rows.findIndex((row, r) => JSON.stringify(row) !== JSON.stringify(whole[r]));
    if (at >= 0) found.push(`row ${at + 1}: ${JSON.stringify(rows[at])}, expected ${JSON.stringify(whole[at])}`);
  }
  (ref.head ?? []).forEach((want, r) => {
    if (JSON.stringify(rows[r]) !== JSON.stringify(want)) found.push(`row ${r + 1}: ${JSON.stringify(rows[r])}, expected ${JSON.stringify(want)}`);
  });
  (ref.columnDigests ?? []).forEach((digest, c) => {
    const got = columnDigest(rows.map((row) => row[c] ?? null));
    if (got !== digest) found.push(`column ${JSON.stringify(ref.columns[c])}: digest ${got}, expected ${digest}`);
  });
  return found;
}
