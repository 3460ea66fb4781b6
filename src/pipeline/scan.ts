// The first pass over a table's file: infer (or check) every column's type over all rows, so a
// bad value anywhere is found before anything is sent to the server.

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
}

export interface ScanResult {
  columns: ColumnSchema[];
  rows: number;
  /** Per column: how many cells were NULL, and one example value for display. */
  profile: Array<{ nulls: number; example: string | undefined }>;
}

export async function scanTable(options: ScanOptions): Promise<ScanResult> {
  const { source, progress } = options;
  const inferrer = createSchemaInferrer(source.columns, {
    nullTokens: nullTokensFor(source, options.nullTokens),
    typeOverrides: options.typeOverrides,
    file: source.displayName,
    ...(source.declaredTypes ? { declaredTypes: source.declaredTypes } : {}),
  });
  let rows = 0;
  let bytesRead = 0;
  progress.startTable({ table: options.table, file: source.displayName, totalBytes: source.totalBytes, pass: 'scan' });
  for await (const batch of source.batches(options.signal)) {
    inferrer.add(batch);
    rows += batch.rows.length;
    bytesRead = batch.bytesRead;
    progress.progress({ bytesRead, rows, chunksSent: 0, bytesSent: 0 });
  }
  progress.endTable({ bytesRead, rows, chunksSent: 0, bytesSent: 0 });
  const inferred = inferrer.finish(options.roleOverrides);
  return {
    columns: inferred.map((c) => ({ name: c.name, type: c.type, role: c.role })),
    rows,
    profile: inferred.map((c) => ({ nulls: c.nullCount, example: c.example })),
  };
}
