// The emulator's model of a pushed dataset: definitions as validated from request bodies, and the
// shapes the inspection endpoints return.

import type { ColumnRole, WireType } from '../../schema/types.js';

/**
 * A stored value: null, a boolean, or text. Numbers are kept as their exact JSON token text and
 * DATE/TIME/DATETIME values as their stored (normalised) text.
 */
export type Cell = null | boolean | string;

export interface ColumnDef {
  name: string;
  dataType: WireType;
  role: ColumnRole;
}

export interface TableDef {
  id: string;
  name: string;
  columns: ColumnDef[];
}

export interface ColumnRef {
  tableName: string;
  columnName: string;
}

export type FormCategory = 'ID' | 'DESC';

export interface AttributeDef {
  id: string;
  name: string;
  forms: Array<{ category: FormCategory; expressions: ColumnRef[] }>;
}

export interface MetricDef {
  id: string;
  name: string;
  expressions: ColumnRef[];
}

export interface ModelDef {
  name: string;
  description: string;
  /** Upper-case 32-hex folder id; the My Reports folder when the request left it empty. */
  folderId: string;
  tables: TableDef[];
  attributes: AttributeDef[];
  metrics: MetricDef[];
}

export type UpdatePolicy = 'add' | 'update' | 'upsert' | 'replace';
export type Orientation = 'ROW' | 'COLUMN';

/** One table of an upload-session request, resolved against the dataset's definition. */
export interface SessionTableSpec {
  table: TableDef;
  policy: UpdatePolicy;
  orientation: Orientation;
  /** Positions in `table.columns` of the columns the chunks carry, in the order they carry them. */
  columnPositions: number[];
}

export type UploadSessionState = 'open' | 'published' | 'cancelled';

export interface DatasetSummary {
  id: string;
  name: string;
  tables: Array<{ name: string; rowCount: number }>;
}

export interface TableInspection {
  name: string;
  columns: ColumnDef[];
  rowCount: number;
  /** sha256 hex over `canonicalRowJson(row) + "\n"` for every row in order. */
  checksum: string;
  /** Present unless the emulator runs with keepRows false. */
  rows?: Cell[][];
}

export interface UploadSessionInspection {
  id: string;
  state: UploadSessionState;
  /** True once DELETE was called on it. */
  deleted: boolean;
  /** Chunk indexes received per table, ascending. */
  chunks: Record<string, number[]>;
  /** Last status publishStatus reported (or would report), once published. */
  publishStatus?: number;
}

export interface DatasetInspection {
  id: string;
  name: string;
  projectId: string;
  folderId: string;
  tables: TableInspection[];
  uploadSessions: UploadSessionInspection[];
  /** Publishes whose data has been applied. */
  publishes: number;
}
