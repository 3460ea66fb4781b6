// Strict checks of the emulator's request bodies against the push-dataset contract
// (powerbi-push-api.md §2-§5), and the canonical form each accepted value is stored in. Kept apart
// from the client's own serializer on purpose: a bug shared by both would go unnoticed.

import { JsonNumber, isJsonObject } from '../json-strict.js';
import type { StrictJsonObject, StrictJsonValue } from '../json-strict.js';

export const PBI_DATA_TYPES = ['Int64', 'Double', 'Decimal', 'Boolean', 'DateTime', 'String'] as const;
export type PbiDataType = (typeof PBI_DATA_TYPES)[number];

/** A stored value: null, a boolean, or canonical text (see `canonicalValue`). */
export type Cell = null | boolean | string;

export interface ColumnDef {
  name: string;
  dataType: PbiDataType;
}

export interface TableDef {
  name: string;
  columns: ColumnDef[];
}

export type DefaultMode = 'Push' | 'Streaming' | 'PushStreaming';

export interface DatasetDef {
  name: string;
  defaultMode: DefaultMode;
  tables: TableDef[];
}

/** An error answer: status, JSON body and extra headers. */
export class PbiApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: object,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'PbiApiError';
  }
}

/** 400 in the `details` form the service uses for malformed requests (§5.1, shape 2). */
export function badRequest(message: string, target: string): PbiApiError {
  return new PbiApiError(400, { error: { code: 'BadRequest', message: 'Bad Request', details: [{ message, target }] } }, message);
}

export function invalidRequest(message: string): PbiApiError {
  return new PbiApiError(400, { error: { code: 'InvalidRequest', message } }, message);
}

/** 404 in the `pbi.error` form (§5.1, shape 3): unknown or invisible group or dataset. */
export function entityNotFound(): PbiApiError {
  return new PbiApiError(
    404,
    { error: { code: 'PowerBIEntityNotFound', 'pbi.error': { code: 'PowerBIEntityNotFound', parameters: {}, details: [], exceptionCulprit: 1 } } },
    'PowerBIEntityNotFound',
  );
}

export function itemNotFound(message: string): PbiApiError {
  return new PbiApiError(404, { error: { code: 'ItemNotFound', message } }, message);
}

export const TOKEN_EXPIRED_MESSAGE = 'Access token has expired, resubmit with a new access token';

export function tokenExpired(): PbiApiError {
  return new PbiApiError(403, { error: { code: 'TokenExpired', message: TOKEN_EXPIRED_MESSAGE } }, TOKEN_EXPIRED_MESSAGE);
}

const CONTRACT = 'Microsoft.PowerBI.ServiceContracts.Api';

function unknownProperty(key: string, type: string, target: string): PbiApiError {
  return badRequest(
    `The property '${key}' does not exist on type '${CONTRACT}.${type}'. Make sure to only use property names that are defined by the type.`,
    target,
  );
}

// Swagger Table.name: letters, digits, space, tab, CR, LF, # - @ ^ _ ~ and anything non-ASCII, 1-100.
const TABLE_NAME = /^[\t\n\r #\-0-9@-Z^_a-z\x7e-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]{1,100}$/u;
// Swagger Column.name / Measure.name: tab, CR, LF or anything from space up, at least one character.
const COLUMN_NAME = /^[\t\n\r\x20-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]+$/u;

export function isValidTableName(name: string): boolean {
  return TABLE_NAME.test(name);
}

type Checker = (value: StrictJsonValue, target: string) => void;

const isString: Checker = (value, target) => {
  if (typeof value !== 'string') throw badRequest(`The value of '${target}' must be a string.`, target);
};
const isBoolean: Checker = (value, target) => {
  if (typeof value !== 'boolean') throw badRequest(`The value of '${target}' must be true or false.`, target);
};
const oneOf =
  (choices: readonly string[]): Checker =>
  (value, target) => {
    if (typeof value !== 'string' || !choices.some((c) => c.toLowerCase() === value.toLowerCase())) {
      throw badRequest(`The value of '${target}' must be one of ${choices.join(', ')}.`, target);
    }
  };

/** Checks an object's property names (case-sensitive, as the service does) and their value types. */
function checkObject(value: StrictJsonValue, type: string, target: string, known: Record<string, Checker>, required: readonly string[]): StrictJsonObject {
  if (!isJsonObject(value)) throw badRequest(`'${target}' must be a JSON object.`, target);
  for (const [key, item] of value) {
    const check = known[key];
    if (check === undefined) throw unknownProperty(key, type, target);
    if (item !== null) check(item, `${target}.${key}`);
  }
  for (const key of required) {
    if (value.get(key) === undefined || value.get(key) === null) throw badRequest(`The property '${key}' is required on type '${CONTRACT}.${type}'.`, target);
  }
  return value;
}

/** Any case and the `bool` alias (observed); anything else, such as `int`, is refused. */
export function parseDataType(value: string): PbiDataType | undefined {
  const lower = value.toLowerCase();
  if (lower === 'bool') return 'Boolean';
  return PBI_DATA_TYPES.find((t) => t.toLowerCase() === lower);
}

const COLUMN_PROPS: Record<string, Checker> = {
  name: isString,
  dataType: isString,
  formatString: isString,
  sortByColumn: isString,
  dataCategory: isString,
  isHidden: isBoolean,
  summarizeBy: oneOf(['default', 'none', 'sum', 'min', 'max', 'count', 'average', 'distinctCount']),
};

const MEASURE_PROPS: Record<string, Checker> = { name: isString, expression: isString, formatString: isString, isHidden: isBoolean, description: isString };

export interface TableLimits {
  maxColumns: number;
}

/** A table as in Create Dataset and Put Table: name, columns, optional measures, isHidden, description. */
export function validateTable(value: StrictJsonValue, target: string, mode: DefaultMode, limits: TableLimits): TableDef {
  const object = checkObject(
    value,
    'Table',
    target,
    { name: isString, columns: () => {}, measures: () => {}, isHidden: isBoolean, description: isString },
    ['name', 'columns'],
  );
  const name = object.get('name') as string;
  if (!TABLE_NAME.test(name)) {
    throw badRequest(`The table name '${name}' is not valid: 1 to 100 letters, digits, spaces and # - @ ^ _ ~ only.`, `${target}.name`);
  }
  const columnsValue = object.get('columns');
  if (!Array.isArray(columnsValue) || columnsValue.length === 0) throw badRequest(`Table '${name}' must have at least one column.`, `${target}.columns`);
  if (columnsValue.length > limits.maxColumns) {
    throw invalidRequest(`Table '${name}' has ${columnsValue.length} columns; a push dataset table can have at most ${limits.maxColumns}.`);
  }
  const seen = new Set<string>();
  const columns = columnsValue.map((item, index) => {
    const at = `${target}.columns[${index}]`;
    const column = checkObject(item, 'Column', at, COLUMN_PROPS, ['name', 'dataType']);
    if ((mode === 'Streaming' || mode === 'PushStreaming') && [...column.keys()].some((k) => k !== 'name' && k !== 'dataType')) {
      throw invalidRequest('This dataset or endpoint does not support column properties other than name and dataType.');
    }
    const columnName = column.get('name') as string;
    if (!COLUMN_NAME.test(columnName)) throw badRequest(`The column name '${columnName}' is not valid.`, `${at}.name`);
    const folded = columnName.toLowerCase();
    if (seen.has(folded)) throw badRequest(`Table '${name}' has more than one column named '${columnName}' (names are compared ignoring case).`, `${at}.name`);
    seen.add(folded);
    const dataType = parseDataType(column.get('dataType') as string);
    if (dataType === undefined) throw badRequest(`The dataType '${String(column.get('dataType'))}' of column '${columnName}' is not supported.`, `${at}.dataType`);
    return { name: columnName, dataType };
  });
  const measures = object.get('measures');
  if (measures !== undefined && measures !== null) {
    if (!Array.isArray(measures)) throw badRequest(`'${target}.measures' must be an array.`, `${target}.measures`);
    measures.forEach((m, i) => checkObject(m, 'Measure', `${target}.measures[${i}]`, MEASURE_PROPS, ['name', 'expression']));
  }
  return { name, columns };
}

export interface DatasetLimits extends TableLimits {
  maxTables: number;
}

/** Create Dataset body (§2.1): unknown or miscased properties are 400 BadRequest with details. */
export function validateCreateDataset(value: StrictJsonValue, limits: DatasetLimits): DatasetDef {
  const object = checkObject(
    value,
    'Dataset',
    'dataset',
    { name: isString, defaultMode: isString, tables: () => {}, relationships: () => {}, datasources: () => {} },
    ['name', 'tables'],
  );
  const name = object.get('name') as string;
  if (name.trim() === '') throw badRequest('The dataset name must not be empty.', 'dataset.name');
  const modeValue = object.get('defaultMode');
  let defaultMode: DefaultMode = 'Push';
  if (typeof modeValue === 'string') {
    const mode = (['Push', 'Streaming', 'PushStreaming'] as const).find((m) => m.toLowerCase() === modeValue.toLowerCase());
    if (mode === undefined) throw invalidRequest(`defaultMode '${modeValue}' cannot be used to create a push dataset.`);
    defaultMode = mode;
  }
  const tablesValue = object.get('tables');
  if (!Array.isArray(tablesValue) || tablesValue.length === 0) throw badRequest('A dataset needs at least one table.', 'dataset.tables');
  if (tablesValue.length > limits.maxTables) throw invalidRequest(`The dataset has ${tablesValue.length} tables; a push dataset can have at most ${limits.maxTables}.`);
  const tables = tablesValue.map((t, i) => validateTable(t, `dataset.tables[${i}]`, defaultMode, limits));
  const names = new Set<string>();
  for (const table of tables) {
    if (names.has(table.name.toLowerCase())) throw badRequest(`More than one table is named '${table.name}' (names are compared ignoring case).`, 'dataset.tables');
    names.add(table.name.toLowerCase());
  }
  const datasources = object.get('datasources');
  if (datasources !== undefined && datasources !== null && (!Array.isArray(datasources) || datasources.length > 0)) {
    throw invalidRequest('datasources are not applicable to push datasets.');
  }
  validateRelationships(object.get('relationships'), tables, limits.maxTables);
  return { name, defaultMode, tables };
}

function validateRelationships(value: StrictJsonValue | undefined, tables: readonly TableDef[], max: number): void {
  if (value === undefined || value === null) return;
  if (!Array.isArray(value)) throw badRequest("'dataset.relationships' must be an array.", 'dataset.relationships');
  if (value.length > max) throw invalidRequest(`The dataset has ${value.length} relationships; a push dataset can have at most ${max}.`);
  value.forEach((item, i) => {
    const at = `dataset.relationships[${i}]`;
    const r = checkObject(
      item,
      'Relationship',
      at,
      {
        name: isString,
        fromTable: isString,
        fromColumn: isString,
        toTable: isString,
        toColumn: isString,
        crossFilteringBehavior: oneOf(['OneDirection', 'BothDirections', 'Automatic']),
      },
      ['name', 'fromTable', 'fromColumn', 'toTable', 'toColumn'],
    );
    for (const [tableKey, columnKey] of [['fromTable', 'fromColumn'], ['toTable', 'toColumn']] as const) {
      const table = tables.find((t) => t.name === r.get(tableKey));
      if (table === undefined) throw badRequest(`Relationship table '${String(r.get(tableKey))}' is not in the dataset.`, `${at}.${tableKey}`);
      if (!table.columns.some((c) => c.name === r.get(columnKey))) {
        throw badRequest(`Relationship column '${String(r.get(columnKey))}' is not in table '${table.name}'.`, `${at}.${columnKey}`);
      }
    }
  });
}

export interface RowLimits {
  maxRowsPerPost: number;
  maxStringLength: number;
  unknownRowKeys: 'reject' | 'ignore';
}

/**
 * Post Rows body (§2.4): exactly `{"rows": [objects]}`. Missing columns are null; values must fit
 * their column's type. Returns each row in column order, values canonical.
 */
export function validateRows(value: StrictJsonValue, table: TableDef, limits: RowLimits): Cell[][] {
  if (Array.isArray(value)) throw badRequest('The request body must be an object with a "rows" array, not a bare array.', 'rows');
  const object = checkObject(value, 'PostRowsRequest', 'request', { rows: () => {} }, ['rows']);
  const rows = object.get('rows');
  if (!Array.isArray(rows)) throw badRequest("'rows' must be an array of row objects.", 'rows');
  if (rows.length > limits.maxRowsPerPost) {
    throw invalidRequest(`The request holds ${rows.length} rows; at most ${limits.maxRowsPerPost} rows can be posted in one request.`);
  }
  const index = new Map(table.columns.map((c, i) => [c.name, i]));
  return rows.map((row, r) => {
    if (!isJsonObject(row)) throw badRequest(`rows[${r}] must be a JSON object keyed by column name.`, `rows[${r}]`);
    const cells: Cell[] = table.columns.map(() => null);
    for (const [key, item] of row) {
      const c = index.get(key);
      if (c === undefined) {
        if (limits.unknownRowKeys === 'ignore') continue;
        throw badRequest(`rows[${r}] has the key '${key}', which is not a column of table '${table.name}'.`, `rows[${r}].${key}`);
      }
      const column = table.columns[c]!;
      const result = canonicalValue(column.dataType, item, limits.maxStringLength);
      if (typeof result === 'object' && result !== null) {
        throw badRequest(`rows[${r}].${key}: ${result.problem}`, `rows[${r}].${key}`);
      }
      cells[c] = result;
    }
    return cells;
  });
}

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const INTEGER = /^-?(?:0|[1-9]\d*)$/;

/**
 * The stored form of one value, or why it is refused. Int64: decimal text (numbers or numeric
 * strings, the service takes both); Double: the double's shortest text; Decimal: the number text
 * as sent; Boolean: true/false (also as strings); DateTime: `YYYY-MM-DDTHH:MM:SS[.f]` plus `Z`
 * for values sent with a zone (converted to UTC); String: the text, at most `maxString` characters.
 */
export function canonicalValue(type: PbiDataType, value: StrictJsonValue, maxString: number): Cell | { problem: string } {
  if (value === null) return null;
  const shown = value instanceof JsonNumber ? value.text : JSON.stringify(value);
  const refuse = (why: string) => ({ problem: `${shown.length > 60 ? `${shown.slice(0, 60)}…` : shown} is not a valid ${type} value${why ? ` (${why})` : ''}.` });
  const numberText = value instanceof JsonNumber ? value.text : typeof value === 'string' && JSON_NUMBER.test(value) ? value : undefined;
  switch (type) {
    case 'Int64': {
      if (numberText === undefined || !INTEGER.test(numberText)) return refuse('');
      const n = BigInt(numberText);
      if (n >= INT64_MAX || n <= INT64_MIN) return refuse('Int64.MaxValue and Int64.MinValue are not allowed, nor anything beyond');
      return n.toString();
    }
    case 'Double': {
      if (numberText === undefined) return refuse('');
      const n = Number(numberText);
      if (!Number.isFinite(n) || Math.abs(n) === Number.MAX_VALUE) return refuse('outside the range of a double');
      return String(n);
    }
    case 'Decimal': {
      if (numberText === undefined) return refuse('');
      if (decimalIntegerDigits(numberText) > 24) return refuse('precision 28, scale 4: at most 24 digits before the point');
      return numberText;
    }
    case 'Boolean':
      if (typeof value === 'boolean') return value;
      if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
      return refuse('');
    case 'DateTime': {
      if (typeof value !== 'string') return refuse('a date must be a string');
      const canonical = canonicalDateTime(value);
      return canonical ?? refuse('use ISO 8601, e.g. 2024-05-01T13:45:00Z, or M/d/yyyy');
    }
    case 'String':
      if (typeof value !== 'string') return refuse('');
      if (value.length > maxString) return { problem: `the value has ${value.length} characters; strings are limited to ${maxString} characters.` };
      return value;
  }
}

function decimalIntegerDigits(text: string): number {
  const m = /^-?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text)!;
  const digits = (m[1] ?? '') + (m[2] ?? '');
  const first = digits.search(/[1-9]/);
  if (first === -1) return 0;
  const magnitude = (m[1] ?? '').length - 1 - first + Number(m[3] ?? '0');
  return magnitude < 0 ? 0 : magnitude + 1;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?(Z|[+-]\d{2}:\d{2})?)?$/i;
const US_DATE = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/;

/** ISO 8601 (up to 7 fraction digits, zone Z or ±HH:MM) or the documented M/d/yyyy. */
export function canonicalDateTime(text: string): string | undefined {
  let year: number;
  let month: number;
  let day: number;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let fraction = '';
  let zone: string | undefined;
  const iso = ISO.exec(text);
  const us = iso ? null : US_DATE.exec(text);
  if (iso) {
    [year, month, day] = [Number(iso[1]), Number(iso[2]), Number(iso[3])];
    if (iso[4] !== undefined) [hour, minute, second] = [Number(iso[4]), Number(iso[5]), Number(iso[6] ?? '0')];
    fraction = (iso[7] ?? '').replace(/0+$/, '');
    zone = iso[8];
  } else if (us) {
    [month, day, year] = [Number(us[1]), Number(us[2]), Number(us[3])];
  } else {
    return undefined;
  }
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 59) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  if (zone !== undefined && zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const offset = sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
    date.setTime(date.getTime() - offset * 60_000);
    if (date.getUTCFullYear() < 1 || date.getUTCFullYear() > 9999) return undefined;
  }
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const stamp = `${p(date.getUTCFullYear(), 4)}-${p(date.getUTCMonth() + 1)}-${p(date.getUTCDate())}T${p(date.getUTCHours())}:${p(date.getUTCMinutes())}:${p(date.getUTCSeconds())}`;
  return `${stamp}${fraction ? `.${fraction}` : ''}${zone !== undefined ? 'Z' : ''}`;
}

function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}
