// User corrections to the inferred schema: `--type col=TYPE`, `--attribute`/`--metric` and a
// `--schema file.json`. Parsed and checked here; applied by inference and role assignment.

import { InputError, UsageError } from '../errors.js';
import { WIRE_TYPES, parseWireType } from './types.js';
import type { ColumnRole, WireType } from './types.js';

/** Per-column type and role overrides, keyed by exact column name. */
export interface ColumnOverrides {
  types: ReadonlyMap<string, WireType>;
  roles: ReadonlyMap<string, ColumnRole>;
}

/** A parsed `--schema` file: overrides for every table, and per-table ones that take precedence. */
export interface SchemaFile {
  columns: ColumnOverrides;
  tables: ReadonlyMap<string, ColumnOverrides>;
}

/** No overrides at all. */
export const NO_OVERRIDES: ColumnOverrides = { types: new Map(), roles: new Map() };

// Names people reach for from SQL or pandas, used only to suggest the right type in a hint.
const TYPE_SUGGESTIONS: Readonly<Record<string, WireType>> = {
  INT: 'INTEGER',
  INT32: 'INTEGER',
  BIGINT: 'BIGINTEGER',
  INT64: 'BIGINTEGER',
  LONG: 'BIGINTEGER',
  FLOAT: 'DOUBLE',
  FLOAT64: 'DOUBLE',
  REAL: 'DOUBLE',
  NUMBER: 'DOUBLE',
  DECIMAL: 'BIGDECIMAL',
  NUMERIC: 'BIGDECIMAL',
  TEXT: 'STRING',
  VARCHAR: 'STRING',
  STR: 'STRING',
  TIMESTAMP: 'DATETIME',
};

function typeHint(given: string): string {
  const suggestion = TYPE_SUGGESTIONS[given.trim().toUpperCase()];
  const list = `types are ${WIRE_TYPES.join(', ')} (any case; BOOLEAN means BOOL)`;
  return suggestion === undefined ? list : `did you mean ${suggestion}? ${list}`;
}

/**
 * Parses repeated `--type col=TYPE` arguments. The last `=` separates name and type, so column
 * names may contain `=`. Naming one column twice with different types is a UsageError.
 */
export function parseTypeOverrides(args: readonly string[]): Map<string, WireType> {
  const types = new Map<string, WireType>();
  for (const arg of args) {
    const at = arg.lastIndexOf('=');
    if (at <= 0) {
      throw new UsageError(`--type ${JSON.stringify(arg)}: expected COLUMN=TYPE`, {
        hint: 'for example --type amount=BIGDECIMAL --type zip=STRING',
      });
    }
    const name = arg.slice(0, at);
    const given = arg.slice(at + 1);
    const type = parseWireType(given);
    if (type === undefined) {
      throw new UsageError(`--type ${JSON.stringify(arg)}: ${JSON.stringify(given)} is not a data type`, {
        hint: typeHint(given),
      });
    }
    const earlier = types.get(name);
    if (earlier !== undefined && earlier !== type) {
      throw new UsageError(`--type gives column ${JSON.stringify(name)} two types, ${earlier} and ${type}`);
    }
    types.set(name, type);
  }
  return types;
}

/** Parses `--attribute` and `--metric` lists; a column in both is a UsageError. */
export function parseRoleOverrides(attributes: readonly string[], metrics: readonly string[]): Map<string, ColumnRole> {
  const roles = new Map<string, ColumnRole>();
  for (const name of attributes) roles.set(name, 'attribute');
  for (const name of metrics) {
    if (roles.get(name) === 'attribute') {
      throw new UsageError(`column ${JSON.stringify(name)} is given both --attribute and --metric`);
    }
    roles.set(name, 'metric');
  }
  return roles;
}

/** Combines override layers; a later layer wins per column (CLI flags go after the schema file). */
export function mergeOverrides(...layers: readonly ColumnOverrides[]): ColumnOverrides {
  const types = new Map<string, WireType>();
  const roles = new Map<string, ColumnRole>();
  for (const layer of layers) {
    for (const [name, type] of layer.types) types.set(name, type);
    for (const [name, role] of layer.roles) roles.set(name, role);
  }
  return { types, roles };
}

/** The overrides a schema file gives one table: its `columns`, then the table's own on top. */
export function overridesForTable(schema: SchemaFile, table: string): ColumnOverrides {
  const own = schema.tables.get(table);
  return own === undefined ? schema.columns : mergeOverrides(schema.columns, own);
}

/**
 * Parses the text of a `--schema` file:
 * `{"columns": {"zip": "STRING", "amount": {"type": "BIGDECIMAL", "role": "metric"}},
 *   "tables": {"sales": {"columns": {...}}}}`.
 * Anything else is an InputError INPUT_SCHEMA naming the file and the JSON path.
 */
export function parseSchemaFile(text: string, file: string): SchemaFile {
  const fail = (path: string, message: string): never => {
    throw new InputError('INPUT_SCHEMA', `${path}: ${message}`, {
      location: { file },
      hint: 'a schema file looks like {"columns": {"zip": "STRING", "amount": {"type": "BIGDECIMAL", "role": "metric"}}}, optionally inside {"tables": {"<table>": ...}}',
    });
  };
  let data: unknown;
  try {
    data = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (error) {
    throw new InputError('INPUT_SCHEMA', `not valid JSON: ${(error as Error).message}`, {
      location: { file },
      cause: error,
    });
  }
  const root = expectObject(data, '$', fail);
  checkKeys(root, '$', ['columns', 'tables', '$schema'], fail);
  const columns = root['columns'] === undefined ? NO_OVERRIDES : parseColumns(root['columns'], '$.columns', fail);
  const tables = new Map<string, ColumnOverrides>();
  if (root['tables'] !== undefined) {
    const tablesObject = expectObject(root['tables'], '$.tables', fail);
    for (const [table, value] of Object.entries(tablesObject)) {
      const path = `$.tables${pathKey(table)}`;
      const entry = expectObject(value, path, fail);
      checkKeys(entry, path, ['columns'], fail);
      tables.set(table, entry['columns'] === undefined ? NO_OVERRIDES : parseColumns(entry['columns'], `${path}.columns`, fail));
    }
  }
  return { columns, tables };
}

type Fail = (path: string, message: string) => never;

function parseColumns(value: unknown, path: string, fail: Fail): ColumnOverrides {
  const types = new Map<string, WireType>();
  const roles = new Map<string, ColumnRole>();
  for (const [name, spec] of Object.entries(expectObject(value, path, fail))) {
    const columnPath = `${path}${pathKey(name)}`;
    if (typeof spec === 'string') {
      types.set(name, parseTypeValue(spec, columnPath, fail));
      continue;
    }
    const entry = expectObject(spec, columnPath, fail, 'a type name or an object with "type" and/or "role"');
    checkKeys(entry, columnPath, ['type', 'role'], fail);
    if (entry['type'] === undefined && entry['role'] === undefined) fail(columnPath, 'needs "type", "role" or both');
    if (entry['type'] !== undefined) types.set(name, parseTypeValue(entry['type'], `${columnPath}.type`, fail));
    if (entry['role'] !== undefined) {
      const role = typeof entry['role'] === 'string' ? entry['role'].trim().toLowerCase() : undefined;
      if (role !== 'attribute' && role !== 'metric') {
        fail(`${columnPath}.role`, `${JSON.stringify(entry['role'])} is not a role; use "attribute" or "metric"`);
      }
      roles.set(name, role as ColumnRole);
    }
  }
  return { types, roles };
}

function parseTypeValue(value: unknown, path: string, fail: Fail): WireType {
  const type = typeof value === 'string' ? parseWireType(value) : undefined;
  if (type === undefined) {
    const given = typeof value === 'string' ? value : '';
    fail(path, `${JSON.stringify(value)} is not a data type; ${typeHint(given)}`);
  }
  return type as WireType;
}

function expectObject(value: unknown, path: string, fail: Fail, what = 'an object'): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(path, `expected ${what}, found ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`);
  }
  return value as Record<string, unknown>;
}

function checkKeys(object: Record<string, unknown>, path: string, allowed: readonly string[], fail: Fail): void {
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key)) {
      fail(`${path}${pathKey(key)}`, `unknown key; allowed here: ${allowed.map((k) => JSON.stringify(k)).join(', ')}`);
    }
  }
}

function pathKey(key: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

/**
 * Throws a UsageError when an override names a column the input does not have, listing the
 * columns it does have. `what` says which option named it, e.g. `--type`.
 */
export function checkColumnsExist(
  names: Iterable<string>,
  available: readonly string[],
  what: string,
  file?: string,
): void {
  for (const name of names) {
    if (available.includes(name)) continue;
    const lower = name.toLowerCase();
    const nearly = available.find((column) => column.toLowerCase() === lower);
    const where = file === undefined ? 'the input' : file;
    throw new UsageError(`${what} names column ${JSON.stringify(name)}, which ${where} does not have`, {
      hint:
        (nearly === undefined ? '' : `did you mean ${JSON.stringify(nearly)}? (names are case-sensitive) `) +
        `columns: ${available.map((column) => JSON.stringify(column)).join(', ')}`,
    });
  }
}
