// The Power BI push-dataset vocabulary: data types, retention policies and the documented limits
// (powerbi-push-api.md §3, §4), plus the name rules a table or column must pass. Pure.

import type { ColumnRole, WireType } from '../../schema/types.js';

/** The canonical `dataType` spellings; the service matches any case, mstrpush only ever sends these. */
export const POWERBI_DATA_TYPES = ['Int64', 'Double', 'Decimal', 'Boolean', 'DateTime', 'String'] as const;

export type PowerBiDataType = (typeof POWERBI_DATA_TYPES)[number];

/** `--retention none|basicFIFO`, as the user types it. */
export type PowerBiRetention = 'none' | 'basicFIFO';

export const POWERBI_RETENTIONS: readonly PowerBiRetention[] = ['none', 'basicFIFO'];

/** The `defaultRetentionPolicy` query value for a retention. */
export function retentionQueryValue(retention: PowerBiRetention): 'None' | 'basicFIFO' {
  return retention === 'none' ? 'None' : 'basicFIFO';
}

/** Accepts the query spelling in any case (the service matches it case-insensitively). */
export function parseRetention(value: string): PowerBiRetention | undefined {
  const lower = value.trim().toLowerCase();
  if (lower === 'none') return 'none';
  if (lower === 'basicfifo') return 'basicFIFO';
  return undefined;
}

/**
 * Limits of push datasets (learn.microsoft.com/power-bi/developer/embedded/push-datasets-limitations).
 * 16 MB per request is read as 16,000,000 bytes, the smaller of its two readings.
 */
export const POWERBI_LIMITS = {
  maxTables: 75,
  maxColumns: 75,
  maxRowsPerPost: 10_000,
  maxRequestBytes: 16_000_000,
  maxStringLength: 4000,
  /** basicFIFO keeps collecting until a table passes `fifoTrigger` rows, then keeps the newest `fifoKeep`. */
  fifoKeep: 200_000,
  fifoTrigger: 210_000,
  /** Rows a table may hold with retention None. */
  maxRowsRetentionNone: 5_000_000,
  maxTableNameLength: 100,
} as const;

/**
 * Decimal is precision 28, scale 4 (api-dataset-properties.md "Data type restrictions"): at most
 * 24 digits before the point. Finer fractions are rounded by the service, as documented.
 */
export const DECIMAL_MAX_INTEGER_DIGITS = 24;

/** Int64 values up to this magnitude survive a JavaScript number; beyond it they go as strings. */
export const MAX_EXACT_JSON_INTEGER = 9007199254740992n;

/** How each of our types lands in Power BI. TIME has no Power BI type and is sent as text. */
export function powerBiTypeOf(type: WireType): PowerBiDataType {
  switch (type) {
    case 'INTEGER':
    case 'BIGINTEGER':
      return 'Int64';
    case 'DOUBLE':
      return 'Double';
    case 'BIGDECIMAL':
      return 'Decimal';
    case 'BOOL':
      return 'Boolean';
    case 'DATE':
    case 'DATETIME':
      return 'DateTime';
    case 'TIME':
    case 'STRING':
      return 'String';
  }
}

/** The type inference should check a file against when a table's column already has `type`. */
export function wireTypeOf(type: PowerBiDataType): WireType {
  switch (type) {
    case 'Int64':
      return 'BIGINTEGER';
    case 'Double':
      return 'DOUBLE';
    case 'Decimal':
      return 'BIGDECIMAL';
    case 'Boolean':
      return 'BOOL';
    case 'DateTime':
      return 'DATETIME';
    case 'String':
      return 'STRING';
  }
}

/** Any case, plus the `bool` alias Microsoft's own samples use. Other aliases are not accepted. */
export function parsePowerBiDataType(value: string): PowerBiDataType | undefined {
  const lower = value.trim().toLowerCase();
  if (lower === 'bool') return 'Boolean';
  return POWERBI_DATA_TYPES.find((t) => t.toLowerCase() === lower);
}

// Swagger `Table.name`: letters, digits, space, tab, CR, LF, # - @ ^ _ ~ and anything non-ASCII.
const TABLE_NAME_CHAR = /^[\t\n\r #\-0-9@-Z^_a-z\x7e-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]$/u;

/** Why `name` cannot be a Power BI table name, or undefined when it can. */
export function tableNameProblem(name: string): string | undefined {
  const chars = [...name];
  if (chars.length === 0) return 'it is empty';
  if (chars.length > POWERBI_LIMITS.maxTableNameLength) return `it is longer than ${POWERBI_LIMITS.maxTableNameLength} characters`;
  const bad = [...new Set(chars.filter((c) => !TABLE_NAME_CHAR.test(c)))];
  if (bad.length > 0) return `it contains ${bad.map((c) => JSON.stringify(c)).join(' ')}, which Power BI table names may not`;
  return undefined;
}

// Swagger column/measure name: at least one character, tab/CR/LF or anything from space upwards.
const COLUMN_NAME_BAD_CHAR = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/u;

/** Why `name` cannot be a Power BI column name, or undefined when it can. */
export function columnNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'it is empty';
  const bad = COLUMN_NAME_BAD_CHAR.exec(name);
  if (bad) return `it contains the control character U+${bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
  if ([...name].some(isLoneSurrogate)) return 'it contains an unpaired surrogate';
  return undefined;
}

function isLoneSurrogate(char: string): boolean {
  const c = char.charCodeAt(0);
  return char.length === 1 && c >= 0xd800 && c <= 0xdfff;
}

/** A column of a table as the service described it (Get Tables often leaves columns out). */
export interface PowerBiColumn {
  name: string;
  dataType: PowerBiDataType | undefined;
}

/** A dataset as read back: the shape `DatasetDefinition` has, so table matching works unchanged. */
export interface PowerBiDefinition {
  id: string;
  name: string | undefined;
  /** Present only when the service says so; it is not part of the documented Dataset object. */
  retention: PowerBiRetention | undefined;
  /** False when the service says this is not a push dataset. */
  addRowsAPIEnabled: boolean | undefined;
  tables: Array<{
    name: string;
    /** Empty when the service listed only the table's name (which is what it usually does). */
    columns: Array<{ name: string; type: WireType | undefined; role: ColumnRole | undefined; dataType: PowerBiDataType | undefined }>;
    /** Whether the service listed this table's columns at all. */
    columnsKnown: boolean;
  }>;
}
