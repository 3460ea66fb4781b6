// The first pass over a table's file: infer (or check) every column's type over all rows, so a
// bad value anywhere is found before anything is sent to the server.

import { InternalError } from '../errors.js';
import { createSchemaInferrer } from '../schema/infer.js';
import type { ColumnSchema, WireType } from '../schema/types.js';
import type { RoleOverrides } from '../schema/roles.js';
import { nullTokensFor } from '../sources/types.js';
import type { TableSource } from '../sources/types.js';
import type { ProgressSink } from './progress.js';

export interface ScanOptions {
  table: string;
  source: TableSource;
  nullTokens: readonly string[];
  /** Types fixed in advance (user overrides, or the existing dataset's types); every value is checked. */
  typeOverrides: ReadonlyMap<string, WireType>;
  roleOverrides: RoleOverrides;
  progress: ProgressSink;
  signal?: AbortSignal;
  /**
   * What the pass is for. `profile` (the default) reads every cell, for NULL counts and examples.
   * `load` only has to settle the types and stop on a bad value before anything is sent: a source
   * with declared types then checks just the columns whose values can fail (or none at all), and
   * the profile comes back empty.
   */
  purpose?: ScanPurpose;
}

export type ScanPurpose = 'load' | 'profile';

export interface ScanResult {
  columns: ColumnSchema[];
  rows: number;
  /** Per column: how many cells were NULL, and one example value for display. */
  profile: Array<{ nulls: number; example: string | undefined }>;
}

export async function scanTable(options: ScanOptions): Promise<ScanResult> {
  if (options.purpose === 'load' && canCheckValues(options.source)) return checkTable(options, options.source);
  const { source, progress } = options;
  const nullTokens = nullTokensFor(source, options.nullTokens);
  const inferrer = createSchemaInferrer(source.columns, {
    nullTokens,
    typeOverrides: options.typeOverrides,
    file: source.displayName,
    ...(source.declaredTypes ? { declaredTypes: source.declaredTypes } : {}),
  });
  let rows = 0;
  let bytesRead = 0;
  progress.startTable({ table: options.table, file: source.displayName, totalBytes: source.totalBytes, pass: 'scan' });
  if (source.scanInto !== undefined) {
    const onProgress = (read: number, folded: number): void => {
      bytesRead = read;
      rows = folded;
      progress.progress({ bytesRead, rows, chunksSent: 0, bytesSent: 0 });
    };
    await source.scanInto(inferrer, { nullTokens, onProgress }, options.signal);
    rows = inferrer.rowCount;
  } else {
    for await (const batch of source.batches(options.signal)) {
      inferrer.add(batch);
      rows += batch.rows.length;
      bytesRead = batch.bytesRead;
      progress.progress({ bytesRead, rows, chunksSent: 0, bytesSent: 0 });
    }
  }
  progress.endTable({ bytesRead, rows, chunksSent: 0, bytesSent: 0 });
  const inferred = inferrer.finish(options.roleOverrides);
  return {
    columns: inferred.map((c) => ({ name: c.name, type: c.type, role: c.role })),
    rows,
    profile: inferred.map((c) => ({ nulls: c.nullCount, example: c.example })),
  };
}

/** A source with declared types that checks its own values (see TableSource.checkValues). */
type ValueCheckingSource = TableSource & Required<Pick<TableSource, 'checkValues' | 'columnsToCheck'>> & { declaredTypes: readonly WireType[] };

function canCheckValues(source: TableSource): source is ValueCheckingSource {
  return source.declaredTypes !== undefined && source.checkValues !== undefined && source.columnsToCheck !== undefined;
}

/**
 * The load's scan of a source with declared types: the inferrer (with the same overrides) fixes
 * the schema and words any error, and the source checks only the values that can fail. No pass at
 * all when none can; the row count then comes from the file's metadata.
 */
async function checkTable(options: ScanOptions, source: ValueCheckingSource): Promise<ScanResult> {
  const { progress, typeOverrides } = options;
  const inferrer = createSchemaInferrer(source.columns, {
    nullTokens: nullTokensFor(source, options.nullTokens),
    typeOverrides,
    file: source.displayName,
    declaredTypes: source.declaredTypes,
  });
  const types = source.columns.map((name, i) => typeOverrides.get(name) ?? source.declaredTypes[i]!);
  const reading = source.columnsToCheck(types).length > 0;
  let bytesRead = 0;
  let rows = 0;
  if (reading) progress.startTable({ table: options.table, file: source.displayName, totalBytes: source.totalBytes, pass: 'scan' });
  const onProgress = (update: { rows: number; bytesRead: number }): void => {
    ({ rows, bytesRead } = update);
    progress.progress({ bytesRead, rows, chunksSent: 0, bytesSent: 0 });
  };
  const check = await source.checkValues({ types, onProgress }, options.signal);
  const invalid = check.invalid;
  if (invalid !== undefined) {
    // The inferrer throws for the bad value just as it would have met it in the full pass.
    const row = source.columns.map((_, c) => (c === invalid.column ? invalid.text : null));
    inferrer.add({ rows: [row], lines: [invalid.line], bytesRead });
    throw new InternalError(`${source.displayName}:${invalid.line}: the value check refused ${JSON.stringify(invalid.text)}, which the type check takes`);
  }
  rows = check.rows;
  if (reading) progress.endTable({ bytesRead, rows, chunksSent: 0, bytesSent: 0 });
  const columns = inferrer.finish(options.roleOverrides);
  return {
    columns: columns.map((c) => ({ name: c.name, type: c.type, role: c.role })),
    rows,
    profile: columns.map(() => ({ nulls: 0, example: undefined })),
  };
}
