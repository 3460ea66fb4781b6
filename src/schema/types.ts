// The schema vocabulary shared by sources, inference, serialization and targets.

/** The MicroStrategy Push Data API data types (mstr-push-api.md §6), which are our internal types too. */
export const WIRE_TYPES = [
  'STRING',
  'INTEGER',
  'BIGINTEGER',
  'BOOL',
  'DOUBLE',
  'BIGDECIMAL',
  'DATE',
  'TIME',
  'DATETIME',
] as const;

export type WireType = (typeof WIRE_TYPES)[number];

export const NUMERIC_TYPES: ReadonlySet<WireType> = new Set(['INTEGER', 'BIGINTEGER', 'DOUBLE', 'BIGDECIMAL']);

export type ColumnRole = 'attribute' | 'metric';

export interface ColumnSchema {
  name: string;
  type: WireType;
  role: ColumnRole;
}

export interface TableSchema {
  name: string;
  columns: ColumnSchema[];
}

/** A raw cell as a source hands it over: text, or null for a cell the source knows is NULL. */
export type RawCell = string | null;

export function isWireType(value: string): value is WireType {
  return (WIRE_TYPES as readonly string[]).includes(value);
}

/** Accepts any case and the `BOOLEAN` spelling the vendor's own Swagger example uses. */
export function parseWireType(value: string): WireType | undefined {
  const upper = value.trim().toUpperCase();
  if (upper === 'BOOLEAN') return 'BOOL';
  return isWireType(upper) ? upper : undefined;
}
