// Reads a dataset definition (`GET /api/datasets/{id}?fields=...`, mstr-push-api.md §3.8) into
// our schema shape. Only tables and column names are documented; types and roles are used when
// the server sends them. Pure.

import { RemoteError } from '../../errors.js';
import { parseWireType } from '../../schema/types.js';
import type { ColumnRole, WireType } from '../../schema/types.js';

export interface DefinedColumn {
  name: string;
  type: WireType | undefined;
  role: ColumnRole | undefined;
}

export interface DatasetDefinition {
  id: string;
  name: string | undefined;
  tables: Array<{ name: string; columns: DefinedColumn[] }>;
}

type Json = Record<string, unknown>;

export function parseDatasetDefinition(datasetId: string, body: unknown): DatasetDefinition {
  const root = (body ?? {}) as Json;
  const available = ((root.result as Json | undefined)?.definition as Json | undefined)?.availableObjects as Json | undefined;
  if (!available || !Array.isArray(available.tables)) {
    throw new RemoteError('HTTP_BAD_RESPONSE', `dataset ${datasetId}: the definition has no table list`);
  }
  const roles = new Map<string, ColumnRole>();
  const noteRoles = (list: unknown, role: ColumnRole, key: 'forms' | 'expressions') => {
    if (!Array.isArray(list)) return;
    for (const object of list as Json[]) {
      const expressions =
        key === 'forms'
          ? (Array.isArray(object.forms) ? (object.forms as Json[]) : []).flatMap((f) => (Array.isArray(f.expressions) ? (f.expressions as Json[]) : []))
          : Array.isArray(object.expressions) ? (object.expressions as Json[]) : [];
      for (const e of expressions) {
        if (typeof e.tableName === 'string' && typeof e.columnName === 'string') roles.set(`${e.tableName}\u0000${e.columnName}`, role);
      }
    }
  };
  noteRoles(available.attributes, 'attribute', 'forms');
  noteRoles(available.metrics, 'metric', 'expressions');

  const tables = (available.tables as Json[])
    .filter((t) => typeof t.name === 'string')
    .map((t) => ({ name: t.name as string, columns: [] as DefinedColumn[] }));
  const byName = new Map(tables.map((t) => [t.name, t]));
  for (const column of Array.isArray(available.columns) ? (available.columns as Json[]) : []) {
    const table = typeof column.tableName === 'string' ? byName.get(column.tableName) : undefined;
    if (!table || typeof column.columnName !== 'string') continue;
    table.columns.push({
      name: column.columnName,
      type: typeof column.dataType === 'string' ? parseWireType(column.dataType) : undefined,
      role: roles.get(`${table.name}\u0000${column.columnName}`),
    });
  }
  return { id: typeof root.id === 'string' ? root.id : datasetId, name: typeof root.name === 'string' ? root.name : undefined, tables };
}
