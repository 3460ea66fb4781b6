// Request bodies of the Push Data API v2 (mstr-push-api.md §3), built from our schema. Pure.

import type { StreamedBody } from '../../http/client.js';
import type { ColumnSchema, TableSchema, WireType } from '../../schema/types.js';

export type UpdatePolicy = 'add' | 'update' | 'upsert' | 'replace';
export const UPDATE_POLICIES: readonly UpdatePolicy[] = ['add', 'update', 'upsert', 'replace'];

export interface ColumnRef {
  tableName: string;
  columnName: string;
}

export interface ModelBody {
  name: string;
  description?: string;
  folderId: string;
  tables: Array<{ name: string; columnHeaders: Array<{ name: string; dataType: WireType }> }>;
  attributes: Array<{ name: string; attributeForms: Array<{ category: 'ID'; expressions: ColumnRef[] }> }>;
  metrics: Array<{ name: string; expressions: ColumnRef[] }>;
}

/**
 * Builds the `POST /api/datasets/models` body. Attribute columns with the same name and type in
 * several tables become one attribute with one expression per table, which is what links the
 * tables (the way the official client's multi-table attributes do, and how Data Import matches
 * columns). Any other name clash gets the table name appended, because object names in one
 * dataset must be unique.
 */
export function buildModel(name: string, tables: readonly TableSchema[], options: { description?: string; folderId?: string } = {}): ModelBody {
  const attributes = new Map<string, { type: WireType; expressions: ColumnRef[] }>();
  const metrics = new Map<string, ColumnRef>();
  const taken = (objectName: string) => attributes.has(objectName) || metrics.has(objectName);
  // Linking goes by column name and type, not by object name: an attribute renamed because of a
  // clash must still pick up the same column of later tables.
  const linkable = new Map<string, { type: WireType; expressions: ColumnRef[] }>();

  for (const table of tables) {
    for (const column of table.columns) {
      const ref = { tableName: table.name, columnName: column.name };
      if (column.role === 'attribute') {
        const key = `${column.type}\u0000${column.name}`;
        const existing = linkable.get(key);
        if (existing && !existing.expressions.some((e) => e.tableName === table.name)) {
          existing.expressions.push(ref);
          continue;
        }
        const entry = { type: column.type, expressions: [ref] };
        attributes.set(uniqueName(column, table.name, taken), entry);
        if (!existing) linkable.set(key, entry);
      } else {
        metrics.set(uniqueName(column, table.name, taken), ref);
      }
    }
  }

  const body: ModelBody = {
    name,
    folderId: options.folderId ?? '',
    tables: tables.map((table) => ({
      name: table.name,
      columnHeaders: table.columns.map((column) => ({ name: column.name, dataType: column.type })),
    })),
    attributes: [...attributes].map(([attributeName, { expressions }]) => ({
      name: attributeName,
      attributeForms: [{ category: 'ID', expressions }],
    })),
    metrics: [...metrics].map(([metricName, ref]) => ({ name: metricName, expressions: [ref] })),
  };
  if (options.description !== undefined) body.description = options.description;
  return body;
}

function uniqueName(column: ColumnSchema, tableName: string, taken: (name: string) => boolean): string {
  if (!taken(column.name)) return column.name;
  const qualified = `${column.name} (${tableName})`;
  let candidate = qualified;
  for (let n = 2; taken(candidate); n++) candidate = `${qualified} ${n}`;
  return candidate;
}

export interface UploadTable {
  name: string;
  policy: UpdatePolicy;
  columns: readonly string[];
}

/** `POST .../uploadSessions`: column names fix the order of the values in every ROW array. */
export function buildUploadSession(tables: readonly UploadTable[]): {
  tables: Array<{ name: string; updatePolicy: UpdatePolicy; orientation: 'ROW'; columnHeaders: string[] }>;
} {
  return {
    tables: tables.map((table) => ({
      name: table.name,
      updatePolicy: table.policy,
      orientation: 'ROW',
      columnHeaders: [...table.columns],
    })),
  };
}

// Raw bytes per base64 piece: a multiple of 3, so the pieces join into one valid base64 text,
// and 65,532 base64 characters. Node measures the exact UTF-8 length of a string it writes to a
// socket only when the string is longer than 65,535 characters (a scan of every character);
// shorter ones are written without it.
const BASE64_PIECE_BYTES = 16_383 * 3;

/**
 * `PUT .../uploadSessions/{id}`: `{"tableName","index","data"}` with the chunk's JSON text in
 * standard base64. The base64 text is made piece by piece while the body is sent, and again for
 * a retry, so a 100 MB chunk never exists a second time as a 133 MB string.
 */
export function buildChunkBody(tableName: string, index: number, json: Buffer): StreamedBody {
  const head = Buffer.from(`{"tableName":${JSON.stringify(tableName)},"index":${index},"data":"`, 'utf8');
  const tail = Buffer.from('"}', 'utf8');
  return {
    length: head.length + Math.ceil(json.length / 3) * 4 + tail.length,
    *pieces() {
      yield head;
      for (let at = 0; at < json.length; at += BASE64_PIECE_BYTES) {
        // base64 text is ASCII: one byte per character on the wire.
        yield json.subarray(at, at + BASE64_PIECE_BYTES).toString('base64');
      }
      yield tail;
    },
  };
}
