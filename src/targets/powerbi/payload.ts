// Request bodies of the Power BI push API (powerbi-push-api.md §2.1, §2.4) built from our schema,
// and the checks that keep every request inside the documented limits: a value or a table that
// would be refused is reported with its file, row and column before anything is sent. Pure.

import { InputError, InternalError, UsageError } from '../../errors.js';
import { jsonString } from '../../chunker/serialize.js';
import type { RawCell, WireType } from '../../schema/types.js';
import { DEFAULT_NULL_TOKENS, createNullTokenTest, describeType, normalizeValue, quoteValue } from '../../schema/values.js';
import { DECIMAL_MAX_INTEGER_DIGITS, MAX_EXACT_JSON_INTEGER, POWERBI_LIMITS, columnNameProblem, powerBiTypeOf, tableNameProblem } from './types.js';
import type { PowerBiDataType } from './types.js';
import { groupThousands } from '../../util/units.js';

export interface CreateDatasetBody {
  name: string;
  defaultMode: 'Push';
  tables: Array<{ name: string; columns: Array<{ name: string; dataType: PowerBiDataType }> }>;
}

/** A table as mstrpush will create or fill it: its name, the file it comes from, and its columns. */
export interface PowerBiTableSchema {
  name: string;
  /** What messages call the input. */
  file: string;
  columns: ReadonlyArray<{ name: string; type: WireType }>;
}

/**
 * `POST /datasets` body. Only documented properties are sent: the service rejects unknown ones,
 * and `defaultMode: Push` is what makes the dataset accept rows.
 */
export function buildCreateDataset(name: string, tables: readonly PowerBiTableSchema[]): CreateDatasetBody {
  return {
    name,
    defaultMode: 'Push',
    tables: tables.map((table) => ({
      name: table.name,
      columns: table.columns.map((column) => ({ name: column.name, dataType: powerBiTypeOf(column.type) })),
    })),
  };
}

/**
 * The limits a schema must meet before the first request: at most 75 tables, 75 columns per table,
 * table and column names the service accepts, and no two names that differ only in case (the
 * tabular engine behind a dataset compares names case-insensitively).
 */
export function checkPowerBiSchema(tables: readonly PowerBiTableSchema[]): void {
  if (tables.length > POWERBI_LIMITS.maxTables) {
    throw new UsageError(`${tables.length} tables are more than the ${POWERBI_LIMITS.maxTables} a Power BI push dataset can hold`, {
      hint: 'split the files over several datasets',
    });
  }
  const tableNames = new Map<string, string>();
  for (const table of tables) {
    const problem = tableNameProblem(table.name);
    if (problem !== undefined) {
      throw new UsageError(`"${table.name}" cannot be a Power BI table name: ${problem}`, {
        hint: `name the table after a colon, e.g. ${table.file}:${suggestTableName(table.name)}`,
      });
    }
    const clash = tableNames.get(table.name.toLowerCase());
    if (clash !== undefined) throw new UsageError(`tables "${clash}" and "${table.name}" differ only in case, which Power BI does not allow`);
    tableNames.set(table.name.toLowerCase(), table.name);

    if (table.columns.length > POWERBI_LIMITS.maxColumns) {
      const first = table.columns[POWERBI_LIMITS.maxColumns]!;
      throw new InputError(
        'INPUT_SCHEMA',
        `table "${table.name}" has ${table.columns.length} columns, more than the ${POWERBI_LIMITS.maxColumns} Power BI allows; column ${POWERBI_LIMITS.maxColumns + 1} "${first.name}" is the first too many`,
        { location: { file: table.file, line: 1, column: first.name }, hint: 'leave columns out of the file, or split it into two tables' },
      );
    }
    const columnNames = new Map<string, string>();
    for (const [index, column] of table.columns.entries()) {
      const columnProblem = columnNameProblem(column.name);
      if (columnProblem !== undefined) {
        throw new InputError('INPUT_SCHEMA', `column ${index + 1} ${JSON.stringify(column.name)} cannot be a Power BI column name: ${columnProblem}`, {
          location: { file: table.file, line: 1, column: column.name },
        });
      }
      const other = columnNames.get(column.name.toLowerCase());
      if (other !== undefined) {
        throw new InputError('INPUT_SCHEMA', `columns "${other}" and "${column.name}" differ only in case, which Power BI does not allow`, {
          location: { file: table.file, line: 1, column: column.name },
        });
      }
      columnNames.set(column.name.toLowerCase(), column.name);
    }
  }
}

function suggestTableName(name: string): string {
  const cleaned = [...name].filter((c) => tableNameProblem(c) === undefined).join('').slice(0, POWERBI_LIMITS.maxTableNameLength);
  return cleaned || 'Table';
}

export interface PowerBiRowSerializerOptions {
  /** Texts that mean NULL in every column; defaults to DEFAULT_NULL_TOKENS. */
  nullTokens?: readonly string[];
  /** What error messages call the input. */
  file?: string;
}

/** One row as a Power BI row object; `line` is where it starts in the file, `rowNumber` its 1-based data row. */
export type PowerBiRowSerializer = (row: readonly RawCell[], line: number, rowNumber: number) => string;

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;
const DATETIME_MAX_FRACTION_DIGITS = 7;

type Encoder = (text: string) => string | undefined;

/**
 * Builds the serializer for rows of `columns`: `{"id":1,"name":"a","when":"2024-01-02T03:04:05Z"}`.
 * Values follow DECISIONS.md: Int64 as a JSON number, or as a string beyond ±2^53 where a
 * JavaScript reader would round it; Double and Decimal as the source's number text; Boolean as
 * true/false; DateTime in ISO 8601 with `Z` when the source value carried a zone (an instant,
 * converted to UTC) and without one for wall-clock values; strings of at most 4,000 characters;
 * NULL as null. A value that breaks its type or a Power BI limit is an InputError INPUT_VALUE
 * naming file, line, row and column.
 */
export function createPowerBiRowSerializer(
  columns: ReadonlyArray<{ name: string; type: WireType }>,
  options: PowerBiRowSerializerOptions = {},
): PowerBiRowSerializer {
  const width = columns.length;
  const keys = columns.map((column, i) => `${i === 0 ? '{' : ','}${jsonString(column.name)}:`);
  const isNullToken = createNullTokenTest(options.nullTokens ?? DEFAULT_NULL_TOKENS);
  const file = options.file;
  // Why the last encoder call returned undefined, when it was not simply a value of the wrong type.
  let limitProblem: string | undefined;
  let limitHint: string | undefined;

  const encoderFor = (type: WireType, name: string): Encoder => {
    switch (type) {
      case 'INTEGER':
      case 'BIGINTEGER':
        return (text) => {
          const wire = normalizeValue(type, text);
          if (wire === undefined) return undefined;
          // Up to 15 digits is always inside ±2^53 and never an Int64 extreme: skip the BigInt.
          if (wire.length < 16) return wire;
          const value = BigInt(wire);
          if (value === INT64_MAX || value === INT64_MIN) {
            limitProblem = `${wire} is Int64.${value > 0n ? 'MaxValue' : 'MinValue'}, which Power BI does not accept`;
            limitHint = `load the column as text with --type ${name}=STRING`;
            return undefined;
          }
          return value > MAX_EXACT_JSON_INTEGER || value < -MAX_EXACT_JSON_INTEGER ? `"${wire}"` : wire;
        };
      case 'DOUBLE':
        return (text) => normalizeValue('DOUBLE', text);
      case 'BIGDECIMAL':
        return (text) => {
          const wire = normalizeValue('BIGDECIMAL', text);
          if (wire === undefined) return undefined;
          if (integerDigits(wire) > DECIMAL_MAX_INTEGER_DIGITS) {
            limitProblem = `${quoteValue(wire)} does not fit a Power BI Decimal (precision 28, scale 4: at most ${DECIMAL_MAX_INTEGER_DIGITS} digits before the point)`;
            limitHint = `load the column as text with --type ${name}=STRING`;
            return undefined;
          }
          return wire;
        };
      case 'BOOL':
        return (text) => normalizeValue('BOOL', text);
      case 'DATE':
        return (text) => {
          const wire = normalizeValue('DATE', text);
          return wire === undefined ? undefined : `"${wire}T00:00:00"`;
        };
      case 'DATETIME':
        return (text) => {
          const wire = normalizeValue('DATETIME', text);
          if (wire === undefined) return undefined;
          return `"${limitFraction(wire)}${hasZone(text) ? 'Z' : ''}"`;
        };
      case 'TIME':
        return (text) => {
          const wire = normalizeValue('TIME', text);
          return wire === undefined ? undefined : `"${wire}"`;
        };
      case 'STRING':
        return (text) => {
          if (text.length > POWERBI_LIMITS.maxStringLength) {
            limitProblem = `the value has ${groupThousands(text.length)} characters, more than the ${groupThousands(POWERBI_LIMITS.maxStringLength)} Power BI accepts`;
            limitHint = 'shorten the value, or leave the column out of the file';
            return undefined;
          }
          return jsonString(text);
        };
    }
  };
  const encoders = columns.map((column) => encoderFor(column.type, column.name));

  const valueError = (c: number, value: string, line: number, rowNumber: number): InputError => {
    const { name, type } = columns[c]!;
    const location = { ...(file === undefined ? {} : { file }), line, column: name, value: value.length > 200 ? `${value.slice(0, 200)}…` : value };
    if (limitProblem !== undefined) {
      const message = `row ${rowNumber}, column ${JSON.stringify(name)}: ${limitProblem}`;
      const hint = limitHint;
      limitProblem = undefined;
      limitHint = undefined;
      return new InputError('INPUT_VALUE', message, { location, ...(hint ? { hint } : {}) });
    }
    return new InputError('INPUT_VALUE', `row ${rowNumber}, column ${JSON.stringify(name)}: ${quoteValue(value)} is not a valid ${type}`, {
      location,
      hint: `${describeType(type)}. Fix the value, add it to the null tokens, or load into a column of another type`,
    });
  };

  return (row, line, rowNumber) => {
    if (row.length !== width) throw new InternalError(`row at line ${line} has ${row.length} cells for ${width} columns`);
    let out = '';
    for (let c = 0; c < width; c++) {
      out += keys[c]!;
      const cell = row[c];
      if (cell === null || cell === undefined || isNullToken(cell)) {
        out += 'null';
        continue;
      }
      const wire = encoders[c]!(cell);
      if (wire === undefined) throw valueError(c, cell, line, rowNumber);
      out += wire;
    }
    return width === 0 ? '{}' : `${out}}`;
  };
}

/** Digits before the decimal point of a JSON number's value (0 for values below 1). */
export function integerDigits(numberText: string): number {
  let i = numberText.charCodeAt(0) === 45 ? 1 : 0;
  const exponentAt = numberText.search(/[eE]/);
  const mantissa = numberText.slice(i, exponentAt === -1 ? undefined : exponentAt);
  const exponent = exponentAt === -1 ? 0 : Number(numberText.slice(exponentAt + 1));
  const point = mantissa.indexOf('.');
  const whole = point === -1 ? mantissa : mantissa.slice(0, point);
  const digits = point === -1 ? mantissa : whole + mantissa.slice(point + 1);
  for (i = 0; i < digits.length && digits.charCodeAt(i) === 48; i++);
  if (i === digits.length) return 0;
  // Position of the first significant digit, as a power of ten.
  const magnitude = whole.length - 1 - i + exponent;
  return magnitude < 0 ? 0 : magnitude + 1;
}

/** Cuts a normalised DATETIME's fraction to the 7 digits a .NET DateTime holds (100 ns). */
function limitFraction(wire: string): string {
  const point = wire.indexOf('.', 19);
  if (point === -1 || wire.length - point - 1 <= DATETIME_MAX_FRACTION_DIGITS) return wire;
  const fraction = wire.slice(point + 1, point + 1 + DATETIME_MAX_FRACTION_DIGITS).replace(/0+$/, '');
  return fraction === '' ? wire.slice(0, point) : `${wire.slice(0, point)}.${fraction}`;
}

// A zone ends the text: Z, or ±HH, ±HHMM, ±HH:MM after the time (the date part has its own '-').
const ZONE_SUFFIX = /(?:[Zz]|[+-]\d\d(?::?\d\d)?)$/;

/** Whether a DATETIME source value named its zone, making it an instant rather than a wall-clock time. */
function hasZone(text: string): boolean {
  return text.length > 16 && ZONE_SUFFIX.test(text.slice(16));
}

/** A finished POST rows request: the exact bytes to send (and resend), and the rows it carries. */
export interface RowsBatch {
  /** Empty when the batcher only measures. */
  body: Buffer;
  /** Length of the body in bytes (also when it was not built). */
  bytes: number;
  rows: number;
  /** 1-based data row number and file line of the first row in the batch. */
  firstRow: number;
  firstLine: number;
}

const BODY_HEAD = '{"rows":[';
const BODY_TAIL = ']}';
const BODY_OVERHEAD = BODY_HEAD.length + BODY_TAIL.length;

export interface RowsBatcherOptions {
  /** At most this many rows per request (Power BI: 10,000). */
  maxRows: number;
  /** At most this many bytes per request body. */
  maxBytes: number;
  /** False to only count rows and bytes, for a dry run. Default true. */
  buildBodies?: boolean;
  file?: string;
}

/**
 * Groups row objects into `{"rows":[...]}` bodies of at most `maxRows` rows and `maxBytes` bytes.
 * A body is built once as a Buffer so a throttled request is resent byte for byte.
 */
export class RowsBatcher {
  readonly #options: Required<Omit<RowsBatcherOptions, 'file'>> & { file: string | undefined };
  #parts: string[] = [];
  #bytes = BODY_OVERHEAD;
  #firstRow = 0;
  #firstLine = 0;

  constructor(options: RowsBatcherOptions) {
    if (!(options.maxRows >= 1) || !(options.maxBytes > BODY_OVERHEAD)) throw new InternalError('RowsBatcher needs maxRows >= 1 and room for a body');
    this.#options = { maxRows: options.maxRows, maxBytes: options.maxBytes, buildBodies: options.buildBodies ?? true, file: options.file };
  }

  /** Adds one row; returns the previous batch when this row does not fit into it. */
  add(rowJson: string, line: number, rowNumber: number): RowsBatch | undefined {
    const size = Buffer.byteLength(rowJson);
    if (size + BODY_OVERHEAD > this.#options.maxBytes) {
      const file = this.#options.file;
      throw new InputError(
        'INPUT_RECORD_TOO_LARGE',
        `row ${rowNumber} takes ${groupThousands(size)} bytes of JSON, more than fits into one request of ${groupThousands(this.#options.maxBytes)} bytes`,
        { location: { ...(file === undefined ? {} : { file }), line } },
      );
    }
    let done: RowsBatch | undefined;
    const separator = this.#parts.length === 0 ? 0 : 1;
    if (this.#parts.length >= this.#options.maxRows || this.#bytes + separator + size > this.#options.maxBytes) done = this.flush();
    if (this.#parts.length === 0) {
      this.#firstRow = rowNumber;
      this.#firstLine = line;
    } else {
      this.#bytes += 1;
    }
    this.#parts.push(this.#options.buildBodies ? rowJson : '');
    this.#bytes += size;
    return done;
  }

  /** The batch being filled, if it holds any row. */
  flush(): RowsBatch | undefined {
    const rows = this.#parts.length;
    if (rows === 0) return undefined;
    const body = this.#options.buildBodies ? Buffer.from(`${BODY_HEAD}${this.#parts.join(',')}${BODY_TAIL}`, 'utf8') : Buffer.alloc(0);
    const batch: RowsBatch = { body, bytes: this.#bytes, rows, firstRow: this.#firstRow, firstLine: this.#firstLine };
    this.#parts = [];
    this.#bytes = BODY_OVERHEAD;
    return batch;
  }
}
