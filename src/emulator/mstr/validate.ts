// Strict validation of Push Data request bodies (mstr-push-api.md §3, §4, §6): the dataset model,
// the upload-session request, and each chunk down to every cell. Everything wrong is an ApiError.

import { isWireType } from '../../schema/types.js';
import type { ColumnRole, WireType } from '../../schema/types.js';
import { isJsonNumber, isJsonObject, parseStrictJsonArray } from '../json-strict.js';
import type { StrictJsonArrayResult, StrictJsonObject, StrictJsonValue } from '../json-strict.js';
import { ApiError, invalidInput, notFound, notSupported, preview } from './api-error.js';
import type {
  AttributeDef,
  Cell,
  ColumnDef,
  ColumnRef,
  FormCategory,
  MetricDef,
  ModelDef,
  SessionTableSpec,
  TableDef,
  UpdatePolicy,
} from './types.js';

/** The folder a model lands in when `folderId` is absent or "" (the user's My Reports). */
export const MY_REPORTS_FOLDER_ID = 'D3C7D461F69C4610AA6BAA5EF51F4125';

const MAX_NAME_LENGTH = 250;
const FORBIDDEN_NAME_CHARS = /[\\"[\]]/;
const HEX32 = /^[0-9A-Fa-f]{32}$/;

export interface ModelRules {
  allowDuplicateModelNames: boolean;
  newId: () => string;
}

// ---------------------------------------------------------------------------------------------
// Generic body access

function describeJson(value: StrictJsonValue | undefined): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return JSON.stringify(preview(value));
  if (isJsonNumber(value)) return preview(value.text);
  if (Array.isArray(value)) return 'an array';
  return 'an object';
}

function expectObject(value: StrictJsonValue | undefined, where: string, allowedKeys: readonly string[]): StrictJsonObject {
  if (!isJsonObject(value)) throw invalidInput(`${where} must be a JSON object, got ${describeJson(value)}`);
  for (const key of value.keys()) {
    if (!allowedKeys.includes(key)) {
      throw invalidInput(`${where} has unknown field ${JSON.stringify(key)} (allowed: ${allowedKeys.join(', ')})`);
    }
  }
  return value;
}

function expectArray(value: StrictJsonValue | undefined, where: string, minLength: number): StrictJsonValue[] {
  if (!Array.isArray(value)) throw invalidInput(`${where} must be an array, got ${describeJson(value)}`);
  if (value.length < minLength) throw invalidInput(`${where} must have at least ${minLength} element(s)`);
  return value;
}

function expectString(value: StrictJsonValue | undefined, where: string): string {
  if (typeof value !== 'string') throw invalidInput(`${where} must be a string, got ${describeJson(value)}`);
  return value;
}

function optionalString(value: StrictJsonValue | undefined, where: string): string | undefined {
  return value === undefined ? undefined : expectString(value, where);
}

// Object names follow mstrio-py's rules (§6): non-empty, at most 250 characters, none of \ " [ ].
function expectName(value: StrictJsonValue | undefined, where: string): string {
  const name = expectString(value, where);
  if (name.trim() === '') throw invalidInput(`${where} must not be empty`);
  if (name.length > MAX_NAME_LENGTH) throw invalidInput(`${where} is longer than ${MAX_NAME_LENGTH} characters`);
  if (FORBIDDEN_NAME_CHARS.test(name)) throw invalidInput(`${where} ${JSON.stringify(preview(name))} contains one of \\ " [ ]`);
  return name;
}

// Accepts the nine documented types in any case, and BOOLEAN as the Swagger example spells BOOL.
function expectDataType(value: StrictJsonValue | undefined, where: string): WireType {
  const text = expectString(value, where);
  const upper = text.toUpperCase();
  if (upper === 'BOOLEAN') return 'BOOL';
  if (isWireType(upper)) return upper;
  throw invalidInput(`${where} ${JSON.stringify(preview(text))} is not a supported data type`);
}

// ---------------------------------------------------------------------------------------------
// POST /datasets/models

interface ColumnUse {
  by: string;
  role: ColumnRole;
}

/**
 * Validates a model body (§3.1). Beyond the documented shape it insists that every column is
 * mapped exactly once, either by one attribute form or by one metric, because the emulator needs
 * each column's role (attribute columns form the row key of update/upsert).
 */
export function validateModel(body: StrictJsonValue, rules: ModelRules): ModelDef {
  const root = expectObject(body, 'model', ['name', 'description', 'folderId', 'tables', 'attributes', 'metrics']);
  const name = expectName(root.get('name'), 'model name');
  const description = optionalString(root.get('description'), 'model description') ?? '';
  if (description.length > MAX_NAME_LENGTH) throw invalidInput(`model description is longer than ${MAX_NAME_LENGTH} characters`);
  const folderText = optionalString(root.get('folderId'), 'folderId') ?? '';
  if (folderText !== '' && !HEX32.test(folderText)) {
    throw invalidInput(`folderId ${JSON.stringify(preview(folderText))} must be "" or 32 hex digits`);
  }
  const folderId = folderText === '' ? MY_REPORTS_FOLDER_ID : folderText.toUpperCase();

  const tables = expectArray(root.get('tables'), 'tables', 1).map((t, i) => validateTableDef(t, `tables[${i}]`, rules));
  checkUniqueNames(
    tables.map((t) => t.name),
    'table',
    rules.allowDuplicateModelNames,
  );

  const uses = new Map<TableDef, Map<string, ColumnUse>>(tables.map((t) => [t, new Map()]));
  const claim = (ref: ColumnRef, role: ColumnRole, by: string, where: string): void => {
    const table = tables.find((t) => t.name === ref.tableName);
    const used = table === undefined ? undefined : uses.get(table);
    if (used === undefined) throw new ApiError(500, 'ERR001', 'column claimed before it was resolved');
    const previous = used.get(ref.columnName);
    if (previous !== undefined) {
      throw invalidInput(`${where}: column ${ref.tableName}.${ref.columnName} is already used by ${previous.by}; each column maps to exactly one attribute form or metric`);
    }
    used.set(ref.columnName, { by, role });
  };

  const attributes = expectArray(root.get('attributes') ?? [], 'attributes', 0).map((value, i): AttributeDef => {
    const where = `attributes[${i}]`;
    const attribute = expectObject(value, where, ['name', 'attributeForms']);
    const attributeName = expectName(attribute.get('name'), `${where}.name`);
    const forms = expectArray(attribute.get('attributeForms'), `${where}.attributeForms`, 1).map((f, j) => {
      const formWhere = `${where}.attributeForms[${j}]`;
      // dataType on forms is documented for the single-request API and clients fill it loosely (§2.1).
      const form = expectObject(f, formWhere, ['category', 'expressions', 'dataType']);
      const category = expectString(form.get('category'), `${formWhere}.category`);
      if (category !== 'ID' && category !== 'DESC') {
        throw invalidInput(`${formWhere}.category ${JSON.stringify(preview(category))} must be ID or DESC`);
      }
      const expressions = validateExpressions(form.get('expressions'), `${formWhere}.expressions`, tables);
      for (const ref of expressions) claim(ref, 'attribute', `attribute ${JSON.stringify(attributeName)}`, formWhere);
      return { category: category as FormCategory, expressions };
    });
    const categories = forms.map((f) => f.category);
    if (new Set(categories).size !== categories.length) throw invalidInput(`${where} has the same form category twice`);
    if (!categories.includes('ID')) throw invalidInput(`${where} (${JSON.stringify(attributeName)}) needs an ID form`);
    return { id: rules.newId(), name: attributeName, forms };
  });

  const metrics = expectArray(root.get('metrics') ?? [], 'metrics', 0).map((value, i): MetricDef => {
    const where = `metrics[${i}]`;
    const metric = expectObject(value, where, ['name', 'expressions', 'dataType']);
    const metricName = expectName(metric.get('name'), `${where}.name`);
    const expressions = validateExpressions(metric.get('expressions'), `${where}.expressions`, tables);
    for (const ref of expressions) claim(ref, 'metric', `metric ${JSON.stringify(metricName)}`, where);
    return { id: rules.newId(), name: metricName, expressions };
  });

  // Nothing addresses attributes or metrics by name, so the switch lifts this check entirely.
  if (!rules.allowDuplicateModelNames) {
    checkUniqueNames(
      [...attributes.map((a) => a.name), ...metrics.map((m) => m.name)],
      'attribute/metric',
      false,
    );
  }

  for (const table of tables) {
    const used = uses.get(table);
    for (const column of table.columns) {
      const use = used?.get(column.name);
      if (use === undefined) {
        throw invalidInput(`column ${table.name}.${column.name} is not used by any attribute or metric`);
      }
      column.role = use.role;
    }
  }
  return { name, description, folderId, tables, attributes, metrics };
}

function validateTableDef(value: StrictJsonValue, where: string, rules: ModelRules): TableDef {
  const table = expectObject(value, where, ['name', 'columnHeaders']);
  const name = expectName(table.get('name'), `${where}.name`);
  const columns = expectArray(table.get('columnHeaders'), `${where}.columnHeaders`, 1).map((c, i): ColumnDef => {
    const columnWhere = `${where}.columnHeaders[${i}]`;
    const column = expectObject(c, columnWhere, ['name', 'dataType']);
    return {
      name: expectName(column.get('name'), `${columnWhere}.name`),
      dataType: expectDataType(column.get('dataType'), `${columnWhere}.dataType`),
      role: 'attribute',
    };
  });
  checkUniqueNames(
    columns.map((c) => c.name),
    `column of table ${JSON.stringify(name)}`,
    rules.allowDuplicateModelNames,
  );
  return { id: rules.newId(), name, columns };
}

// Names must differ ignoring case. For tables and columns the switch relaxes that to exact
// spelling only: expressions and columnHeaders address them by name, so exact twins stay errors.
function checkUniqueNames(names: string[], what: string, allowCaseVariants: boolean): void {
  const seen = new Set<string>();
  for (const name of names) {
    const key = allowCaseVariants ? name : name.toLowerCase();
    if (seen.has(key)) throw invalidInput(`duplicate ${what} name ${JSON.stringify(name)}`);
    seen.add(key);
  }
}

function validateExpressions(value: StrictJsonValue | undefined, where: string, tables: TableDef[]): ColumnRef[] {
  const refs = expectArray(value, where, 1).map((e, i) => resolveExpression(e, `${where}[${i}]`, tables));
  const tableNames = refs.map((r) => r.tableName);
  if (new Set(tableNames).size !== tableNames.length) throw invalidInput(`${where} names the same table twice`);
  return refs;
}

// `{tableName, columnName}` as every models example uses, or the single-request `{formula: "T.C"}` (§3.1).
function resolveExpression(value: StrictJsonValue, where: string, tables: TableDef[]): ColumnRef {
  if (!isJsonObject(value)) throw invalidInput(`${where} must be a JSON object, got ${describeJson(value)}`);
  if (value.has('formula')) {
    expectObject(value, where, ['formula']);
    const formula = expectString(value.get('formula'), `${where}.formula`);
    const matches = tables.flatMap((t) =>
      formula.startsWith(`${t.name}.`) && t.columns.some((c) => c.name === formula.slice(t.name.length + 1))
        ? [{ tableName: t.name, columnName: formula.slice(t.name.length + 1) }]
        : [],
    );
    const [only, ...others] = matches;
    if (only === undefined) throw invalidInput(`${where}.formula ${JSON.stringify(preview(formula))} does not name an existing Table.Column`);
    if (others.length > 0) throw invalidInput(`${where}.formula ${JSON.stringify(preview(formula))} is ambiguous`);
    return only;
  }
  expectObject(value, where, ['tableName', 'columnName']);
  const tableName = expectString(value.get('tableName'), `${where}.tableName`);
  const columnName = expectString(value.get('columnName'), `${where}.columnName`);
  const table = tables.find((t) => t.name === tableName);
  if (table === undefined) throw invalidInput(`${where} refers to unknown table ${JSON.stringify(preview(tableName))}`);
  if (!table.columns.some((c) => c.name === columnName)) {
    throw invalidInput(`${where} refers to unknown column ${JSON.stringify(preview(columnName))} of table ${JSON.stringify(tableName)}`);
  }
  return { tableName, columnName };
}

// ---------------------------------------------------------------------------------------------
// POST /datasets/{id}/uploadSessions

const POLICIES: readonly UpdatePolicy[] = ['add', 'update', 'upsert', 'replace'];

/**
 * Validates an upload-session request (§3.2). `columnHeaders` may list a subset of a table's
 * columns in any order (omitted columns load as null, or stay untouched for update), but every
 * name must exist exactly once, and update/upsert must carry all attribute (key) columns.
 */
export function validateUploadSessionRequest(body: StrictJsonValue, tables: TableDef[], keepRows: boolean): SessionTableSpec[] {
  const root = expectObject(body, 'upload session request', ['tables']);
  const specs = expectArray(root.get('tables'), 'tables', 1).map((value, i): SessionTableSpec => {
    const where = `tables[${i}]`;
    const entry = expectObject(value, where, ['name', 'updatePolicy', 'orientation', 'columnHeaders']);
    const name = expectString(entry.get('name'), `${where}.name`);
    const table = tables.find((t) => t.name === name);
    if (table === undefined) throw notFound(`Table ${JSON.stringify(preview(name))} does not exist in this dataset`);

    const policyText = expectString(entry.get('updatePolicy'), `${where}.updatePolicy`);
    const policy = POLICIES.find((p) => p === policyText.toLowerCase());
    if (policy === undefined) throw invalidInput(`${where}.updatePolicy ${JSON.stringify(preview(policyText))} must be add, update, upsert or replace`);

    const orientationText = optionalString(entry.get('orientation'), `${where}.orientation`) ?? 'ROW';
    const orientation = orientationText.toUpperCase();
    if (orientation !== 'ROW' && orientation !== 'COLUMN') {
      throw invalidInput(`${where}.orientation ${JSON.stringify(preview(orientationText))} must be ROW or COLUMN`);
    }

    let columnPositions = table.columns.map((_, p) => p);
    const headers = entry.get('columnHeaders');
    if (headers !== undefined) {
      columnPositions = expectArray(headers, `${where}.columnHeaders`, 1).map((h, j) => {
        const columnName = expectString(h, `${where}.columnHeaders[${j}]`);
        const position = table.columns.findIndex((c) => c.name === columnName);
        if (position === -1) throw invalidInput(`${where}.columnHeaders: table ${JSON.stringify(name)} has no column ${JSON.stringify(preview(columnName))}`);
        return position;
      });
      if (new Set(columnPositions).size !== columnPositions.length) throw invalidInput(`${where}.columnHeaders lists a column twice`);
    }

    if (policy === 'update' || policy === 'upsert') {
      if (!keepRows) throw notSupported(`updatePolicy ${policy} needs stored rows; the emulator runs with keepRows=false`);
      const keys = table.columns.flatMap((c, p) => (c.role === 'attribute' ? [p] : []));
      if (keys.length === 0) throw invalidInput(`table ${JSON.stringify(name)} has no attribute columns to match rows on, so ${policy} is impossible`);
      const missing = keys.filter((p) => !columnPositions.includes(p)).map((p) => table.columns[p]?.name);
      if (missing.length > 0) {
        throw invalidInput(`${where}.columnHeaders must include the attribute (key) columns for ${policy}; missing ${missing.map((m) => JSON.stringify(m)).join(', ')}`);
      }
    }
    return { table, policy, orientation, columnPositions };
  });
  const names = specs.map((s) => s.table.name);
  if (new Set(names).size !== names.length) throw invalidInput('an upload session names the same table twice');
  return specs;
}

// ---------------------------------------------------------------------------------------------
// PUT /datasets/{id}/uploadSessions/{sid}

/** The base64 text of a chunk as sent, or the bytes already decoded from canonical base64. */
export type ChunkData = string | Buffer;

export interface ChunkRequest {
  tableName: string;
  index: number;
  data: ChunkData;
}

const INDEX_TEXT = /^[1-9][0-9]*$/;
const MAX_INDEX = 2147483647;

/** The outer `{tableName, index, data}`; `index` may be a JSON integer or a numeric string (§4.3). */
export function validateChunkRequest(body: StrictJsonValue): ChunkRequest {
  const root = expectObject(body, 'chunk request', ['tableName', 'index', 'data']);
  const tableName = expectString(root.get('tableName'), 'tableName');
  const rawIndex = root.get('index');
  const indexText = isJsonNumber(rawIndex) ? rawIndex.text : typeof rawIndex === 'string' ? rawIndex : undefined;
  if (indexText === undefined || !INDEX_TEXT.test(indexText) || Number(indexText) > MAX_INDEX) {
    throw invalidInput(`index must be an integer from 1 to ${MAX_INDEX}, got ${describeJson(rawIndex)}`);
  }
  const data = expectString(root.get('data'), 'data');
  return { tableName, index: Number(indexText), data };
}

export interface ChunkContext {
  spec: SessionTableSpec;
  index: number;
  invalidDate: 'reject' | 'null';
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Decodes and checks one chunk: canonical padded base64 → UTF-8 → strict JSON → rows of the
 * session's width → every value against its column type. Each checked row goes to `onRow` as a
 * full-width table row (columns the session does not carry are null), so publishing never needs
 * the session's column order. ROW chunks are checked while parsing, so a chunk of millions of rows
 * never exists as one parse tree. Returns the number of rows.
 */
export function decodeChunk(data: ChunkData, context: ChunkContext, onRow: (cells: Cell[]) => void): number {
  return decodeChunkBytes(chunkBytes(data, context), context, onRow);
}

function chunkLabel(context: ChunkContext): string {
  return `table ${JSON.stringify(context.spec.table.name)}, index ${context.index}`;
}

/** The decoded bytes of a chunk's `data`; base64 that is not canonical is 400 ERR006. */
export function chunkBytes(data: ChunkData, context: ChunkContext): Buffer {
  if (typeof data !== 'string') return data;
  const bytes = decodeBase64Strict(data);
  if (bytes === undefined) throw invalidInput(`${chunkLabel(context)}: data is not valid base64 (standard alphabet, padded with =, no whitespace)`);
  return bytes;
}

/** decodeChunk after the base64 step: UTF-8 → strict JSON → rows → cells. */
export function decodeChunkBytes(bytes: Uint8Array, context: ChunkContext, onRow: (cells: Cell[]) => void): number {
  const { spec } = context;
  const label = chunkLabel(context);
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw invalidInput(`${label}: decoded data is not valid UTF-8`);
  }
  const columns: Cell[][] = [];
  let result: StrictJsonArrayResult;
  try {
    result = parseStrictJsonArray(text, (value, i) => {
      if (spec.orientation === 'ROW') onRow(checkRow(value, i + 1, context, label));
      else columns.push(checkColumn(value, i, context, label));
    });
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw invalidInput(`${label}: decoded data is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (result.kind === 'other') throw invalidInput(`${label}: data must be a JSON array, got ${describeJson(result.value)}`);
  if (spec.orientation === 'ROW') return result.length;

  const width = spec.columnPositions.length;
  if (columns.length !== width) throw invalidInput(`${label}: COLUMN orientation needs ${width} column arrays, got ${columns.length}`);
  const length = columns[0]?.length ?? 0;
  columns.forEach((column, c) => {
    if (column.length !== length) {
      throw invalidInput(`${label}, column ${columnLabel(spec, c)}: has ${column.length} values but the first column has ${length}`);
    }
  });
  for (let r = 0; r < length; r++) {
    const cells = new Array<Cell>(spec.table.columns.length).fill(null);
    columns.forEach((column, c) => {
      cells[spec.columnPositions[c] ?? -1] = column[r] ?? null;
    });
    onRow(cells);
  }
  return length;
}

/**
 * Node's base64 decoder is lenient (it skips foreign characters, takes the URL-safe alphabet and
 * ignores non-zero padding bits), so the text must re-encode to itself: that holds exactly for
 * the standard alphabet, length a multiple of 4, `=` padding only at the end, and zero bits in
 * the unused part of the last character (what a canonical encoder writes).
 */
export function decodeBase64Strict(data: string): Buffer | undefined {
  if (data.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(data, 'base64');
  return bytes.toString('base64') === data ? bytes : undefined;
}

function columnLabel(spec: SessionTableSpec, sessionPosition: number): string {
  const position = spec.columnPositions[sessionPosition] ?? -1;
  return JSON.stringify(spec.table.columns[position]?.name ?? `#${sessionPosition + 1}`);
}

function checkRow(value: StrictJsonValue, rowNumber: number, context: ChunkContext, label: string): Cell[] {
  const { spec } = context;
  const width = spec.columnPositions.length;
  if (!Array.isArray(value)) throw invalidInput(`${label}, row ${rowNumber}: expected an array of ${width} values, got ${describeJson(value)}`);
  if (value.length !== width) throw invalidInput(`${label}, row ${rowNumber}: expected ${width} values, got ${value.length}`);
  const cells = new Array<Cell>(spec.table.columns.length).fill(null);
  for (let i = 0; i < width; i++) {
    const position = spec.columnPositions[i] ?? -1;
    cells[position] = checkedCell(value[i] ?? null, spec.table.columns[position], rowNumber, context, label);
  }
  return cells;
}

function checkColumn(value: StrictJsonValue, sessionPosition: number, context: ChunkContext, label: string): Cell[] {
  const { spec } = context;
  const width = spec.columnPositions.length;
  if (sessionPosition >= width) throw invalidInput(`${label}: COLUMN orientation needs ${width} column arrays, got more`);
  if (!Array.isArray(value)) {
    throw invalidInput(`${label}, column ${columnLabel(spec, sessionPosition)}: expected an array of values, got ${describeJson(value)}`);
  }
  const column = spec.table.columns[spec.columnPositions[sessionPosition] ?? -1];
  return value.map((v, r) => checkedCell(v, column, r + 1, context, label));
}

function checkedCell(value: StrictJsonValue, column: ColumnDef | undefined, rowNumber: number, context: ChunkContext, label: string): Cell {
  if (column === undefined) throw new ApiError(500, 'ERR001', 'session column out of range');
  const cell = checkCell(value, column.dataType);
  if (!(cell instanceof CellRejection)) return cell;
  if (cell.temporal && context.invalidDate === 'null') return null;
  throw invalidInput(`${label}, row ${rowNumber}, column ${JSON.stringify(column.name)} (${column.dataType}): ${describeJson(value)} ${cell.reason}`);
}

class CellRejection {
  constructor(
    readonly reason: string,
    readonly temporal: boolean,
  ) {}
}

const INTEGER_TOKEN = /^-?(?:0|[1-9][0-9]*)$/;
const MINUS_SIGN = 0x2d;
const INT32_MIN = -(2n ** 31n);
const INT32_MAX = 2n ** 31n - 1n;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

// One value against one column type; null fits every type.
function checkCell(value: StrictJsonValue, type: WireType): Cell | CellRejection {
  if (value === null) return null;
  switch (type) {
    case 'STRING':
      return typeof value === 'string' ? value : new CellRejection('is not a JSON string', false);
    case 'BOOL':
      return typeof value === 'boolean' ? value : new CellRejection('is not true or false', false);
    case 'INTEGER':
    case 'BIGINTEGER': {
      if (!isJsonNumber(value) || !INTEGER_TOKEN.test(value.text)) return new CellRejection('is not an integer number', false);
      const text = value.text;
      // Up to 9 digits fits both types; BigInt only for the rare long token.
      if (text.length <= 10 && (text.length <= 9 || text.charCodeAt(0) === MINUS_SIGN)) return text;
      const n = BigInt(text);
      const [min, max, bits] = type === 'INTEGER' ? [INT32_MIN, INT32_MAX, 32] : [INT64_MIN, INT64_MAX, 64];
      return n >= min && n <= max ? text : new CellRejection(`is outside the ${bits}-bit integer range`, false);
    }
    case 'DOUBLE':
      if (!isJsonNumber(value)) return new CellRejection('is not a JSON number', false);
      return Number.isFinite(Number(value.text)) ? value.text : new CellRejection('is not finite as a double', false);
    case 'BIGDECIMAL':
      return isJsonNumber(value) ? value.text : new CellRejection('is not a JSON number', false);
    case 'DATE':
      return (typeof value === 'string' ? normaliseTemporal(value, type) : undefined) ?? new CellRejection('is not a date YYYY-MM-DD', true);
    case 'TIME':
      return (typeof value === 'string' ? normaliseTemporal(value, type) : undefined) ?? new CellRejection('is not a time HH:MM:SS[.fffffffff]', true);
    case 'DATETIME':
      return (
        (typeof value === 'string' ? normaliseTemporal(value, type) : undefined) ??
        new CellRejection('is not a date-time YYYY-MM-DDTHH:MM:SS[.fffffffff] without zone', true)
      );
  }
}

/** The stored form of a DATE, TIME or DATETIME value, or undefined when the text is not one. */
export function normaliseTemporal(text: string, type: 'DATE' | 'TIME' | 'DATETIME'): string | undefined {
  if (type === 'DATE') return normaliseDate(text);
  return (type === 'TIME' ? isTime(text) : isDateTime(text)) ? text : undefined;
}

// The docs' own sample sends "2017-12-5", so month and day may be unpadded; stored padded.
const DATE = /^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})$/;

function normaliseDate(text: string): string | undefined {
  const m = DATE.exec(text);
  if (m === null) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (!isRealDate(year, month, day)) return undefined;
  return `${m[1]}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

// HH:MM:SS with an optional 1-9 digit fraction. Hand-rolled: DATETIME columns run through here once per cell.
function isTime(text: string): boolean {
  return isClockAt(text, 0);
}

// YYYY-MM-DDTHH:MM:SS[.f{1,9}], no zone and no space separator.
function isDateTime(text: string): boolean {
  return (
    text.length >= 19 &&
    text.charCodeAt(4) === 0x2d &&
    text.charCodeAt(7) === 0x2d &&
    text.charCodeAt(10) === 0x54 &&
    isRealDate(digitsAt(text, 0, 4), digitsAt(text, 5, 2), digitsAt(text, 8, 2)) &&
    isClockAt(text, 11)
  );
}

function isClockAt(text: string, at: number): boolean {
  if (text.length < at + 8 || text.charCodeAt(at + 2) !== 0x3a || text.charCodeAt(at + 5) !== 0x3a) return false;
  if (!isClock(digitsAt(text, at, 2), digitsAt(text, at + 3, 2), digitsAt(text, at + 6, 2))) return false;
  const rest = text.length - (at + 8);
  if (rest === 0) return true;
  return rest >= 2 && rest <= 10 && text.charCodeAt(at + 8) === 0x2e && digitsAt(text, at + 9, rest - 1) >= 0;
}

// The decimal value of `count` ASCII digits at `at`, or -1 if any is not a digit.
function digitsAt(text: string, at: number, count: number): number {
  let n = 0;
  for (let i = at; i < at + count; i++) {
    const d = text.charCodeAt(i) - 0x30;
    if (!(d >= 0 && d <= 9)) return -1;
    n = n * 10 + d;
  }
  return n;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** A day of the proleptic Gregorian calendar from year 1 on. */
export function isRealDate(year: number, month: number, day: number): boolean {
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  if (day <= (DAYS_IN_MONTH[month - 1] ?? 0)) return true;
  return month === 2 && day === 29 && ((year % 4 === 0 && year % 100 !== 0) || year % 400 === 0);
}

/** A time of day from 00:00:00 to 23:59:59 (no leap second). */
export function isClock(hour: number, minute: number, second: number): boolean {
  return hour >= 0 && minute >= 0 && second >= 0 && hour <= 23 && minute <= 59 && second <= 59;
}
